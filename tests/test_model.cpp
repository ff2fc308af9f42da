// Model and Runner: materialise modes, the shared cache, switching from
// another thread while classifying, level tables, preprocessing.
#include <c10/core/GradMode.h>
#include <ATen/ATen.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "error.h"
#include "level.h"
#include "level_bn.h"
#include "model.h"
#include "model_impl.h"
#include "preprocess.h"
#include "runner.h"
#include "supernet.h"
#include "system_info.h"
#include "weight_keys.h"
#include "test_util.h"

using namespace dofa;

namespace {

std::string tiny_path() { return dofa_test::fixtures() + "/tiny-mbv3.json"; }

const std::vector<std::string> kArchs = {"min", "random:3", "max"};

ModelOptions options(Materialize m) {
  ModelOptions o;
  o.spec = tiny_path();
  o.weights = "random:11";
  o.archs = kArchs;
  o.materialize = m;
  o.warmup_runs = 1;
  return o;
}

std::vector<uint8_t> test_image(int w, int h) {
  std::vector<uint8_t> px(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) px[(size_t(y) * w + x) * 3 + c] = uint8_t((x * 7 + y * 3 + c * 50) % 256);
  return px;
}

}  // namespace

START_TEST(test_levels_and_cache) {
  auto m = Model::get(options(Materialize::All));
  ck_assert_int_eq(m->num_levels(), 3);
  ck_assert_int_eq(m->level(0).arch.r, 24);
  ck_assert_int_eq(m->level(2).arch.r, 32);
  ck_assert_double_gt(m->level(2).measured_ms, 0);
  ck_assert_double_gt(m->level(2).mflops, m->level(0).mflops);
  ck_assert(Model::get(options(Materialize::All)) == m);  // shared while held
  ck_assert(Model::get(options(Materialize::None)) != m);
  DOFA_ASSERT_ERROR(m->level(3), "level 3 out of range 0..2");
  ModelOptions bad = options(Materialize::All);
  bad.device = "tpu";
  DOFA_ASSERT_ERROR(Model::load(bad), "device 'tpu'", "expected cpu or cuda");
  // Without a CUDA build and device the cuda device is refused with the reason, never half-loaded.
  const std::string why = cuda_unavailable_reason();
  if (!why.empty()) {
    bad.device = "cuda";
    DOFA_ASSERT_ERROR(Model::load(bad), "device 'cuda'", why.c_str());
    ck_assert_int_eq(available_devices().size(), 1);
  }
  bad = options(Materialize::All);
  bad.archs = {"r30-d222-k333333333333-e333333333333"};
  DOFA_ASSERT_ERROR(Model::load(bad), "resolution 30");
}
END_TEST

START_TEST(test_modes_agree) {
  auto all = Model::load(options(Materialize::All));
  auto none = Model::load(options(Materialize::None));
  Runner ra(all, 0), rn(none, 0);
  auto img = test_image(40, 30);
  ImageView v{img.data(), 40, 30, 40 * 3, PixelFormat::RGB};
  for (int l = 0; l < 3; ++l) {
    ra.switch_to(l);
    rn.switch_to(l);
    Classification a = ra.classify(v, 3), n = rn.classify(v, 3);
    ck_assert_int_eq(a.level, l);
    ck_assert_int_eq(n.level, l);
    ck_assert_int_eq(a.class_id, n.class_id);
    ck_assert_float_eq_tol(a.confidence, n.confidence, 1e-4);
    ck_assert_int_eq(a.top_ids.size(), 3);
    ck_assert(a.top_scores[0] >= a.top_scores[1] && a.top_scores[1] >= a.top_scores[2]);
    // The top-k computed by hand is ATen's softmax and topk of the level's logits.
    const int r = all->level(l).arch.r;
    std::vector<float> in(size_t(3) * r * r);
    preprocess(v, all->spec(), r, in.data());
    at::Tensor p = at::softmax(all->impl().ready(l)->forward(at::from_blob(in.data(), {1, 3, r, r}))[0], 0);
    auto [vals, ids] = at::topk(p, 3);
    for (int i = 0; i < 3; ++i) {
      ck_assert_int_eq(a.top_ids[size_t(i)], ids[i].item<int64_t>());
      ck_assert_float_eq_tol(a.top_scores[size_t(i)], vals[i].item<float>(), 1e-6);
    }
    // Only the first frame in a thread warms the levels, outside its own time.
    ck_assert(l == 0 ? a.warm_ms > 0 : a.warm_ms == 0);
  }
  std::thread([&] { ck_assert_double_gt(ra.classify(v, 3).warm_ms, 0); }).join();
}
END_TEST

START_TEST(test_switch_from_another_thread) {
  auto m = Model::get(options(Materialize::All));
  Runner r(m, 2);
  auto img = test_image(32, 32);
  ImageView v{img.data(), 32, 32, 32 * 3, PixelFormat::RGB};
  // Reference result per level, each run alone.
  std::vector<Classification> want;
  for (int l = 0; l < 3; ++l) {
    r.switch_to(l);
    want.push_back(r.classify(v, 1));
  }
  std::atomic<bool> stop{false};
  std::atomic<long> switches{0};
  std::thread switcher([&] {
    for (int i = 0; !stop.load(); ++i) {
      r.switch_to(i % 3);
      ++switches;
    }
  });
  int seen[3] = {0, 0, 0};
  for (int f = 0; f < 150; ++f) {
    Classification c = r.classify(v, 1);
    ck_assert(c.level >= 0 && c.level < 3);
    // The whole frame ran on one level: its result is that level's.
    ck_assert_int_eq(c.class_id, want[c.level].class_id);
    ck_assert_float_eq_tol(c.confidence, want[c.level].confidence, 1e-5);
    seen[c.level]++;
  }
  stop = true;
  switcher.join();
  ck_assert_int_gt(switches.load(), 150);
  ck_assert_int_gt(seen[0] + seen[1] + seen[2], 0);
  r.switch_to(1);
  ck_assert_int_eq(r.classify(v).level, 1);  // the next frame uses the new level
  DOFA_ASSERT_ERROR(r.switch_to(5), "level 5 out of range");
  ck_assert_int_eq(r.level(), 1);  // a refused switch changes nothing
}
END_TEST

START_TEST(test_lazy) {
  auto m = Model::load(options(Materialize::Lazy));
  Runner r(m, 0);
  ck_assert(m->impl().ready(0) != nullptr);
  ck_assert(m->impl().ready(2) == nullptr);
  auto img = test_image(32, 32);
  ImageView v{img.data(), 32, 32, 32 * 3, PixelFormat::RGB};
  r.switch_to(2);
  // The old level runs until the new one is built; then the new one.
  int level = -1;
  for (int i = 0; i < 2000 && level != 2; ++i) {
    level = r.classify(v).level;
    ck_assert(level == 0 || level == 2);
    if (level != 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ck_assert_int_eq(level, 2);
}
END_TEST

START_TEST(test_level_table_model) {
  c10::NoGradGuard no_grad;
  Spec s = Spec::load(tiny_path());
  std::string dir = dofa_test::temp_dir();
  Supernet net = Supernet::random(s, 12);
  save_tensors(dir + "/w.pt", net.weights());

  LevelTable t;
  t.model = s.name;
  t.provenance.weights_sha256 = sha256_file(dir + "/w.pt");
  t.provenance.libtorch = "test";
  t.provenance.device = "cpu";
  t.provenance.blas = "test";
  t.provenance.date = "2026-01-01";
  t.provenance.data = "random";
  std::vector<BnStats> bn;
  for (const char* a : {"min", "max"}) {
    LevelEntry e;
    e.arch = Arch::parse(a, s);
    e.top1_test = 80;
    t.levels.push_back(e);
    BnStats st;
    for (const BnSite& b : bn_sites(s, e.arch)) {
      st[b.name + ".running_mean"] = at::randn({b.channels}) * 0.1;
      st[b.name + ".running_var"] = at::rand({b.channels}) + 0.5;
    }
    bn.push_back(st);
  }
  t.bn_file = "t.bn.pt";
  save_level_bn(dir + "/t.bn.pt", bn);
  t.save(dir + "/t.json");

  ModelOptions o;
  o.spec = tiny_path();
  o.weights = dir + "/w.pt";
  o.level_table = dir + "/t.json";
  o.warmup_runs = 1;
  auto m = Model::load(o);
  ck_assert_int_eq(m->num_levels(), 2);
  ck_assert_double_eq(m->level(1).top1, 80);
  // The table's statistics are the ones used.
  Level want(net, t.levels[1].arch, &bn[1]);
  at::Tensor x = at::randn({1, 3, 32, 32});
  at::Tensor got = m->impl().ready(1)->forward(x);
  ck_assert_double_lt((got - want.forward(x)).abs().max().item<double>(), 1e-4);

  // Other weights: the error names both hashes.
  Supernet other = Supernet::random(s, 13);
  save_tensors(dir + "/other.pt", other.weights());
  o.weights = dir + "/other.pt";
  const std::string other_sha = sha256_file(dir + "/other.pt");
  DOFA_ASSERT_ERROR(Model::load(o), t.provenance.weights_sha256.c_str(), other_sha.c_str());
}
END_TEST

START_TEST(test_preprocess) {
  Spec s = Spec::load(tiny_path());  // mean 0.5, std 0.25, eval crop 1.0
  // A constant colour maps to (v / 255 - mean) / std in RGB order, whatever the size.
  std::vector<uint8_t> bgr(64 * 48 * 3);
  for (size_t i = 0; i < bgr.size(); i += 3) bgr[i] = 255, bgr[i + 1] = 0, bgr[i + 2] = 51;  // B, G, R
  std::vector<float> out(3 * 24 * 24);
  preprocess({bgr.data(), 64, 48, 64 * 3, PixelFormat::BGR}, s, 24, out.data());
  ck_assert_float_eq_tol(out[0], (51 / 255.f - 0.5f) / 0.25f, 1e-5);              // R plane
  ck_assert_float_eq_tol(out[24 * 24], (0 - 0.5f) / 0.25f, 1e-5);                 // G plane
  ck_assert_float_eq_tol(out[2 * 24 * 24 + 100], (1 - 0.5f) / 0.25f, 1e-5);       // B plane
  // Grey input is replicated to the three channels.
  std::vector<uint8_t> grey(30 * 30, 102);
  preprocess({grey.data(), 30, 30, 30, PixelFormat::Gray8}, s, 24, out.data());
  for (int c = 0; c < 3; ++c) ck_assert_float_eq_tol(out[c * 576 + 7], (0.4f - 0.5f) / 0.25f, 1e-5);
  // Same size, crop 1.0: pixels pass through unchanged (an identity resize).
  auto img = test_image(24, 24);
  preprocess({img.data(), 24, 24, 24 * 3, PixelFormat::RGB}, s, 24, out.data());
  ck_assert_float_eq_tol(out[5 * 24 + 9], (img[(5 * 24 + 9) * 3] / 255.f - 0.5f) / 0.25f, 1e-5);
  DOFA_ASSERT_ERROR(preprocess({nullptr, 0, 0, 0, PixelFormat::RGB}, s, 24, out.data()), "empty image");
  DOFA_ASSERT_ERROR(preprocess({img.data(), 24, 24, 10, PixelFormat::RGB}, s, 24, out.data()), "stride 10");
}
END_TEST

int main() {
  Suite* s = suite_create("model");
  TCase* tc = tcase_create("model");
  tcase_add_test(tc, test_levels_and_cache);
  tcase_add_test(tc, test_modes_agree);
  tcase_add_test(tc, test_switch_from_another_thread);
  tcase_add_test(tc, test_lazy);
  tcase_add_test(tc, test_level_table_model);
  tcase_add_test(tc, test_preprocess);
  suite_add_tcase(s, tc);
  return dofa_test::run_suite(s);
}
