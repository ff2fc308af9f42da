// Level table JSON ("schema": 1). Levels are kept in file order; the table
// says which is fastest, nothing here reorders them.
#include "level_table.h"

#include <ctime>

#include <glib.h>

#include <fstream>
#include <vector>

#include "error.h"
#include "json_reader.h"
#include "system_info.h"

namespace dofa {

namespace {

constexpr int kSchema = 1;

// A percentage, or -1 when the file holds null (not measured).
double percent_or_unmeasured(const JsonValue& v) {
  if (v.is_null()) return -1;
  double x = v.as_double();
  if (!(x >= 0 && x <= 100)) v.fail("expected a percentage between 0 and 100 or null, got " + std::to_string(x));
  return x;
}

double non_negative(const JsonValue& v) {
  double x = v.as_double();
  if (!(x >= 0)) v.fail("expected a non-negative number, got " + std::to_string(x));
  return x;
}

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Parses and validates one arch field; errors name the level and the problem.
Arch level_arch(const JsonValue& v, size_t level, const Spec& spec) {
  if (!v.is_string() && !v.is_object())
    v.fail("expected an arch in text form (r..-d..-k..-e..) or an OFA dict {\"ks\",\"e\",\"d\",\"r\"}");
  try {
    Arch a;
    a = v.is_string() ? Arch::from_text(v.as_string()) : Arch::from_ofa_json(v.text());
    a.validate(spec);
    return a;
  } catch (const Error& e) {
    v.fail("level " + std::to_string(level) + " has an invalid arch for model '" + spec.name + "': " + e.what());
  }
}

LevelEntry parse_level(const JsonValue& lv, size_t index, const Spec& spec) {
  if (!lv.is_object()) lv.fail("expected a level object");
  LevelEntry l;
  l.arch = level_arch(lv["arch"], index, spec);
  if (lv.has("ofa")) {  // written for readability; it must agree with "arch"
    Arch ofa = level_arch(lv["ofa"], index, spec);
    if (ofa != l.arch)
      lv["ofa"].fail("level " + std::to_string(index) + ": ofa form " + ofa.to_text() + " disagrees with arch " +
                     l.arch.to_text());
  }
  l.top1_test = percent_or_unmeasured(lv["top1_test"]);
  l.top1_val = percent_or_unmeasured(lv["top1_val"]);
  JsonValue lat = lv["latency_ms"];
  if (!lat.is_object()) lat.fail("expected an object {\"mean\", \"p90\"}");
  l.latency_mean_ms = non_negative(lat["mean"]);
  l.latency_p90_ms = non_negative(lat["p90"]);
  l.mflops = non_negative(lv["mflops"]);
  l.params = lv["params"].as_int64();
  if (l.params < 0) lv["params"].fail("expected a non-negative integer");
  return l;
}

Provenance parse_provenance(const JsonValue& p, const std::string& source) {
  if (!p.is_object()) p.fail("expected an object");
  Provenance out;
  JsonValue sha = p["weights_sha256"];
  if (sha.is_null()) {
    if (source != "published")
      sha.fail("null is allowed only for a table with source \"published\"; a measured table names its weights");
  } else {
    out.weights_sha256 = sha.as_string();
    if (!is_sha256_hex(out.weights_sha256))
      sha.fail("expected 64 lower-case hex digits, got '" + out.weights_sha256 + "'");
  }
  out.libtorch = p["libtorch"].as_string();
  out.device = p["device"].as_string();
  out.threads = p["threads"].as_int();
  if (out.threads < 1) p["threads"].fail("expected a positive integer");
  out.blas = p["blas"].as_string();
  out.date = p["date"].as_string();
  out.data = p["data"].as_string();
  return out;
}

void write_percent(JsonWriter& w, const char* key, double v) {
  w.key(key);
  if (v < 0)
    w.null();
  else
    w.value(v);
}

}  // namespace

LevelTable LevelTable::parse(const std::string& json, const std::string& origin, const Spec& spec) {
  JsonValue root = JsonValue::parse(json, origin);
  if (!root.is_object()) root.fail("expected a level table object");
  LevelTable t;
  t.path = origin;
  t.schema = root["schema"].as_int();
  if (t.schema != kSchema)
    root["schema"].fail("unsupported schema " + std::to_string(t.schema) + ", expected " + std::to_string(kSchema));
  t.model = root["model"].as_string();
  if (t.model != spec.name)
    root["model"].fail("table is for model '" + t.model + "', but the spec is '" + spec.name + "'");
  t.device = root["device"].as_string();
  if (t.device.empty()) root["device"].fail("expected a device name such as \"cpu\"");
  t.source = root["source"].as_string();
  if (t.source != "measured" && t.source != "published")
    root["source"].fail("expected \"measured\" or \"published\", got '" + t.source + "'");
  t.provenance = parse_provenance(root["provenance"], t.source);
  JsonValue bn = root["bn_file"];
  t.bn_file = bn.is_null() ? "" : bn.as_string();
  JsonValue levels = root["levels"];
  if (!levels.is_array()) levels.fail("expected an array of levels");
  if (levels.size() == 0) levels.fail("expected at least one level");
  for (size_t i = 0; i < levels.size(); ++i) t.levels.push_back(parse_level(levels.at(i), i, spec));
  return t;
}

LevelTable LevelTable::load(const std::string& path, const Spec& spec) {
  LevelTable t = parse(read_file(path), path, spec);
  t.path = path;
  return t;
}

Provenance measured_here(int threads, const std::string& device) {
  SystemInfo si = system_info();
  Provenance p;
  p.libtorch = si.libtorch;
  p.device = device == "cuda" ? si.gpu : si.cpu;
  p.blas = si.blas_kind;
  p.threads = threads;
  char date[32];
  time_t now = time(nullptr);
  strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
  p.date = date;
  return p;
}

std::string LevelTable::to_json() const {
  JsonWriter w;
  w.begin_object();
  w.key("schema").value(schema);
  w.key("model").value(model);
  w.key("device").value(device);
  w.key("source").value(source);
  w.key("provenance").begin_object();
  w.key("weights_sha256").string_or_null(provenance.weights_sha256);
  w.key("libtorch").value(provenance.libtorch);
  w.key("device").value(provenance.device);
  w.key("threads").value(provenance.threads);
  w.key("blas").value(provenance.blas);
  w.key("date").value(provenance.date);
  w.key("data").value(provenance.data);
  w.end_object();
  w.key("bn_file").string_or_null(bn_file);
  w.key("levels").begin_array();
  for (const LevelEntry& l : levels) {
    w.begin_object();
    w.key("arch").value(l.arch.to_text());
    w.key("ofa").begin_object();  // OFA's dict form (ofa-facts §2.1)
    w.key("ks").int_list(l.arch.ks).key("e").int_list(l.arch.e).key("d").int_list(l.arch.d);
    w.key("r").begin_array().value(l.arch.r).end_array();
    w.end_object();
    write_percent(w, "top1_test", l.top1_test);
    write_percent(w, "top1_val", l.top1_val);
    w.key("latency_ms").begin_object();
    w.key("mean").value(l.latency_mean_ms).key("p90").value(l.latency_p90_ms);
    w.end_object();
    w.key("mflops").value(l.mflops);
    w.key("params").value(l.params);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str();
}

void LevelTable::save(const std::string& out_path) const { write_file_atomic(out_path, to_json()); }

std::string LevelTable::bn_path() const {
  if (bn_file.empty() || g_path_is_absolute(bn_file.c_str()) || path.empty()) return bn_file;
  gchar* dir = g_path_get_dirname(path.c_str());
  gchar* joined = g_build_filename(dir, bn_file.c_str(), nullptr);
  std::string out = joined;
  g_free(joined);
  g_free(dir);
  return out;
}

void LevelTable::check_weights(const std::string& weights_sha256) const {
  // A published table made before calibration names no weights: nothing to compare.
  if (provenance.weights_sha256.empty()) return;
  if (weights_sha256 != provenance.weights_sha256)
    throw Error((path.empty() ? std::string("level table") : path) + ": made for weights with sha256 " +
                provenance.weights_sha256 + ", but the weights loaded have sha256 " + weights_sha256 +
                "; re-run the search or calibration for these weights, or use the matching weights");
}

std::string sha256_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file + ": cannot read (for its sha256)");
  GChecksum* sum = g_checksum_new(G_CHECKSUM_SHA256);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    if (in.gcount() > 0) g_checksum_update(sum, reinterpret_cast<const guchar*>(buf.data()), gsize(in.gcount()));
  }
  bool failed = in.bad();
  std::string hex = g_checksum_get_string(sum);
  g_checksum_free(sum);
  if (failed) throw Error(file + ": read error while computing its sha256");
  return hex;
}

}  // namespace dofa
