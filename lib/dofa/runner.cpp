#include "runner.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <thread>

#include "error.h"
#include "gpu_preprocess.h"
#include "model_impl.h"

namespace dofa {

struct Runner::Gpu {
  gpu::FramePreprocess pre;
  gpu::EventTimer timer;
};

Runner::Runner(std::shared_ptr<const Model> model, int level) : model_(std::move(model)) {
  if (!model_) throw Error("Runner: no model");
  int l = level < 0 ? model_->num_levels() - 1 : level;
  model_->level(l);  // range check
  wanted_.store(l);
  active_.store(l);
  if (model_->materialize() == Materialize::Lazy) {
    // The first level is needed now; build it in the foreground.
    const auto& impl = model_->impl();
    if (!impl.ready(l)) std::atomic_store(&impl.levels[l], impl.build(l));
  }
  int max_r = 0;
  for (int i = 0; i < model_->num_levels(); ++i) max_r = std::max(max_r, model_->level(i).arch.r);
  input_.resize(size_t(model_->spec().in_channels) * max_r * max_r);
  if (model_->device() == "cuda") gpu_ = std::make_unique<Gpu>();
}

Runner::~Runner() = default;

void Runner::switch_to(int level) {
  model_->level(level);  // range check, throws
  if (model_->materialize() == Materialize::Lazy) model_->impl().request(level);
  wanted_.store(level, std::memory_order_release);
}

int Runner::active_level() const {
  int want = wanted_.load(std::memory_order_acquire);
  if (model_->materialize() != Materialize::Lazy || model_->impl().ready(want)) return want;
  return active_.load(std::memory_order_acquire);
}

int Runner::resolution() const { return model_->level(active_level()).arch.r; }

Classification Runner::classify(const ImageView& image, int top_k) {
  const int level = active_level();  // read once: the whole frame runs on it
  const Spec& spec = model_->spec();
  const int r = model_->level(level).arch.r;
  // Levels warmed at load are cold in another thread: cuDNN's execution plans
  // (PyTorch keeps them thread_local) and the own CPU kernels' scratch are per
  // thread. The first frame in a thread warms every level, so neither that
  // frame's level nor a later switch pays for it.
  double warm_ms = 0;
  if (warmed_ != std::this_thread::get_id()) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < model_->num_levels(); ++i)
      if (auto l = model_->impl().ready(i)) l->warm_up(gpu_ ? 2 : 1);
    warmed_ = std::this_thread::get_id();
    warm_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  Classification c;
  if (gpu_) {
    // Uploaded once, preprocessed on the GPU straight into the input.
    const float* in = gpu_->pre.run(image, spec, r, spec.eval_crop);
    c = infer(at::from_blob(const_cast<float*>(in), {1, spec.in_channels, r, r},
                            at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, 0)),
              level, top_k);
  } else {
    preprocess(image, spec, r, input_.data());
    c = classify_input(input_.data(), level, top_k);
  }
  c.warm_ms = warm_ms;
  return c;
}

Classification Runner::classify_input(const float* chw, int level, int top_k) {
  const int r = model_->level(level).arch.r;
  return infer(at::from_blob(const_cast<float*>(chw), {1, model_->spec().in_channels, r, r}, at::kFloat), level,
               top_k);
}

Classification Runner::infer(const at::Tensor& x, int level, int top_k) {
  c10::InferenceMode guard;
  const auto& impl = model_->impl();
  const LevelInfo& info = model_->level(level);

  auto t0 = std::chrono::steady_clock::now();
  if (gpu_) gpu_->timer.start();
  at::Tensor logits;
  if (impl.options.materialize == Materialize::None) {
    ForwardOptions fo;
    fo.stats = impl.stats(level);
    logits = impl.net->forward(x, info.arch, fo);
  } else {
    std::shared_ptr<const Level> l = impl.ready(level);
    if (!l) throw Error("level " + std::to_string(level) + " is not built yet");
    logits = l->forward(x);
  }
  Classification c;
  c.infer_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (gpu_) gpu_->timer.stop();
  c.level = level;
  active_.store(level, std::memory_order_release);

  const at::Tensor host = logits.is_cpu() ? logits.to(at::kFloat).contiguous() : logits.to(at::kCPU, at::kFloat);
  if (gpu_) c.infer_ms = gpu_->timer.elapsed_ms();  // the copy above waited for the frame
  // Softmax and top-k of one row of a few dozen logits: by hand, as a few ATen
  // ops would cost more than a small level's convolutions.
  const float* z = host.data_ptr<float>();
  const int n = int(host.size(1));
  const float z_max = *std::max_element(z, z + n);
  std::vector<double> p(static_cast<size_t>(n));
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += p[size_t(i)] = std::exp(double(z[i]) - z_max);
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const int k = std::max(1, std::min(top_k, n));
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&p](int a, int b) { return p[size_t(a)] > p[size_t(b)] || (p[size_t(a)] == p[size_t(b)] && a < b); });
  c.top_ids.reserve(size_t(k));
  c.top_scores.reserve(size_t(k));
  for (int i = 0; i < k; ++i) {
    c.top_ids.push_back(order[size_t(i)]);
    c.top_scores.push_back(float(p[size_t(order[size_t(i)])] / sum));
  }
  c.class_id = c.top_ids[0];
  c.confidence = c.top_scores[0];
  return c;
}

}  // namespace dofa
