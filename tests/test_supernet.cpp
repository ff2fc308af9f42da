// Supernet forward semantics: kernel transform, dynamic vs materialised,
// BN modes (train, eval with given statistics, calibrate), weight checks.
#include <ATen/ATen.h>

#include "error.h"
#include "level.h"
#include "nhwc_kernels.h"
#include "profile.h"
#include "supernet.h"
#include "weight_keys.h"
#include "test_util.h"

using namespace dofa;

namespace {

Spec tiny() { return Spec::load(dofa_test::fixtures() + "/tiny-mbv3.json"); }

double rel_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

// Random BN statistics for an arch, as a level table would hold them.
BnStats random_stats(const Spec& s, const Arch& a, uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  BnStats st;
  for (const BnSite& b : bn_sites(s, a)) {
    st[b.name + ".running_mean"] = at::randn({b.channels}, g, at::kFloat) * 0.2;
    st[b.name + ".running_var"] = at::rand({b.channels}, g, at::kFloat) + 0.5;
  }
  return st;
}

}  // namespace

START_TEST(test_kernel_transform) {
  Spec s = tiny();
  Supernet net = Supernet::random(s, 3);
  const SuperBlock& b = s.blocks[6];
  const BlockKeys k = block_keys(b);
  const int mid = 40;
  at::Tensor w7 = net.w(k.dw_conv + ".conv.weight").to(at::kDouble);
  at::Tensor m75 = net.w(k.dw_conv + ".7to5_matrix").to(at::kDouble);
  at::Tensor m53 = net.w(k.dw_conv + ".5to3_matrix").to(at::kDouble);
  // Direct computation, element by element: centre 5x5 of the 7x7, times 7to5
  // (out[i] = sum_j in[j] * M[i][j]); centre 3x3 of that, times 5to3.
  at::Tensor want5 = at::zeros({mid, 5, 5}, at::kDouble), want3 = at::zeros({mid, 3, 3}, at::kDouble);
  auto w = w7.accessor<double, 4>();
  auto a75 = m75.accessor<double, 2>(), a53 = m53.accessor<double, 2>();
  auto o5 = want5.accessor<double, 3>(), o3 = want3.accessor<double, 3>();
  for (int c = 0; c < mid; ++c) {
    for (int i = 0; i < 25; ++i) {
      double acc = 0;
      for (int j = 0; j < 25; ++j) acc += w[c][0][1 + j / 5][1 + j % 5] * a75[i][j];
      o5[c][i / 5][i % 5] = acc;
    }
    for (int i = 0; i < 9; ++i) {
      double acc = 0;
      for (int j = 0; j < 9; ++j) acc += o5[c][1 + j / 3][1 + j % 3] * a53[i][j];
      o3[c][i / 3][i % 3] = acc;
    }
  }
  at::Tensor got5 = net.active_kernel(b, mid, 5).to(at::kDouble).view({mid, 5, 5});
  at::Tensor got3 = net.active_kernel(b, mid, 3).to(at::kDouble).view({mid, 3, 3});
  ck_assert_double_lt((got5 - want5).abs().max().item<double>(), 1e-5);
  ck_assert_double_lt((got3 - want3).abs().max().item<double>(), 1e-5);
  // k = 7 is the raw weight, first `mid` channels.
  ck_assert(at::equal(net.active_kernel(b, mid, 7), net.w(k.dw_conv + ".conv.weight").narrow(0, 0, mid)));
}
END_TEST

// The own kernels, op by op, against ATen on maps of odd, non-square sizes
// (where padding and stride edges differ from the square levels).
START_TEST(test_nhwc_kernels_match_aten) {
  at::manual_seed(5);
  auto nhwc_of = [](const at::Tensor& nchw) { return nchw.permute({0, 2, 3, 1}).contiguous(); };
  auto nchw_of = [](const at::Tensor& nhwc) { return nhwc.permute({0, 3, 1, 2}); };
  const at::Tensor x = at::randn({2, 12, 9, 7});  // n, c, h, w
  const at::Tensor xh = nhwc_of(x);
  const nhwc::Shape in{2, 9, 7, 12};
  for (int k : {3, 5, 7})
    for (int stride : {1, 2}) {
      // Depthwise: wk [k][k][c].
      at::Tensor w = at::randn({12, 1, k, k}), b = at::randn({12});
      at::Tensor want = at::relu(at::conv2d(x, w, b, {stride, stride}, {k / 2, k / 2}, {1, 1}, 12));
      const nhwc::Shape out = nhwc::conv_out(in, k, stride, 12);
      ck_assert_int_eq(out.h, want.size(2));
      ck_assert_int_eq(out.w, want.size(3));
      at::Tensor got = at::empty({2, out.h, out.w, 12});
      at::Tensor wk = w.reshape({12, k * k}).t().contiguous();
      nhwc::depthwise(xh.data_ptr<float>(), in, wk.data_ptr<float>(), b.data_ptr<float>(), k, stride, Act::Relu,
                      got.data_ptr<float>());
      ck_assert_double_lt(rel_diff(nchw_of(got), want), 1e-5);
      // Dense, 12 -> 5 channels: wk [k][k][c_in][c_out].
      w = at::randn({5, 12, k, k}), b = at::randn({5});
      want = at::hardswish(at::conv2d(x, w, b, {stride, stride}, {k / 2, k / 2}));
      got = at::empty({2, out.h, out.w, 5});
      wk = w.permute({2, 3, 1, 0}).contiguous();
      nhwc::dense(xh.data_ptr<float>(), in, wk.data_ptr<float>(), b.data_ptr<float>(), 5, k, stride, Act::HSwish,
                  got.data_ptr<float>());
      ck_assert_double_lt(rel_diff(nchw_of(got), want), 1e-5);
    }
  // Pointwise 12 -> 20, linear, mean and squeeze-and-excitation.
  at::Tensor w = at::randn({20, 12}), b = at::randn({20});
  at::Tensor got = at::empty({2, 9, 7, 20});
  const at::Tensor wt = w.t().contiguous();
  nhwc::pointwise(xh.data_ptr<float>(), in, wt.data_ptr<float>(), b.data_ptr<float>(), 20, Act::HSigmoid,
                  got.data_ptr<float>());
  ck_assert_double_lt(rel_diff(got, at::hardsigmoid(at::linear(xh, w, b))), 1e-5);
  at::Tensor pooled = at::empty({2, 12});
  nhwc::mean_pixels(xh.data_ptr<float>(), in, pooled.data_ptr<float>());
  ck_assert_double_lt(rel_diff(pooled, x.mean({2, 3})), 1e-5);
  at::Tensor lin = at::empty({2, 20});
  nhwc::linear(pooled.data_ptr<float>(), 2, 12, wt.data_ptr<float>(), nullptr, 20, Act::None, lin.data_ptr<float>());
  ck_assert_double_lt(rel_diff(lin, at::linear(pooled, w)), 1e-5);
  const at::Tensor rw = at::randn({4, 12}), rb = at::randn({4}), ew = at::randn({12, 4}), eb = at::randn({12});
  const at::Tensor gate = at::hardsigmoid(at::linear(at::relu(at::linear(x.mean({2, 3}), rw, rb)), ew, eb));
  at::Tensor se = xh.clone();
  std::vector<float> scratch(size_t(2) * (12 + 4 + 12));
  const at::Tensor rwt = rw.t().contiguous(), ewt = ew.t().contiguous();
  nhwc::squeeze_excite(se.data_ptr<float>(), in, rwt.data_ptr<float>(), rb.data_ptr<float>(), 4,
                       ewt.data_ptr<float>(), eb.data_ptr<float>(), scratch.data());
  ck_assert_double_lt(rel_diff(nchw_of(se), x * gate.view({2, 12, 1, 1})), 1e-5);
}
END_TEST

START_TEST(test_dynamic_equals_materialised) {
  at::NoGradGuard no_grad;
  Spec s = tiny();
  Supernet net = Supernet::random(s, 4);
  for (uint64_t seed = 0; seed < 6; ++seed) {
    Arch a = Arch::random(s, seed);
    at::Tensor x = at::randn({2, 3, a.r, a.r});
    BnStats st = random_stats(s, a, seed);
    ForwardOptions o;
    o.stats = &st;
    at::Tensor dyn = net.forward(x, a, o);
    // Every CPU kernel set, on two images of three channels (the own kernels transpose them to NHWC).
    for (CpuKernels k : {CpuKernels::Own, CpuKernels::AtenChannelsLast, CpuKernels::AtenNchw}) {
      double d = rel_diff(Level(net, a, &st, k).forward(x), dyn);
      ck_assert_msg(d < 1e-4, "arch %s, kernels %s: rel diff %g", a.to_text().c_str(), cpu_kernels_name(k), d);
    }
    // Fastest keeps one of the two CPU kernel sets, timed here; the constructor alone builds the own.
    Level fastest = Level::build(net, a, &st, CpuKernels::Fastest);
    ck_assert(fastest.kernels() == CpuKernels::Own || fastest.kernels() == CpuKernels::AtenChannelsLast);
    ck_assert_double_lt(rel_diff(fastest.forward(x), dyn), 1e-4);
    ck_assert(Level(net, a, &st, CpuKernels::Fastest).kernels() == CpuKernels::Own);
    DOFA_ASSERT_ERROR(Level(net, a, &st).forward(at::randn({1, 1, a.r, a.r})), "input has 4 dimensions and 1 channels",
                      "expected [N, 3, H, W]");
    // Channels-last dynamic forward agrees too.
    o.channels_last = true;
    ck_assert_double_lt(rel_diff(net.forward(x, a, o), dyn), 1e-4);
    // Without statistics: the supernet's own, sliced.
    ck_assert_double_lt(rel_diff(Level(net, a, nullptr).forward(x), net.forward(x, a)), 1e-4);
  }
}
END_TEST

// A size-1 channel dimension (a grey input, a depthwise weight) counts as
// contiguous in both formats; channels_last() must still give it the strides
// by which oneDNN chooses its channels-last kernels, and change no value.
START_TEST(test_grey_channels_last) {
  at::NoGradGuard no_grad;
  for (const auto& shape : {std::vector<int64_t>{4, 1, 28, 28}, std::vector<int64_t>{96, 1, 7, 7}}) {
    at::Tensor t = at::randn(shape);
    ck_assert(t.is_contiguous(at::MemoryFormat::ChannelsLast));  // the ambiguity
    ck_assert(t.suggest_memory_format() == at::MemoryFormat::Contiguous);
    at::Tensor cl = channels_last(t);
    ck_assert(cl.suggest_memory_format() == at::MemoryFormat::ChannelsLast);
    ck_assert(at::equal(cl, t));
    ck_assert(channels_last(cl).data_ptr() == cl.data_ptr());  // already so: shared
  }
  Spec s = tiny();
  s.in_channels = 1;
  TensorMap w = Supernet::random(s, 6).weights();
  store_channels_last(w);
  const std::string dw = block_keys(s.blocks[6]).dw_conv + ".conv.weight";
  ck_assert(w.at(dw).suggest_memory_format() == at::MemoryFormat::ChannelsLast);
  Supernet net(s, w);
  ck_assert(net.w(dw).data_ptr() == w.at(dw).data_ptr());  // shared, as training needs
  Arch a = Arch::max(s);
  at::Tensor x = at::randn({2, 1, a.r, a.r});
  ForwardOptions o;
  at::Tensor plain = net.forward(x, a, o);
  o.channels_last = true;
  at::Tensor cl = net.forward(x, a, o);
  ck_assert(cl.defined());
  ck_assert_double_lt(rel_diff(cl, plain), 1e-4);
  ck_assert_double_lt(rel_diff(Level(net, a, nullptr).forward(x), plain), 1e-4);
}
END_TEST

START_TEST(test_latencies_side_by_side) {
  Spec s = Spec::load(dofa_test::source_root() + "/models/fmnist-mbv3.json");
  Supernet net = Supernet::random(s, 3);
  const std::vector<Arch> archs{Arch::max(s), Arch::min(s)};
  std::vector<int> built(archs.size(), 0);
  std::vector<LatencyStats> st = measure_latencies_side_by_side(
      archs.size(), [&](size_t i) { return ++built[i], Level(net, archs[i], nullptr); }, 4, 5, 2);
  ck_assert_int_eq(st.size(), 2);
  ck_assert_int_eq(built[0], 4);  // built afresh every round
  ck_assert_int_eq(built[1], 4);
  for (const LatencyStats& x : st) ck_assert(x.median > 0 && x.p90 >= x.median && x.mean > 0);
  // r32, depth 4, kernel 7, expand 6 against r20, depth 2, kernel 3, expand 3: about 4x the MFLOPs.
  ck_assert_msg(st[0].median > 1.5 * st[1].median, "max %.3f ms, min %.3f ms", st[0].median, st[1].median);
  ck_assert(measure_latencies_side_by_side(0, [&](size_t) { return Level(net, archs[0], nullptr); }).empty());
}
END_TEST

START_TEST(test_eval_stats_not_written) {
  at::NoGradGuard no_grad;
  Spec s = tiny();
  Supernet net = Supernet::random(s, 5);
  TensorMap before;
  for (const auto& [k, v] : net.weights()) before[k] = v.clone();
  Arch a = Arch::random(s, 9);
  BnStats st = random_stats(s, a, 1);
  ForwardOptions o;
  o.stats = &st;
  net.forward(at::randn({2, 3, a.r, a.r}), a, o);
  Level level(net, a, &st);
  for (const auto& [k, v] : net.weights()) ck_assert_msg(at::equal(before[k], v), "%s changed", k.c_str());
  // Per-level statistics change the result.
  ck_assert_double_gt(rel_diff(net.forward(at::ones({1, 3, a.r, a.r}), a, o),
                               net.forward(at::ones({1, 3, a.r, a.r}), a)), 1e-3);
}
END_TEST

START_TEST(test_calibrate_matches_direct) {
  at::NoGradGuard no_grad;
  Spec s = tiny();
  Supernet net = Supernet::random(s, 6);
  Arch a = Arch::random(s, 2);
  BnCalibration cal;
  ForwardOptions o;
  o.mode = BnMode::Calibrate;
  o.calibration = &cal;
  std::vector<at::Tensor> batches = {at::randn({4, 3, a.r, a.r}), at::randn({6, 3, a.r, a.r}),
                                     at::randn({2, 3, a.r, a.r})};
  for (const auto& x : batches) {
    at::Tensor y = net.forward(x, a, o);
    // Calibration normalises with batch statistics, exactly as training does (dropout is 0 here).
    Supernet copy(s, [&] {
      TensorMap m;
      for (const auto& [k, v] : net.weights()) m[k] = v.clone();
      return m;
    }());
    ForwardOptions t;
    t.mode = BnMode::Train;
    ck_assert_double_lt(rel_diff(y, copy.forward(x, a, t)), 1e-4);
  }
  // ofa-facts §4: batch-size-weighted average of per-batch means and biased variances.
  const at::Tensor& w = net.w("first_conv.conv.weight");
  at::Tensor mean_sum = at::zeros({s.first_conv.width}, at::kDouble), var_sum = mean_sum.clone();
  int64_t n = 0;
  for (const auto& x : batches) {
    at::Tensor f = at::conv2d(x, w, {}, 2, 1).to(at::kDouble);
    at::Tensor m = f.mean({0, 2, 3});
    at::Tensor v = (f - m.view({1, -1, 1, 1})).pow(2).mean({0, 2, 3});
    mean_sum += m * double(x.size(0));
    var_sum += v * double(x.size(0));
    n += x.size(0);
  }
  BnStats got = cal.result();
  ck_assert_int_eq(cal.count("first_conv.bn"), 12);
  ck_assert_double_lt((got["first_conv.bn.running_mean"].to(at::kDouble) - mean_sum / double(n)).abs().max().item<double>(), 1e-5);
  ck_assert_double_lt((got["first_conv.bn.running_var"].to(at::kDouble) - var_sum / double(n)).abs().max().item<double>(), 1e-5);
  // Every BN of the arch was calibrated, at its active width.
  for (const BnSite& b : bn_sites(s, a)) {
    ck_assert_int_eq(cal.count(b.name), 12);
    ck_assert_int_eq(got[b.name + ".running_var"].size(0), b.channels);
  }
  // The calibrated statistics are usable as a level's.
  Level level(net, a, &got);
  (void)level;
}
END_TEST

START_TEST(test_train_mode) {
  Spec s = tiny();
  Supernet net = Supernet::random(s, 7);
  Arch a = Arch::random(s, 3);
  for (auto& [k, v] : net.weights())
    if (k.find("running") == std::string::npos) v.requires_grad_(true);
  std::string bn = block_keys(s.blocks[1]).ib_bn;
  at::Tensor rm_before = net.w(bn + ".running_mean").clone();
  const int mid = net_shape(s, a).blocks[1].mid;
  ForwardOptions o;
  o.mode = BnMode::Train;
  at::Tensor y = net.forward(at::randn({4, 3, a.r, a.r}), a, o);
  at::Tensor loss = at::cross_entropy_loss(y, at::zeros({4}, at::kLong));
  loss.backward();
  ck_assert(net.w("first_conv.conv.weight").grad().defined());
  ck_assert_double_gt(net.w("classifier.linear.weight").grad().abs().sum().item<double>(), 0);
  // Only the active (first `mid`) channels' running statistics move.
  at::Tensor rm = net.w(bn + ".running_mean");
  ck_assert(!at::equal(rm.narrow(0, 0, mid), rm_before.narrow(0, 0, mid)));
  if (mid < rm.size(0))
    ck_assert(at::equal(rm.narrow(0, mid, rm.size(0) - mid), rm_before.narrow(0, mid, rm.size(0) - mid)));
}
END_TEST

START_TEST(test_weight_checks) {
  Spec s = tiny();
  TensorMap w = Supernet::random(s, 1).weights();
  TensorMap missing = w;
  missing.erase("blocks.5.mobile_inverted_conv.depth_conv.conv.7to5_matrix");
  DOFA_ASSERT_ERROR(Supernet(s, missing), "missing: blocks.5.mobile_inverted_conv.depth_conv.conv.7to5_matrix [25, 25]");
  TensorMap shaped = w;
  shaped["classifier.linear.bias"] = at::zeros({11});
  DOFA_ASSERT_ERROR(Supernet(s, shaped), "wrong shape: classifier.linear.bias is [11], expected [10]");
  DOFA_ASSERT_ERROR(Supernet::open(s, "random:seven"), "weights 'random:seven'", "seed 'seven'");
  ck_assert(at::equal(Supernet::open(s, "random:1").w("classifier.linear.bias"), w.at("classifier.linear.bias")));
  TensorMap extra = w;
  extra["classifier.linear.scale"] = at::ones({10});
  extra["first_conv.bn.num_batches_tracked"] = at::zeros({}, at::kLong);  // optional, accepted
  DOFA_ASSERT_ERROR(Supernet(s, extra), "1 problem", "unexpected: classifier.linear.scale [10]");
  TensorMap typed = w;
  typed["classifier.linear.bias"] = typed["classifier.linear.bias"].to(at::kDouble);
  DOFA_ASSERT_ERROR(Supernet(s, typed), "wrong dtype: classifier.linear.bias is Double");
}
END_TEST

int main() {
  Suite* s = suite_create("supernet");
  TCase* tc = tcase_create("supernet");
  tcase_add_test(tc, test_kernel_transform);
  tcase_add_test(tc, test_nhwc_kernels_match_aten);
  tcase_add_test(tc, test_dynamic_equals_materialised);
  tcase_add_test(tc, test_grey_channels_last);
  tcase_add_test(tc, test_eval_stats_not_written);
  tcase_add_test(tc, test_calibrate_matches_direct);
  tcase_add_test(tc, test_train_mode);
  tcase_add_test(tc, test_weight_checks);
  tcase_add_test(tc, test_latencies_side_by_side);
  suite_add_tcase(s, tc);
  return dofa_test::run_suite(s);
}
