// dofa measure: re-measure the latency (and count the cost) of every level of
// one or more tables on this device, keeping their accuracies; for published
// tables, new devices, and ratios between families taken side by side.
#include <cstdio>
#include <memory>
#include <sstream>

#include "cli.h"
#include "error.h"
#include "flops.h"
#include "profile.h"
#include "system_info.h"

namespace dofa::cli {

int cmd_measure(const std::vector<std::string>& args) {
  Options o(args, {"spec", "weights", "level-table", "out", "threads", "runs", "rounds", "device"}, {});
  if (o.help()) {
    std::printf(
        "usage: dofa measure --level-table T[,T2...] [--out T'] [--threads N] [--runs N] [--rounds N]\n"
        "                    [--weights W] [--device D]\n"
        "  Measures every level's batch-1 latency (input tensor -> logits, materialised level,\n"
        "  --threads, default 1) on this CPU, or with --device cuda on the GPU (CUDA events),\n"
        "  counts its MFLOPs and parameters, records the system in the table's provenance and\n"
        "  writes T (or T') for that device. Accuracies are kept. The levels of all the tables\n"
        "  are timed side by side: --rounds (5) interleaved passes of --runs (20) frames each,\n"
        "  each figure the median over rounds, so ratios between the tables hold on a shared\n"
        "  machine.\n"
        "  --out      only with one table\n"
        "  --weights  default random:0 (latency does not depend on the values)\n");
    return 0;
  }
  std::vector<std::string> paths;
  {
    std::stringstream in(o.require("level-table"));
    for (std::string p; std::getline(in, p, ',');)
      if (!p.empty()) paths.push_back(p);
  }
  if (paths.empty()) throw Error("--level-table: expected one or more table paths separated by commas");
  if (o.has("out") && paths.size() > 1) throw Error("--out: only with a single --level-table");
  const int threads = o.get_int("threads", 1), runs = o.get_int("runs", 20), rounds = o.get_int("rounds", 5);
  if (runs < 1 || rounds < 1) throw Error("--runs and --rounds must be >= 1");
  const std::string device = device_option(o);
  const c10::Device dev = device == "cuda" ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);

  // Every table and its supernet are loaded before anything is measured or written.
  struct Family {
    std::string path;
    Spec spec;
    LevelTable table;
    std::unique_ptr<Supernet> net;
  };
  std::vector<Family> fams;
  for (const std::string& p : paths) {
    Spec spec = table_spec(o, p);
    LevelTable table = LevelTable::load(p, spec);
    fams.push_back({p, spec, table, std::make_unique<Supernet>(Supernet::open(spec, o.get("weights", "random:0")))});
  }
  std::vector<std::pair<size_t, size_t>> levels;  // (family, level)
  for (size_t f = 0; f < fams.size(); ++f)
    for (size_t l = 0; l < fams[f].table.levels.size(); ++l) levels.push_back({f, l});
  set_threads(threads);
  const std::vector<LatencyStats> stats = measure_latencies_side_by_side(
      levels.size(),
      [&](size_t i) {
        const Family& f = fams[levels[i].first];
        return Level::build(*f.net, f.table.levels[levels[i].second].arch, nullptr, CpuKernels::Fastest, dev);
      },
      rounds, runs, 5);

  // This machine's provenance; the weights and data the accuracies came from stay.
  for (size_t i = 0; i < levels.size(); ++i) {
    Family& f = fams[levels[i].first];
    LevelEntry& e = f.table.levels[levels[i].second];
    e.latency_mean_ms = stats[i].mean;
    e.latency_p90_ms = stats[i].p90;
    NetCost c = net_cost(f.spec, e.arch);
    e.mflops = c.mflops;
    e.params = c.params;
    std::printf("%s level %zu %s: %.3f ms (p90 %.3f), %.1f MFLOPs\n", f.path.c_str(), levels[i].second,
                e.arch.to_text().c_str(), e.latency_mean_ms, e.latency_p90_ms, c.mflops);
  }
  for (Family& f : fams) {
    Provenance here = measured_here(threads, device);
    here.weights_sha256 = f.table.provenance.weights_sha256;
    here.data = f.table.provenance.data;
    f.table.provenance = here;
    f.table.device = device;
    const std::string out = o.get("out", f.path);
    f.table.save(out);
    std::printf("wrote %s (%s: %s, %d thread(s), %s BLAS)\n", out.c_str(), device.c_str(), here.device.c_str(),
                threads, here.blas.c_str());
  }
  return 0;
}

}  // namespace dofa::cli
