// Mini-batches of a Dataset as input tensors (internal: ATen types).
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "augment.h"
#include "dataset.h"
#include "spec.h"

namespace dofa {

struct Batch {
  at::Tensor x;       // [n, C, r, r] float
  at::Tensor labels;  // [n] int64
};

// Images ids[from, from + n) at resolution r: the training transform when rng
// is given (one stream for the batch), else the evaluation transform.
Batch make_batch(const Dataset& d, const std::vector<int>& ids, size_t from, size_t n, const Spec& spec, int r,
                 Rng* rng);

// 0, 1, ..., n-1 shuffled by (seed, salt): an epoch's order.
std::vector<int> shuffled(int n, uint64_t seed, uint64_t salt);
std::vector<int> iota_ids(int n);

}  // namespace dofa
