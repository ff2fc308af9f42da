// Arch forms, parsing, validation and the derived layer shapes.
#include "arch.h"
#include "error.h"
#include "json_reader.h"
#include "spec.h"
#include "test_util.h"

using namespace dofa;

namespace {

Spec w12() { return Spec::load(dofa_test::source_root() + "/models/ofa-mbv3-w12.json"); }

// Dynamic-OFA nets_6 level 0 (ofa-facts §8.4) in both forms.
const char* kL0Text = "r176-d32322-k5777.3557.7753.5337.3377-e6446.4364.6446.4646.4334";
const char* kL0Ofa =
    "{\"wid\": null, \"ks\": [5,7,7,7,3,5,5,7,7,7,5,3,5,3,3,7,3,3,7,7],"
    " \"e\": [6,4,4,6,4,3,6,4,6,4,4,6,4,6,4,6,4,3,3,4], \"d\": [3,2,3,2,2], \"r\": [176]}";

}  // namespace

START_TEST(test_max_min) {
  Spec s = w12();
  Arch mx = Arch::max(s), mn = Arch::min(s);
  ck_assert(mx.to_text() == "r224-d44444-k7777.7777.7777.7777.7777-e6666.6666.6666.6666.6666");
  ck_assert(mn.to_text() == "r160-d22222-k3333.3333.3333.3333.3333-e3333.3333.3333.3333.3333");
  ck_assert(Arch::parse("max", s) == mx);
  ck_assert(Arch::parse("min", s) == mn);
}
END_TEST

START_TEST(test_forms_round_trip) {
  Spec s = w12();
  Arch t = Arch::parse(kL0Text, s);
  Arch o = Arch::parse(kL0Ofa, s);
  ck_assert(t == o);
  ck_assert(t.to_text() == kL0Text);
  ck_assert(Arch::from_ofa_json(t.to_ofa_json()) == t);
  ck_assert_int_eq(t.r, 176);
  ck_assert_int_eq(t.d[0], 3);
  ck_assert_int_eq(t.ks[1], 7);
  // "image_size" and a bare integer resolution are accepted too.
  Arch img = Arch::from_ofa_json(
      "{\"ks\": [5,7,7,7,3,5,5,7,7,7,5,3,5,3,3,7,3,3,7,7], \"e\": [6,4,4,6,4,3,6,4,6,4,4,6,4,6,4,6,4,3,3,4],"
      " \"d\": [3,2,3,2,2], \"image_size\": 176}");
  ck_assert(img == t);
}
END_TEST

START_TEST(test_random) {
  Spec s = w12();
  Arch a = Arch::parse("random:5", s), b = Arch::parse("random:5", s), c = Arch::parse("random:6", s);
  ck_assert(a == b);
  ck_assert(a != c);
  a.validate(s);
  ck_assert(Arch::parse("random", s) == Arch::random(s, 0));
}
END_TEST

START_TEST(test_file_form) {
  Spec s = w12();
  std::string json = dofa_test::write_temp("arch.json", std::string(kL0Ofa) + "\n");
  std::string text = dofa_test::write_temp("arch.txt", std::string(kL0Text) + "\n");
  ck_assert(Arch::parse("@" + json, s) == Arch::parse(kL0Text, s));
  ck_assert(Arch::parse("@" + text, s) == Arch::parse(kL0Text, s));
  DOFA_ASSERT_ERROR(Arch::parse("@/nonexistent/arch.json", s), "/nonexistent/arch.json", "cannot read");
  std::string bad = dofa_test::write_temp("bad.json", "{\"ks\": [3]}");
  DOFA_ASSERT_ERROR(Arch::parse("@" + bad, s), bad.c_str(), "missing field 'e'");
}
END_TEST

START_TEST(test_validation_errors) {
  Spec s = w12();
  DOFA_ASSERT_ERROR(Arch::parse("r176-d32322-k5777.4557.7753.5337.3377-e6446.4364.6446.4646.4334", s),
                    "block 5 (stage 2)", "kernel size 4", "{3, 5, 7}");
  DOFA_ASSERT_ERROR(Arch::parse("r176-d32322-k5777.3557.7753.5337.3377-e6446.4364.6446.4646.4335", s),
                    "block 20 (stage 5)", "expand ratio 5", "{3, 4, 6}");
  DOFA_ASSERT_ERROR(Arch::parse("r176-d32522-k5777.3557.7753.5337.3377-e6446.4364.6446.4646.4334", s),
                    "stage 3", "depth 5", "{2, 3, 4}");
  DOFA_ASSERT_ERROR(Arch::parse("r150-d32322-k5777.3557.7753.5337.3377-e6446.4364.6446.4646.4334", s),
                    "resolution 150", "160");
  DOFA_ASSERT_ERROR(Arch::parse("r176-d3232-k5777.3557.7753.5337.3377-e6446.4364.6446.4646.4334", s),
                    "d has 4 entries, expected 5");
  DOFA_ASSERT_ERROR(Arch::parse("r176-d32322-k5777.3557-e6446.4364.6446.4646.4334", s),
                    "ks has 8 entries, expected 20");
}
END_TEST

START_TEST(test_malformed) {
  Spec s = w12();
  DOFA_ASSERT_ERROR(Arch::parse("r176-x12", s), "unknown field 'x12'");
  DOFA_ASSERT_ERROR(Arch::parse("r176-d3a322-k5-e6", s), "field 'd'", "'a'");
  DOFA_ASSERT_ERROR(Arch::parse("rabc-d3-k5-e6", s), "resolution 'abc'");
  DOFA_ASSERT_ERROR(Arch::parse("r176", s), "expected r<res>-d<depths>-k<kernels>-e<expands>");
  DOFA_ASSERT_ERROR(Arch::parse("random:x", s), "--arch 'random:x'", "seed 'x'");
  DOFA_ASSERT_ERROR(Arch::parse("random:-1", s), "seed '-1'");
  DOFA_ASSERT_ERROR(Arch::parse("random:", s), "seed ''");
  DOFA_ASSERT_ERROR(Arch::parse("{\"ks\": [3], ", s), "malformed JSON");
  DOFA_ASSERT_ERROR(Arch::parse("{\"ks\": [], \"e\": [], \"d\": [], \"r\": [160], \"w\": 1}", s), "w",
                    "unknown key");
  DOFA_ASSERT_ERROR(Arch::parse("{\"ks\": \"7\", \"e\": [], \"d\": [], \"r\": 160}", s), "ks", "expected an array");
}
END_TEST

START_TEST(test_canonical) {
  Spec s = w12();
  // Stage 0 at depth 2: its blocks 2 and 3 are skipped, whatever they say.
  Arch a = Arch::from_text("r160-d24444-k3377.3333.3333.3333.3333-e3366.3333.3333.3333.3333");
  Arch b = Arch::from_text("r160-d24444-k3355.3333.3333.3333.3333-e3344.3333.3333.3333.3333");
  ck_assert(!(a == b));
  ck_assert(a.canonical(s) == b.canonical(s));
  const std::string ca = a.canonical(s).to_text();
  ck_assert_str_eq(ca.c_str(), "r160-d24444-k3333.3333.3333.3333.3333-e3333.3333.3333.3333.3333");
  // An active block keeps its own values.
  Arch c = Arch::from_text("r160-d34444-k3377.3333.3333.3333.3333-e3366.3333.3333.3333.3333");
  const std::string cc = c.canonical(s).to_text();
  ck_assert_str_eq(cc.c_str(), "r160-d34444-k3373.3333.3333.3333.3333-e3363.3333.3333.3333.3333");
  ck_assert(Arch::max(s).canonical(s) == Arch::max(s));
}
END_TEST

START_TEST(test_net_shape) {
  Spec s = w12();
  // ofa-facts §1.5: feature sizes at 224 are 112, 56, 28, 14, 14, 7; at 164: 82, 41, 21, 11, 11, 6.
  NetShape n = net_shape(s, Arch::max(s));
  ck_assert_int_eq(n.first_hw, 112);
  ck_assert_int_eq(n.final_hw, 7);
  ck_assert_int_eq(n.blocks.size(), 21);
  ck_assert_int_eq(n.blocks[1].mid, 144);     // 24 * 6
  ck_assert_int_eq(n.blocks[5].mid, 192);     // block 5 takes the previous stage's width: 32 * 6
  ck_assert_int_eq(n.blocks[5].se_mid, 48);
  ck_assert_int_eq(n.blocks[14].mid, 816);
  ck_assert_int_eq(n.blocks[14].se_mid, 208);  // make_divisible(816 // 4)
  ck_assert_int_eq(n.blocks[8].out_hw, 28);
  Arch a = Arch::max(s);
  a.r = 164;
  a.e.assign(20, 4);
  n = net_shape(s, a);
  ck_assert_int_eq(n.first_hw, 82);
  ck_assert_int_eq(n.blocks[4].out_hw, 41);
  ck_assert_int_eq(n.blocks[8].out_hw, 21);
  ck_assert_int_eq(n.blocks[12].out_hw, 11);
  ck_assert_int_eq(n.blocks[16].out_hw, 11);
  ck_assert_int_eq(n.final_hw, 6);
  ck_assert_int_eq(n.blocks[14].mid, 544);
  ck_assert_int_eq(n.blocks[14].se_mid, 136);
  // Depth: only the first d blocks of each stage.
  n = net_shape(s, Arch::parse(kL0Text, s));
  ck_assert_int_eq(n.blocks.size(), 1 + 3 + 2 + 3 + 2 + 2);
  ck_assert_int_eq(n.blocks[4].block->index, 5);  // stage 2 starts at block 5
  ck_assert_int_eq(n.blocks[6].block->index, 9);
}
END_TEST

int main() {
  Suite* s = suite_create("arch");
  TCase* tc = tcase_create("arch");
  tcase_add_test(tc, test_max_min);
  tcase_add_test(tc, test_forms_round_trip);
  tcase_add_test(tc, test_random);
  tcase_add_test(tc, test_file_form);
  tcase_add_test(tc, test_validation_errors);
  tcase_add_test(tc, test_malformed);
  tcase_add_test(tc, test_net_shape);
  tcase_add_test(tc, test_canonical);
  suite_add_tcase(s, tc);
  return dofa_test::run_suite(s);
}
