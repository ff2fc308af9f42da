// Weights I/O (internal: uses ATen types).
//  - torch zip format: name -> tensor dicts written by torch::pickle_save and
//    readable by Python's torch.load; Python's torch.save(dict) (zip, >= 2 keys)
//    reads back. Mind LibTorch 1.13's limits (numbers.md §3.2).
//  - the legacy (pre-1.6) torch.save format, in which the official OFA
//    checkpoints were published (ofa-facts §3.4). Read only; a restricted
//    unpickler that never executes anything.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

namespace dofa {

using TensorMap = std::map<std::string, at::Tensor>;

// Reads a name -> tensor dict; detects the legacy format and reads that too
// (for a {"state_dict": {...}, ...} checkpoint it returns the state_dict).
TensorMap load_tensors(const std::string& path);
// Writes atomically in the torch zip format.
void save_tensors(const std::string& path, const TensorMap& tensors);

// A single tensor (dofa infer's IN.pt / OUT.pt), zip format.
at::Tensor load_tensor(const std::string& path);
void save_tensor(const std::string& path, const at::Tensor& t);

bool is_legacy_torch_file(const std::string& path);

struct LegacyCheckpoint {
  TensorMap tensors;                 // the state dict
  std::vector<std::string> skipped;  // other top-level keys (epoch, optimizer, ...)
};
// Accepts a top-level dict (or OrderedDict) of tensors, or a dict holding one
// under "state_dict". Throws Error naming the file and what was refused.
LegacyCheckpoint read_legacy_checkpoint(const std::string& path);

}  // namespace dofa
