// The CUDA runtime as libdofa uses it, behind plain types: device memory,
// copies and CUDA-event timing, all on the default stream. LibTorch runs its
// kernels there too unless told otherwise, so the project's kernels and
// LibTorch's ops stay in order without extra synchronisation.
//
// Builds without the CUDA sources (no nvcc, or -Dcuda=disabled) link
// gpu_none.cpp instead: compiled() is false, device_count() 0, and the rest
// throws dofa::Error.
#pragma once

#include <cstddef>
#include <string>

namespace dofa::gpu {

bool compiled();           // the CUDA sources are part of this build
int device_count();        // CUDA devices the driver reports; 0 if none or not compiled
std::string device_name(int device);
void synchronize();        // waits for the device

// Device memory that grows on demand and is freed with the object.
class Buffer {
 public:
  Buffer() = default;
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* reserve(size_t bytes);  // at least `bytes`; the contents are lost when it grows
  void* get() const { return p_; }

 private:
  void* p_ = nullptr;
  size_t size_ = 0;
};

void upload(void* device_dst, const void* host_src, size_t bytes);
void download(void* host_dst, const void* device_src, size_t bytes);

// Elapsed GPU time between start() and stop() on the default stream.
class EventTimer {
 public:
  EventTimer();
  ~EventTimer();
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  void start();
  void stop();
  double elapsed_ms();  // waits for stop()

 private:
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

}  // namespace dofa::gpu
