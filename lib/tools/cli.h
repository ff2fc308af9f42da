// Shared plumbing of the `dofa` subcommands: option parsing and the common
// --spec / --weights / --arch handling. Errors are thrown as dofa::Error and
// printed by main() to stderr with a non-zero exit.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "arch.h"
#include "spec.h"

namespace dofa::cli {

// Parsed "--name value", "--name=value" and "--flag" options plus positionals.
class Options {
 public:
  // value_opts take a value, flag_opts do not; anything else is an error naming it.
  Options(const std::vector<std::string>& args, const std::set<std::string>& value_opts,
          const std::set<std::string>& flag_opts);
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& def) const;
  std::string require(const std::string& name) const;  // error: "--name is required"
  int get_int(const std::string& name, int def) const;
  double get_double(const std::string& name, double def) const;
  bool flag(const std::string& name) const { return has(name); }
  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// The model used when --spec is not given.
inline constexpr const char* kDefaultModel = "fmnist-mbv3";

// --spec: a built-in model name or a path (default: kDefaultModel).
Spec load_spec(const Options& o);
// The spec of a level table: --spec when given, else the table's "model".
Spec table_spec(const Options& o, const std::string& table_path);
// --arch (default max): max | min | random[:SEED] | text | OFA JSON | @FILE.
Arch load_arch(const Options& o, const Spec& s);

// --device (default cpu): cpu, or cuda where it works here; else Error naming
// the value or why cuda does not work.
std::string device_option(const Options& o);

// luts/ beside the spec's models/ folder: where design-time outputs go by default.
std::string luts_dir(const Spec& spec);

// The p-th percentile (0..100, nearest rank) of v; 0 for an empty v. For benchmarks.
double percentile(std::vector<double> v, double p);

// Subcommands: each returns the process exit code.
int cmd_info(const std::vector<std::string>& args);
int cmd_flops(const std::vector<std::string>& args);
int cmd_infer(const std::vector<std::string>& args);
int cmd_export(const std::vector<std::string>& args);
int cmd_import_ofa(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_load(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_calibrate(const std::vector<std::string>& args);
int cmd_profile(const std::vector<std::string>& args);
int cmd_search(const std::vector<std::string>& args);
int cmd_measure(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_demo(const std::vector<std::string>& args);

// `dofa bench element` (lib/tools/bench_element.cpp).
int bench_element(const Options& o);
// `dofa bench rtm` (lib/tools/bench_rtm.cpp).
int bench_rtm(const Options& o);

}  // namespace dofa::cli
