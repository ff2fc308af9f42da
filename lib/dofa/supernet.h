// The elastic MobileNetV3 supernet with OFA's semantics (ofa-facts §1-§2), run
// dynamically for any arch (internal: ATen types). Autograd-capable: training
// runs through forward() in Train mode.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch.h"
#include "level_bn.h"
#include "spec.h"
#include "torchfile.h"

namespace dofa {

enum class BnMode {
  Train,      // batch statistics, running statistics updated (sliced, in place)
  Eval,       // given per-level statistics, or the supernet's own sliced
  Calibrate,  // batch statistics; OFA's averaged statistics accumulated (ofa-facts §4)
};

// OFA's set_running_statistics meters: per BN the batch-size-weighted average
// of per-batch means and of per-batch (biased) variances.
class BnCalibration {
 public:
  void update(const std::string& bn, const at::Tensor& mean, const at::Tensor& var, int64_t n);
  BnStats result() const;  // "<bn>.running_mean" / "<bn>.running_var"
  int64_t count(const std::string& bn) const;

 private:
  struct Meter {
    at::Tensor mean_sum, var_sum;
    int64_t count = 0;
  };
  std::map<std::string, Meter> meters_;
};

struct ForwardOptions {
  BnMode mode = BnMode::Eval;
  const BnStats* stats = nullptr;      // Eval: per-level statistics
  BnCalibration* calibration = nullptr;  // Calibrate
  bool channels_last = false;          // run in the channels-last memory format
};

// Every problem of a weights map against the spec, one line each: missing,
// wrong shape, wrong dtype, unexpected. num_batches_tracked is optional.
std::vector<std::string> weight_problems(const Spec& spec, const TensorMap& weights);
bool is_batch_counter(const std::string& key);  // "*.num_batches_tracked"
// `t` with channels-last strides. A dimension of size 1 (a grey input, a
// depthwise or first-conv weight) makes a tensor count as contiguous in both
// formats, and contiguous(ChannelsLast) then keeps the standard strides; oneDNN
// picks its kernels by the strides, so such a tensor sent the whole network
// down the blocked NCHW path (training 2.5-3x slower at batch 128). This
// restrides it; a tensor already so is returned as it is.
at::Tensor channels_last(const at::Tensor& t);
// The conv weights of `weights` in channels-last strides, in place: for
// training, where oneDNN would otherwise reorder each weight in every pass,
// forward and backward. A Supernet made from them shares them.
void store_channels_last(TensorMap& weights);

class Supernet {
 public:
  // Checks every key, shape and dtype of the spec; drops num_batches_tracked.
  Supernet(const Spec& spec, TensorMap weights);
  static Supernet load(const Spec& spec, const std::string& path);
  // Random weights for latency work and tests (seeded; BN statistics random too).
  static Supernet random(const Spec& spec, uint64_t seed);
  // "random[:SEED]" or a weights file; "" = the spec's weights file.
  static Supernet open(const Spec& spec, const std::string& weights);

  at::Tensor forward(const at::Tensor& x, const Arch& a, const ForwardOptions& o = {}) const;

  // A depthwise kernel of `mid` channels and size k: centre crop and the
  // block's transform matrices, largest to smallest (ofa-facts §2.2).
  at::Tensor active_kernel(const SuperBlock& b, int mid, int k) const;
  // The supernet's own BN statistics sliced to an arch (as get_active_subnet copies them).
  BnStats own_bn_stats(const Arch& a) const;

  const at::Tensor& w(const std::string& key) const;  // throws naming the key
  const TensorMap& weights() const { return weights_; }
  TensorMap& weights() { return weights_; }
  const Spec& spec() const { return spec_; }
  const std::string& sha256() const { return sha256_; }  // of the file; "" for random weights
  void set_sha256(std::string s) { sha256_ = std::move(s); }

 private:
  at::Tensor bn(const at::Tensor& x, const std::string& name, int channels, const ForwardOptions& o) const;

  Spec spec_;
  TensorMap weights_;
  std::string sha256_;
};

at::Tensor activate(const at::Tensor& x, Act a);

}  // namespace dofa
