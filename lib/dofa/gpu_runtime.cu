// gpu.h on the CUDA runtime.
#include <cuda_runtime.h>

#include "error.h"
#include "gpu.h"

namespace dofa::gpu {

namespace {

void check(cudaError_t e, const char* call) {
  if (e != cudaSuccess) throw Error(std::string("CUDA ") + call + ": " + cudaGetErrorString(e));
}

}  // namespace

bool compiled() { return true; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: clear the sticky error
    return 0;
  }
  return n;
}

std::string device_name(int device) {
  cudaDeviceProp p;
  check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
  return p.name;
}

void synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

Buffer::~Buffer() {
  if (p_) cudaFree(p_);
}

void* Buffer::reserve(size_t bytes) {
  if (bytes <= size_) return p_;
  if (p_) check(cudaFree(p_), "cudaFree");
  p_ = nullptr;
  size_ = 0;
  check(cudaMalloc(&p_, bytes), "cudaMalloc");
  size_ = bytes;
  return p_;
}

void upload(void* device_dst, const void* host_src, size_t bytes) {
  check(cudaMemcpyAsync(device_dst, host_src, bytes, cudaMemcpyHostToDevice, 0), "cudaMemcpyAsync (upload)");
}

void download(void* host_dst, const void* device_src, size_t bytes) {
  check(cudaMemcpy(host_dst, device_src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (download)");
}

EventTimer::EventTimer() {
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "cudaEventCreate");
  check(cudaEventCreate(&b), "cudaEventCreate");
  start_ = a, stop_ = b;
}

EventTimer::~EventTimer() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
}

void EventTimer::start() { check(cudaEventRecord(static_cast<cudaEvent_t>(start_), 0), "cudaEventRecord"); }
void EventTimer::stop() { check(cudaEventRecord(static_cast<cudaEvent_t>(stop_), 0), "cudaEventRecord"); }

double EventTimer::elapsed_ms() {
  check(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)),
        "cudaEventElapsedTime");
  return ms;
}

}  // namespace dofa::gpu
