// dofa search: find and measure a level family on this device (lib/dofa/search.h).
#include <cstdio>

#include "cli.h"
#include "error.h"
#include "search.h"

namespace dofa::cli {

int cmd_search(const std::vector<std::string>& args) {
  Options o(args,
            {"spec", "weights", "data", "val", "test", "lut", "predictor", "pool", "dims", "out", "predictor-archs",
             "sweep", "per-constraint", "levels", "val-images", "threads", "eval-threads", "acc-range", "seed", "device"},
            {});
  if (o.help()) {
    std::printf(
        "usage: dofa search [--spec S] [--out T.json] [--lut DIR] [--dims D] [options]\n"
        "  Measures --predictor-archs random sub-networks (each BN-calibrated on 2000 --data images,\n"
        "  top-1 on --val) and fits OFA's accuracy predictor; then, for --sweep latency constraints,\n"
        "  seeds OFA's evolutionary search with Dynamic-OFA's Algorithm 1 and measures the best\n"
        "  --per-constraint networks of each and the space's smallest and largest; times every\n"
        "  candidate side by side (5 interleaved rounds at --threads, the median of each round's\n"
        "  mean); picks --levels levels from the Pareto front (on validation top-1) and measures\n"
        "  them once on --test. Writes T.json + T.bn.pt (the level\n"
        "  table), T.pool.json + T.pool.bn.pt (every measured candidate), T.acc-predictor.pt and\n"
        "  T.search.json (for dofa report).\n"
        "  --spec S            default fmnist-mbv3     --out T   default luts/<model>-cpu.json\n"
        "  --lut DIR           per-op tables (default luts/<model>-cpu-ops, from dofa profile)\n"
        "  --data/--val/--test default fmnist:train / fmnist:val / fmnist:test\n"
        "  --dims D            search only these of width,depth,kernel,resolution (others at max)\n"
        "  --predictor FILE    reuse a fitted predictor instead of measuring new data\n"
        "  --pool FILE         reuse the measured candidates of a pool file (same weights)\n"
        "  --device cuda       with --pool: the GPU family from the pool's candidates, whose accuracy\n"
        "                      and BN statistics carry over; only their latency is measured (CUDA\n"
        "                      events). --out defaults to luts/<model>-cuda.json\n"
        "  --predictor-archs N (300)  --sweep N (12)  --per-constraint N (3)  --levels N (6)\n"
        "  --acc-range PP (1.0)\n"
        "  --threads N         latency threads (default 1, as the element)  --eval-threads N (2)\n");
    return 0;
  }
  Spec spec = Spec::load(Spec::find(o.get("spec", "fmnist-mbv3")));
  SearchOptions s;
  s.weights = o.get("weights", "");
  s.train = o.get("data", s.train);
  s.val = o.get("val", s.val);
  s.test = o.get("test", s.test);
  s.lut = o.get("lut", luts_dir(spec) + "/" + spec.name + "-cpu-ops");
  s.predictor = o.get("predictor", "");
  s.pool = o.get("pool", "");
  s.dims = o.get("dims", "");
  s.device = o.get("device", "cpu");
  s.out = o.get("out", luts_dir(spec) + "/" + spec.name + "-" + s.device + ".json");
  s.predictor_archs = o.get_int("predictor-archs", s.predictor_archs);
  s.sweep = o.get_int("sweep", s.sweep);
  s.per_constraint = o.get_int("per-constraint", s.per_constraint);
  s.levels = o.get_int("levels", s.levels);
  s.val_images = o.get_int("val-images", s.val_images);
  s.latency_threads = o.get_int("threads", 1);
  s.eval_threads = o.get_int("eval-threads", 2);
  s.acc_range = o.get_double("acc-range", s.acc_range);
  s.seed = uint64_t(o.get_int("seed", 0));
  if (s.predictor_archs < 10 && s.predictor.empty())
    throw Error("--predictor-archs " + std::to_string(s.predictor_archs) + ": expected at least 10 (or --predictor FILE)");
  if (s.sweep < 1 || s.per_constraint < 1 || s.levels < 2)
    throw Error("--sweep and --per-constraint must be >= 1 and --levels >= 2");
  s.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  search_space(spec, s.dims);  // reject a bad --dims before any work
  search(spec, s);
  return 0;
}

}  // namespace dofa::cli
