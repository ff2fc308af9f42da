// Model internals shared with Runner and the tools (internal: ATen types).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "level.h"
#include "level_table.h"
#include "model.h"
#include "supernet.h"

namespace dofa {

struct Model::Impl {
  ModelOptions options;
  Spec spec;
  std::unique_ptr<Supernet> net;
  std::string table_path;
  std::vector<BnStats> bn;  // per level; empty = the supernet's own statistics
  std::vector<LevelInfo> info;

  // Materialised levels. With `lazy` a slot fills in the background; readers
  // use std::atomic_load, so the streaming thread never blocks on a build.
  mutable std::vector<std::shared_ptr<const Level>> levels;
  mutable std::vector<std::unique_ptr<std::atomic<bool>>> building;
  mutable std::mutex build_mutex;
  mutable std::vector<std::thread> builders;

  const BnStats* stats(int i) const { return bn.empty() ? nullptr : &bn[i]; }
  c10::Device device() const { return options.device == "cuda" ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU); }
  std::shared_ptr<const Level> ready(int i) const { return std::atomic_load(&levels[i]); }
  std::shared_ptr<const Level> build(int i) const;  // builds and warms one level
  void request(int i) const;                        // lazy: start a background build once
  ~Impl();
};

}  // namespace dofa
