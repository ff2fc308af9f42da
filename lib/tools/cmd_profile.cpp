// dofa profile: per-op latency tables of a supernet on this device, and
// --check: how far their sums are from measured end-to-end latencies.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <cstdio>

#include "cli.h"
#include "error.h"
#include "profile.h"
#include "system_info.h"

namespace dofa::cli {

namespace {

std::string default_lut_dir(const Spec& spec) { return luts_dir(spec) + "/" + spec.name + "-cpu-ops"; }

}  // namespace

int cmd_profile(const std::vector<std::string>& args) {
  Options o(args, {"spec", "weights", "out", "lut", "runs", "archs", "seed", "threads", "resolutions"}, {"check", "json"});
  if (o.help()) {
    std::printf(
        "usage: dofa profile [--spec S] [--out DIR] [--runs N] [--archs N] [--threads N]\n"
        "       dofa profile --check [--spec S] [--lut DIR|FILE] [--archs N] [--json]\n"
        "  Measures every op a sub-network of S can have (OFA / Dynamic-OFA key format) at every\n"
        "  resolution of S on this CPU with the element's settings (batch 1, materialised\n"
        "  levels on their own kernels, --threads, default 1) and writes DIR/<r>_lookup_table.json\n"
        "  (default DIR: luts/<model>-cpu-ops). --check compares the tables' sums with measured\n"
        "  end-to-end latency over --archs (default 40) random sub-networks.\n"
        "  --weights  default random:0 (latency does not depend on the values)\n"
        "  --resolutions R1,R2,...  only these of the spec's resolutions\n");
    return 0;
  }
  Spec spec = load_spec(o);
  const int threads = o.get_int("threads", 1);
  set_threads(threads);
  if (o.has("resolutions")) {
    std::vector<int> keep;
    std::stringstream in(o.get("resolutions", ""));
    for (std::string t; std::getline(in, t, ',');) {
      const int r = std::atoi(t.c_str());
      if (std::find(spec.resolutions.begin(), spec.resolutions.end(), r) == spec.resolutions.end())
        throw Error("--resolutions: " + t + " is not a resolution of " + spec.name);
      keep.push_back(r);
    }
    spec.resolutions = keep;
  }
  Supernet net = Supernet::open(spec, o.get("weights", "random:0"));
  const uint64_t seed = uint64_t(o.get_int("seed", 0));
  if (!o.flag("check")) {
    const std::string out = o.get("out", default_lut_dir(spec));
    LatencyLut lut = profile_ops(net, o.get_int("runs", 10), o.get_int("archs", 30), seed,
                                 [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); });
    lut.save(out);
    std::printf("wrote %zu tables to %s (threads %d)\n", lut.tables.size(), out.c_str(), threads);
    return 0;
  }
  LatencyLut lut = LatencyLut::load(o.get("lut", default_lut_dir(spec)));
  const int n = o.get_int("archs", 40);
  double sum_abs = 0, max_abs = 0, sp = 0, sm = 0, spp = 0, smm = 0, spm = 0;
  for (int i = 0; i < n; ++i) {
    Arch a = Arch::random(spec, 7777 + uint64_t(i) + seed * 100003);
    if (!lut.tables.count(a.r)) continue;
    const double pred = lut.predict(spec, a);
    Level level(net, a, nullptr);
    const double meas = measure_latency(level, 30, 5).median;
    const double err = 100.0 * (pred - meas) / meas;
    sum_abs += std::fabs(err);
    max_abs = std::max(max_abs, std::fabs(err));
    sp += pred, sm += meas, spp += pred * pred, smm += meas * meas, spm += pred * meas;
    if (!o.flag("json")) std::printf("%-60s predicted %7.3f ms  measured %7.3f ms  %+6.1f %%\n", a.to_text().c_str(), pred, meas, err);
  }
  const double corr = (n * spm - sp * sm) / std::sqrt((n * spp - sp * sp) * (n * smm - sm * sm));
  if (o.flag("json"))
    std::printf("{\"archs\": %d, \"threads\": %d, \"mean_abs_error_pct\": %.3f, \"max_abs_error_pct\": %.3f, "
                "\"pearson\": %.4f}\n", n, threads, sum_abs / n, max_abs, corr);
  else
    std::printf("%d sub-networks, %d thread(s): mean |error| %.1f %%, max %.1f %%, Pearson r %.3f\n", n, threads,
                sum_abs / n, max_abs, corr);
  return 0;
}

}  // namespace dofa::cli
