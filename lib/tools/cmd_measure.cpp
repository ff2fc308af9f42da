// dofa measure: re-measure the latency (and count the cost) of every level of
// a table on this device, keeping its accuracies; for published tables and
// new devices.
#include <cstdio>

#include "cli.h"
#include "error.h"
#include "flops.h"
#include "profile.h"
#include "system_info.h"

namespace dofa::cli {

int cmd_measure(const std::vector<std::string>& args) {
  Options o(args, {"spec", "weights", "level-table", "out", "threads", "runs", "device"}, {});
  if (o.help()) {
    std::printf(
        "usage: dofa measure --level-table T [--out T2] [--threads N] [--runs N] [--weights W] [--device D]\n"
        "  Measures every level's batch-1 latency (input tensor -> logits, materialised level,\n"
        "  --threads, default 1) on this CPU, or with --device cuda on the GPU (CUDA events),\n"
        "  counts its MFLOPs and parameters, records the system in the table's provenance and\n"
        "  writes T (or T2) for that device. Accuracies are kept.\n"
        "  --weights  default random:0 (latency does not depend on the values)\n");
    return 0;
  }
  const std::string path = o.require("level-table");
  Spec spec = table_spec(o, path);
  LevelTable table = LevelTable::load(path, spec);
  const int threads = o.get_int("threads", 1), runs = o.get_int("runs", 50);
  const std::string device = device_option(o);
  const c10::Device dev = device == "cuda" ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  set_threads(threads);
  Supernet net = Supernet::open(spec, o.get("weights", "random:0"));
  for (size_t i = 0; i < table.levels.size(); ++i) {
    LevelEntry& e = table.levels[i];
    LatencyStats s = measure_latency(Level(net, e.arch, nullptr, true, dev), runs, 10);
    e.latency_mean_ms = s.mean;
    e.latency_p90_ms = s.p90;
    NetCost c = net_cost(spec, e.arch);
    e.mflops = c.mflops;
    e.params = c.params;
    std::printf("level %zu %s: %.3f ms (p90 %.3f), %.1f MFLOPs\n", i, e.arch.to_text().c_str(), s.mean, s.p90, c.mflops);
  }
  // This machine's provenance; the weights and data the accuracies came from stay.
  Provenance here = measured_here(threads, device);
  here.weights_sha256 = table.provenance.weights_sha256;
  here.data = table.provenance.data;
  table.provenance = here;
  table.device = device;
  const std::string out = o.get("out", path);
  table.save(out);
  std::printf("wrote %s (%s: %s, %d thread(s), %s BLAS)\n", out.c_str(), device.c_str(), here.device.c_str(), threads,
              here.blas.c_str());
  return 0;
}

}  // namespace dofa::cli
