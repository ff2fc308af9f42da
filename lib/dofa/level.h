// Level: a materialised static sub-network (internal: ATen types). Its weights
// are cut out of the supernet once (first-N channels, kernel transforms, SE
// slices), BN folded into conv weight and bias, stored contiguous in the
// faster memory format, and warmed up, so a frame costs only the convolutions.
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "arch.h"
#include "supernet.h"

namespace dofa {

class Level {
 public:
  // stats: the level's BN statistics; nullptr = the supernet's own, sliced
  // (what OFA's get_active_subnet copies). device: where the weights live and
  // the level runs (channels-last applies on the CPU only: cuDNN's float
  // kernels are fastest in NCHW).
  Level(const Supernet& net, const Arch& arch, const BnStats* stats, bool channels_last = true,
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
  size_t bytes() const;  // weight memory

 private:
  struct Conv {
    at::Tensor w, b;
    at::Tensor wt;  // 1x1 stride-1 convs: [Cin, Cout], run as one GEMM over pixels
    int stride = 1, pad = 0, groups = 1;
    Act act = Act::None;
    at::Tensor run(const at::Tensor& x) const;
  };
  struct Block {
    bool has_ib = false, has_se = false, residual = false;
    Conv ib, dw, pw;
    at::Tensor se_rw, se_rb, se_ew, se_eb;  // 2-D: SE runs as two linear layers
  };

  Arch arch_;
  int in_channels_ = 3;
  bool channels_last_ = true;
  c10::Device device_ = c10::kCPU;
  Conv first_;
  std::vector<Block> blocks_;
  Conv final_expand_;
  Act mix_act_ = Act::None;
  at::Tensor mix_w_, fc_w_, fc_b_;  // 2-D
};

}  // namespace dofa
