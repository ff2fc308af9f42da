// Level: a materialised static sub-network (internal: ATen types). Its weights
// are cut out of the supernet once (first-N channels, kernel transforms, SE
// slices), BN folded into conv weight and bias, stored contiguous in the
// layout its kernels read, and warmed up, so a frame costs only the
// arithmetic. On the CPU it runs its own NHWC kernels (nhwc_kernels.h) by
// default, or ATen's ops as a reference.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <vector>

#include "arch.h"
#include "model.h"
#include "nhwc_kernels.h"
#include "supernet.h"

namespace dofa {

class Level {
 public:
  // stats: the level's BN statistics; nullptr = the supernet's own, sliced
  // (what OFA's get_active_subnet copies). device: where the weights live and
  // the level runs; kernels apply on the CPU only (the GPU runs ATen NCHW).
  // The constructor builds one kernel set: Fastest builds Own (see build()).
  Level(const Supernet& net, const Arch& arch, const BnStats* stats, CpuKernels kernels = CpuKernels::Own,
        c10::Device device = c10::kCPU);
  // The same, where CpuKernels::Fastest builds the level on both CPU kernel
  // sets and keeps the one faster here, timed side by side: the own kernels
  // win on small maps, where ATen's per-op cost dominates (the built-in
  // model: 2-5x), oneDNN's depthwise on large ones (w1.2 at r 224: ~1.2x).
  static Level build(const Supernet& net, const Arch& arch, const BnStats* stats, CpuKernels kernels,
                     c10::Device device = c10::kCPU);

  // x: [N, C, r, r] float32, moved to the level's device if elsewhere. Runs under InferenceMode.
  at::Tensor forward(const at::Tensor& x) const { return forward(x, nullptr); }
  // The same, appending each op's wall time in ms to op_ms in the order of
  // op_keys() (op_keys.h): first conv, every block, final expand, pool, feature mix, logits.
  at::Tensor forward(const at::Tensor& x, std::vector<double>* op_ms) const;
  // Runs `runs` frames of zeros; returns the median time in ms.
  double warm_up(int runs) const;
  // One forward of x (on the level's device) in ms: wall time on the CPU,
  // CUDA events on the GPU.
  double timed_forward(const at::Tensor& x) const;

  const Arch& arch() const { return arch_; }
  int resolution() const { return arch_.r; }
  int in_channels() const { return in_channels_; }
  c10::Device device() const { return device_; }
  CpuKernels kernels() const { return kernels_; }
  size_t bytes() const;  // weight memory

 private:
  struct Conv {
    at::Tensor w;   // ATen kernels: [Cout, Cin/groups, k, k] in the level's memory format
    at::Tensor wk;  // own kernels: [k][k][C] depthwise, [k][k][Cin][Cout] dense; for a
                    // 1x1 stride-1 conv [Cin][Cout], the GEMM operand of both kernels
    at::Tensor b;
    int k = 1, stride = 1, groups = 1, out = 0;
    Act act = Act::None;
    bool gemm() const { return k == 1 && stride == 1 && groups == 1; }
    at::Tensor run(const at::Tensor& x) const;
    nhwc::Shape run(const float* x, const nhwc::Shape& in, float* y) const;
  };
  struct Linear {
    at::Tensor wt, b;  // wt: [in][out]; b may be undefined
    Act act = Act::None;
    at::Tensor run(const at::Tensor& x) const;
  };
  struct Block {
    bool has_ib = false, has_se = false, residual = false;
    Conv ib, dw, pw;
    Linear se_reduce, se_expand;
  };
  using Lap = std::function<void()>;
  at::Tensor forward_aten(const at::Tensor& x, const Lap& lap) const;
  at::Tensor forward_own(const at::Tensor& x, const Lap& lap) const;
  // Floats of scratch the own kernels need per image of h x w.
  struct ScratchSize {
    int64_t map = 0, vectors = 0;
  };
  ScratchSize scratch_size(int h, int w) const;

  Arch arch_;
  int in_channels_ = 3;
  CpuKernels kernels_ = CpuKernels::Own;
  bool channels_last_ = true;  // ATen kernels' memory format
  c10::Device device_ = c10::kCPU;
  Conv first_;
  std::vector<Block> blocks_;
  Conv final_expand_;
  Linear mix_, fc_;
};

}  // namespace dofa
