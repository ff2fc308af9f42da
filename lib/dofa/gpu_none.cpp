// gpu.h in builds without the CUDA sources.
#include "error.h"
#include "gpu.h"
#include "gpu_preprocess.h"

namespace dofa::gpu {

namespace {

[[noreturn]] void unavailable() {
  throw Error("this build has no CUDA sources (nvcc was not found when it was configured, or -Dcuda=disabled)");
}

}  // namespace

bool compiled() { return false; }
int device_count() { return 0; }
std::string device_name(int) { unavailable(); }
void synchronize() { unavailable(); }
Buffer::~Buffer() = default;
void* Buffer::reserve(size_t) { unavailable(); }
void upload(void*, const void*, size_t) { unavailable(); }
void download(void*, const void*, size_t) { unavailable(); }
EventTimer::EventTimer() { unavailable(); }
EventTimer::~EventTimer() = default;
void EventTimer::start() { unavailable(); }
void EventTimer::stop() { unavailable(); }
double EventTimer::elapsed_ms() { unavailable(); }
void launch_preprocess(const ImageView&, const pixel::Crop&, const pixel::Normalise&, int, int, uint8_t*, float*) {
  unavailable();
}

}  // namespace dofa::gpu
