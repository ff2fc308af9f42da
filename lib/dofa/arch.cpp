#include "arch.h"

#include <algorithm>

#include <cctype>
#include <cmath>
#include <random>
#include <sstream>

#include "error.h"
#include "json_reader.h"
#include "random_form.h"

namespace dofa {

namespace {

std::string set_text(const std::vector<int>& xs) {
  std::string s = "{";
  for (size_t i = 0; i < xs.size(); ++i) s += (i ? ", " : "") + std::to_string(xs[i]);
  return s + "}";
}

bool contains(const std::vector<int>& xs, int v) {
  for (int x : xs)
    if (x == v) return true;
  return false;
}

// "7777.7777" -> {7,7,7,7,7,7,7,7}; '.' only separates stages.
std::vector<int> digits(const std::string& field, const std::string& text) {
  std::vector<int> out;
  for (char c : text) {
    if (c == '.') continue;
    if (!std::isdigit(static_cast<unsigned char>(c)))
      throw Error("arch text: field '" + field + "' has '" + std::string(1, c) + "', expected digits");
    out.push_back(c - '0');
  }
  if (out.empty()) throw Error("arch text: field '" + field + "' is empty");
  return out;
}

std::string group(const std::vector<int>& xs, size_t per_group) {
  std::string s;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i && per_group && i % per_group == 0) s += '.';
    if (xs[i] < 0 || xs[i] > 9) throw Error("arch: value " + std::to_string(xs[i]) + " has no one-digit text form");
    s += char('0' + xs[i]);
  }
  return s;
}

}  // namespace

namespace {

// Every block and stage on the same end of its choice list.
Arch uniform(const Spec& s, bool largest) {
  auto end = [largest](const std::vector<int>& xs) { return largest ? xs.back() : xs.front(); };
  Arch a;
  a.ks.assign(s.num_elastic_blocks(), end(s.kernel_sizes));
  a.e.assign(s.num_elastic_blocks(), end(s.expand_ratios));
  a.d.assign(s.stages.size(), end(s.depths));
  a.r = end(s.resolutions);
  return a;
}

}  // namespace

Arch Arch::max(const Spec& s) { return uniform(s, true); }
Arch Arch::min(const Spec& s) { return uniform(s, false); }

Arch Arch::canonical(const Spec& s) const {
  Arch c = *this;
  const size_t per_stage = size_t(s.max_depth());
  for (size_t i = 0; i < c.ks.size() && i / per_stage < c.d.size(); ++i)
    if (i % per_stage >= size_t(c.d[i / per_stage])) {
      c.ks[i] = *std::min_element(s.kernel_sizes.begin(), s.kernel_sizes.end());
      c.e[i] = *std::min_element(s.expand_ratios.begin(), s.expand_ratios.end());
    }
  return c;
}

Arch Arch::random(const Spec& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&rng](const std::vector<int>& xs) {
    return xs[std::uniform_int_distribution<size_t>(0, xs.size() - 1)(rng)];
  };
  Arch a;
  for (int i = 0; i < s.num_elastic_blocks(); ++i) {
    a.ks.push_back(pick(s.kernel_sizes));
    a.e.push_back(pick(s.expand_ratios));
  }
  for (size_t i = 0; i < s.stages.size(); ++i) a.d.push_back(pick(s.depths));
  a.r = pick(s.resolutions);
  return a;
}

Arch Arch::from_text(const std::string& text) {
  Arch a;
  bool seen_r = false;
  std::istringstream in(text);
  for (std::string tok; std::getline(in, tok, '-');) {
    if (tok.size() < 2) throw Error("arch text '" + text + "': empty or short field '" + tok + "'");
    std::string body = tok.substr(1);
    switch (tok[0]) {
      case 'r':
        for (char c : body)
          if (!std::isdigit(static_cast<unsigned char>(c)))
            throw Error("arch text '" + text + "': resolution '" + body + "' is not a number");
        a.r = std::stoi(body);
        seen_r = true;
        break;
      case 'd': a.d = digits("d", body); break;
      case 'k': a.ks = digits("k", body); break;
      case 'e': a.e = digits("e", body); break;
      default:
        throw Error("arch text '" + text + "': unknown field '" + tok + "', expected r<res>-d<depths>-k<kernels>-e<expands>");
    }
  }
  if (!seen_r || a.d.empty() || a.ks.empty() || a.e.empty())
    throw Error("arch text '" + text + "': expected r<res>-d<depths>-k<kernels>-e<expands>");
  return a;
}

Arch Arch::from_ofa_json(const std::string& json) {
  JsonValue v = JsonValue::parse(json, "arch JSON");
  if (!v.is_object()) v.fail("expected an object {\"ks\":[..],\"e\":[..],\"d\":[..],\"r\":[..]}");
  for (const auto& k : v.keys())
    if (k != "ks" && k != "e" && k != "d" && k != "r" && k != "image_size" && k != "wid")
      v[k].fail("unknown key, expected ks, e, d, r");
  Arch a;
  a.ks = v["ks"].as_int_list();
  a.e = v["e"].as_int_list();
  a.d = v["d"].as_int_list();
  JsonValue r = v.has("r") ? v["r"] : v["image_size"];
  if (r.is_array()) {
    if (r.size() != 1) r.fail("expected one resolution");
    a.r = r.at(0).as_int();
  } else {
    a.r = r.as_int();
  }
  return a;
}

Arch Arch::parse(const std::string& arg, const Spec& s) {
  Arch a;
  uint64_t seed = 0;
  if (arg == "max") {
    a = max(s);
  } else if (arg == "min") {
    a = min(s);
  } else if (parse_random_form(arg, "--arch", &seed)) {
    a = random(s, seed);
  } else if (!arg.empty() && arg[0] == '@') {
    std::string text = read_file(arg.substr(1));
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    try {
      return parse(text, s);
    } catch (const Error& e) {
      throw Error(arg.substr(1) + ": " + e.what());
    }
  } else if (!arg.empty() && arg.find('{') != std::string::npos) {
    a = from_ofa_json(arg);
  } else {
    a = from_text(arg);
  }
  a.validate(s);
  return a;
}

std::string Arch::to_text() const {
  size_t per = d.empty() ? 0 : ks.size() / d.size();
  return "r" + std::to_string(r) + "-d" + group(d, 0) + "-k" + group(ks, per) + "-e" + group(e, per);
}

std::string Arch::to_ofa_json() const {
  JsonWriter w;
  w.begin_object();
  w.key("ks").int_list(ks).key("e").int_list(e).key("d").int_list(d);
  w.key("r").begin_array().value(r).end_array();
  w.end_object();
  return w.str(false);
}

void Arch::validate(const Spec& s) const {
  const int n = s.num_elastic_blocks();
  if (int(ks.size()) != n)
    throw Error("arch: ks has " + std::to_string(ks.size()) + " entries, expected " + std::to_string(n) +
                " (one per elastic block)");
  if (int(e.size()) != n)
    throw Error("arch: e has " + std::to_string(e.size()) + " entries, expected " + std::to_string(n) +
                " (one per elastic block)");
  if (d.size() != s.stages.size())
    throw Error("arch: d has " + std::to_string(d.size()) + " entries, expected " +
                std::to_string(s.stages.size()) + " (one per stage)");
  for (int i = 0; i < n; ++i) {
    const SuperBlock& b = s.blocks[1 + i];
    std::string where = "arch: block " + std::to_string(b.index) + " (stage " + std::to_string(b.stage + 1) + "): ";
    if (!contains(s.kernel_sizes, ks[i]))
      throw Error(where + "kernel size " + std::to_string(ks[i]) + " not in " + set_text(s.kernel_sizes));
    if (!contains(s.expand_ratios, e[i]))
      throw Error(where + "expand ratio " + std::to_string(e[i]) + " not in " + set_text(s.expand_ratios));
  }
  for (size_t i = 0; i < d.size(); ++i)
    if (!contains(s.depths, d[i]))
      throw Error("arch: stage " + std::to_string(i + 1) + ": depth " + std::to_string(d[i]) + " not in " +
                  set_text(s.depths));
  if (!contains(s.resolutions, r))
    throw Error("arch: resolution " + std::to_string(r) + " not in " + set_text(s.resolutions));
}

NetShape net_shape(const Spec& s, const Arch& a) {
  NetShape n;
  n.r = a.r;
  n.first_hw = conv_out(a.r, s.first_conv.stride);
  int hw = n.first_hw;

  const SuperBlock& fb = s.blocks[0];
  LayerShape first;
  first.block = &fb;
  first.in = fb.in;
  first.mid = fb.in;
  first.out = fb.out;
  first.kernel = fb.kernel;
  first.stride = fb.stride;
  first.se_mid = fb.se ? make_divisible(first.mid / 4) : 0;
  first.in_hw = hw;
  first.out_hw = hw = conv_out(hw, fb.stride);
  first.expand = false;
  n.blocks.push_back(first);

  int in = fb.out;
  for (size_t st = 0; st < s.stages.size(); ++st) {
    for (int p = 0; p < a.d[st]; ++p) {
      const SuperBlock& b = s.elastic_block(int(st), p);
      int i = b.index - 1;
      LayerShape l;
      l.block = &b;
      l.in = in;
      // ofa-facts §2.3: mid from the actual input width.
      l.mid = make_divisible(std::nearbyint(double(in) * a.e[i]));
      l.out = b.out;
      l.kernel = a.ks[i];
      l.stride = b.stride;
      // ofa-facts §2.5: SE mid from the active mid.
      l.se_mid = b.se ? make_divisible(l.mid / 4) : 0;
      l.in_hw = hw;
      l.out_hw = hw = conv_out(hw, b.stride);
      n.blocks.push_back(l);
      in = b.out;
    }
  }
  n.final_hw = hw;
  return n;
}

}  // namespace dofa
