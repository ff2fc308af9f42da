#include "acc_predictor.h"

#include <c10/core/GradMode.h>
#include <ATen/Functions.h>

#include <cmath>

#include "augment.h"
#include "error.h"

namespace dofa {

namespace {

int slot(const std::vector<int>& choices, int v) {
  for (size_t i = 0; i < choices.size(); ++i)
    if (choices[i] == v) return int(i);
  return -1;
}

}  // namespace

std::vector<float> AccPredictor::encode(const Spec& spec, const Arch& a, Form form) {
  const int blocks = spec.num_elastic_blocks(), depth = spec.max_depth();
  const int nk = int(spec.kernel_sizes.size()), ne = int(spec.expand_ratios.size());
  const int nr = form == Form::Library ? int(spec.resolutions.size()) : 8;
  std::vector<float> f(size_t(nr + blocks * (nk + ne)), 0.0f);
  const int r_at = form == Form::Library ? 0 : blocks * (nk + ne);
  const int k_at = form == Form::Library ? nr : 0, e_at = k_at + blocks * nk;
  const int r_slot = form == Form::Library ? slot(spec.resolutions, a.r) : (a.r - 112) / 16;
  if (r_slot < 0 || r_slot >= nr) throw Error("predictor: resolution " + std::to_string(a.r) + " has no slot");
  f[size_t(r_at + r_slot)] = 1;
  for (int i = 0; i < blocks; ++i) {
    if (i % depth >= a.d[size_t(i / depth)]) continue;  // inactive block: all zero
    const int ks = slot(spec.kernel_sizes, a.ks[size_t(i)]), es = slot(spec.expand_ratios, a.e[size_t(i)]);
    if (ks < 0 || es < 0) throw Error("predictor: block " + std::to_string(i) + " choice outside the spec");
    f[size_t(k_at + i * nk + ks)] = 1;
    f[size_t(e_at + i * ne + es)] = 1;
  }
  return f;
}

at::Tensor AccPredictor::forward(const at::Tensor& x) const {
  at::Tensor h = x;
  for (size_t i = 0; i + 1 < w_.size(); ++i) h = at::relu(at::linear(h, w_[i], b_[i]));
  at::Tensor out = b_.back().defined() ? at::linear(h, w_.back(), b_.back()) : at::linear(h, w_.back());
  return out.squeeze(1) + base_acc_;
}

std::vector<double> AccPredictor::predict(const std::vector<Arch>& archs) const {
  if (archs.empty()) return {};
  c10::InferenceMode guard;
  std::vector<float> flat;
  for (const Arch& a : archs) {
    std::vector<float> f = encode(spec_, a, form_);
    flat.insert(flat.end(), f.begin(), f.end());
  }
  const int64_t dim = int64_t(flat.size() / archs.size());
  if (dim != w_.front().size(1))
    throw Error("predictor expects " + std::to_string(w_.front().size(1)) + " inputs, spec " + spec_.name +
                " encodes " + std::to_string(dim));
  at::Tensor x = at::from_blob(flat.data(), {int64_t(archs.size()), dim}, at::kFloat);
  at::Tensor y = forward(x).contiguous();
  return std::vector<double>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

double AccPredictor::predict(const Arch& a) const { return predict(std::vector<Arch>{a}).front(); }

AccPredictor AccPredictor::fit(const Spec& spec, const std::vector<Arch>& archs, const std::vector<double>& top1,
                               PredictorFit* report, uint64_t seed, int hidden, int layers) {
  if (archs.size() != top1.size() || archs.size() < 10)
    throw Error("predictor: need at least 10 measured sub-networks, have " + std::to_string(archs.size()));
  // Seeded shuffle, 80 / 20 split.
  std::vector<size_t> order(archs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(seed, 0xacc);
  for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[size_t(rng.below(int(i + 1)))]);
  const size_t n_train = order.size() - order.size() / 5;
  auto tensors = [&](size_t from, size_t to, at::Tensor* x, at::Tensor* y) {
    std::vector<float> xs, ys;
    for (size_t i = from; i < to; ++i) {
      std::vector<float> f = encode(spec, archs[order[i]], Form::Library);
      xs.insert(xs.end(), f.begin(), f.end());
      ys.push_back(float(top1[order[i]]));
    }
    const int64_t n = int64_t(to - from);
    *x = at::from_blob(xs.data(), {n, int64_t(xs.size()) / std::max<int64_t>(1, n)}, at::kFloat).clone();
    *y = at::from_blob(ys.data(), {n}, at::kFloat).clone();
  };
  at::Tensor xt, yt, xh, yh;
  tensors(0, n_train, &xt, &yt);
  tensors(n_train, order.size(), &xh, &yh);

  AccPredictor p;
  p.spec_ = spec;
  p.form_ = Form::Library;
  p.base_acc_ = yt.mean().item<double>();
  at::Generator gen = at::detail::createCPUGenerator(seed);
  int64_t in = xt.size(1);
  // PyTorch's nn.Linear default init: U(+-1/sqrt(fan_in)).
  for (int l = 0; l <= layers; ++l) {
    const int64_t out = l == layers ? 1 : hidden;
    const double bound = 1.0 / std::sqrt(double(in));
    p.w_.push_back(at::empty({out, in}).uniform_(-bound, bound, gen).requires_grad_(true));
    p.b_.push_back(l == layers ? at::Tensor() : at::empty({out}).uniform_(-bound, bound, gen).requires_grad_(true));
    in = out;
  }
  std::vector<at::Tensor> params;
  for (size_t i = 0; i < p.w_.size(); ++i) {
    params.push_back(p.w_[i]);
    if (p.b_[i].defined()) params.push_back(p.b_[i]);
  }
  // Adam (Kingma & Ba 2015) with L2 weight decay, full-batch steps.
  std::vector<at::Tensor> m1, m2;
  for (auto& t : params) m1.push_back(at::zeros_like(t)), m2.push_back(at::zeros_like(t));
  const double lr = 1e-3, wd = 1e-4, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const int steps = 1500;
  for (int s = 1; s <= steps; ++s) {
    at::Tensor loss = (p.forward(xt) - yt).pow(2).mean();
    loss.backward();
    c10::NoGradGuard ng;
    for (size_t i = 0; i < params.size(); ++i) {
      at::Tensor g = params[i].grad() + wd * params[i];
      m1[i].mul_(b1).add_(g, 1 - b1);
      m2[i].mul_(b2).addcmul_(g, g, 1 - b2);
      const double c1 = 1 - std::pow(b1, s), c2 = 1 - std::pow(b2, s);
      params[i].sub_(lr * (m1[i] / c1) / ((m2[i] / c2).sqrt() + eps));
      params[i].mutable_grad() = at::Tensor();
    }
  }
  for (auto& t : p.w_) t = t.detach();
  for (auto& t : p.b_)
    if (t.defined()) t = t.detach();
  if (report) {
    report->train = int(n_train);
    report->holdout = int(order.size() - n_train);
    if (report->holdout > 0) {
      c10::InferenceMode guard;
      at::Tensor ph = p.forward(xh);
      report->rmse_pp = 100.0 * (ph - yh).pow(2).mean().sqrt().item<double>();
      std::vector<double> a(ph.data_ptr<float>(), ph.data_ptr<float>() + ph.numel());
      std::vector<double> b(yh.data_ptr<float>(), yh.data_ptr<float>() + yh.numel());
      report->kendall_tau = kendall_tau(a, b);
    }
  }
  return p;
}

AccPredictor AccPredictor::load(const std::string& path, const Spec& spec) {
  TensorMap t = load_tensors(path);
  AccPredictor p;
  p.spec_ = spec;
  auto get = [&](const std::string& k) {
    auto it = t.find(k);
    if (it == t.end()) throw Error(path + ": predictor lacks '" + k + "'");
    return it->second.to(at::kFloat);
  };
  if (t.count("layers.0.0.weight")) {
    p.form_ = Form::Library;
    int l = 0;
    for (; t.count("layers." + std::to_string(l) + ".0.weight"); ++l) {
      p.w_.push_back(get("layers." + std::to_string(l) + ".0.weight"));
      p.b_.push_back(get("layers." + std::to_string(l) + ".0.bias"));
    }
    p.w_.push_back(get("layers." + std::to_string(l) + ".weight"));
    p.b_.push_back(at::Tensor());
    p.base_acc_ = get("base_acc").item<double>();
  } else if (t.count("0.weight")) {
    // nn.Sequential(Linear, ReLU, Linear, ReLU, ...): Linear layers at even indices.
    p.form_ = Form::Tutorial;
    for (int l = 0; t.count(std::to_string(l) + ".weight"); l += 2) {
      p.w_.push_back(get(std::to_string(l) + ".weight"));
      p.b_.push_back(get(std::to_string(l) + ".bias"));
    }
  } else {
    throw Error(path + ": not an accuracy predictor (expected layers.0.0.weight or 0.weight)");
  }
  for (size_t i = 1; i < p.w_.size(); ++i)
    if (p.w_[i].dim() != 2 || p.w_[i].size(1) != p.w_[i - 1].size(0))
      throw Error(path + ": layer " + std::to_string(i) + " shape " + c10::str(p.w_[i].sizes()) +
                  " does not follow " + c10::str(p.w_[i - 1].sizes()));
  if (p.w_.back().size(0) != 1) throw Error(path + ": the last layer has " + std::to_string(p.w_.back().size(0)) + " outputs, expected 1");
  const size_t dim = encode(spec, Arch::max(spec), p.form_).size();
  if (p.w_.front().size(1) != int64_t(dim))
    throw Error(path + ": predictor takes " + std::to_string(p.w_.front().size(1)) + " inputs, spec " + spec.name +
                " encodes " + std::to_string(dim));
  return p;
}

void AccPredictor::save(const std::string& path) const {
  if (form_ != Form::Library) throw Error(path + ": only library-form predictors are written");
  TensorMap t;
  for (size_t l = 0; l + 1 < w_.size(); ++l) {
    t["layers." + std::to_string(l) + ".0.weight"] = w_[l];
    t["layers." + std::to_string(l) + ".0.bias"] = b_[l];
  }
  t["layers." + std::to_string(w_.size() - 1) + ".weight"] = w_.back();
  t["base_acc"] = at::tensor({float(base_acc_)});
  save_tensors(path, t);
}

double kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  // tau-b: ties in either list count in neither the concordant nor the discordant pairs.
  long long c = 0, d = 0, ta = 0, tb = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = i + 1; j < a.size(); ++j) {
      const double x = a[i] - a[j], y = b[i] - b[j];
      if (x == 0 && y == 0) continue;
      if (x == 0) ++ta;
      else if (y == 0) ++tb;
      else if ((x > 0) == (y > 0)) ++c;
      else ++d;
    }
  const double den = std::sqrt(double(c + d + ta) * double(c + d + tb));
  return den > 0 ? double(c - d) / den : 0.0;
}

}  // namespace dofa
