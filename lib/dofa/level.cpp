#include "level.h"

#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>

#include "error.h"
#include "gpu.h"
#include "weight_keys.h"

namespace dofa {

namespace {

at::Tensor store(const at::Tensor& t, bool channels_last) {
  if (t.dim() == 4 && channels_last) return dofa::channels_last(t);
  return t.contiguous();
}

}  // namespace

namespace {

at::Tensor activate_inplace(at::Tensor x, Act a) {
  switch (a) {
    case Act::Relu: return at::relu_(x);
    case Act::HSwish: return at::hardswish_(x);
    case Act::HSigmoid: return at::hardsigmoid_(x);
    case Act::None: return x;
  }
  return x;
}

}  // namespace

at::Tensor Level::Conv::run(const at::Tensor& x) const {
  at::Tensor y;
  if (wt.defined() && x.is_contiguous(at::MemoryFormat::ChannelsLast)) {
    // A pointwise conv on a channels-last map is a GEMM: [N*H*W, Cin] x [Cin, Cout].
    // Calling BLAS directly skips the convolution dispatch and im2col.
    const int64_t n = x.size(0), h = x.size(2), wd = x.size(3);
    at::Tensor rows = x.permute({0, 2, 3, 1}).view({n * h * wd, x.size(1)});
    y = at::addmm(b, rows, wt).view({n, h, wd, wt.size(1)}).permute({0, 3, 1, 2});
  } else {
    y = at::conv2d(x, w, b, {stride, stride}, {pad, pad}, {1, 1}, groups);
  }
  return activate_inplace(y, act);
}

Level::Level(const Supernet& net, const Arch& arch, const BnStats* stats, bool channels_last, c10::Device device)
    : arch_(arch), in_channels_(net.spec().in_channels), channels_last_(channels_last && device.is_cpu()),
      device_(device) {
  c10::NoGradGuard no_grad;
  const Spec& s = net.spec();
  arch_.validate(s);
  BnStats own;
  if (!stats) {
    own = net.own_bn_stats(arch_);
    stats = &own;
  }
  auto stat = [&](const std::string& key, int64_t c) -> at::Tensor {
    auto it = stats->find(key);
    if (it == stats->end()) throw Error("level " + arch_.to_text() + ": BN statistics lack " + key);
    if (it->second.numel() != c)
      throw Error("level " + arch_.to_text() + ": " + key + " has " + std::to_string(it->second.numel()) +
                  " channels, expected " + std::to_string(c));
    return it->second.to(at::kDouble);
  };
  // Folds BN (gamma, beta, mean, var) into a bias-free conv: w' = w * g / sqrt(v + eps),
  // b' = beta - mean * g / sqrt(v + eps). Done in double, stored as float.
  auto folded = [&](const at::Tensor& w, const std::string& bn, int64_t c, int stride, int groups, Act act) {
    at::Tensor g = net.w(bn + ".weight").narrow(0, 0, c).to(at::kDouble);
    at::Tensor beta = net.w(bn + ".bias").narrow(0, 0, c).to(at::kDouble);
    at::Tensor scale = g / at::sqrt(stat(bn + ".running_var", c) + s.bn_eps);
    Conv cv;
    cv.w = store((w.to(at::kDouble) * scale.view({-1, 1, 1, 1})).to(at::kFloat), channels_last_);
    cv.b = (beta - stat(bn + ".running_mean", c) * scale).to(at::kFloat).contiguous();
    cv.stride = stride;
    cv.pad = int(w.size(2) / 2);
    cv.groups = groups;
    cv.act = act;
    if (w.size(2) == 1 && w.size(3) == 1 && stride == 1 && groups == 1 && channels_last_)
      cv.wt = cv.w.reshape({cv.w.size(0), cv.w.size(1)}).t().contiguous();
    return cv;
  };

  first_ = folded(net.w("first_conv.conv.weight"), "first_conv.bn", s.first_conv.width, s.first_conv.stride, 1,
                  s.first_conv.act);
  for (const LayerShape& l : net_shape(s, arch_).blocks) {
    const SuperBlock& b = *l.block;
    const BlockKeys k = block_keys(b);
    Block blk;
    blk.residual = b.residual;
    if (l.expand) {
      blk.has_ib = true;
      blk.ib = folded(net.w(k.ib_conv + ".weight").narrow(0, 0, l.mid).narrow(1, 0, l.in), k.ib_bn, l.mid, 1, 1,
                      b.act);
    }
    blk.dw = folded(net.active_kernel(b, l.mid, l.kernel), k.dw_bn, l.mid, l.stride, l.mid, b.act);
    if (b.se) {
      blk.has_se = true;
      blk.se_rw = net.w(k.se + ".fc.reduce.weight").narrow(0, 0, l.se_mid).narrow(1, 0, l.mid)
                      .reshape({l.se_mid, l.mid}).contiguous();
      blk.se_rb = net.w(k.se + ".fc.reduce.bias").narrow(0, 0, l.se_mid).contiguous();
      blk.se_ew = net.w(k.se + ".fc.expand.weight").narrow(0, 0, l.mid).narrow(1, 0, l.se_mid)
                      .reshape({l.mid, l.se_mid}).contiguous();
      blk.se_eb = net.w(k.se + ".fc.expand.bias").narrow(0, 0, l.mid).contiguous();
    }
    blk.pw = folded(net.w(k.pw_conv + ".weight").narrow(0, 0, l.out).narrow(1, 0, l.mid), k.pw_bn, l.out, 1, 1,
                    Act::None);
    blocks_.push_back(std::move(blk));
  }
  final_expand_ = folded(net.w("final_expand_layer.conv.weight"), "final_expand_layer.bn", s.final_expand.width, 1,
                         1, s.final_expand.act);
  const at::Tensor& mix = net.w("feature_mix_layer.conv.weight");
  mix_w_ = mix.reshape({mix.size(0), mix.size(1)}).contiguous();
  mix_act_ = s.feature_mix.act;
  fc_w_ = net.w("classifier.linear.weight").contiguous();
  fc_b_ = net.w("classifier.linear.bias").contiguous();
  // Own copies: nothing of the level aliases the supernet.
  for (at::Tensor* t : {&mix_w_, &fc_w_, &fc_b_}) *t = t->clone();
  for (Block& blk : blocks_)
    for (at::Tensor* t : {&blk.se_rw, &blk.se_rb, &blk.se_ew, &blk.se_eb})
      if (t->defined()) *t = t->clone();
  if (!device_.is_cpu()) {
    // Built on the CPU (in double where it folds BN), then moved: the device holds floats only.
    auto move = [this](at::Tensor& t) {
      if (t.defined()) t = t.to(device_);
    };
    for (Conv* c : {&first_, &final_expand_}) move(c->w), move(c->b), move(c->wt);
    for (Block& b : blocks_) {
      for (Conv* c : {&b.ib, &b.dw, &b.pw}) move(c->w), move(c->b), move(c->wt);
      for (at::Tensor* t : {&b.se_rw, &b.se_rb, &b.se_ew, &b.se_eb}) move(*t);
    }
    for (at::Tensor* t : {&mix_w_, &fc_w_, &fc_b_}) move(*t);
  }
}

at::Tensor Level::forward(const at::Tensor& input, std::vector<double>* op_ms) const {
  c10::InferenceMode guard;
  auto t = std::chrono::steady_clock::now();
  auto lap = [op_ms, &t]() {
    if (!op_ms) return;
    auto now = std::chrono::steady_clock::now();
    op_ms->push_back(std::chrono::duration<double, std::milli>(now - t).count());
    t = now;
  };
  const at::Tensor here = input.device() == device_ ? input : input.to(device_);
  at::Tensor x = channels_last_ ? channels_last(here) : here.contiguous();
  x = first_.run(x);
  lap();
  for (const Block& b : blocks_) {
    at::Tensor skip = x;
    if (b.has_ib) x = b.ib.run(x);
    x = b.dw.run(x);
    if (b.has_se) {
      at::Tensor y = at::relu(at::linear(x.mean({2, 3}), b.se_rw, b.se_rb));
      y = at::hardsigmoid(at::linear(y, b.se_ew, b.se_eb));
      x = x * y.view({y.size(0), y.size(1), 1, 1});
    }
    x = b.pw.run(x);
    if (b.residual) x = x + skip;
    lap();
  }
  x = final_expand_.run(x);
  lap();
  x = x.mean({2, 3});
  lap();
  x = activate(at::linear(x, mix_w_), mix_act_);
  lap();
  x = at::linear(x, fc_w_, fc_b_);
  lap();
  return x;
}

double Level::timed_forward(const at::Tensor& x) const {
  if (device_.is_cuda()) {
    gpu::EventTimer t;
    t.start();
    forward(x);
    t.stop();
    return t.elapsed_ms();
  }
  auto t0 = std::chrono::steady_clock::now();
  forward(x);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double Level::warm_up(int runs) const {
  at::Tensor x = at::zeros({1, in_channels_, arch_.r, arch_.r}, at::TensorOptions().device(device_));
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, runs); ++i) ms.push_back(timed_forward(x));
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

size_t Level::bytes() const {
  size_t n = 0;
  auto add = [&n](const at::Tensor& t) {
    if (t.defined()) n += t.numel() * t.element_size();
  };
  for (const Conv* c : {&first_, &final_expand_}) add(c->w), add(c->b);
  for (const Block& b : blocks_) {
    for (const Conv* c : {&b.ib, &b.dw, &b.pw}) add(c->w), add(c->b);
    for (const at::Tensor* t : {&b.se_rw, &b.se_rb, &b.se_ew, &b.se_eb}) add(*t);
  }
  for (const at::Tensor* t : {&mix_w_, &fc_w_, &fc_b_}) add(*t);
  return n;
}

}  // namespace dofa
