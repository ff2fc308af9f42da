// Model: the immutable dynamic model shared by every user of the same (spec,
// level table, weights, device): the supernet, the level table and, with
// materialize=all, every level materialised and warmed at load.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "arch.h"
#include "spec.h"

namespace dofa {

// The model used when none is named (the element's default).
inline constexpr const char* kBuiltinModel = "fmnist-mbv3";

enum class Materialize {
  All,   // every level built at load; a switch is one atomic store
  Lazy,  // built in the background on first use; the old level runs meanwhile
  None,  // the supernet runs with views and the level's statistics passed in
};
Materialize parse_materialize(const std::string& s);  // "all" | "lazy" | "none"

// What runs a level on the CPU. The GPU always runs ATen's NCHW convolutions
// (cuDNN's float kernels are fastest there).
enum class CpuKernels {
  Fastest,           // Own or AtenChannelsLast, whichever runs the level faster here, timed side by side at build
  Own,               // the level's own NHWC loops and one GEMM per pointwise conv: no per-op framework cost
  AtenChannelsLast,  // ATen ops on channels-last maps (oneDNN depthwise, BLAS pointwise)
  AtenNchw,          // ATen ops on NCHW maps: the plain reference
};
const char* cpu_kernels_name(CpuKernels k);  // "fastest" | "own" | "aten-cl" | "aten-nchw"

struct ModelOptions {
  std::string spec;         // built-in model name or spec path
  std::string level_table;  // path; "" = luts/<model>-<device>.json from the data path if present and no archs
  std::string weights;      // "" = the spec's weights file; "random[:SEED]" = random weights
  std::string device = "cpu";  // or "cuda": levels in GPU memory, frames preprocessed there
  Materialize materialize = Materialize::All;
  std::vector<std::string> archs;  // levels when there is no level table (else the max arch)
  int warmup_runs = 5;
  CpuKernels kernels = CpuKernels::Fastest;
};

struct LevelInfo {
  Arch arch;
  double top1 = -1;                 // % on test data; -1 = unknown
  double latency_mean_ms = 0, latency_p90_ms = 0;  // from the table
  double measured_ms = 0;           // at load on this machine: median over interleaved rounds of
                                    // warm-up runs (0 = not built yet)
  double mflops = 0;
  long long params = 0;
};

class Model {
 public:
  // Shared: the same options give the same Model while anyone holds it.
  static std::shared_ptr<const Model> get(const ModelOptions& o);
  // A new Model, not shared.
  static std::shared_ptr<const Model> load(const ModelOptions& o);
  ~Model();

  const Spec& spec() const;
  const std::string& device() const;
  Materialize materialize() const;
  int num_levels() const;
  const LevelInfo& level(int i) const;  // throws on a bad index
  std::string level_table_path() const;  // "" when levels came from archs

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dofa
