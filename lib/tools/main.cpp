// dofa: the command-line front end of libdofa (design time, benchmarks, tools).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli.h"
#include "dofa_config.h"
#include "error.h"
#include "system_info.h"

namespace {

[[maybe_unused]] int needs_gstreamer(const std::vector<std::string>&) {
  throw dofa::Error("this build has no GStreamer (configure with -Dgstreamer=enabled)");
}

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* summary;
};

const Command kCommands[] = {
    {"info", dofa::cli::cmd_info, "system and model information (--system, --spec)"},
    {"flops", dofa::cli::cmd_flops, "multiply-adds and parameters of a sub-network"},
    {"infer", dofa::cli::cmd_infer, "run a tensor file through a sub-network, write the logits"},
    {"export", dofa::cli::cmd_export, "write a static sub-network: OFA net.config + state_dict"},
    {"import-ofa", dofa::cli::cmd_import_ofa, "convert an official OFA checkpoint to a weights file"},
    {"train", dofa::cli::cmd_train, "train a supernet by progressive shrinking (checkpoints, resume)"},
    {"profile", dofa::cli::cmd_profile, "per-op latency tables on this device; --check against measured"},
    {"search", dofa::cli::cmd_search, "search, measure and choose a level family (Pareto front)"},
    {"measure", dofa::cli::cmd_measure, "re-measure the latency of every level of a table on this device"},
#if DOFA_HAVE_GSTREAMER
    {"demo", dofa::cli::cmd_demo, "the paper's runtime experiments on the built-in model, with plots"},
#else
    {"demo", needs_gstreamer, "the paper's runtime experiments (needs GStreamer; this build has none)"},
#endif
    {"report", dofa::cli::cmd_report, "the design-time report (REPORT.md) and its gnuplot plots"},
    {"calibrate", dofa::cli::cmd_calibrate, "recompute the BN statistics of every level of a table"},
    {"eval", dofa::cli::cmd_eval, "top-1 of a level or sub-network on a dataset"},
    {"bench", dofa::cli::cmd_bench, "benchmarks: switch, levels, element (JSON with --json)"},
    {"load", dofa::cli::cmd_load, "busy threads pinned to CPUs: the load of benchmarks and the demo"},
};

void usage(FILE* f) {
  std::fprintf(f, "usage: dofa COMMAND [OPTIONS]   (dofa COMMAND --help for its options)\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(f, "  %-11s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    try {
      dofa::set_threads(1);  // commands that want more set them from --threads
      return c.run(std::vector<std::string>(argv + 2, argv + argc));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dofa %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "dofa: unknown command '%s'\n", name.c_str());
  usage(stderr);
  return 2;
}
