#include "batch.h"

#include <ATen/Functions.h>

#include <numeric>

#include "error.h"

namespace dofa {

Batch make_batch(const Dataset& d, const std::vector<int>& ids, size_t from, size_t n, const Spec& spec, int r,
                 Rng* rng) {
  if (from + n > ids.size()) throw Error("make_batch: range past the end of the ids");
  Batch b;
  b.x = at::empty({int64_t(n), spec.in_channels, r, r}, at::kFloat);
  b.labels = at::empty({int64_t(n)}, at::kLong);
  float* px = b.x.data_ptr<float>();
  int64_t* pl = b.labels.data_ptr<int64_t>();
  const size_t per = size_t(spec.in_channels) * r * r;
  for (size_t i = 0; i < n; ++i) {
    const int id = ids[from + i];
    const Image img = d.image(id);
    if (rng) train_transform(img, spec, r, *rng, px + i * per);
    else eval_transform(img, spec, r, px + i * per);
    pl[i] = d.label(id);
  }
  return b;
}

std::vector<int> iota_ids(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<int> shuffled(int n, uint64_t seed, uint64_t salt) {
  std::vector<int> v = iota_ids(n);
  Rng rng(seed, salt, 0x5eed);
  for (int i = n - 1; i > 0; --i) std::swap(v[size_t(i)], v[size_t(rng.below(i + 1))]);
  return v;
}

}  // namespace dofa
