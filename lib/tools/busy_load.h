// BusyLoad: busy threads pinned to CPUs, the load of `dofa load`, of
// `dofa bench rtm` and of `dofa demo`. A paced pipeline (idle between frames)
// hides an unpinned load, because the scheduler favours threads that sleep; an
// unpaced one under load becomes bimodal at scheduler-slice granularity
// (reference/numbers.md §7). Load scenarios therefore run unpaced with the load
// pinned to the CPU of the streaming thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace dofa::cli {

// The CPUs this process may run on (the affinity mask: containers and taskset
// narrow it below what sysconf reports).
std::vector<int> online_cpus();
// "0", "0,1", "0-3", "0-1,4"; each CPU must be one of `online`. Errors name
// the option, the list and the bad item.
std::vector<int> parse_cpus(const std::string& list, const std::vector<int>& online,
                            const std::string& option = "--cpus");
std::string join_cpus(const std::vector<int>& cpus);
// Pins the calling thread to one CPU; throws Error naming it when it cannot.
void pin_this_thread(int cpu);

class BusyLoad {
 public:
  // `threads` spinning threads, taken round-robin over `cpus` (non-empty).
  BusyLoad(int threads, const std::vector<int>& cpus);
  ~BusyLoad();  // stops and joins them
  BusyLoad(const BusyLoad&) = delete;
  BusyLoad& operator=(const BusyLoad&) = delete;
  const std::vector<int>& placed() const { return placed_; }  // the CPU of each thread

 private:
  void stop();
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sink_{0};
  std::vector<std::thread> workers_;
  std::vector<int> placed_;
};

}  // namespace dofa::cli
