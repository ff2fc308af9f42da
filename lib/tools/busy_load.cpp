#include "busy_load.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>

#include "error.h"

namespace dofa::cli {

namespace {

int parse_cpu(const std::string& s, const std::string& list, const std::string& option) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < 0 || v > 1 << 16)
    throw Error(option + " " + list + ": '" + s + "' is not a CPU number");
  return int(v);
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

int pin(pthread_t thread, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(thread, sizeof set, &set);
}

}  // namespace

std::string join_cpus(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

std::vector<int> parse_cpus(const std::string& list, const std::vector<int>& online, const std::string& option) {
  std::vector<int> cpus;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t dash = item.find('-');
    int lo, hi;
    if (dash == std::string::npos) {
      lo = hi = parse_cpu(item, list, option);
    } else {
      lo = parse_cpu(item.substr(0, dash), list, option);
      hi = parse_cpu(item.substr(dash + 1), list, option);
      if (hi < lo) throw Error(option + " " + list + ": range " + item + " runs backwards");
    }
    for (int c = lo; c <= hi; ++c) {
      bool found = false;
      for (int o : online) found |= o == c;
      if (!found)
        throw Error(option + " " + list + ": CPU " + std::to_string(c) + " does not exist or is not available (CPUs " +
                    join_cpus(online) + ")");
      cpus.push_back(c);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return cpus;
}

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

void pin_this_thread(int cpu) {
  if (int err = pin(pthread_self(), cpu))
    throw Error("cannot pin a thread to CPU " + std::to_string(cpu) + " (error " + std::to_string(err) + ")");
}

BusyLoad::BusyLoad(int threads, const std::vector<int>& cpus) {
  if (threads < 1 || cpus.empty()) throw Error("load: expected at least one thread and one CPU");
  for (int t = 0; t < threads; ++t) {
    const int cpu = cpus[size_t(t) % cpus.size()];
    workers_.emplace_back(spin, std::cref(stop_), std::ref(sink_));
    if (int err = pin(workers_.back().native_handle(), cpu)) {
      stop();
      throw Error("load: cannot pin a thread to CPU " + std::to_string(cpu) + " (error " + std::to_string(err) + ")");
    }
    placed_.push_back(cpu);
  }
}

BusyLoad::~BusyLoad() { stop(); }

void BusyLoad::stop() {
  stop_ = true;
  for (auto& w : workers_)
    if (w.joinable()) w.join();
}

}  // namespace dofa::cli
