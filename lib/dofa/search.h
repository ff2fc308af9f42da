// dofa search: the design-time search of a level family (Dynamic-OFA §3):
// predictor data, accuracy predictor, Algorithm 1 seeding OFA's evolution
// swept over latency constraints, every candidate calibrated and measured,
// the Pareto front, the levels, their test top-1. Writes the level table (+
// BN file), the candidate pool (+ BN file) and a summary for the report.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "spec.h"

namespace dofa {

struct SearchOptions {
  std::string weights;                 // "" = the spec's weights file
  std::string train = "fmnist:train";  // calibration images
  std::string val = "fmnist:val";      // choice of levels
  std::string test = "fmnist:test";    // reported top-1 of the levels only
  std::string lut;                     // per-op latency tables (dofa profile)
  std::string predictor;               // reuse this predictor file; "" = measure and fit one
  std::string pool;                    // reuse measured candidates of this pool file (same weights)
  std::string dims;                    // "" = all; else a comma list of width, depth, kernel, resolution
  std::string out;                     // level table; the pool, BN and summary files go beside it
  std::string device = "cpu";          // "cuda": only re-measure the latency of --pool's candidates there
  int predictor_archs = 300, sweep = 12, levels = 6, val_images = 10000;
  int per_constraint = 3;  // the evolution's best distinct archs measured per latency constraint
  int latency_threads = 1, eval_threads = 2;
  double acc_range = 1.0;  // Algorithm 1's window below Accmax, top-1 percentage points
  uint64_t seed = 0;
  std::function<void(const std::string&)> log;
};

void search(const Spec& spec, const SearchOptions& o);

// The restricted space of --dims: the named dimensions keep their choices,
// the others only their largest. Throws Error naming an unknown dimension.
Spec search_space(const Spec& spec, const std::string& dims);

}  // namespace dofa
