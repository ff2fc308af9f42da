// dofa train: progressive shrinking of a supernet from scratch (lib/dofa/train.h).
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "cli.h"
#include "error.h"
#include "train.h"

namespace dofa::cli {

int cmd_train(const std::vector<std::string>& args) {
  Options o(args, {"spec", "out", "data", "val", "limit", "val-images", "batch", "threads", "seed", "scale",
                   "checkpoint-seconds"},
            {"sandwich", "restart"});
  if (o.help()) {
    std::printf(
        "usage: dofa train [--spec S] [--out W.pt] [--data D] [--val D] [--scale X] [--threads N] ...\n"
        "  Trains the supernet S (default fmnist-mbv3) from scratch by progressive shrinking in\n"
        "  OFA's order: full network, elastic kernel, depth (2 phases), expand (2 phases; middle\n"
        "  channels sorted by importance first), 1/2/4 sub-networks per step, knowledge distillation\n"
        "  from the full network, the resolution re-sampled per batch. Resumes from W.pt.ckpt/ when\n"
        "  it exists; each phase ends with the largest and smallest open sub-network's validation\n"
        "  top-1. Writes W.pt and W.pt.train.json (phase times and accuracies).\n"
        "  --out         weights file (default: the spec's weights file)\n"
        "  --data        fmnist:train | a folder of class sub-folders (default fmnist:train)\n"
        "  --val         validation data (default fmnist:val, 10,000 images held out of train)\n"
        "  --val-images  validation images per phase-end check (default 10000)\n"
        "  --limit N     only the first N training images (smoke runs)\n"
        "  --scale X     multiply every phase's epochs by X (default 1: 31 epochs in all)\n"
        "  --batch N     images per step (default 128)   --threads N (default: the CPU count)\n"
        "  --seed N      (default 1)\n"
        "  --sandwich    the smallest sub-network in every step, the largest too where a step samples 3 or more\n"
        "  --restart     ignore an existing checkpoint   --checkpoint-seconds S (default 60)\n");
    return 0;
  }
  Spec spec = Spec::load(Spec::find(o.get("spec", "fmnist-mbv3")));
  TrainOptions t;
  t.out = o.get("out", spec.weights);
  if (t.out.empty() || t.out.rfind("random", 0) == 0)
    throw Error("spec " + spec.path + " names no weights file to write; pass --out FILE");
  t.data = o.get("data", t.data);
  t.val = o.get("val", t.val);
  t.limit = o.get_int("limit", 0);
  t.val_images = o.get_int("val-images", t.val_images);
  t.batch = o.get_int("batch", t.batch);
  t.threads = o.get_int("threads", int(sysconf(_SC_NPROCESSORS_ONLN)));
  t.seed = (unsigned long long)o.get_int("seed", 1);
  t.scale = o.get_double("scale", 1.0);
  if (t.scale <= 0) throw Error("--scale " + o.get("scale", "") + ": expected a positive number");
  t.sandwich = o.flag("sandwich");
  t.restart = o.flag("restart");
  t.checkpoint_seconds = o.get_double("checkpoint-seconds", 60);
  const bool tty = isatty(2);
  t.log = [tty](const std::string& s) { std::fprintf(stderr, tty ? "\r\033[K%s\n" : "%s\n", s.c_str()); };
  t.progress = [tty](const std::string& s) {
    if (tty) std::fprintf(stderr, "\r\033[K%s", s.c_str());
  };
  if (!tty) {
    // Not a terminal: one line every 30 s instead of a redrawn bar.
    auto last = std::make_shared<long>(0);
    t.progress = [last](const std::string& s) {
      long now = long(time(nullptr));
      if (now - *last >= 30) {
        *last = now;
        std::fprintf(stderr, "%s\n", s.c_str());
      }
    };
  }
  train(spec, t);
  return 0;
}

}  // namespace dofa::cli
