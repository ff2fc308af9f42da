// dofa load: busy threads pinned to CPUs, the load of the benchmarks and the demo.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "error.h"

namespace dofa::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

std::string join(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

int parse_cpu(const std::string& s, const std::string& list) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < 0 || v > 1 << 16)
    throw Error("--cpus " + list + ": '" + s + "' is not a CPU number");
  return int(v);
}

// "0", "0,1", "0-3", "0-1,4"; each CPU must be one this process may use.
std::vector<int> parse_cpus(const std::string& list, const std::vector<int>& online) {
  std::vector<int> cpus;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t dash = item.find('-');
    int lo, hi;
    if (dash == std::string::npos) {
      lo = hi = parse_cpu(item, list);
    } else {
      lo = parse_cpu(item.substr(0, dash), list);
      hi = parse_cpu(item.substr(dash + 1), list);
      if (hi < lo) throw Error("--cpus " + list + ": range " + item + " runs backwards");
    }
    for (int c = lo; c <= hi; ++c) {
      bool found = false;
      for (int o : online) found |= o == c;
      if (!found)
        throw Error("--cpus " + list + ": CPU " + std::to_string(c) + " does not exist or is not available (CPUs " +
                    join(online) + ")");
      cpus.push_back(c);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return cpus;
}

// The CPUs this process may run on (the affinity mask: containers and
// taskset narrow it below what sysconf reports).
std::vector<int> online_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty())
    for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN); ++c) cpus.push_back(int(c));
  return cpus;
}

// Integer arithmetic whose result feeds the next iteration and is published
// at the end: the compiler can neither drop nor fold the loop.
void spin(const std::atomic<bool>& stop, std::atomic<uint64_t>& sink) {
  uint64_t x = 88172645463325252ull;
  while (!stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 100000; ++i) {  // xorshift64
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
  }
  sink.fetch_xor(x, std::memory_order_relaxed);
}

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

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sink{0};
  std::vector<std::thread> workers;
  std::vector<int> placed;
  for (int t = 0; t < threads; ++t) {
    const int cpu = cpus[t % cpus.size()];
    workers.emplace_back(spin, std::cref(stop), std::ref(sink));
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (int err = pthread_setaffinity_np(workers.back().native_handle(), sizeof set, &set)) {
      stop = true;
      for (auto& w : workers) w.join();
      throw Error("load: cannot pin a thread to CPU " + std::to_string(cpu) + " (error " + std::to_string(err) + ")");
    }
    placed.push_back(cpu);
  }
  const std::string how_long = o.has("seconds") ? " for " + o.get("seconds", "") + " s" : ", until SIGINT/SIGTERM";
  std::fprintf(stderr, "dofa load: %d busy thread(s) on CPU %s%s\n", threads, join(placed).c_str(), how_long.c_str());

  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!g_stop && (!o.has("seconds") || std::chrono::steady_clock::now() < until))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& w : workers) w.join();
  return 0;
}

}  // namespace dofa::cli
