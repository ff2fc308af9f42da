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
  if (wk.defined() && x.is_contiguous(at::MemoryFormat::ChannelsLast)) {
    // A pointwise conv on a channels-last map is a GEMM: [N*H*W, Cin] x [Cin, Cout].
    // Calling BLAS directly skips the convolution dispatch and im2col.
    const int64_t n = x.size(0), h = x.size(2), wd = x.size(3);
    at::Tensor rows = x.permute({0, 2, 3, 1}).view({n * h * wd, x.size(1)});
    y = at::addmm(b, rows, wk).view({n, h, wd, wk.size(1)}).permute({0, 3, 1, 2});
  } else {
    y = at::conv2d(x, w, b, {stride, stride}, {k / 2, k / 2}, {1, 1}, groups);
  }
  return activate_inplace(y, act);
}

nhwc::Shape Level::Conv::run(const float* x, const nhwc::Shape& in, float* y) const {
  const float* bias = b.data_ptr<float>();
  if (gemm())
    nhwc::pointwise(x, in, wk.data_ptr<float>(), bias, out, act, y);
  else if (groups > 1)
    nhwc::depthwise(x, in, wk.data_ptr<float>(), bias, k, stride, act, y);
  else
    nhwc::dense(x, in, wk.data_ptr<float>(), bias, out, k, stride, act, y);
  return nhwc::conv_out(in, k, stride, out);
}

at::Tensor Level::Linear::run(const at::Tensor& x) const {
  return activate_inplace(b.defined() ? at::addmm(b, x, wt) : at::mm(x, wt), act);
}

Level::Level(const Supernet& net, const Arch& arch, const BnStats* stats, CpuKernels kernels, c10::Device device)
    : arch_(arch), in_channels_(net.spec().in_channels),
      kernels_(!device.is_cpu() ? CpuKernels::AtenNchw : kernels == CpuKernels::Fastest ? CpuKernels::Own : kernels),
      channels_last_(kernels_ == CpuKernels::AtenChannelsLast), device_(device) {
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
  const bool own_kernels = kernels_ == CpuKernels::Own;
  // Folds BN (gamma, beta, mean, var) into a bias-free conv: w' = w * g / sqrt(v + eps),
  // b' = beta - mean * g / sqrt(v + eps). Done in double, stored as float.
  auto folded = [&](const at::Tensor& w, const std::string& bn, int64_t c, int stride, int groups, Act act) {
    at::Tensor g = net.w(bn + ".weight").narrow(0, 0, c).to(at::kDouble);
    at::Tensor beta = net.w(bn + ".bias").narrow(0, 0, c).to(at::kDouble);
    at::Tensor scale = g / at::sqrt(stat(bn + ".running_var", c) + s.bn_eps);
    at::Tensor wf = (w.to(at::kDouble) * scale.view({-1, 1, 1, 1})).to(at::kFloat);
    Conv cv;
    cv.b = (beta - stat(bn + ".running_mean", c) * scale).to(at::kFloat).contiguous();
    cv.k = int(w.size(2));
    cv.stride = stride;
    cv.groups = groups;
    cv.out = int(c);
    cv.act = act;
    if (cv.gemm() && (own_kernels || channels_last_))
      cv.wk = wf.reshape({wf.size(0), wf.size(1)}).t().contiguous();
    else if (own_kernels)
      cv.wk = groups > 1 ? wf.reshape({c, cv.k * cv.k}).t().contiguous() : wf.permute({2, 3, 1, 0}).contiguous();
    if (!own_kernels) cv.w = store(wf, channels_last_);
    return cv;
  };
  // Linear layers keep [in][out]: the own kernels accumulate over its rows, ATen takes it as mm's operand.
  auto linear = [&](const at::Tensor& w, const std::string& bias, Act act) {
    Linear l;
    l.wt = w.reshape({w.size(0), w.size(1)}).t().contiguous();
    if (!bias.empty()) l.b = net.w(bias).narrow(0, 0, w.size(0)).clone();
    l.act = act;
    return l;
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
      blk.se_reduce = linear(net.w(k.se + ".fc.reduce.weight").narrow(0, 0, l.se_mid).narrow(1, 0, l.mid),
                             k.se + ".fc.reduce.bias", Act::Relu);
      blk.se_expand = linear(net.w(k.se + ".fc.expand.weight").narrow(0, 0, l.mid).narrow(1, 0, l.se_mid),
                             k.se + ".fc.expand.bias", Act::HSigmoid);
    }
    blk.pw = folded(net.w(k.pw_conv + ".weight").narrow(0, 0, l.out).narrow(1, 0, l.mid), k.pw_bn, l.out, 1, 1,
                    Act::None);
    blocks_.push_back(std::move(blk));
  }
  final_expand_ = folded(net.w("final_expand_layer.conv.weight"), "final_expand_layer.bn", s.final_expand.width, 1,
                         1, s.final_expand.act);
  mix_ = linear(net.w("feature_mix_layer.conv.weight"), "", s.feature_mix.act);
  fc_ = linear(net.w("classifier.linear.weight"), "classifier.linear.bias", Act::None);
  if (!device_.is_cpu()) {
    // Built on the CPU (in double where it folds BN), then moved: the device holds floats only.
    auto move = [this](at::Tensor& t) {
      if (t.defined()) t = t.to(device_);
    };
    for (Conv* c : {&first_, &final_expand_}) move(c->w), move(c->b), move(c->wk);
    for (Block& b : blocks_) {
      for (Conv* c : {&b.ib, &b.dw, &b.pw}) move(c->w), move(c->b), move(c->wk);
      for (Linear* l : {&b.se_reduce, &b.se_expand}) move(l->wt), move(l->b);
    }
    for (Linear* l : {&mix_, &fc_}) move(l->wt), move(l->b);
  }
}

Level Level::build(const Supernet& net, const Arch& arch, const BnStats* stats, CpuKernels kernels,
                   c10::Device device) {
  if (kernels != CpuKernels::Fastest || !device.is_cpu()) return Level(net, arch, stats, kernels, device);
  Level own(net, arch, stats, CpuKernels::Own), aten(net, arch, stats, CpuKernels::AtenChannelsLast);
  std::vector<double> own_ms, aten_ms;  // medians of interleaved rounds, so a burst of load hits both
  for (int round = 0; round < 3; ++round) own_ms.push_back(own.warm_up(5)), aten_ms.push_back(aten.warm_up(5));
  std::sort(own_ms.begin(), own_ms.end());
  std::sort(aten_ms.begin(), aten_ms.end());
  return own_ms[1] <= aten_ms[1] ? std::move(own) : std::move(aten);
}

at::Tensor Level::forward(const at::Tensor& input, std::vector<double>* op_ms) const {
  c10::InferenceMode guard;
  auto t = std::chrono::steady_clock::now();
  const Lap lap = [op_ms, &t]() {
    if (!op_ms) return;
    auto now = std::chrono::steady_clock::now();
    op_ms->push_back(std::chrono::duration<double, std::milli>(now - t).count());
    t = now;
  };
  return kernels_ == CpuKernels::Own ? forward_own(input, lap) : forward_aten(input, lap);
}

at::Tensor Level::forward_aten(const at::Tensor& input, const Lap& lap) const {
  const at::Tensor here = input.device() == device_ ? input : input.to(device_);
  at::Tensor x = channels_last_ ? channels_last(here) : here.contiguous();
  x = first_.run(x);
  lap();
  for (const Block& b : blocks_) {
    at::Tensor skip = x;
    if (b.has_ib) x = b.ib.run(x);
    x = b.dw.run(x);
    if (b.has_se) {
      at::Tensor y = b.se_expand.run(b.se_reduce.run(x.mean({2, 3})));
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
  x = mix_.run(x);
  lap();
  x = fc_.run(x);
  lap();
  return x;
}

Level::ScratchSize Level::scratch_size(int h, int w) const {
  // Maps: a block's input, expanded and depthwise maps, each as large as the
  // largest the level makes. Vectors: the SE's, or the pooled and mixed features.
  ScratchSize size;
  nhwc::Shape x{1, h, w, in_channels_};
  size.map = x.size();
  x = nhwc::conv_out(x, first_.k, first_.stride, first_.out);
  size.map = std::max(size.map, x.size());
  for (const Block& b : blocks_) {
    if (b.has_ib) size.map = std::max(size.map, nhwc::Shape{1, x.h, x.w, b.ib.out}.size());
    x = nhwc::conv_out({1, x.h, x.w, b.dw.out}, b.dw.k, b.dw.stride, b.dw.out);
    size.map = std::max(size.map, x.size());
    if (b.has_se) size.vectors = std::max(size.vectors, 2 * b.dw.out + b.se_reduce.wt.size(1));
    x.c = b.pw.out;
    size.map = std::max(size.map, x.size());
  }
  size.map = std::max(size.map, nhwc::Shape{1, x.h, x.w, final_expand_.out}.size());
  size.vectors = std::max(size.vectors, final_expand_.out + mix_.wt.size(1));
  return size;
}

at::Tensor Level::forward_own(const at::Tensor& input, const Lap& lap) const {
  const at::Tensor in =
      input.scalar_type() == at::kFloat && input.is_contiguous() ? input : input.to(at::kFloat).contiguous();
  if (in.dim() != 4 || in.size(1) != in_channels_)
    throw Error("level " + arch_.to_text() + ": input has " + std::to_string(in.dim()) + " dimensions and " +
                std::to_string(in.dim() > 1 ? in.size(1) : 0) + " channels, expected [N, " +
                std::to_string(in_channels_) + ", H, W]");
  const int n = int(in.size(0)), h = int(in.size(2)), w = int(in.size(3));
  const ScratchSize size = scratch_size(h, w);
  const int64_t need = n * (3 * size.map + size.vectors);
  // Kept per thread (elements sharing a Model classify in their own streaming
  // threads), unless a large batch asks for more than a frame's worth.
  constexpr int64_t kKeptFloats = int64_t(1) << 22;
  thread_local std::vector<float> kept;
  std::vector<float> once;
  std::vector<float>& scratch = need <= kKeptFloats ? kept : once;
  if (int64_t(scratch.size()) < need) scratch.resize(size_t(need));
  float* const buf[3] = {scratch.data(), scratch.data() + n * size.map, scratch.data() + 2 * n * size.map};
  float* const vectors = scratch.data() + 3 * n * size.map;

  nhwc::Shape shape{n, h, w, in_channels_};
  const float* x = in.data_ptr<float>();
  if (in_channels_ > 1) {  // NCHW to NHWC; one channel is both
    const int64_t pixels = int64_t(h) * w;
    for (int img = 0; img < n; ++img)
      for (int c = 0; c < in_channels_; ++c)
        for (int64_t p = 0; p < pixels; ++p)
          buf[2][(img * pixels + p) * in_channels_ + c] = x[(int64_t(img) * in_channels_ + c) * pixels + p];
    x = buf[2];
  }
  shape = first_.run(x, shape, buf[0]);
  int cur = 0;
  lap();
  for (const Block& b : blocks_) {
    // The block's input stays in buf[cur] for the residual; the others rotate.
    const int t1 = (cur + 1) % 3, t2 = (cur + 2) % 3;
    const float* src = buf[cur];
    nhwc::Shape s = shape;
    if (b.has_ib) {
      s = b.ib.run(src, s, buf[t1]);
      src = buf[t1];
    }
    s = b.dw.run(src, s, buf[t2]);
    if (b.has_se)
      nhwc::squeeze_excite(buf[t2], s, b.se_reduce.wt.data_ptr<float>(), b.se_reduce.b.data_ptr<float>(),
                           int(b.se_reduce.wt.size(1)), b.se_expand.wt.data_ptr<float>(),
                           b.se_expand.b.data_ptr<float>(), vectors);
    s = b.pw.run(buf[t2], s, buf[t1]);
    if (b.residual) nhwc::add(buf[t1], buf[cur], s.size());
    shape = s;
    cur = t1;
    lap();
  }
  shape = final_expand_.run(buf[cur], shape, buf[(cur + 1) % 3]);
  cur = (cur + 1) % 3;
  lap();
  float* pooled = vectors;
  float* mixed = vectors + int64_t(n) * shape.c;
  nhwc::mean_pixels(buf[cur], shape, pooled);
  lap();
  const int mix_out = int(mix_.wt.size(1)), classes = int(fc_.wt.size(1));
  nhwc::linear(pooled, n, shape.c, mix_.wt.data_ptr<float>(), nullptr, mix_out, mix_.act, mixed);
  lap();
  at::Tensor logits = at::empty({n, classes});
  nhwc::linear(mixed, n, mix_out, fc_.wt.data_ptr<float>(), fc_.b.data_ptr<float>(), classes, Act::None,
               logits.data_ptr<float>());
  lap();
  return logits;
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
  for (const Conv* c : {&first_, &final_expand_}) add(c->w), add(c->wk), add(c->b);
  for (const Block& b : blocks_) {
    for (const Conv* c : {&b.ib, &b.dw, &b.pw}) add(c->w), add(c->wk), add(c->b);
    for (const Linear* l : {&b.se_reduce, &b.se_expand}) add(l->wt), add(l->b);
  }
  for (const Linear* l : {&mix_, &fc_}) add(l->wt), add(l->b);
  return n;
}

}  // namespace dofa
