// Reader of the legacy (pre-1.6) torch.save format, in which the official OFA
// checkpoints were published (internal: uses ATen types). Layout (ofa-facts
// §3.4): pickle(magic), pickle(1001), pickle(sys_info), pickle(object),
// pickle(storage keys), then per key an int64 LE element count and the raw
// LE data.
//
// The unpickler is restricted: it knows only the few globals such files use
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.FloatStorage,
// torch.LongStorage) and never imports or calls anything. Everything else is
// refused with an Error naming the file and what was refused.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dofa {

// A value of the unpickled object.
struct LegacyValue {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;
  std::vector<std::shared_ptr<const LegacyValue>> items;  // Tuple, List
  // Dict (and OrderedDict) entries in file order.
  std::vector<std::pair<std::shared_ptr<const LegacyValue>, std::shared_ptr<const LegacyValue>>> entries;
  at::Tensor tensor;  // float32 or int64, CPU; may be a view sharing storage with others

  const char* kind_name() const;
  // Dict lookup by string key; nullptr when absent.
  const LegacyValue* find(const std::string& key) const;
};
using LegacyValuePtr = std::shared_ptr<const LegacyValue>;

// True when `head` (the first bytes of a file) starts with the legacy magic-number pickle.
bool has_legacy_magic(const std::string& head);

// Parses a whole legacy file held in memory; `origin` (the file name) prefixes every error.
LegacyValuePtr parse_legacy_torch(const std::string& bytes, const std::string& origin);

}  // namespace dofa
