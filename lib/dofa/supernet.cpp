#include "supernet.h"

#include <c10/core/GradMode.h>
#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "error.h"
#include "random_form.h"
#include "weight_keys.h"

namespace dofa {

namespace {

// First-N channel slice (ofa-facts §2.3): a view, no copy.
at::Tensor first(const at::Tensor& t, int64_t dim, int64_t n) { return t.narrow(dim, 0, n); }

at::Tensor conv(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b, int stride,
                int groups = 1) {
  int64_t k = w.size(2);
  return at::conv2d(x, w, b, {stride, stride}, {k / 2, k / 2}, {1, 1}, groups);
}

}  // namespace

at::Tensor activate(const at::Tensor& x, Act a) {
  switch (a) {
    case Act::Relu: return at::relu(x);
    case Act::HSwish: return at::hardswish(x);     // x * relu6(x + 3) / 6
    case Act::HSigmoid: return at::hardsigmoid(x);  // relu6(x + 3) / 6
    case Act::None: return x;
  }
  return x;
}

// --- calibration meters -------------------------------------------------------

void BnCalibration::update(const std::string& bn, const at::Tensor& mean, const at::Tensor& var, int64_t n) {
  Meter& m = meters_[bn];
  at::Tensor ms = mean.detach().to(at::kDouble) * double(n);
  at::Tensor vs = var.detach().to(at::kDouble) * double(n);
  if (m.count == 0) {
    m.mean_sum = ms;
    m.var_sum = vs;
  } else {
    m.mean_sum += ms;
    m.var_sum += vs;
  }
  m.count += n;
}

BnStats BnCalibration::result() const {
  BnStats out;
  for (const auto& [name, m] : meters_) {
    if (m.count == 0) continue;
    out[name + ".running_mean"] = (m.mean_sum / double(m.count)).to(at::kFloat);
    out[name + ".running_var"] = (m.var_sum / double(m.count)).to(at::kFloat);
  }
  return out;
}

int64_t BnCalibration::count(const std::string& bn) const {
  auto it = meters_.find(bn);
  return it == meters_.end() ? 0 : it->second.count;
}

at::Tensor channels_last(const at::Tensor& t) {
  if (t.dim() != 4 || (t.is_contiguous(at::MemoryFormat::ChannelsLast) && t.stride(1) == 1)) return t;
  return at::empty_like(t, at::MemoryFormat::ChannelsLast).copy_(t);
}

void store_channels_last(TensorMap& weights) {
  for (auto& [k, t] : weights) t = channels_last(t);
}

// --- construction ---------------------------------------------------------------

bool is_batch_counter(const std::string& key) {
  static const std::string suffix = ".num_batches_tracked";
  return key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> weight_problems(const Spec& spec, const TensorMap& weights) {
  std::vector<std::string> problems;
  size_t matched = 0;
  for (const KeyShape& k : supernet_keys(spec)) {
    auto it = weights.find(k.name);
    if (it == weights.end()) {
      problems.push_back("missing: " + k.name + " " + c10::str(at::IntArrayRef(k.shape)));
      continue;
    }
    ++matched;
    const at::Tensor& t = it->second;
    if (t.sizes() != at::IntArrayRef(k.shape))
      problems.push_back("wrong shape: " + k.name + " is " + c10::str(t.sizes()) + ", expected " +
                         c10::str(at::IntArrayRef(k.shape)));
    else if (t.scalar_type() != at::kFloat)
      problems.push_back("wrong dtype: " + k.name + " is " + c10::toString(t.scalar_type()) + ", expected Float");
  }
  if (matched < weights.size()) {
    std::set<std::string> expected;
    for (const KeyShape& k : supernet_keys(spec)) expected.insert(k.name);
    for (const auto& [name, t] : weights)
      if (!expected.count(name) && !is_batch_counter(name))
        problems.push_back("unexpected: " + name + " " + c10::str(t.sizes()));
  }
  return problems;
}

Supernet::Supernet(const Spec& spec, TensorMap weights) : spec_(spec), weights_(std::move(weights)) {
  std::vector<std::string> problems = weight_problems(spec_, weights_);
  if (!problems.empty()) {
    std::string msg = "weights do not match spec " + spec_.name + " (" + std::to_string(problems.size()) +
                      (problems.size() == 1 ? " problem):" : " problems):");
    for (const auto& p : problems) msg += "\n  " + p;
    throw Error(msg);
  }
  for (auto it = weights_.begin(); it != weights_.end();)
    it = is_batch_counter(it->first) ? weights_.erase(it) : std::next(it);
}

Supernet Supernet::load(const Spec& spec, const std::string& path) {
  try {
    Supernet net(spec, load_tensors(path));
    return net;
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind(path, 0) == 0) throw;
    throw Error(path + ": " + msg);
  }
}

Supernet Supernet::random(const Spec& spec, uint64_t seed) {
  c10::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  TensorMap w;
  for (const KeyShape& k : supernet_keys(spec)) {
    const std::string& n = k.name;
    auto ends = [&n](const char* suf) {
      size_t l = std::strlen(suf);
      return n.size() >= l && n.compare(n.size() - l, l, suf) == 0;
    };
    at::Tensor t = at::empty(k.shape, at::kFloat);
    if (ends("_matrix")) {
      t = at::eye(k.shape[0], at::kFloat) + 0.05 * at::randn(k.shape, gen, at::kFloat);
    } else if (ends("running_var") || (ends(".weight") && k.shape.size() == 1)) {
      t.uniform_(0.5, 1.5, gen);  // BN var and gamma
    } else if (ends("running_mean") || ends(".bias")) {
      t.normal_(0.0, 0.1, gen);
    } else {
      // He init over fan-out (OFA's "he_fout"); depthwise fan-out is k*k.
      int64_t fan_out = k.shape[0];
      for (size_t i = 2; i < k.shape.size(); ++i) fan_out *= k.shape[i];
      if (k.shape.size() == 4 && k.shape[1] == 1) fan_out = k.shape[2] * k.shape[3];
      t.normal_(0.0, std::sqrt(2.0 / double(fan_out)), gen);
    }
    w[n] = t;
  }
  return Supernet(spec, std::move(w));
}

Supernet Supernet::open(const Spec& spec, const std::string& weights) {
  const std::string w = weights.empty() ? spec.weights : weights;
  uint64_t seed = 0;
  if (parse_random_form(w, "weights", &seed)) return random(spec, seed);
  if (w.empty()) throw Error("spec " + spec.path + " names no weights file; pass --weights FILE or random[:SEED]");
  Supernet net = load(spec, w);
  net.set_sha256(sha256_file(w));
  return net;
}

const at::Tensor& Supernet::w(const std::string& key) const {
  auto it = weights_.find(key);
  if (it == weights_.end()) throw Error("supernet has no tensor '" + key + "'");
  return it->second;
}

// --- forward ---------------------------------------------------------------------

at::Tensor Supernet::active_kernel(const SuperBlock& b, int mid, int k) const {
  BlockKeys keys = block_keys(b);
  at::Tensor filt = first(w(keys.dw_conv + (b.stage < 0 ? ".weight" : ".conv.weight")), 0, mid);
  int cur = int(filt.size(2));
  // Walk down the kernel list: crop the centre of the current kernel and apply
  // that step's matrix (F.linear: flat @ M^T); 5to3 acts on the transformed 5x5.
  const auto& ks = spec_.kernel_sizes;
  for (int i = int(ks.size()) - 1; i > 0 && cur > k; --i) {
    if (ks[i] != cur) continue;
    int next = ks[i - 1];
    int start = (cur - next) / 2;
    at::Tensor flat = filt.narrow(2, start, next).narrow(3, start, next).reshape({mid, next * next});
    const at::Tensor& m = w(keys.dw_conv + "." + std::to_string(cur) + "to" + std::to_string(next) + "_matrix");
    filt = at::linear(flat, m).view({mid, 1, next, next});
    cur = next;
  }
  if (cur != k) throw Error("block " + std::to_string(b.index) + ": no kernel transform to " + std::to_string(k));
  return filt;
}

at::Tensor Supernet::bn(const at::Tensor& x, const std::string& name, int c, const ForwardOptions& o) const {
  at::Tensor gamma = first(w(name + ".weight"), 0, c), beta = first(w(name + ".bias"), 0, c);
  const double eps = spec_.bn_eps;
  switch (o.mode) {
    case BnMode::Train: {
      // In-place running update through the views, as DynamicBatchNorm2d does.
      at::Tensor rm = first(w(name + ".running_mean"), 0, c), rv = first(w(name + ".running_var"), 0, c);
      return at::batch_norm(x, gamma, beta, rm, rv, true, spec_.bn_momentum, eps, false);
    }
    case BnMode::Calibrate: {
      // ofa-facts §4: normalise with this batch's mean and biased variance, and record both.
      at::Tensor mean = x.mean({0, 2, 3});
      at::Tensor var = (x - mean.view({1, -1, 1, 1})).pow(2).mean({0, 2, 3});
      if (o.calibration) o.calibration->update(name, mean, var, x.size(0));
      return at::batch_norm(x, gamma, beta, mean, var, false, 0.0, eps, false);
    }
    case BnMode::Eval:
      break;
  }
  at::Tensor mean, var;
  if (o.stats) {
    auto m = o.stats->find(name + ".running_mean"), v = o.stats->find(name + ".running_var");
    if (m == o.stats->end() || v == o.stats->end()) throw Error("BN statistics lack " + name);
    mean = m->second;
    var = v->second;
    if (mean.size(0) != c || var.size(0) != c)
      throw Error("BN statistics of " + name + " have " + std::to_string(mean.size(0)) + " channels, expected " +
                  std::to_string(c));
  } else {
    mean = first(w(name + ".running_mean"), 0, c);
    var = first(w(name + ".running_var"), 0, c);
  }
  return at::batch_norm(x, gamma, beta, mean, var, false, 0.0, eps, false);
}

at::Tensor Supernet::forward(const at::Tensor& input, const Arch& a, const ForwardOptions& o) const {
  const NetShape shape = net_shape(spec_, a);
  at::Tensor x = o.channels_last ? channels_last(input) : input;

  x = conv(x, w("first_conv.conv.weight"), c10::nullopt, spec_.first_conv.stride);
  x = activate(bn(x, "first_conv.bn", spec_.first_conv.width, o), spec_.first_conv.act);

  for (const LayerShape& l : shape.blocks) {
    const SuperBlock& b = *l.block;
    const BlockKeys k = block_keys(b);
    at::Tensor skip = x;
    if (l.expand) {
      x = conv(x, first(first(w(k.ib_conv + ".weight"), 0, l.mid), 1, l.in), c10::nullopt, 1);
      x = activate(bn(x, k.ib_bn, l.mid, o), b.act);
    }
    x = conv(x, active_kernel(b, l.mid, l.kernel), c10::nullopt, l.stride, l.mid);
    x = activate(bn(x, k.dw_bn, l.mid, o), b.act);
    if (b.se) {
      // ofa-facts §1.4/§2.5: squeeze-excite after the depthwise activation.
      at::Tensor y = x.mean({2, 3}, true);
      y = conv(y, first(first(w(k.se + ".fc.reduce.weight"), 0, l.se_mid), 1, l.mid),
               first(w(k.se + ".fc.reduce.bias"), 0, l.se_mid), 1);
      y = at::relu(y);
      y = conv(y, first(first(w(k.se + ".fc.expand.weight"), 0, l.mid), 1, l.se_mid),
               first(w(k.se + ".fc.expand.bias"), 0, l.mid), 1);
      x = x * at::hardsigmoid(y);
    }
    x = conv(x, first(first(w(k.pw_conv + ".weight"), 0, l.out), 1, l.mid), c10::nullopt, 1);
    x = bn(x, k.pw_bn, l.out, o);
    if (b.residual) x = x + skip;
  }

  x = conv(x, w("final_expand_layer.conv.weight"), c10::nullopt, 1);
  x = activate(bn(x, "final_expand_layer.bn", spec_.final_expand.width, o), spec_.final_expand.act);
  x = x.mean({2, 3}, true);
  x = activate(conv(x, w("feature_mix_layer.conv.weight"), c10::nullopt, 1), spec_.feature_mix.act);  // no BN
  x = x.reshape({x.size(0), -1});  // view(N, -1), never squeeze (ofa-facts §1.3)
  if (o.mode == BnMode::Train && spec_.dropout > 0) x = at::dropout(x, spec_.dropout, true);
  return at::linear(x, w("classifier.linear.weight"), w("classifier.linear.bias"));
}

BnStats Supernet::own_bn_stats(const Arch& a) const {
  BnStats out;
  for (const BnSite& s : bn_sites(spec_, a)) {
    out[s.name + ".running_mean"] = first(w(s.name + ".running_mean"), 0, s.channels).clone();
    out[s.name + ".running_var"] = first(w(s.name + ".running_var"), 0, s.channels).clone();
  }
  return out;
}

}  // namespace dofa
