#include "latency_lut.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <regex>

#include "error.h"
#include "files.h"
#include "json_reader.h"
#include "op_keys.h"

namespace dofa {

namespace {

const std::regex kFileName(R"((\d+)_lookup_table\.json$)");
const std::regex kConvKey(R"(^Conv-input:(\d+)x(\d+)x\d+-)");

LatencyLut::Table parse_table(const std::string& path, int* r) {
  JsonValue root = JsonValue::parse_file(path);
  if (!root.is_object()) root.fail("an object of op key -> {count, mean, std}");
  LatencyLut::Table t;
  int from_key = 0;
  for (const std::string& k : root.keys()) {
    JsonValue v = root[k];
    if (!v.is_object()) v.fail("an object with \"mean\" (ms)");
    OpStat s;
    s.mean = v["mean"].as_double();
    if (!(s.mean >= 0)) v["mean"].fail("a latency >= 0 ms");
    s.count = v.has("count") ? v["count"].as_int64() : 0;
    s.std = v.has("std") ? v["std"].as_double() : 0;
    t[k] = s;
    std::smatch m;
    if (std::regex_search(k, m, kConvKey)) from_key = std::atoi(m[1].str().c_str());
  }
  std::smatch m;
  if (std::regex_search(path, m, kFileName)) *r = std::atoi(m[1].str().c_str());
  else if (from_key > 0) *r = from_key;
  else throw Error(path + ": no resolution: neither a <r>_lookup_table.json name nor a Conv-input:RxRxC key");
  return t;
}

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

LatencyLut LatencyLut::load(const std::string& path) {
  LatencyLut lut;
  std::vector<std::string> files;
  if (is_dir(path)) {
    DIR* d = opendir(path.c_str());
    if (!d) throw Error(path + ": cannot open folder");
    while (dirent* e = readdir(d))
      if (std::regex_search(std::string(e->d_name), kFileName)) files.push_back(path + "/" + e->d_name);
    closedir(d);
    if (files.empty()) throw Error(path + ": no <r>_lookup_table.json files");
  } else {
    files.push_back(path);
  }
  for (const std::string& f : files) {
    int r = 0;
    Table t = parse_table(f, &r);
    if (lut.tables.count(r)) throw Error(f + ": a second table for resolution " + std::to_string(r));
    lut.tables[r] = std::move(t);
  }
  return lut;
}

void LatencyLut::save(const std::string& dir) const {
  mkdir(dir.c_str(), 0755);
  for (const auto& [r, t] : tables) {
    JsonWriter w;
    w.begin_object();
    for (const auto& [k, s] : t) {
      w.key(k).begin_object();
      w.key("count").value(s.count).key("mean").value(s.mean).key("std").value(s.std);
      w.end_object();
    }
    w.end_object();
    write_file_atomic(dir + "/" + std::to_string(r) + "_lookup_table.json", w.str());
  }
}

double LatencyLut::predict(const Spec& spec, const Arch& arch) const {
  auto t = tables.find(arch.r);
  if (t == tables.end()) throw Error("latency table has no resolution " + std::to_string(arch.r));
  double sum = 0;
  for (const std::string& k : op_keys(spec, arch)) {
    auto it = t->second.find(k);
    if (it == t->second.end())
      throw Error("latency table for resolution " + std::to_string(arch.r) + " lacks " + k);
    sum += it->second.mean;
  }
  return sum;
}

}  // namespace dofa
