// Level table and per-level BN statistics: round trips and the errors a user meets.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "error.h"
#include "json_reader.h"
#include "level_bn.h"
#include "level_table.h"
#include "spec.h"
#include "weight_keys.h"
#include "test_util.h"

namespace {

const char* const kSmallArch = "r8-d11-k33.33-e22.22";
const char* const kLargeArch = "r16-d22-k55.55-e44.44";
const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

// A two-stage supernet small enough to count by hand (fixtures/hand-count.json): 1 input
// channel, stage 1 without SE, stage 2 with SE, at most two blocks per stage.
dofa::Spec tiny() { return dofa::Spec::load(dofa_test::fixtures() + "/hand-count.json"); }

// A valid table as text; the error tests edit one piece of it.
const char* const kTableJson = R"({
  "schema": 1,
  "model": "tiny",
  "device": "cpu",
  "source": "measured",
  "provenance": {"weights_sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "libtorch": "1.13.0", "device": "test cpu", "threads": 1, "blas": "openblas",
                 "date": "2024-01-01", "data": "test split"},
  "bn_file": "tiny-bn.pt",
  "levels": [
    {"arch": "r8-d11-k33.33-e22.22", "top1_test": 80.5, "top1_val": null,
     "latency_ms": {"mean": 1.25, "p90": 1.5}, "mflops": 0.03, "params": 9000},
    {"arch": "r16-d22-k55.55-e44.44", "top1_test": 85.0, "top1_val": 84.5,
     "latency_ms": {"mean": 2.5, "p90": 3.0}, "mflops": 0.2, "params": 20000}
  ]
})";

std::string edited(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  ck_assert_msg(at != std::string::npos, "test table lacks '%s'", from.c_str());
  return text.replace(at, from.size(), to);
}

dofa::LevelTable parse(const std::string& json) { return dofa::LevelTable::parse(json, "t.json", tiny()); }

dofa::LevelTable sample_table(const dofa::Spec& s) {
  dofa::LevelTable t;
  t.model = s.name;
  t.device = "cpu";
  t.source = "measured";
  t.provenance = {kShaA, "1.13.0", "test cpu", "openblas", "2024-01-01", "test split", 1};
  t.bn_file = "tiny-bn.pt";
  dofa::LevelEntry a;
  a.arch = dofa::Arch::from_text(kSmallArch);
  a.top1_test = 80.5;
  a.latency_mean_ms = 1.25;
  a.latency_p90_ms = 1.5;
  a.mflops = 0.034112;
  a.params = 9000;
  dofa::LevelEntry b;
  b.arch = dofa::Arch::from_text(kLargeArch);
  b.top1_test = 85.0;
  b.top1_val = 84.25;
  b.latency_mean_ms = 2.5;
  b.latency_p90_ms = 3.125;
  b.mflops = 0.2;
  b.params = 20000;
  t.levels = {a, b};
  return t;
}

// Statistics sized to each level's BN layers, distinct per level.
std::vector<dofa::BnStats> sample_stats(const dofa::Spec& s, const dofa::LevelTable& t) {
  std::vector<dofa::BnStats> out;
  for (size_t li = 0; li < t.levels.size(); ++li) {
    dofa::BnStats st;
    for (const auto& site : dofa::bn_sites(s, t.levels[li].arch)) {
      st[site.name + ".running_mean"] = at::arange(site.channels, at::kFloat) + float(li);
      st[site.name + ".running_var"] = at::ones({site.channels}, at::kFloat) * float(li + 1);
    }
    out.push_back(st);
  }
  return out;
}

// A table saved with its BN file in a fresh directory; returns the table path.
std::string save_with_bn(const dofa::Spec& s, const dofa::LevelTable& t, const std::vector<dofa::BnStats>& st) {
  std::string dir = dofa_test::temp_dir();
  t.save(dir + "/tiny-cpu.json");
  dofa::save_level_bn(dir + "/" + t.bn_file, st);
  (void)s;
  return dir + "/tiny-cpu.json";
}

void assert_same_level(const dofa::LevelEntry& a, const dofa::LevelEntry& b) {
  ck_assert(a.arch == b.arch);
  ck_assert_double_eq(a.top1_test, b.top1_test);
  ck_assert_double_eq(a.top1_val, b.top1_val);
  ck_assert_double_eq(a.latency_mean_ms, b.latency_mean_ms);
  ck_assert_double_eq(a.latency_p90_ms, b.latency_p90_ms);
  ck_assert_double_eq(a.mflops, b.mflops);
  ck_assert_int_eq(a.params, b.params);
}

}  // namespace

START_TEST(test_round_trip) {
  dofa::Spec s = tiny();
  dofa::LevelTable t = sample_table(s);
  std::string path = dofa_test::temp_dir() + "/tiny-cpu.json";
  t.save(path);
  dofa::LevelTable u = dofa::LevelTable::load(path, s);
  ck_assert_str_eq(u.path.c_str(), path.c_str());
  ck_assert_int_eq(u.schema, 1);
  ck_assert_str_eq(u.model.c_str(), "tiny");
  ck_assert_str_eq(u.device.c_str(), "cpu");
  ck_assert_str_eq(u.source.c_str(), "measured");
  ck_assert_str_eq(u.provenance.weights_sha256.c_str(), kShaA.c_str());
  ck_assert_str_eq(u.provenance.libtorch.c_str(), "1.13.0");
  ck_assert_str_eq(u.provenance.device.c_str(), "test cpu");
  ck_assert_str_eq(u.provenance.blas.c_str(), "openblas");
  ck_assert_str_eq(u.provenance.date.c_str(), "2024-01-01");
  ck_assert_str_eq(u.provenance.data.c_str(), "test split");
  ck_assert_int_eq(u.provenance.threads, 1);
  ck_assert_str_eq(u.bn_file.c_str(), "tiny-bn.pt");
  ck_assert_int_eq(u.levels.size(), 2);
  for (size_t i = 0; i < 2; ++i) assert_same_level(t.levels[i], u.levels[i]);
  ck_assert_double_eq(u.levels[0].top1_val, -1);  // written as null
  // Saving what was read gives the same text.
  const std::string again = u.to_json(), first = t.to_json();
  ck_assert_str_eq(again.c_str(), first.c_str());
}
END_TEST

START_TEST(test_text_form_parses) {
  dofa::LevelTable t = parse(kTableJson);
  ck_assert_int_eq(t.levels.size(), 2);
  ck_assert(t.levels[1].arch == dofa::Arch::from_text(kLargeArch));
  ck_assert_double_eq(t.levels[0].top1_val, -1);
  ck_assert_double_eq(t.levels[1].latency_p90_ms, 3.0);
}
END_TEST

START_TEST(test_ofa_form_arch) {
  // OFA's dict form in place of the text form (ofa-facts §2.1).
  std::string json = edited(kTableJson, "\"arch\": \"r16-d22-k55.55-e44.44\"",
                            "\"arch\": {\"ks\": [5,5,5,5], \"e\": [4,4,4,4], \"d\": [2,2], \"r\": [16]}");
  dofa::LevelTable t = parse(json);
  ck_assert(t.levels[1].arch == dofa::Arch::from_text(kLargeArch));
  // The written "ofa" member must agree with "arch".
  std::string clash = edited(kTableJson, "\"arch\": \"r16-d22-k55.55-e44.44\"",
                             "\"arch\": \"r16-d22-k55.55-e44.44\", "
                             "\"ofa\": {\"ks\": [5,5,5,5], \"e\": [4,4,4,4], \"d\": [2,2], \"r\": [8]}");
  DOFA_ASSERT_ERROR(parse(clash), "t.json", "levels[1].ofa", "level 1", "disagrees");
}
END_TEST

START_TEST(test_levels_keep_file_order) {
  // Slowest first is allowed; nothing is reordered.
  std::string json = edited(edited(kTableJson, "r8-d11-k33.33-e22.22", "SWAP"), "r16-d22-k55.55-e44.44",
                            "r8-d11-k33.33-e22.22");
  json = edited(json, "SWAP", "r16-d22-k55.55-e44.44");
  dofa::LevelTable t = parse(json);
  ck_assert(t.levels[0].arch == dofa::Arch::from_text(kLargeArch));
  ck_assert(t.levels[1].arch == dofa::Arch::from_text(kSmallArch));
}
END_TEST

START_TEST(test_malformed_json) {
  DOFA_ASSERT_ERROR(parse("{\"schema\": 1, \"levels\": ["), "t.json", "malformed JSON");
  std::string path = dofa_test::write_temp("broken.json", "{ not json");
  DOFA_ASSERT_ERROR(dofa::LevelTable::load(path, tiny()), "broken.json", "malformed JSON");
}
END_TEST

START_TEST(test_missing_fields) {
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"mflops\": 0.2, ", "")), "t.json", "levels[1].mflops", "missing");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"date\": \"2024-01-01\", ", "")), "provenance.date", "missing");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"bn_file\": \"tiny-bn.pt\",", "")), "bn_file", "missing");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"top1_val\": 84.5,", "")), "levels[1].top1_val", "missing");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"p90\": 3.0", "\"p99\": 3.0")), "levels[1].latency_ms.p90");
}
END_TEST

START_TEST(test_wrong_types_and_values) {
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"threads\": 1", "\"threads\": \"one\"")), "provenance.threads",
                    "expected an integer");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"params\": 20000", "\"params\": 2.5")), "levels[1].params",
                    "integer");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"top1_test\": 85.0", "\"top1_test\": 850")), "levels[1].top1_test",
                    "percentage");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"schema\": 1", "\"schema\": 2")), "schema", "unsupported schema 2");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"source\": \"measured\"", "\"source\": \"guessed\"")), "source",
                    "guessed");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"model\": \"tiny\"", "\"model\": \"other\"")), "model", "other",
                    "tiny");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"weights_sha256\": \"aaaa", "\"weights_sha256\": \"AAAA")),
                    "provenance.weights_sha256", "hex");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"levels\": [", "\"levels\": [], \"x\": [")), "levels",
                    "at least one level");
}
END_TEST

START_TEST(test_null_weights_only_when_published) {
  std::string null_sha = edited(kTableJson, "\"" + kShaA + "\"", "null");
  DOFA_ASSERT_ERROR(parse(null_sha), "provenance.weights_sha256", "published");
  dofa::LevelTable t = parse(edited(null_sha, "\"source\": \"measured\"", "\"source\": \"published\""));
  ck_assert(t.provenance.weights_sha256.empty());
  t.check_weights(kShaB);  // nothing to compare against
  // Written back as null.
  ck_assert(t.to_json().find(kShaA) == std::string::npos);
  ck_assert(dofa::LevelTable::parse(t.to_json(), "again.json", tiny()).provenance.weights_sha256.empty());
}
END_TEST

START_TEST(test_invalid_arch) {
  // Kernel 4 is not an elastic choice of the spec.
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "r16-d22-k55.55-e44.44", "r16-d22-k55.45-e44.44")), "t.json",
                    "levels[1].arch", "level 1", "kernel size 4");
  // Resolution outside the spec.
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "r8-d11-k33.33-e22.22", "r224-d11-k33.33-e22.22")),
                    "levels[0].arch", "level 0", "resolution 224");
  // Wrong number of blocks (an arch of another supernet).
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "r8-d11-k33.33-e22.22", "r8-d111-k333.333-e222.222")), "level 0",
                    "entries");
  // Not an arch at all.
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "r8-d11-k33.33-e22.22", "fast")), "level 0", "fast");
  DOFA_ASSERT_ERROR(parse(edited(kTableJson, "\"arch\": \"r8-d11-k33.33-e22.22\"", "\"arch\": 3")),
                    "levels[0].arch", "expected an arch");
}
END_TEST

START_TEST(test_check_weights) {
  dofa::LevelTable t = parse(kTableJson);
  t.check_weights(kShaA);
  DOFA_ASSERT_ERROR(t.check_weights(kShaB), "t.json", kShaA.c_str(), kShaB.c_str());
}
END_TEST

START_TEST(test_sha256_file) {
  std::string path = dofa_test::write_temp("abc.bin", "abc");
  // FIPS 180-2, appendix B.1.
  const std::string sum = dofa::sha256_file(path);
  ck_assert_str_eq(sum.c_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  DOFA_ASSERT_ERROR(dofa::sha256_file("/nonexistent/weights.pt"), "/nonexistent/weights.pt");
}
END_TEST

START_TEST(test_bn_path) {
  dofa::LevelTable t = parse(kTableJson);
  t.path = "/data/luts/tiny-cpu.json";
  ck_assert(t.bn_path() == "/data/luts/tiny-bn.pt");
  t.bn_file = "/abs/bn.pt";
  ck_assert(t.bn_path() == "/abs/bn.pt");
  t.bn_file = "";
  ck_assert(t.bn_path().empty());
}
END_TEST

START_TEST(test_bn_round_trip) {
  dofa::Spec s = tiny();
  dofa::LevelTable t = sample_table(s);
  std::vector<dofa::BnStats> stats = sample_stats(s, t);
  std::string path = save_with_bn(s, t, stats);
  dofa::LevelTable u = dofa::LevelTable::load(path, s);
  std::vector<dofa::BnStats> back = dofa::load_level_bn(u, s);
  ck_assert_int_eq(back.size(), 2);
  for (size_t li = 0; li < 2; ++li) {
    ck_assert_int_eq(back[li].size(), stats[li].size());
    for (const auto& [name, tensor] : stats[li]) {
      auto it = back[li].find(name);
      ck_assert_msg(it != back[li].end(), "level %zu lacks %s", li, name.c_str());
      ck_assert(at::equal(it->second, tensor));
    }
  }
  // Level 1 (the larger arch) has more BN layers than level 0: inverted bottlenecks of depth 2.
  ck_assert(back[1].size() > back[0].size());
}
END_TEST

START_TEST(test_no_bn_file) {
  dofa::Spec s = tiny();
  dofa::LevelTable t = sample_table(s);
  t.bn_file = "";
  ck_assert(dofa::load_level_bn(t, s).empty());
  ck_assert(t.to_json().find("\"bn_file\" : null") != std::string::npos ||
            t.to_json().find("\"bn_file\": null") != std::string::npos);
}
END_TEST

START_TEST(test_bn_missing_file) {
  dofa::Spec s = tiny();
  dofa::LevelTable t = sample_table(s);
  std::string path = dofa_test::temp_dir() + "/tiny-cpu.json";
  t.save(path);
  dofa::LevelTable u = dofa::LevelTable::load(path, s);
  DOFA_ASSERT_ERROR(dofa::load_level_bn(u, s), "tiny-cpu.json", "tiny-bn.pt", "not found");
}
END_TEST

START_TEST(test_bn_wrong_shape) {
  dofa::Spec s = tiny();
  dofa::LevelTable t = sample_table(s);
  std::vector<dofa::BnStats> stats = sample_stats(s, t);
  stats[1]["final_expand_layer.bn.running_var"] = at::ones({7}, at::kFloat);
  std::string path = save_with_bn(s, t, stats);
  DOFA_ASSERT_ERROR(dofa::load_level_bn(dofa::LevelTable::load(path, s), s), "tiny-bn.pt", "level 1",
                    "final_expand_layer.bn.running_var", "[7]", "expected [32]");
}
END_TEST

START_TEST(test_bn_missing_entry) {
  dofa::Spec s = tiny();
  dofa::LevelTable t = sample_table(s);
  std::vector<dofa::BnStats> stats = sample_stats(s, t);
  stats[0].erase("first_conv.bn.running_mean");
  std::string path = save_with_bn(s, t, stats);
  DOFA_ASSERT_ERROR(dofa::load_level_bn(dofa::LevelTable::load(path, s), s), "level 0", "missing",
                    "first_conv.bn.running_mean");
}
END_TEST

START_TEST(test_bn_unknown_entries) {
  dofa::Spec s = tiny();
  dofa::LevelTable t = sample_table(s);
  // Statistics for a third level the table does not have.
  std::vector<dofa::BnStats> stats = sample_stats(s, t);
  stats.push_back(stats[0]);
  std::string path = save_with_bn(s, t, stats);
  DOFA_ASSERT_ERROR(dofa::load_level_bn(dofa::LevelTable::load(path, s), s), "level 2", "2 levels");
  // A BN layer the level's arch does not use: block 2 is inactive at depth 1.
  stats = sample_stats(s, t);
  const std::string inactive = dofa::block_keys(s.elastic_block(0, 1)).dw_bn + ".running_mean";
  stats[0][inactive] = at::zeros({16}, at::kFloat);
  path = save_with_bn(s, t, stats);
  DOFA_ASSERT_ERROR(dofa::load_level_bn(dofa::LevelTable::load(path, s), s), "level 0", inactive.c_str());
}
END_TEST

int main() {
  Suite* s = suite_create("level_table");
  TCase* table = tcase_create("table");
  tcase_add_test(table, test_round_trip);
  tcase_add_test(table, test_text_form_parses);
  tcase_add_test(table, test_ofa_form_arch);
  tcase_add_test(table, test_levels_keep_file_order);
  tcase_add_test(table, test_malformed_json);
  tcase_add_test(table, test_missing_fields);
  tcase_add_test(table, test_wrong_types_and_values);
  tcase_add_test(table, test_null_weights_only_when_published);
  tcase_add_test(table, test_invalid_arch);
  tcase_add_test(table, test_check_weights);
  tcase_add_test(table, test_sha256_file);
  tcase_add_test(table, test_bn_path);
  suite_add_tcase(s, table);
  TCase* bn = tcase_create("bn");
  tcase_add_test(bn, test_bn_round_trip);
  tcase_add_test(bn, test_no_bn_file);
  tcase_add_test(bn, test_bn_missing_file);
  tcase_add_test(bn, test_bn_wrong_shape);
  tcase_add_test(bn, test_bn_missing_entry);
  tcase_add_test(bn, test_bn_unknown_entries);
  suite_add_tcase(s, bn);
  return dofa_test::run_suite(s);
}
