// Level table: a dynamic model on disk (luts/<model>-<device>.json, "schema": 1)
// plus a BN statistics tensor file beside it. Levels are ordered fastest (0)
// to most accurate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch.h"
#include "spec.h"

namespace dofa {

struct LevelEntry {
  Arch arch;
  double top1_test = -1;   // % on the test set; -1 = not measured
  double top1_val = -1;    // % on the validation split; -1 = not measured
  double latency_mean_ms = 0, latency_p90_ms = 0;  // input tensor -> logits
  double mflops = 0;
  long long params = 0;
};

struct Provenance {
  std::string weights_sha256;  // "" only for source == "published" until calibrated
  std::string libtorch, device, blas, date, data;
  int threads = 1;
};

// This machine as a table measured here records it: LibTorch, the CPU (or
// with device "cuda" the GPU), BLAS, threads, today's date (UTC).
Provenance measured_here(int threads, const std::string& device = "cpu");

struct LevelTable {
  int schema = 1;
  std::string model;               // spec name
  std::string device = "cpu";
  std::string source = "measured";  // or "published"
  Provenance provenance;
  std::vector<LevelEntry> levels;
  std::string bn_file;  // relative to the table; "" = no per-level statistics
  std::string path;     // where it was read from

  // Parses and validates against the spec (archs, schema). The BN file is not read here.
  static LevelTable load(const std::string& path, const Spec& spec);
  static LevelTable parse(const std::string& json, const std::string& origin, const Spec& spec);
  std::string to_json() const;
  void save(const std::string& path) const;  // JSON only, atomically
  std::string bn_path() const;               // bn_file resolved against path
  // Throws Error naming both hashes when the table was made for other weights.
  void check_weights(const std::string& weights_sha256) const;
};

// sha256 of a file, lower-case hex.
std::string sha256_file(const std::string& path);

}  // namespace dofa
