// dofa info: what the engine runs on (--system) and what a supernet spec holds (--spec).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "error.h"
#include "flops.h"
#include "json_reader.h"
#include "system_info.h"

namespace dofa::cli {

namespace {

const char* const kUsage =
    "usage: dofa info [--system] [--spec MODEL|FILE] [--json]\n"
    "\n"
    "  --system           LibTorch version, threads, the BLAS actually loaded, oneDNN, CPU, CUDA\n"
    "  --spec MODEL|FILE  summary of a supernet spec: stages, elastic choices, number of\n"
    "                     sub-networks, MFLOPs and parameters of the largest and smallest\n"
    "  --json             JSON: the system object alone with --system, the spec object alone\n"
    "                     with --spec, {\"system\": .., \"spec\": ..} with both\n"
    "\n"
    "With neither --system nor --spec both are shown, for the built-in model.\n";

std::string set_text(const std::vector<int>& xs) {
  std::string s = "{";
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? ", " : "") + std::to_string(xs[i]);
  return s + "}";
}

// Architectures per stage: sum over depths d of (|ks| * |e|)^d; stages multiply.
// A double: OFA's w1.2 space alone is ~2.2e19 (ofa-facts §0), beyond int64.
double num_subnets(const Spec& s) {
  const double per_block = double(s.kernel_sizes.size() * s.expand_ratios.size());
  double per_stage = 0;
  for (int d : s.depths) per_stage += std::pow(per_block, d);
  return std::pow(per_stage, double(s.stages.size()));
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string sci(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

void write_extreme(JsonWriter& w, const char* key, const Spec& s, const Arch& a) {
  NetCost c = net_cost(s, a);
  w.key(key).begin_object();
  w.key("arch").value(a.to_text());
  w.key("mflops").value(c.mflops);
  w.key("params").value(c.params);
  w.end_object();
}

void write_spec_json(JsonWriter& w, const Spec& s) {
  w.begin_object();
  w.key("name").value(s.name);
  w.key("path").value(s.path);
  w.key("description").value(s.description);
  w.key("in_channels").value(s.in_channels);
  w.key("first_conv").begin_object();
  w.key("width").value(s.first_conv.width).key("kernel").value(s.first_conv.kernel);
  w.key("stride").value(s.first_conv.stride).key("act").value(act_name(s.first_conv.act));
  w.end_object();
  w.key("first_block").begin_object();
  w.key("width").value(s.first_block.width).key("kernel").value(s.first_block_kernel);
  w.key("stride").value(s.first_block.stride).key("act").value(act_name(s.first_block.act));
  w.key("se").value(s.first_block.se);
  w.end_object();
  w.key("stages").begin_array();
  for (const StageSpec& st : s.stages) {
    w.begin_object();
    w.key("width").value(st.width).key("stride").value(st.stride);
    w.key("act").value(act_name(st.act)).key("se").value(st.se);
    w.end_object();
  }
  w.end_array();
  w.key("final_expand").value(s.final_expand.width);
  w.key("feature_mix").value(s.feature_mix.width);
  w.key("classes").value(s.classes);
  w.key("kernel_sizes").int_list(s.kernel_sizes);
  w.key("expand_ratios").int_list(s.expand_ratios);
  w.key("depths").int_list(s.depths);
  w.key("resolutions").int_list(s.resolutions);
  w.key("subnets").value(num_subnets(s));
  write_extreme(w, "max", s, Arch::max(s));
  write_extreme(w, "min", s, Arch::min(s));
  w.key("weights").value(s.weights);
  w.end_object();
}

std::string spec_text(const Spec& s) {
  std::ostringstream o;
  o << "model:        " << s.name << (s.path.empty() ? "" : " (" + s.path + ")") << "\n";
  if (!s.description.empty()) o << "description:  " << s.description << "\n";
  o << "input:        " << s.in_channels << " channel" << (s.in_channels == 1 ? "" : "s") << "\n"
    << "first conv:   width " << s.first_conv.width << ", k" << s.first_conv.kernel << ", stride "
    << s.first_conv.stride << ", " << act_name(s.first_conv.act) << "\n"
    << "first block:  width " << s.first_block.width << ", k" << s.first_block_kernel << ", stride "
    << s.first_block.stride << ", " << act_name(s.first_block.act) << (s.first_block.se ? ", SE" : "") << "\n"
    << "stages:       stage  width  stride  act       SE\n";
  for (size_t i = 0; i < s.stages.size(); ++i) {
    const StageSpec& st = s.stages[i];
    char row[128];
    std::snprintf(row, sizeof row, "              %-5zu  %-5d  %-6d  %-8s  %s\n", i + 1, st.width, st.stride,
                  act_name(st.act), st.se ? "yes" : "no");
    o << row;
  }
  o << "final expand: " << s.final_expand.width << ", " << act_name(s.final_expand.act) << "\n"
    << "feature mix:  " << s.feature_mix.width << ", " << act_name(s.feature_mix.act) << "\n"
    << "classes:      " << s.classes << "\n"
    << "elastic:      kernel " << set_text(s.kernel_sizes) << ", expand " << set_text(s.expand_ratios)
    << ", depth " << set_text(s.depths) << "\n"
    << "resolutions:  " << set_text(s.resolutions) << "\n"
    << "sub-networks: " << sci(num_subnets(s)) << " architectures x " << s.resolutions.size() << " resolution"
    << (s.resolutions.size() == 1 ? "" : "s") << "\n";
  for (const auto& [label, arch] : {std::make_pair("max arch:     ", Arch::max(s)),
                                    std::make_pair("min arch:     ", Arch::min(s))}) {
    NetCost c = net_cost(s, arch);
    o << label << arch.to_text() << "\n"
      << "              " << fixed(c.mflops, 2) << " MFLOPs, " << c.params << " params (" << fixed(c.params / 1e6, 2)
      << " M)\n";
  }
  o << "weights:      " << (s.weights.empty() ? "(none named)" : s.weights) << "\n";
  return o.str();
}

}  // namespace

int cmd_info(const std::vector<std::string>& args) {
  Options o(args, {"spec"}, {"system", "json"});
  if (o.help()) {
    std::cout << kUsage;
    return 0;
  }
  if (!o.positional().empty()) throw Error("unexpected argument '" + o.positional()[0] + "' (see --help)");
  const bool both_default = !o.flag("system") && !o.has("spec");
  const bool show_system = both_default || o.flag("system");
  const bool show_spec = both_default || o.has("spec");

  SystemInfo sys;
  if (show_system) sys = system_info();
  Spec spec;
  if (show_spec) spec = load_spec(o);

  if (o.flag("json")) {
    if (show_system && !show_spec) {
      std::cout << system_info_json(sys);
    } else if (show_spec && !show_system) {
      JsonWriter w;
      write_spec_json(w, spec);
      std::cout << w.str();
    } else {
      // Two complete objects side by side; each part keeps its own writer.
      JsonWriter w;
      write_spec_json(w, spec);
      std::cout << "{\n\"system\": " << trimmed(system_info_json(sys)) << ",\n\"spec\": " << trimmed(w.str())
                << "\n}\n";
    }
    return 0;
  }
  if (show_system) std::cout << system_info_text(sys);
  if (show_system && show_spec) std::cout << "\n";
  if (show_spec) std::cout << spec_text(spec);
  return 0;
}

}  // namespace dofa::cli
