// What the engine runs on. The BLAS is read from the process itself (the
// library that actually provides sgemm_), not from the build: Debian's
// LibTorch links whichever libblas.so.3 alternative is installed (numbers.md §3.1).
#include "system_info.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gpu.h"
#include "json_reader.h"

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

namespace dofa {

namespace {

using openblas_set_fn = void (*)(int);
using openblas_get_fn = int (*)();

std::string libtorch_version() {
#ifdef TORCH_VERSION
  return TORCH_VERSION;
#elif defined(TORCH_VERSION_MAJOR)
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
#else
  return "unknown";
#endif
}

// Path of the shared object that defines `symbol` in this process, or "".
std::string library_of(const char* symbol) {
  void* addr = dlsym(RTLD_DEFAULT, symbol);
  if (!addr) return "";
  Dl_info info{};
  if (!dladdr(addr, &info) || !info.dli_fname) return "";
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved)) return resolved;
  return info.dli_fname;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string blas_kind(const std::string& path) {
  if (path.empty()) return "unknown";
  if (contains(path, "openblas")) return "openblas";
  if (contains(path, "blis")) return "blis";
  if (contains(path, "atlas")) return "atlas";
  if (contains(path, "mkl")) return "mkl";
  // Debian's reference implementation (libblas3): /usr/lib/<triplet>/blas/libblas.so.3.
  if (contains(path, "/blas/libblas.so")) return "reference";
  // OpenBLAS under another name: the library defining sgemm_ also defines its
  // own entry points. (OpenBLAS may be loaded beside another BLAS, e.g. through
  // liblapack.so.3, so its mere presence proves nothing.)
  if (library_of("openblas_get_num_threads") == path) return "openblas";
  return "unknown";
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    // x86: "model name", ARM: "Model" or "Hardware".
    for (const char* key : {"model name", "Model", "Hardware"}) {
      if (line.rfind(key, 0) != 0) continue;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      size_t start = line.find_first_not_of(" \t", colon + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "unknown";
}

}  // namespace

void set_threads(int n) {
  if (n < 1) n = 1;
  // OpenBLAS's own pool would oversubscribe against ATen's OpenMP threads (numbers.md §3.5).
  if (auto set = reinterpret_cast<openblas_set_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set(1);
  at::set_num_threads(n);
  at::init_num_threads();  // thread-local init of the calling thread (numbers.md §3.6)
}

std::string cuda_unavailable_reason() {
  if (!gpu::compiled()) return "this build has no CUDA sources (nvcc was not found when it was configured, or -Dcuda=disabled)";
  if (!at::hasCUDA())
    return "this LibTorch has no CUDA (Debian's libtorch-dev is CPU-only: configure with -Dtorch_dir=<a CUDA LibTorch>)";
  if (gpu::device_count() == 0) return "no CUDA device found";
  return "";
}

std::vector<std::string> available_devices() {
  std::vector<std::string> d{"cpu"};
  if (cuda_unavailable_reason().empty()) d.push_back("cuda");
  return d;
}

SystemInfo system_info() {
  SystemInfo i;
  i.libtorch = libtorch_version();
  i.threads = at::get_num_threads();
  i.blas = library_of("sgemm_");
  i.blas_kind = blas_kind(i.blas);
  if (i.blas_kind == "openblas")
    if (auto get = reinterpret_cast<openblas_get_fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
      i.blas_threads = get();
#if AT_MKLDNN_ENABLED()
  i.onednn = at::globalContext().userEnabledMkldnn();
#endif
  i.cpu = cpu_model();
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  i.cpus = online > 0 ? int(online) : 0;
  const std::string why = cuda_unavailable_reason();
  i.cuda = why.empty();
  i.gpu = i.cuda ? gpu::device_name(0) : why;
  if (i.blas_kind == "reference")
    i.warning = "reference BLAS in use: install libopenblas0-pthread (1x1 convolutions ~10x slower)";
  else if (i.blas.empty())
    i.warning = "no BLAS found in the process (sgemm_ not defined)";
  return i;
}

std::string system_info_json(const SystemInfo& i) {
  JsonWriter w;
  w.begin_object();
  w.key("libtorch").value(i.libtorch);
  w.key("threads").value(i.threads);
  w.key("blas").value(i.blas);
  w.key("blas_kind").value(i.blas_kind);
  w.key("blas_threads").value(i.blas_threads);
  w.key("onednn").value(i.onednn);
  w.key("cpu").value(i.cpu);
  w.key("cpus").value(i.cpus);
  w.key("cuda").value(i.cuda);
  w.key("gpu").value(i.gpu);
  w.key("warning").string_or_null(i.warning);
  w.end_object();
  return w.str();
}

std::string system_info_text(const SystemInfo& i) {
  std::ostringstream o;
  o << "libtorch:     " << i.libtorch << "\n"
    << "threads:      " << i.threads << "\n"
    << "blas:         " << i.blas_kind << " (" << (i.blas.empty() ? "not found" : i.blas) << ")";
  if (i.blas_threads >= 0) o << ", " << i.blas_threads << " thread" << (i.blas_threads == 1 ? "" : "s");
  o << "\n"
    << "onednn:       " << (i.onednn ? "enabled" : "disabled") << "\n"
    << "cpu:          " << i.cpu << " (" << i.cpus << " online)\n"
    << "cuda:         " << (i.cuda ? "available: " : "not available: ") << i.gpu << "\n";
  if (!i.warning.empty()) o << "warning:      " << i.warning << "\n";
  return o.str();
}

}  // namespace dofa
