// dofa flops: multiply-adds and parameters of one sub-network.
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "error.h"
#include "flops.h"
#include "json_reader.h"

namespace dofa::cli {

namespace {

const char* const kUsage =
    "usage: dofa flops [--spec MODEL|FILE] [--arch ARCH] [--json]\n"
    "\n"
    "Multiply-adds (MFLOPs = MACs / 1e6, OFA's counting rules) and parameters of a\n"
    "static sub-network at the arch's resolution.\n"
    "\n"
    "  --spec MODEL|FILE  built-in model name or spec file (default: the built-in model)\n"
    "  --arch ARCH        max | min | random[:SEED] | r..-d..-k..-e.. | OFA JSON | @FILE (default: max)\n"
    "  --json             print a JSON object {model, arch, resolution, mflops, params}\n";

}  // namespace

int cmd_flops(const std::vector<std::string>& args) {
  Options o(args, {"spec", "arch"}, {"json"});
  if (o.help()) {
    std::cout << kUsage;
    return 0;
  }
  if (!o.positional().empty()) throw Error("unexpected argument '" + o.positional()[0] + "' (see --help)");
  const Spec spec = load_spec(o);
  const Arch arch = load_arch(o, spec);
  const NetCost cost = net_cost(spec, arch);

  if (o.flag("json")) {
    JsonWriter w;
    w.begin_object();
    w.key("model").value(spec.name);
    w.key("arch").value(arch.to_text());
    w.key("resolution").value(arch.r);
    w.key("mflops").value(cost.mflops);
    w.key("params").value(cost.params);
    w.end_object();
    std::cout << w.str();
    return 0;
  }
  char line[128];
  std::cout << "model:      " << spec.name << "\n"
            << "arch:       " << arch.to_text() << "\n"
            << "resolution: " << arch.r << "\n";
  std::snprintf(line, sizeof line, "MFLOPs:     %.2f\n", cost.mflops);
  std::cout << line;
  std::snprintf(line, sizeof line, "params:     %lld (%.2f M)\n", cost.params, cost.params / 1e6);
  std::cout << line;
  return 0;
}

}  // namespace dofa::cli
