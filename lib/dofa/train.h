// Progressive shrinking (OFA, ofa-facts §3 / numbers.md §2): train an elastic
// supernet from scratch in OFA's phase order, shortened to a budget.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "spec.h"

namespace dofa {

// One phase of the schedule: which choices are elastic and how it is trained.
struct TrainPhase {
  std::string name;
  int kernels = 1, expands = 1, depths = 1;  // how many of the largest choices are open
  double epochs = 1, warmup_epochs = 0, lr = 0.01;
  int subnets = 1;           // sampled per step, gradients accumulated (dynamic_batch_size)
  bool sort_expand = false;  // sort middle channels by importance before the phase
  bool distill = true;       // knowledge distillation from the full network
};

// OFA's order: full network; elastic kernel; depth in two phases; expand in
// two phases. `scale` multiplies every phase's epochs.
std::vector<TrainPhase> progressive_shrinking(const Spec& spec, double scale);

struct TrainOptions {
  std::string out;  // weights file; checkpoints in out + ".ckpt/", the log in out + ".train.json"
  std::string data = "fmnist:train", val = "fmnist:val";
  int limit = 0;        // > 0: use only the first `limit` training images (smoke runs)
  int val_images = 10000;
  int batch = 128;
  int threads = 2;
  unsigned long long seed = 1;
  double scale = 1.0;
  bool sandwich = false;  // the smallest open sub-network in every step, the largest too with 3+ per step
  bool restart = false;   // ignore an existing checkpoint
  double checkpoint_seconds = 60;
  std::function<void(const std::string&)> log;        // whole lines
  std::function<void(const std::string&)> progress;   // one status line, redrawn
};

// Trains and writes opts.out; resumes from opts.out + ".ckpt/" when present.
void train(const Spec& spec, const TrainOptions& opts);

}  // namespace dofa
