// dofa infer: a float32 NCHW tensor file through one sub-network -> logits file,
// so other implementations can be compared with ours.
#include <c10/core/GradMode.h>
#include <cstdio>

#include "cli.h"
#include "error.h"
#include "level.h"
#include "system_info.h"
#include "supernet.h"
#include "torchfile.h"

namespace dofa::cli {

int cmd_infer(const std::vector<std::string>& args) {
  Options o(args, {"spec", "weights", "arch", "input", "output", "threads"}, {"dynamic"});
  if (o.help()) {
    std::printf(
        "usage: dofa infer --spec S --weights W --arch A --input IN.pt --output OUT.pt [--dynamic] [--threads N]\n"
        "  Runs IN.pt (float32 [N, C, r, r], torch zip format) through the sub-network A and\n"
        "  writes the logits [N, classes] to OUT.pt. BN statistics are the supernet's own,\n"
        "  sliced to A (as OFA's get_active_subnet copies them).\n"
        "  --arch     max | min | random[:SEED] | r160-d..-k..-e.. | OFA JSON | @FILE (default max)\n"
        "  --weights  weights file (default: the spec's) or random[:SEED]\n"
        "  --dynamic  run the supernet forward with views instead of the materialised level\n");
    return 0;
  }
  Spec spec = load_spec(o);
  Arch arch = load_arch(o, spec);
  const std::string in_path = o.require("input"), out_path = o.require("output");
  set_threads(o.get_int("threads", 1));
  Supernet net = Supernet::open(spec, o.get("weights", ""));

  at::Tensor x = load_tensor(in_path);
  if (x.dim() != 4 || x.size(1) != spec.in_channels || x.size(2) != arch.r || x.size(3) != arch.r ||
      x.scalar_type() != at::kFloat)
    throw Error(in_path + ": tensor " + std::string(x.toString()) + " " + c10::str(x.sizes()) +
                ", expected float32 [N, " + std::to_string(spec.in_channels) + ", " + std::to_string(arch.r) + ", " +
                std::to_string(arch.r) + "] for arch " + arch.to_text());
  at::Tensor logits;
  if (o.flag("dynamic")) {
    c10::NoGradGuard no_grad;
    logits = net.forward(x, arch);
  } else {
    Level level(net, arch, nullptr);
    logits = level.forward(x).clone();
  }
  save_tensor(out_path, logits.contiguous());
  std::printf("%s: logits %s from arch %s\n", out_path.c_str(), c10::str(logits.sizes()).c_str(),
              arch.to_text().c_str());
  return 0;
}

}  // namespace dofa::cli
