// Latency tables, the accuracy predictor and the search algorithms, on
// hand-made data and fake predictors.
#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>

#include "acc_predictor.h"
#include "error.h"
#include "files.h"
#include "latency_lut.h"
#include "op_keys.h"
#include "search.h"
#include "search_algorithms.h"
#include "test_util.h"

using namespace dofa;

namespace {

Spec w12() { return Spec::load(dofa_test::source_root() + "/models/ofa-mbv3-w12.json"); }
Spec fmnist() { return Spec::load(dofa_test::source_root() + "/models/fmnist-mbv3.json"); }

// A fake latency: proportional to the work a sub-network does.
double fake_lat(const Arch& a) {
  double s = 0;
  for (size_t i = 0; i < a.ks.size(); ++i)
    if (int(i % 4) < a.d[i / 4]) s += a.ks[i] * a.e[i];
  return s * a.r * a.r / 1e4;
}
// A fake accuracy that rises with the same work, so the two trade off.
std::vector<double> fake_acc(const std::vector<Arch>& as) {
  std::vector<double> v;
  for (const Arch& a : as) v.push_back(std::min(0.99, 0.5 + fake_lat(a) / 400));
  return v;
}

}  // namespace

START_TEST(test_op_keys_w12) {
  Spec s = w12();
  std::vector<std::string> k = op_keys(s, Arch::max(s));
  // Keys as in Dynamic-OFA's published 224 tables (ofa-facts §6.1, §8.2).
  ck_assert_str_eq(k.front().c_str(), "Conv-input:224x224x3-output:112x112x24");
  ck_assert_str_eq(k[1].c_str(), "expanded_conv-input:112x112x24-output:112x112x24-expand:24-kernel:3-stride:1-idskip:1-se:0-hs:0");
  ck_assert_str_eq(k[2].c_str(), "expanded_conv-input:112x112x24-output:56x56x32-expand:144-kernel:7-stride:2-idskip:0-se:0-hs:0");
  ck_assert_str_eq(k[3].c_str(), "expanded_conv-input:56x56x32-output:56x56x32-expand:192-kernel:7-stride:1-idskip:1-se:0-hs:0");
  ck_assert_str_eq(k[k.size() - 4].c_str(), "Conv_1-input:7x7x192-output:7x7x1152");
  ck_assert_str_eq(k[k.size() - 3].c_str(), "AvgPool2D-input:7x7x1152-output:1x1x1152");
  ck_assert_str_eq(k[k.size() - 2].c_str(), "Conv_2-input:1x1x1152-output:1x1x1536");
  ck_assert_str_eq(k.back().c_str(), "Logits-input:1x1x1536-output:1000");
  ck_assert_int_eq(k.size(), 1 + 1 + 20 + 4);
  // Stage 4 (stride 1, 96 -> 136): no identity skip on its first block, SE and h-swish on.
  ck_assert_str_eq(k[1 + 1 + 12].c_str(), "expanded_conv-input:14x14x96-output:14x14x136-expand:576-kernel:7-stride:1-idskip:0-se:1-hs:1");
  Arch a = Arch::min(s);
  a.r = 160;
  std::vector<std::string> m = op_keys(s, a);
  ck_assert_int_eq(m.size(), 1 + 1 + 10 + 4);
  ck_assert_str_eq(m[2].c_str(), "expanded_conv-input:80x80x24-output:40x40x32-expand:72-kernel:3-stride:2-idskip:0-se:0-hs:0");
}
END_TEST

START_TEST(test_dynamic_ofa_table_loads) {
  Spec s = fmnist();
  Arch a = Arch::min(s);
  // A table in Dynamic-OFA's format: {key: {count, mean, std}}, named <r>_lookup_table.json.
  std::string json = "{";
  double want = 0;
  std::vector<std::string> keys = op_keys(s, a);
  for (size_t i = 0; i < keys.size(); ++i) {
    json += (i ? ", \"" : "\"") + keys[i] + "\": {\"count\": 500, \"mean\": " + std::to_string(0.5 + i) + ", \"std\": 0.01}";
    want += 0.5 + double(i);
  }
  json += "}";
  std::string dir = dofa_test::temp_dir();
  write_file_atomic(dir + "/20_lookup_table.json", json);
  LatencyLut lut = LatencyLut::load(dir);
  ck_assert_int_eq(lut.tables.count(20), 1);
  ck_assert_double_eq_tol(lut.predict(s, a), want, 1e-9);
  // A single file whose name gives no resolution: taken from its Conv key.
  std::string one = dofa_test::write_temp("table.json", json);
  ck_assert_int_eq(LatencyLut::load(one).tables.count(20), 1);
  // Round trip through our writer.
  std::string out = dofa_test::temp_dir() + "/ops";
  lut.save(out);
  ck_assert_double_eq_tol(LatencyLut::load(out).predict(s, a), want, 1e-9);
  // Missing ops and resolutions name what is missing.
  Arch big = Arch::max(s);
  big.r = 20;
  DOFA_ASSERT_ERROR(lut.predict(s, big), "resolution 20 lacks", "expanded_conv-input:");
  DOFA_ASSERT_ERROR(lut.predict(s, Arch::max(s)), "no resolution 32");
}
END_TEST

START_TEST(test_malformed_tables) {
  std::string bad = dofa_test::write_temp("28_lookup_table.json", "{\"Conv-input:28x28x1-output:28x28x16\": {\"count\": 3}}");
  DOFA_ASSERT_ERROR(LatencyLut::load(bad), "28_lookup_table.json", "mean");
  std::string neg = dofa_test::write_temp("24_lookup_table.json", "{\"Logits-input:1x1x8-output:10\": {\"mean\": -1}}");
  DOFA_ASSERT_ERROR(LatencyLut::load(neg), "latency >= 0");
  std::string nores = dofa_test::write_temp("x.json", "{\"Logits-input:1x1x8-output:10\": {\"mean\": 1}}");
  DOFA_ASSERT_ERROR(LatencyLut::load(nores), "x.json", "no resolution");
  std::string arr = dofa_test::write_temp("32_lookup_table.json", "[1, 2]");
  DOFA_ASSERT_ERROR(LatencyLut::load(arr), "32_lookup_table.json");
  DOFA_ASSERT_ERROR(LatencyLut::load(dofa_test::temp_dir()), "no <r>_lookup_table.json files");
}
END_TEST

START_TEST(test_algorithm1_relaxation) {
  Spec s = fmnist();
  Rng rng(1);
  // A fake predictor nothing satisfies: the constraint grows by lat_add every
  // itrn iterations until it passes lat_max, and the search gives up.
  RandomSearchParams p;
  p.acc_max = 0.9;
  p.acc_range = 0.01;
  p.lat_init = 10;
  p.lat_add = 2;
  p.lat_max = 15;
  p.itrn = 5;
  p.itrmax = 40;
  std::vector<double> trace;
  Arch found;
  AccFn never = [](const std::vector<Arch>& as) { return std::vector<double>(as.size(), 0.5); };
  ck_assert(!random_search(p, [&] { return sample_arch(s, rng); }, never, fake_lat, {}, &found, &trace));
  ck_assert_int_eq(trace.size(), 40);
  // 12 from the start (line 5 fires at i = 0), 14 at i = 5, 16 at i = 10, then held: 16 >= lat_max.
  ck_assert_double_eq(trace[0], 12);
  ck_assert_double_eq(trace[4], 12);
  ck_assert_double_eq(trace[5], 14);
  ck_assert_double_eq(trace[10], 16);
  ck_assert_double_eq(trace[39], 16);
  // With an accuracy window that everything meets, it returns a sub-network
  // under the current constraint and not among the parents.
  AccFn always = [](const std::vector<Arch>& as) { return std::vector<double>(as.size(), 0.95); };
  p.lat_init = 1e9;
  p.lat_max = 1e9;
  Arch first;
  ck_assert(random_search(p, [&] { return sample_arch(s, rng); }, always, fake_lat, {}, &first));
  Rng same(7), same2(7);
  Arch a;
  ck_assert(random_search(p, [&] { return sample_arch(s, same); }, always, fake_lat, {}, &a));
  Arch b;
  ck_assert(random_search(p, [&] { return sample_arch(s, same2); }, always, fake_lat, {a}, &b));
  ck_assert(!(a == b));  // the same draws, but the first is a parent now
  // Accuracy must be inside (acc_max - acc_range, ...]: 0.95 is not above 0.99 - 0.01.
  p.acc_max = 0.99;
  ck_assert(!random_search(p, [&] { return sample_arch(s, rng); }, always, fake_lat, {}, &a));
}
END_TEST

START_TEST(test_evolution_respects_constraint) {
  Spec s = fmnist();
  Rng rng(2);
  const double limit = fake_lat(Arch::max(s)) * 0.3;
  EvolutionParams p;
  p.iterations = 30;
  int calls = 0;
  LatFn counted = [&](const Arch& a) {
    ++calls;
    return fake_lat(a);
  };
  double best = 0;
  Arch a = evolve(s, p, limit, fake_acc, counted, {}, rng, &best);
  ck_assert(fake_lat(a) <= limit);
  a.validate(s);
  // The fake accuracy rises with latency, so the best sits close under the limit.
  ck_assert_msg(fake_lat(a) > 0.9 * limit, "best %.2f far below the limit %.2f", fake_lat(a), limit);
  ck_assert_double_eq_tol(best, fake_acc({a})[0], 1e-12);
  ck_assert_int_gt(calls, 100 * 30);
  // The final population ranked: distinct, within the limit, best first, the winner at its head.
  std::vector<Arch> ranked;
  Arch w = evolve(s, p, limit, fake_acc, fake_lat, {}, rng, &best, &ranked);
  ck_assert_int_gt(ranked.size(), 3);
  ck_assert(ranked[0] == w.canonical(s));
  const std::vector<double> fit = fake_acc(ranked);
  for (size_t i = 0; i < ranked.size(); ++i) {
    ck_assert(fake_lat(ranked[i]) <= limit);
    if (i > 0) ck_assert(fit[i] <= fit[i - 1]);
    ck_assert(ranked[i] == ranked[i].canonical(s));
    for (size_t j = 0; j < i; ++j) ck_assert(!(ranked[i] == ranked[j]));
  }
  // Seeds beyond the constraint are dropped, not kept.
  Arch big = Arch::max(s);
  Arch b = evolve(s, p, limit, fake_acc, fake_lat, {big}, rng);
  ck_assert(fake_lat(b) <= limit);
  DOFA_ASSERT_ERROR(evolve(s, p, 1e-9, fake_acc, fake_lat, {}, rng), "no sub-network within");
}
END_TEST

START_TEST(test_pareto_and_levels) {
  //                 0    1    2    3    4    5    6
  std::vector<double> lat = {1.0, 2.0, 2.0, 3.0, 4.0, 8.0, 5.0};
  std::vector<double> acc = {80., 85., 84., 83., 90., 91., 90.};
  std::vector<size_t> f = pareto_front(lat, acc);
  // 2 loses to 1 (same latency, less accurate), 3 to 1, 6 to 4 (slower, same accuracy).
  std::vector<size_t> want = {0, 1, 4, 5};
  ck_assert_int_eq(f.size(), want.size());
  for (size_t i = 0; i < f.size(); ++i) ck_assert_int_eq(f[i], want[i]);
  std::vector<size_t> l3 = choose_levels(f, lat, 3);
  ck_assert_int_eq(l3.size(), 3);
  ck_assert_int_eq(l3[0], 0);
  ck_assert_int_eq(l3[2], 5);
  // log-middle of 1 and 8 ms is 2.83 ms: nearest front point is 1 (2 ms) vs 4 (4 ms): 2 ms.
  ck_assert_int_eq(l3[1], 1);
  ck_assert_int_eq(choose_levels(f, lat, 10).size(), 4);
}
END_TEST

START_TEST(test_search_space_dims) {
  Spec s = fmnist();
  Spec w = search_space(s, "width");
  ck_assert_int_eq(w.expand_ratios.size(), 3);
  ck_assert_int_eq(w.kernel_sizes.size(), 1);
  ck_assert_int_eq(w.kernel_sizes[0], 7);
  ck_assert_int_eq(w.depths[0], 4);
  ck_assert_int_eq(w.resolutions[0], s.resolutions.back());
  Spec dk = search_space(s, "depth,kernel");
  ck_assert_int_eq(dk.depths.size(), 3);
  ck_assert_int_eq(dk.kernel_sizes.size(), 3);
  ck_assert_int_eq(dk.expand_ratios.size(), 1);
  DOFA_ASSERT_ERROR(search_space(s, "width,colour"), "colour", "width, depth, kernel or resolution");
}
END_TEST

START_TEST(test_predictor_encoding) {
  Spec s = w12();
  Arch a = Arch::max(s);
  a.d = {2, 3, 4, 2, 3};
  a.ks[0] = 3;
  a.e[0] = 4;
  a.r = 164;
  std::vector<float> t = AccPredictor::encode(s, a, AccPredictor::Form::Tutorial);
  ck_assert_int_eq(t.size(), 128);  // OFA's tutorial predictor input
  ck_assert_float_eq(t[0], 1);      // block 0 kernel 3
  ck_assert_float_eq(t[60 + 1], 1);  // block 0 expand 4
  ck_assert_float_eq(t[120 + 3], 1);  // (164 - 112) // 16 = 3: aliased to 160's slot
  for (int slot = 6; slot < 12; ++slot) ck_assert_float_eq(t[size_t(slot)], 0);  // blocks 2, 3 of stage 0 inactive
  float active = 0;
  for (float v : t) active += v;
  ck_assert_float_eq(active, 2 * (2 + 3 + 4 + 2 + 3) + 1);
  std::vector<float> l = AccPredictor::encode(s, a, AccPredictor::Form::Library);
  ck_assert_int_eq(l.size(), 17 + 60 + 60);  // resolution one-hot first
  ck_assert_float_eq(l[1], 1);                // 164 is the second resolution
  ck_assert_float_eq(l[17 + 0], 1);
}
END_TEST

START_TEST(test_predictor_fits_and_round_trips) {
  Spec s = fmnist();
  Rng rng(5);
  std::vector<Arch> archs;
  std::vector<double> acc;
  for (int i = 0; i < 200; ++i) {
    archs.push_back(sample_arch(s, rng));
    acc.push_back(fake_acc({archs.back()})[0]);
  }
  PredictorFit fit;
  AccPredictor p = AccPredictor::fit(s, archs, acc, &fit, 0, 64, 2);
  ck_assert_int_eq(fit.holdout, 40);
  ck_assert_msg(fit.kendall_tau > 0.6, "tau %.3f", fit.kendall_tau);
  ck_assert_msg(fit.rmse_pp < 5, "rmse %.2f", fit.rmse_pp);
  std::string path = dofa_test::temp_dir() + "/p.pt";
  p.save(path);
  AccPredictor q = AccPredictor::load(path, s);
  for (int i = 0; i < 5; ++i) ck_assert_double_eq_tol(p.predict(archs[size_t(i)]), q.predict(archs[size_t(i)]), 1e-6);
  DOFA_ASSERT_ERROR(AccPredictor::load(path, w12()), "inputs", "ofa-mbv3-w12");
  DOFA_ASSERT_ERROR(AccPredictor::fit(s, {archs[0]}, {0.5}, nullptr), "at least 10");
}
END_TEST

START_TEST(test_kendall_tau) {
  ck_assert_double_eq(kendall_tau({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  ck_assert_double_eq(kendall_tau({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  // One swap of four: 5 concordant, 1 discordant pair.
  ck_assert_double_eq_tol(kendall_tau({1, 2, 3, 4}, {1, 3, 2, 4}), 4.0 / 6.0, 1e-12);
}
END_TEST

int main() {
  Suite* s = suite_create("search");
  TCase* t = tcase_create("search");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, test_op_keys_w12);
  tcase_add_test(t, test_dynamic_ofa_table_loads);
  tcase_add_test(t, test_malformed_tables);
  tcase_add_test(t, test_algorithm1_relaxation);
  tcase_add_test(t, test_evolution_respects_constraint);
  tcase_add_test(t, test_pareto_and_levels);
  tcase_add_test(t, test_search_space_dims);
  tcase_add_test(t, test_predictor_encoding);
  tcase_add_test(t, test_predictor_fits_and_round_trips);
  tcase_add_test(t, test_kendall_tau);
  suite_add_tcase(s, t);
  return dofa_test::run_suite(s);
}
