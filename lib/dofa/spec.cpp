#include "spec.h"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "dofa_config.h"
#include "error.h"
#include "json_reader.h"
#include "random_form.h"

namespace dofa {

const char* act_name(Act a) {
  switch (a) {
    case Act::Relu: return "relu";
    case Act::HSwish: return "h_swish";
    case Act::HSigmoid: return "h_sigmoid";
    case Act::None: return "none";
  }
  return "?";
}

int make_divisible(double v, int divisor) {
  int new_v = std::max(divisor, int(v + divisor / 2.0) / divisor * divisor);
  if (new_v < 0.9 * v) new_v += divisor;
  return new_v;
}

namespace {

Act parse_act(const JsonValue& v) {
  std::string s = v.as_string();
  if (s == "relu") return Act::Relu;
  if (s == "h_swish") return Act::HSwish;
  if (s == "h_sigmoid") return Act::HSigmoid;
  if (s == "none") return Act::None;
  v.fail("unknown activation '" + s + "', expected relu, h_swish, h_sigmoid or none");
}

int positive(const JsonValue& v) {
  int x = v.as_int();
  if (x <= 0) v.fail("expected a positive integer, got " + std::to_string(x));
  return x;
}

int stride_of(const JsonValue& v) {
  int x = v.as_int();
  if (x != 1 && x != 2) v.fail("expected stride 1 or 2, got " + std::to_string(x));
  return x;
}

std::vector<int> choice_list(const JsonValue& v, bool odd) {
  std::vector<int> xs = v.as_int_list();
  if (xs.empty()) v.fail("expected a non-empty list");
  for (size_t i = 0; i < xs.size(); ++i) {
    if (xs[i] <= 0) v.at(i).fail("expected a positive integer, got " + std::to_string(xs[i]));
    if (odd && xs[i] % 2 == 0) v.at(i).fail("expected an odd kernel size, got " + std::to_string(xs[i]));
    if (i && xs[i] <= xs[i - 1]) v.fail("expected values in ascending order without repeats");
  }
  return xs;
}

std::string dirname_of(const std::string& path) {
  gchar* d = g_path_get_dirname(path.c_str());
  std::string s = d;
  g_free(d);
  return s;
}

std::string resolve(const std::string& base_file, const std::string& rel) {
  if (rel.empty() || g_path_is_absolute(rel.c_str()) || base_file.empty()) return rel;
  return dirname_of(base_file) + "/" + rel;
}

}  // namespace

Spec Spec::parse(const std::string& json, const std::string& origin) {
  JsonValue root = JsonValue::parse(json, origin);
  if (!root.is_object()) root.fail("expected a JSON object");
  Spec s;
  s.path = origin;
  s.schema = root["schema"].as_int();
  if (s.schema != 1) root["schema"].fail("unsupported schema " + std::to_string(s.schema) + ", expected 1");
  s.name = root["name"].as_string();
  s.description = root.get("description", "");

  JsonValue in = root["input"];
  s.in_channels = positive(in["channels"]);
  for (double m : in["mean"].as_double_list()) s.mean.push_back(float(m));
  for (double d : in["std"].as_double_list()) s.std.push_back(float(d));
  if (int(s.mean.size()) != s.in_channels) in["mean"].fail("expected one value per input channel");
  if (int(s.std.size()) != s.in_channels) in["std"].fail("expected one value per input channel");
  for (size_t i = 0; i < s.std.size(); ++i)
    if (!(s.std[i] > 0)) in["std"].at(i).fail("expected a positive standard deviation");

  JsonValue pre = root["preprocess"];
  s.eval_crop = pre["eval_crop"].as_double();
  if (!(s.eval_crop > 0 && s.eval_crop <= 1)) pre["eval_crop"].fail("expected a fraction in (0, 1]");
  if (pre.has("train")) {
    JsonValue t = pre["train"];
    if (t.has("scale")) {
      auto sc = t["scale"].as_double_list();
      if (sc.size() != 2 || !(sc[0] > 0 && sc[0] <= sc[1] && sc[1] <= 1))
        t["scale"].fail("expected [min, max] with 0 < min <= max <= 1");
      s.train_scale_min = sc[0];
      s.train_scale_max = sc[1];
    }
    s.train_pad = t.get("pad", 0);
    if (s.train_pad < 0) t["pad"].fail("expected a non-negative integer");
    s.train_flip = t.get("flip", true);
    s.train_brightness = t.get("brightness", 0.0);
    s.train_saturation = t.get("saturation", 0.0);
  }

  JsonValue fc = root["first_conv"];
  s.first_conv = {positive(fc["width"]), positive(fc["kernel"]), stride_of(fc["stride"]), parse_act(fc["act"])};
  JsonValue fb = root["first_block"];
  s.first_block = {positive(fb["width"]), stride_of(fb["stride"]), parse_act(fb["act"]), fb.get("se", false)};
  s.first_block_kernel = positive(fb["kernel"]);

  JsonValue st = root["stages"];
  if (st.size() == 0) st.fail("expected at least one stage");
  for (size_t i = 0; i < st.size(); ++i) {
    JsonValue g = st.at(i);
    s.stages.push_back({positive(g["width"]), stride_of(g["stride"]), parse_act(g["act"]), g["se"].as_bool()});
  }
  JsonValue fe = root["final_expand"];
  s.final_expand = {positive(fe["width"]), 1, 1, parse_act(fe["act"])};
  JsonValue fm = root["feature_mix"];
  s.feature_mix = {positive(fm["width"]), 1, 1, parse_act(fm["act"])};
  JsonValue cl = root["classifier"];
  s.classes = positive(cl["classes"]);
  s.dropout = cl.get("dropout", 0.0);

  JsonValue el = root["elastic"];
  s.kernel_sizes = choice_list(el["kernel_sizes"], true);
  s.expand_ratios = choice_list(el["expand_ratios"], false);
  s.depths = choice_list(el["depths"], false);
  s.resolutions = choice_list(el["resolutions"], false);

  if (root.has("bn")) {
    s.bn_momentum = root["bn"].get("momentum", 0.1);
    s.bn_eps = root["bn"].get("eps", 1e-5);
    if (!(s.bn_eps > 0)) root["bn"]["eps"].fail("expected a positive number");
  }

  if (root.has("labels") && !root["labels"].is_null()) {
    JsonValue lv = root["labels"];
    if (lv.is_array()) {
      s.labels = lv.as_string_list();
    } else {
      std::string file = resolve(origin, lv.as_string());
      std::istringstream in_labels(read_file(file));
      for (std::string line; std::getline(in_labels, line);)
        if (!line.empty()) s.labels.push_back(line);
    }
    if (int(s.labels.size()) != s.classes)
      lv.fail("expected " + std::to_string(s.classes) + " labels, got " + std::to_string(s.labels.size()));
  } else {
    for (int i = 0; i < s.classes; ++i) s.labels.push_back("class " + std::to_string(i));
  }
  if (root.has("weights") && !root["weights"].is_null()) {
    const JsonValue field = root["weights"];
    const std::string w = field.as_string();
    uint64_t seed = 0;
    bool random = false;
    try {
      random = parse_random_form(w, "weights", &seed);  // seeded random weights, not a file
    } catch (const Error& e) {
      field.fail(e.what());
    }
    s.weights = random ? w : resolve(origin, w);
  }
  s.derive();
  return s;
}

Spec Spec::load(const std::string& path) { return parse(read_file(path), path); }

void Spec::derive() {
  blocks.clear();
  SuperBlock first;
  first.index = 0;
  first.in = first_conv.width;
  first.out = first_block.width;
  first.stride = first_block.stride;
  first.max_mid = first.in;
  first.kernel = first_block_kernel;
  first.act = first_block.act;
  first.se = first_block.se;
  first.residual = first.stride == 1 && first.in == first.out;
  blocks.push_back(first);
  int in = first.out;
  const int max_e = expand_ratios.back();
  for (size_t s = 0; s < stages.size(); ++s) {
    for (int p = 0; p < max_depth(); ++p) {
      SuperBlock b;
      b.index = int(blocks.size());
      b.stage = int(s);
      b.pos = p;
      b.in = in;
      b.out = stages[s].width;
      b.stride = p == 0 ? stages[s].stride : 1;
      // ofa-facts §1.4: max_mid = make_divisible(round(max_in * max_e), 8).
      b.max_mid = make_divisible(std::nearbyint(double(b.in) * max_e));
      b.act = stages[s].act;
      b.se = stages[s].se;
      b.residual = b.stride == 1 && b.in == b.out;
      blocks.push_back(b);
      in = b.out;
    }
  }
}

std::vector<std::string> data_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("DOFA_DATA_PATH")) {
    gchar** parts = g_strsplit(env, ":", -1);
    for (gchar** p = parts; *p; ++p)
      if (**p) dirs.emplace_back(*p);
    g_strfreev(parts);
  }
  // Uninstalled: the source tree the binary was built from.
  if (g_file_test(DOFA_SOURCE_DIR "/models", G_FILE_TEST_IS_DIR)) dirs.emplace_back(DOFA_SOURCE_DIR);
  dirs.emplace_back(DOFA_DATADIR);
  // Each folder once: DOFA_DATA_PATH often names the source tree too.
  std::vector<std::string> unique;
  for (const auto& d : dirs)
    if (std::find(unique.begin(), unique.end(), d) == unique.end()) unique.push_back(d);
  return unique;
}

std::string Spec::find(const std::string& name_or_path) {
  if (g_file_test(name_or_path.c_str(), G_FILE_TEST_IS_REGULAR)) return name_or_path;
  bool looks_like_path = name_or_path.find('/') != std::string::npos ||
                         g_str_has_suffix(name_or_path.c_str(), ".json");
  if (looks_like_path) throw Error(name_or_path + ": no such spec file");
  std::string tried;
  for (const auto& d : data_path()) {
    std::string p = d + "/models/" + name_or_path + ".json";
    if (g_file_test(p.c_str(), G_FILE_TEST_IS_REGULAR)) return p;
    tried += (tried.empty() ? "" : ", ") + p;
  }
  throw Error("model '" + name_or_path + "' not found (looked for " + tried + ")");
}

}  // namespace dofa
