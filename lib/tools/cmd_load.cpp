// dofa load: busy threads pinned to CPUs, the load of the benchmarks and the demo.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "busy_load.h"
#include "cli.h"
#include "error.h"

namespace dofa::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

}  // namespace

int cmd_load(const std::vector<std::string>& args) {
  Options o(args, {"threads", "cpus", "seconds"}, {});
  if (o.help()) {
    std::printf(
        "usage: dofa load --threads K [--cpus LIST] [--seconds S]\n"
        "  K busy threads (a tight integer loop), each pinned to one CPU of LIST, taken\n"
        "  round-robin (\"0\", \"0,1\", \"0-3\", \"0-1,4\"; default: every CPU this process may use).\n"
        "  Runs for S seconds (default: until SIGINT or SIGTERM), then exits 0.\n"
        "\n"
        "  Why pinned: a paced pipeline (idle between frames) hides an unpinned load, because\n"
        "  the scheduler favours threads that sleep; an unpaced one under load becomes bimodal\n"
        "  at scheduler-slice granularity (reference/numbers.md §7). Load scenarios therefore\n"
        "  run the pipeline unpaced and pin the load to the CPU of its streaming thread, e.g.\n"
        "    taskset -c 0 gst-launch-1.0 ... &   dofa load --threads 1 --cpus 0 --seconds 30\n");
    return 0;
  }
  if (!o.positional().empty()) throw Error("load: unexpected argument '" + o.positional()[0] + "'");
  const int threads = o.get_int("threads", 0);
  if (!o.has("threads")) throw Error("--threads is required (see --help)");
  if (threads < 1) throw Error("--threads " + std::to_string(threads) + ": expected >= 1");
  const double seconds = o.get_double("seconds", 0);
  if (o.has("seconds") && !(seconds > 0))
    throw Error("--seconds " + o.get("seconds", "") + ": expected a duration > 0");
  const std::vector<int> online = online_cpus();
  const std::vector<int> cpus = o.has("cpus") ? parse_cpus(o.get("cpus", ""), online) : online;

  g_stop = 0;
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  BusyLoad load(threads, cpus);
  const std::string how_long = o.has("seconds") ? " for " + o.get("seconds", "") + " s" : ", until SIGINT/SIGTERM";
  std::fprintf(stderr, "dofa load: %d busy thread(s) on CPU %s%s\n", threads, join_cpus(load.placed()).c_str(), how_long.c_str());

  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!g_stop && (!o.has("seconds") || std::chrono::steady_clock::now() < until))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return 0;
}

}  // namespace dofa::cli
