#include "cli.h"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "error.h"
#include "json_reader.h"
#include "system_info.h"

namespace dofa::cli {

Options::Options(const std::vector<std::string>& args, const std::set<std::string>& value_opts,
                 const std::set<std::string>& flag_opts) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0 || a == "--") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (flag_opts.count(name)) {
      if (inline_value) throw Error("option --" + name + " takes no value");
      values_[name] = "1";
    } else if (value_opts.count(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) throw Error("option --" + name + " needs a value");
        value = args[++i];
      }
      values_[name] = value;
    } else {
      throw Error("unknown option --" + name + " (see --help)");
    }
  }
}

bool Options::has(const std::string& name) const { return values_.count(name) > 0; }

std::string Options::get(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

std::string Options::require(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error("--" + name + " is required (see --help)");
  return it->second;
}

int Options::get_int(const std::string& name, int def) const {
  if (!has(name)) return def;
  std::string v = get(name, "");
  char* end = nullptr;
  long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end) throw Error("--" + name + " " + v + ": expected an integer");
  return int(x);
}

double Options::get_double(const std::string& name, double def) const {
  if (!has(name)) return def;
  std::string v = get(name, "");
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end) throw Error("--" + name + " " + v + ": expected a number");
  return x;
}

Spec load_spec(const Options& o) { return Spec::load(Spec::find(o.get("spec", kDefaultModel))); }

Spec table_spec(const Options& o, const std::string& table_path) {
  if (o.has("spec")) return load_spec(o);
  return Spec::load(Spec::find(JsonValue::parse_file(table_path)["model"].as_string()));
}

Arch load_arch(const Options& o, const Spec& s) { return Arch::parse(o.get("arch", "max"), s); }

std::string luts_dir(const Spec& spec) {
  gchar* models = g_path_get_dirname(spec.path.c_str());
  gchar* root = g_path_get_dirname(models);
  std::string out = std::string(root) + "/luts";
  g_free(models);
  g_free(root);
  return out;
}

std::string device_option(const Options& o) {
  const std::string device = o.get("device", "cpu");
  if (device != "cpu" && device != "cuda") throw Error("--device " + device + ": expected cpu or cuda");
  const std::string why = device == "cuda" ? cuda_unavailable_reason() : "";
  if (!why.empty()) throw Error("--device cuda: " + why);
  return device;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = size_t(std::min<double>(v.size() - 1, std::max(0.0, std::ceil(p / 100.0 * v.size()) - 1)));
  return v[i];
}

}  // namespace dofa::cli
