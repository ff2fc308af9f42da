// Runner: one user's view of a shared Model: the current level and the
// per-frame work (preprocess, infer, top-k). switch_to() may be called from
// any thread while classify() runs on another; the next frame uses the new
// level. With materialize=all a switch is one atomic store: no lock, no
// allocation.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "model.h"
#include "preprocess.h"

namespace at {
class Tensor;
}

namespace dofa {

struct Classification {
  int level = -1;        // level that produced it
  int class_id = -1;
  float confidence = 0;  // softmax probability
  std::vector<int> top_ids;
  std::vector<float> top_scores;
  double infer_ms = 0;  // input tensor -> logits (CUDA events on the GPU)
  double warm_ms = 0;   // the first frame in a thread: warming every level there, not the frame's own work
};

class Runner {
 public:
  // level -1 = the most accurate (last) level.
  explicit Runner(std::shared_ptr<const Model> model, int level = -1);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  void switch_to(int level);  // throws on a bad index; never blocks
  int level() const { return wanted_.load(std::memory_order_acquire); }
  // The level the next frame runs on (with lazy, the previous one until the new one is built).
  int active_level() const;
  int resolution() const;  // of the active level

  // Preprocesses to the active level's resolution and classifies.
  Classification classify(const ImageView& image, int top_k = 1);
  // An already preprocessed input of in_channels * r * r floats, r = the resolution of `level`.
  Classification classify_input(const float* chw, int level, int top_k = 1);

  const Model& model() const { return *model_; }
  std::shared_ptr<const Model> model_ptr() const { return model_; }

 private:
  Classification infer(const at::Tensor& x, int level, int top_k);

  struct Gpu;  // device=cuda: the frame's buffers and the event timer

  std::shared_ptr<const Model> model_;
  std::unique_ptr<Gpu> gpu_;
  std::thread::id warmed_;  // the thread that has run every level (classify)
  std::atomic<int> wanted_{0};
  std::atomic<int> active_{0};
  std::vector<float> input_;  // reused preprocessing buffer
};

}  // namespace dofa
