// Tensor files: the zip format (written by C++ and by Python) and the legacy
// torch.save format of the published OFA checkpoints. The Python-written
// fixtures come from tests/fixtures/ofa_ref.py (python3-torch) at start-up.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <glib.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "dofa/error.h"
#include "dofa/json_reader.h"
#include "dofa/legacy_unpickler.h"
#include "dofa/torchfile.h"
#include "test_util.h"

namespace {

const char* kPython = "/usr/bin/python3";
std::string g_fixtures;  // directory written by `ofa_ref.py legacy-fixtures`

std::string fx(const std::string& name) { return g_fixtures + "/" + name; }

// Runs ofa_ref.py with the given arguments; false (with the reason in err) on failure.
bool spawn_reference(const std::vector<std::string>& args, std::string& out, std::string& err) {
  std::vector<std::string> all = {kPython, dofa_test::fixtures() + "/ofa_ref.py"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  gchar *o = nullptr, *e = nullptr;
  gint status = 0;
  GError* error = nullptr;
  gboolean ok = g_spawn_sync(nullptr, argv.data(), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &o, &e,
                             &status, &error);
  out = o ? o : "";
  err = e ? e : "";
  g_free(o);
  g_free(e);
  if (!ok) {
    err = std::string("cannot run ") + kPython + ": " + error->message;
    g_error_free(error);
    return false;
  }
  return g_spawn_check_wait_status(status, nullptr);
}

std::string run_reference(const std::vector<std::string>& args) {
  std::string out, err;
  ck_assert_msg(spawn_reference(args, out, err), "ofa_ref.py %s failed: %s", args[0].c_str(), err.c_str());
  return out;
}

// A byte string literal that may hold NULs.
template <size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

at::Tensor floats(std::vector<float> v, std::vector<int64_t> shape) {
  return at::tensor(v, at::kFloat).reshape(shape);
}

void assert_same(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ck_assert_msg(got.scalar_type() == want.scalar_type(), "%s: dtype %s, expected %s", what.c_str(),
                c10::toString(got.scalar_type()), c10::toString(want.scalar_type()));
  ck_assert_msg(got.sizes() == want.sizes(), "%s: shape differs", what.c_str());
  ck_assert_msg(at::equal(got, want), "%s: values differ", what.c_str());
}

std::string file_bytes(const std::string& path) {
  gchar* data = nullptr;
  gsize len = 0;
  ck_assert(g_file_get_contents(path.c_str(), &data, &len, nullptr));
  std::string s(data, len);
  g_free(data);
  return s;
}

dofa::TensorMap sample_tensors() {
  dofa::TensorMap m;
  m["f32"] = floats({1.5f, -2.25f, 3e-8f, 1e30f, 0.f, -0.f}, {2, 3});
  m["f64"] = at::tensor(std::vector<double>{0.1, -1e300, 3.0}, at::kDouble);
  m["i64"] = at::tensor(std::vector<int64_t>{-5, 1LL << 40, 9}, at::kLong);
  m["i32"] = at::tensor(std::vector<int32_t>{7, -8}, at::kInt);
  m["u8"] = at::tensor(std::vector<uint8_t>{0, 255}, at::kByte);
  m["bool"] = at::tensor(std::vector<uint8_t>{1, 0, 1}, at::kByte).to(at::kBool);
  m["f16"] = floats({0.5f, 2.f}, {2}).to(at::kHalf);
  m["scalar"] = at::scalar_tensor(12345, at::kLong);
  m["view.t"] = at::arange(12, at::kFloat).reshape({3, 4}).t();  // non-contiguous
  m["empty"] = at::zeros({0, 3});
  m["blocks.5.mobile_inverted_conv.depth_conv.conv.7to5_matrix"] = at::eye(25);
  return m;
}

START_TEST(zip_round_trip) {
  dofa::TensorMap in = sample_tensors();
  std::string dir = dofa_test::temp_dir();
  std::string path = dir + "/w.pt";
  dofa::save_tensors(path, in);
  ck_assert(!dofa::is_legacy_torch_file(path));
  dofa::TensorMap out = dofa::load_tensors(path);
  ck_assert_int_eq(out.size(), in.size());
  for (const auto& [k, t] : in) {
    ck_assert_msg(out.count(k), "key %s lost", k.c_str());
    assert_same(out[k], t, k);
  }
  // Overwriting goes through a temporary file and leaves nothing else behind.
  dofa::save_tensors(path, {{"only", at::ones({2})}});
  out = dofa::load_tensors(path);
  ck_assert_int_eq(out.size(), 1);  // a one-entry dict written by C++ reads back
  assert_same(out["only"], at::ones({2}), "only");
  dofa::save_tensors(path, {});
  ck_assert_int_eq(dofa::load_tensors(path).size(), 0);
  GDir* d = g_dir_open(dir.c_str(), 0, nullptr);
  int n = 0;
  while (g_dir_read_name(d)) ++n;
  g_dir_close(d);
  ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(zip_single_tensor) {
  std::string path = dofa_test::temp_dir() + "/t.pt";
  at::Tensor t;
  {
    c10::InferenceMode guard;  // dofa infer writes logits made under InferenceMode
    t = at::linspace(-1, 1, 10).reshape({2, 5});
  }
  dofa::save_tensor(path, t);
  assert_same(dofa::load_tensor(path), t, "tensor");
  DOFA_ASSERT_ERROR(dofa::load_tensors(path), path.c_str(), "expected a dict");
  std::string maps = dofa_test::temp_dir() + "/m.pt";
  dofa::save_tensors(maps, {{"a", t}, {"b", t}});
  DOFA_ASSERT_ERROR(dofa::load_tensor(maps), maps.c_str(), "expected a tensor");
}
END_TEST

START_TEST(write_errors) {
  std::string path = dofa_test::temp_dir() + "/no/such/dir/w.pt";
  DOFA_ASSERT_ERROR(dofa::save_tensors(path, sample_tensors()), path.c_str(), "cannot write");
  DOFA_ASSERT_ERROR(dofa::save_tensor(path, at::ones({1})), path.c_str(), "cannot write");
  DOFA_ASSERT_ERROR(dofa::load_tensors(path), path.c_str(), "cannot read");
  std::string junk = dofa_test::write_temp("junk.pt", "not a tensor file at all");
  DOFA_ASSERT_ERROR(dofa::load_tensors(junk), junk.c_str(), "not a torch file");
  DOFA_ASSERT_ERROR(dofa::load_tensor(junk), junk.c_str(), "not a torch file");
  DOFA_ASSERT_ERROR(dofa::read_legacy_checkpoint(junk), junk.c_str(), "bad magic");
  ck_assert(!dofa::is_legacy_torch_file(junk));
}
END_TEST

START_TEST(python_reads_cpp_files) {
  std::string dir = dofa_test::temp_dir();
  dofa::save_tensors(dir + "/w.pt", sample_tensors());
  dofa::JsonValue j = dofa::JsonValue::parse(run_reference({"describe", dir + "/w.pt"}), "describe w.pt");
  ck_assert_int_eq(j.keys().size(), sample_tensors().size());
  ck_assert_str_eq(j["f32"]["dtype"].as_string().c_str(), "float32");
  ck_assert(j["f32"]["shape"].as_int_list() == std::vector<int>({2, 3}));
  ck_assert(j["f32"]["values"].at(1).as_double() == -2.25);
  ck_assert_str_eq(j["i64"]["dtype"].as_string().c_str(), "int64");
  ck_assert(j["i64"]["values"].at(1).as_int64() == (1LL << 40));
  ck_assert_str_eq(j["f16"]["dtype"].as_string().c_str(), "float16");
  ck_assert_str_eq(j["bool"]["dtype"].as_string().c_str(), "bool");
  ck_assert(j["view.t"]["values"].as_double_list() ==
            std::vector<double>({0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  ck_assert(j["scalar"]["shape"].as_int_list().empty());

  dofa::save_tensor(dir + "/t.pt", floats({1, 2, 3, 4}, {2, 2}));
  j = dofa::JsonValue::parse(run_reference({"describe", dir + "/t.pt"}), "describe t.pt");
  ck_assert(j[""]["shape"].as_int_list() == std::vector<int>({2, 2}));
  ck_assert(j[""]["values"].as_double_list() == std::vector<double>({1, 2, 3, 4}));
}
END_TEST

START_TEST(python_zip_files) {
  dofa::TensorMap m = dofa::load_tensors(fx("zip_dict.pt"));
  ck_assert_int_eq(m.size(), 3);
  assert_same(m["a"], at::arange(4, at::kInt), "a");
  assert_same(m["b"], at::arange(6, at::kFloat).reshape({3, 2}), "b");
  assert_same(m["c"], floats({5, 6, 9, 10}, {2, 2}), "c");
  assert_same(dofa::load_tensor(fx("zip_tensor.pt")), at::arange(6, at::kFloat).reshape({2, 3}) * 0.5, "tensor");
  // {"state_dict": dict, "epoch": 3} -> the state dict
  m = dofa::load_tensors(fx("zip_checkpoint.pt"));
  ck_assert(m.count("shared.window") && m.count("1.num_batches_tracked"));
  assert_same(m["shared.window"], floats({5, 6, 9, 10}, {2, 2}), "shared.window");
  // The two gaps of LibTorch 1.13 get a clear message.
  const std::string one = fx("zip_one_entry.pt"), ordered = fx("zip_ordered_dict.pt");
  DOFA_ASSERT_ERROR(dofa::load_tensors(one), one.c_str(), "one-entry dict");
  DOFA_ASSERT_ERROR(dofa::load_tensors(ordered), ordered.c_str(), "OrderedDict");
  ck_assert(!dofa::is_legacy_torch_file(fx("zip_dict.pt")));
}
END_TEST

// The tensors of ofa_ref.py's checkpoint_state_dict().
void check_fixture_state_dict(const dofa::TensorMap& m, const std::string& what) {
  ck_assert_msg(m.size() == 7 + 5 + 30, "%s: %zu tensors", what.c_str(), m.size());
  assert_same(m.at("0.weight"), at::arange(108, at::kFloat).reshape({4, 3, 3, 3}) / 100, what + " 0.weight");
  assert_same(m.at("1.num_batches_tracked"), at::scalar_tensor(7, at::kLong), what + " num_batches_tracked");
  ck_assert(m.at("1.running_var").sizes() == at::IntArrayRef({4}));
  at::Tensor base = at::arange(12, at::kFloat).reshape({3, 4});
  assert_same(m.at("shared.base"), base, what + " shared.base");
  assert_same(m.at("shared.window"), floats({5, 6, 9, 10}, {2, 2}), what + " shared.window");
  assert_same(m.at("shared.transposed"), base.t(), what + " shared.transposed");
  assert_same(m.at("long.values"), at::arange(5, at::kLong) * int64_t(1000000000000) - 2, what + " long.values");
  assert_same(m.at("big"), at::arange(70000, at::kFloat), what + " big");
  for (int i = 0; i < 30; ++i)
    assert_same(m.at("many." + std::to_string(i)), at::full({2}, float(i)), what + " many");
}

START_TEST(legacy_checkpoint) {
  for (const char* name : {"legacy_checkpoint.pt", "legacy_checkpoint_proto4.pt"}) {
    ck_assert(dofa::is_legacy_torch_file(fx(name)));
    dofa::LegacyCheckpoint ck = dofa::read_legacy_checkpoint(fx(name));
    check_fixture_state_dict(ck.tensors, name);
    ck_assert(ck.skipped == std::vector<std::string>({"epoch", "optimizer"}));
    check_fixture_state_dict(dofa::load_tensors(fx(name)), name);
  }
  // A bare OrderedDict (model.state_dict()) saved directly.
  dofa::LegacyCheckpoint sd = dofa::read_legacy_checkpoint(fx("legacy_state_dict.pt"));
  check_fixture_state_dict(sd.tensors, "legacy_state_dict.pt");
  ck_assert(sd.skipped.empty());
  assert_same(dofa::load_tensor(fx("legacy_tensor.pt")), at::arange(6, at::kFloat).reshape({2, 3}), "tensor");
}
END_TEST

START_TEST(legacy_values) {
  // Skipped entries are still parsed faithfully.
  dofa::LegacyValuePtr top = dofa::parse_legacy_torch(file_bytes(fx("legacy_checkpoint.pt")), "ck");
  ck_assert_int_eq(top->find("epoch")->integer, 3);
  const dofa::LegacyValue* opt = top->find("optimizer");
  ck_assert(opt && opt->kind == dofa::LegacyValue::Kind::Dict);
  const dofa::LegacyValue& group = *opt->find("param_groups")->items.at(0);
  ck_assert(group.find("lr")->real == 0.1);
  ck_assert(group.find("weight_decay")->real == -3e-5);
  ck_assert(group.find("big")->integer == (1LL << 40));
  ck_assert(group.find("neg")->integer == -70000);
  ck_assert(group.find("nesterov")->kind == dofa::LegacyValue::Kind::Bool && !group.find("nesterov")->boolean);
  ck_assert(group.find("none")->kind == dofa::LegacyValue::Kind::None);
  ck_assert(group.find("betas")->kind == dofa::LegacyValue::Kind::Tuple);
  const dofa::LegacyValue& state = *opt->find("state");
  ck_assert(state.entries.at(0).first->integer == 0);  // int keys
  assert_same(state.entries.at(0).second->find("momentum_buffer")->tensor, at::ones({3}), "momentum_buffer");
}
END_TEST

START_TEST(legacy_refused) {
  struct Case {
    const char* file;
    std::vector<const char*> fragments;
  };
  std::vector<Case> cases = {
      {"legacy_class.pt", {"refused global", "__main__.Opaque"}},
      {"legacy_double.pt", {"DoubleStorage"}},
      {"legacy_half.pt", {"HalfStorage"}},
      {"legacy_truncated_data.pt", {"truncated"}},
      {"legacy_truncated_pickle.pt", {"truncated"}},
      {"legacy_bad_magic.pt", {"bad magic"}},
      {"legacy_big_endian.pt", {"big-endian"}},
      {"legacy_not_tensor.pt", {"state_dict['b']", "expected a tensor"}},
      {"legacy_list.pt", {"list", "expected a dict"}},
  };
  if (dofa_test::file_exists(fx("legacy_numpy.pt"))) cases.push_back({"legacy_numpy.pt", {"refused global", "numpy"}});
  for (const auto& c : cases) {
    std::string path = fx(c.file);
    bool thrown = false;
    try {
      dofa::read_legacy_checkpoint(path);
    } catch (const dofa::Error& e) {
      thrown = true;
      std::string msg = e.what();
      ck_assert_msg(msg.find(path) != std::string::npos, "%s: error '%s' lacks the file", c.file, e.what());
      for (const char* f : c.fragments)
        ck_assert_msg(msg.find(f) != std::string::npos, "%s: error '%s' lacks '%s'", c.file, e.what(), f);
    }
    ck_assert_msg(thrown, "%s was accepted", c.file);
    // load_tensors detects the format and refuses the same way.
    DOFA_ASSERT_ERROR(dofa::load_tensors(path), path.c_str());
  }
}
END_TEST

// A legacy file built by hand: header pickles, one object pickle, the storage
// key list and the storage data.
std::string legacy_file(const std::string& object_pickle, const std::string& keys_pickle, const std::string& data) {
  std::string magic = bytes("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.");
  std::string version = bytes("\x80\x02M\xe9\x03.");
  std::string sys_info = bytes("\x80\x02}(X\x0d\x00\x00\x00little_endian\x88u.");
  return magic + version + sys_info + object_pickle + keys_pickle + data;
}

// _rebuild_tensor_v2 of FloatStorage '0' (6 floats) at offset 0 with the given size/stride pickle.
std::string tensor_pickle(const std::string& size_stride) {
  return bytes("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n"
               "((X\x07\x00\x00\x00storage" "ctorch\nFloatStorage\n"
               "X\x01\x00\x00\x00" "0" "X\x03\x00\x00\x00" "cpu" "K\x06Nt" "Q" "K\x00") +
         size_stride + bytes("\x89" "ccollections\nOrderedDict\n)R" "tR.");
}

std::string float_storage_data() {
  std::string d = bytes("\x06\x00\x00\x00\x00\x00\x00\x00");
  for (int i = 0; i < 6; ++i) {
    float f = float(i);
    d.append(reinterpret_cast<const char*>(&f), 4);
  }
  return d;
}

START_TEST(legacy_hand_made) {
  const std::string keys = bytes("\x80\x02](X\x01\x00\x00\x00" "0" "e.");
  // (2, 3) / (3, 1): the whole storage.
  std::string good = legacy_file(tensor_pickle(bytes("K\x02K\x03\x86K\x03K\x01\x86")), keys,
                                 float_storage_data());
  std::string path = dofa_test::write_temp("hand.pt", good);
  assert_same(dofa::load_tensor(path), at::arange(6, at::kFloat).reshape({2, 3}), "hand-made tensor");
  // (2, 4) / (4, 1) reaches past the 6 elements.
  std::string past = legacy_file(tensor_pickle(bytes("K\x02K\x04\x86K\x04K\x01\x86")), keys,
                                 float_storage_data());
  path = dofa_test::write_temp("past.pt", past);
  DOFA_ASSERT_ERROR(dofa::load_tensor(path), path.c_str(), "reach past");
  // Data for a storage no tensor declared the same way.
  std::string short_data = float_storage_data();
  short_data[0] = 5;
  path = dofa_test::write_temp("count.pt", legacy_file(tensor_pickle(bytes("K\x02K\x03\x86K\x03K\x01\x86")),
                                                         keys, short_data));
  DOFA_ASSERT_ERROR(dofa::load_tensor(path), path.c_str(), "storage '0'", "5 elements");
  // Trailing bytes after the last storage.
  path = dofa_test::write_temp("trailing.pt", good + "xx");
  DOFA_ASSERT_ERROR(dofa::load_tensor(path), path.c_str(), "unexpected bytes");
  // os.system("ls"): refused at the GLOBAL, nothing is called.
  std::string evil = bytes("\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00ls" "\x85R.");
  path = dofa_test::write_temp("evil.pt", legacy_file(evil, "\x80\x02]." , ""));
  DOFA_ASSERT_ERROR(dofa::read_legacy_checkpoint(path), path.c_str(), "refused global 'os.system'");
  // An unknown opcode (protocol 0 INT).
  path = dofa_test::write_temp("opcode.pt", legacy_file("\x80\x02I1\n.", "\x80\x02].", ""));
  DOFA_ASSERT_ERROR(dofa::read_legacy_checkpoint(path), path.c_str(), "unsupported pickle opcode 0x49");
}
END_TEST

Suite* torchfile_suite() {
  Suite* s = suite_create("torchfile");
  TCase* zip = tcase_create("zip");
  tcase_add_test(zip, zip_round_trip);
  tcase_add_test(zip, zip_single_tensor);
  tcase_add_test(zip, write_errors);
  tcase_add_test(zip, python_reads_cpp_files);
  tcase_add_test(zip, python_zip_files);
  suite_add_tcase(s, zip);
  TCase* legacy = tcase_create("legacy");
  tcase_add_test(legacy, legacy_checkpoint);
  tcase_add_test(legacy, legacy_values);
  tcase_add_test(legacy, legacy_refused);
  tcase_add_test(legacy, legacy_hand_made);
  suite_add_tcase(s, legacy);
  return s;
}

}  // namespace

int main() {
  if (!g_file_test(kPython, G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr("%s not found: the fixtures need python3-torch; skipping\n", kPython);
    return 77;
  }
  gchar* dir = g_dir_make_tmp("dofa-torchfile-XXXXXX", nullptr);  // not temp_dir(): no Check context yet
  if (!dir) {
    g_printerr("cannot make a temporary directory\n");
    return 1;
  }
  g_fixtures = dir;
  g_free(dir);
  std::string out, err;
  if (!spawn_reference({"legacy-fixtures", g_fixtures}, out, err)) {
    g_printerr("ofa_ref.py legacy-fixtures failed: %s\n", err.c_str());
    return 1;
  }
  return dofa_test::run_suite(torchfile_suite());
}
