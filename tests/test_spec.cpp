// Spec parsing, derived block table and weight key names.
#include <fstream>
#include <sstream>

#include "error.h"
#include "json_reader.h"
#include "spec.h"
#include "test_util.h"
#include "weight_keys.h"

using namespace dofa;
using dofa_test::fixtures;
using dofa_test::source_root;

namespace {

std::string w12_path() { return source_root() + "/models/ofa-mbv3-w12.json"; }
std::string w12_text() { return read_file(w12_path()); }

// The w1.2 spec text with one substring replaced.
std::string w12_with(const std::string& from, const std::string& to) {
  std::string t = w12_text();
  size_t at = t.find(from);
  ck_assert_msg(at != std::string::npos, "fixture lacks '%s'", from.c_str());
  return t.replace(at, from.size(), to);
}

}  // namespace

START_TEST(test_make_divisible) {
  // ofa-facts §1.2 examples.
  ck_assert_int_eq(make_divisible(16 * 1.2), 24);
  ck_assert_int_eq(make_divisible(24 * 1.2), 32);
  ck_assert_int_eq(make_divisible(112 * 1.2), 136);
  ck_assert_int_eq(make_divisible(1152), 1152);
  ck_assert_int_eq(make_divisible(204), 208);  // 816 // 4
  ck_assert_int_eq(make_divisible(3), 8);
}
END_TEST

START_TEST(test_w12_spec) {
  Spec s = Spec::load(w12_path());
  ck_assert_str_eq(s.name.c_str(), "ofa-mbv3-w12");
  ck_assert_int_eq(s.first_conv.width, 24);
  ck_assert_int_eq(s.first_block.width, 24);
  const int widths[] = {32, 48, 96, 136, 192};
  ck_assert_int_eq(s.stages.size(), 5);
  for (int i = 0; i < 5; ++i) ck_assert_int_eq(s.stages[i].width, widths[i]);
  ck_assert_int_eq(s.final_expand.width, 1152);
  ck_assert_int_eq(s.feature_mix.width, 1536);
  ck_assert_int_eq(s.classes, 1000);
  ck_assert_int_eq(s.labels.size(), 1000);
  ck_assert_str_eq(s.labels[0].c_str(), "tench");
  ck_assert_int_eq(s.blocks.size(), 21);
  // ofa-facts §1.5 per-block table.
  ck_assert_int_eq(s.blocks[1].max_mid, 144);
  ck_assert_int_eq(s.blocks[5].in, 32);
  ck_assert_int_eq(s.blocks[5].max_mid, 192);
  ck_assert(s.blocks[5].se);
  ck_assert(!s.blocks[5].residual);
  ck_assert(s.blocks[6].residual);
  ck_assert_int_eq(s.blocks[13].stride, 1);
  ck_assert(!s.blocks[13].residual);  // 96 -> 136
  ck_assert_int_eq(s.blocks[14].max_mid, 816);
  ck_assert_int_eq(s.blocks[18].max_mid, 1152);
  ck_assert_int_eq(s.resolutions.front(), 160);
  ck_assert_int_eq(s.resolutions.back(), 224);
  ck_assert_int_eq(s.resolutions.size(), 17);
}
END_TEST

START_TEST(test_w12_keys_match_checkpoint) {
  // The official checkpoint's key list (ofa-facts §3.2), num_batches_tracked aside.
  std::ifstream f(fixtures() + "/ofa-mbv3-w12-keys.txt");
  std::string line;
  std::getline(f, line);  // header
  std::vector<std::string> expected;
  while (std::getline(f, line))
    if (line.find("num_batches_tracked") == std::string::npos) expected.push_back(line);
  auto keys = supernet_keys(Spec::load(w12_path()));
  ck_assert_int_eq(keys.size(), expected.size());
  long long elements = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    std::ostringstream got;
    got << keys[i].name << " [";
    long long n = 1;
    for (size_t d = 0; d < keys[i].shape.size(); ++d) {
      got << (d ? ", " : "") << keys[i].shape[d];
      n *= keys[i].shape[d];
    }
    got << "]";
    elements += n;
    ck_assert_msg(got.str() == expected[i], "key %zu: %s, expected %s", i, got.str().c_str(), expected[i].c_str());
  }
  ck_assert_int_eq(elements, 10766584);
}
END_TEST

START_TEST(test_malformed_json) {
  DOFA_ASSERT_ERROR(Spec::parse("{\"schema\": 1,", "broken.json"), "broken.json", "malformed JSON");
  DOFA_ASSERT_ERROR(Spec::parse("[1, 2]", "list.json"), "list.json", "expected a JSON object");
  DOFA_ASSERT_ERROR(Spec::load("/nonexistent/spec.json"), "/nonexistent/spec.json", "cannot read");
}
END_TEST

START_TEST(test_missing_fields) {
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"stages\"", "\"stagez\""), "s.json"), "s.json", "missing field 'stages'");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"classes\": 1000", "\"klasses\": 1000"), "s.json"),
                    "missing field 'classifier.classes'");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"schema\": 1,", ""), "s.json"), "missing field 'schema'");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"eval_crop\": 0.875", "\"crop\": 0.875"), "s.json"),
                    "preprocess.eval_crop");
}
END_TEST

START_TEST(test_bad_values) {
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"schema\": 1", "\"schema\": 2"), "s.json"), "schema", "expected 1");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"classes\": 1000", "\"classes\": \"many\""), "s.json"),
                    "classifier.classes", "expected an integer");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"act\": \"h_swish\"", "\"act\": \"gelu\""), "s.json"),
                    "first_conv.act", "gelu");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"stride\": 2", "\"stride\": 3"), "s.json"), "first_conv.stride",
                    "stride 1 or 2");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("[3, 5, 7]", "[3, 4, 7]"), "s.json"), "elastic.kernel_sizes[1]", "odd");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("[2, 3, 4]", "[3, 2, 4]"), "s.json"), "elastic.depths", "ascending");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("[0.229, 0.224, 0.225]", "[0.229, 0.224]"), "s.json"), "input.std",
                    "one value per input channel");
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"width\": 32", "\"width\": -32"), "s.json"), "stages[0].width",
                    "positive");
  std::string two_labels = w12_with("\"labels\": \"imagenet-labels.txt\"", "\"labels\": [\"a\", \"b\"]");
  DOFA_ASSERT_ERROR(Spec::parse(two_labels, "s.json"), "labels", "expected 1000 labels, got 2");
  // Parsed as the real file, so that its labels file is found.
  DOFA_ASSERT_ERROR(Spec::parse(w12_with("\"ofa-mbv3-w12.pt\"", "\"random:-3\""), w12_path()), "ofa-mbv3-w12.json",
                    "weights", "seed '-3'");
  ck_assert(Spec::parse(w12_with("\"ofa-mbv3-w12.pt\"", "\"random:3\""), w12_path()).weights == "random:3");
}
END_TEST

START_TEST(test_find) {
  ck_assert(Spec::find("ofa-mbv3-w12") == source_root() + "/models/ofa-mbv3-w12.json");
  DOFA_ASSERT_ERROR(Spec::find("no-such-model"), "no-such-model", "not found");
  DOFA_ASSERT_ERROR(Spec::find("models/missing.json"), "models/missing.json", "no such spec file");
}
END_TEST

int main() {
  Suite* s = suite_create("spec");
  TCase* tc = tcase_create("spec");
  tcase_add_test(tc, test_make_divisible);
  tcase_add_test(tc, test_w12_spec);
  tcase_add_test(tc, test_w12_keys_match_checkpoint);
  tcase_add_test(tc, test_malformed_json);
  tcase_add_test(tc, test_missing_fields);
  tcase_add_test(tc, test_bad_values);
  tcase_add_test(tc, test_find);
  suite_add_tcase(s, tc);
  return dofa_test::run_suite(s);
}
