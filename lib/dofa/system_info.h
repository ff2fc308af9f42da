// What the engine runs on: LibTorch version, threads, the BLAS actually loaded,
// oneDNN, CPU model. The same block goes into every benchmark's JSON.
#pragma once

#include <string>
#include <vector>

namespace dofa {

struct SystemInfo {
  std::string libtorch;     // e.g. "1.13.0"
  int threads = 1;          // at::get_num_threads()
  std::string blas;         // resolved path of the loaded BLAS library
  std::string blas_kind;    // "openblas", "reference", "blis", "mkl", "atlas" or "unknown"
  int blas_threads = -1;    // OpenBLAS threads, -1 if not OpenBLAS
  bool onednn = false;      // compiled in and enabled
  std::string cpu;          // model name
  int cpus = 0;             // online CPUs
  bool cuda = false;        // device=cuda works: CUDA sources built, LibTorch with CUDA, a device
  std::string gpu;          // the first CUDA device's name, or why cuda is unavailable
  std::string warning;      // e.g. reference BLAS in use
};

// Sets the engine's threads: OpenBLAS to one thread, LibTorch intra-op threads
// to n, applied in the calling thread (both are process-wide; last call wins).
void set_threads(int n);
SystemInfo system_info();
// "" when device=cuda works here, else why not.
std::string cuda_unavailable_reason();
// The devices a Model can load on here: "cpu", then "cuda" when it works.
std::vector<std::string> available_devices();
std::string system_info_json(const SystemInfo& i);  // a JSON object
std::string system_info_text(const SystemInfo& i);  // human-readable block

}  // namespace dofa
