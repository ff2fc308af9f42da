#include "torchfile.h"

#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <fstream>
#include <set>

#include "error.h"
#include "files.h"
#include "legacy_unpickler.h"

namespace dofa {
namespace {

void write_atomic(const std::string& path, const std::vector<char>& bytes) {
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

bool is_zip(const std::string& head) { return head.compare(0, 4, "PK\x03\x04", 4) == 0; }

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// torch::jit::pickle_load reads the zip container only, and LibTorch 1.13 has
// two known gaps with files from Python (numbers.md §3.2).
c10::IValue load_zip(const std::string& path, const std::string& bytes) {
  try {
    return torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    std::string m = e.what_without_backtrace();
    if (m.find("Unknown opcode") != std::string::npos && m.find("0x73") != std::string::npos)
      throw Error(path + ": LibTorch 1.13 cannot read a one-entry dict written by Python's torch.save "
                         "(pytorch/pytorch#67902); save at least two entries");
    if (m.find("GenericDict") != std::string::npos)
      throw Error(path + ": LibTorch 1.13 cannot read a collections.OrderedDict (e.g. model.state_dict()) "
                         "(pytorch/pytorch#100741); save dict(state_dict) instead");
    throw Error(path + ": cannot read torch zip file: " + first_line(m));
  }
}

std::string ivalue_kind(const c10::IValue& v) { return v.tagKind(); }

TensorMap tensors_from_ivalue(const c10::IValue& v, const std::string& path) {
  if (!v.isGenericDict())
    throw Error(path + ": expected a dict of name -> tensor, got " + ivalue_kind(v));
  auto dict = v.toGenericDict();
  // A checkpoint {"state_dict": {...}, ...}: the state dict is what counts.
  for (const auto& e : dict)
    if (e.key().isString() && e.key().toStringRef() == "state_dict") {
      if (!e.value().isGenericDict())
        throw Error(path + ": 'state_dict': expected a dict of tensors, got " + ivalue_kind(e.value()));
      return tensors_from_ivalue(e.value(), path + ": state_dict");
    }
  TensorMap out;
  for (const auto& e : dict) {
    if (!e.key().isString()) throw Error(path + ": expected string keys, got " + ivalue_kind(e.key()));
    const std::string& k = e.key().toStringRef();
    if (!e.value().isTensor())
      throw Error(path + ": '" + k + "': expected a tensor, got " + ivalue_kind(e.value()));
    out[k] = e.value().toTensor();
  }
  return out;
}

std::string head_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char buf[64] = {};
  f.read(buf, sizeof buf);
  return std::string(buf, static_cast<size_t>(f.gcount()));
}

LegacyCheckpoint checkpoint_from_legacy(const LegacyValue& top, const std::string& path) {
  if (top.kind != LegacyValue::Kind::Dict)
    throw Error(path + ": expected a dict of tensors or a dict with 'state_dict', got " + top.kind_name());
  LegacyCheckpoint ck;
  const LegacyValue* sd = top.find("state_dict");
  std::string where = "";
  if (sd) {
    if (sd->kind != LegacyValue::Kind::Dict)
      throw Error(path + ": 'state_dict': expected a dict of tensors, got " + sd->kind_name());
    where = "state_dict";
    for (const auto& [k, v] : top.entries) {
      if (k->kind == LegacyValue::Kind::String && k->text == "state_dict") continue;
      ck.skipped.push_back(k->kind == LegacyValue::Kind::String ? k->text : std::string("<") + k->kind_name() + ">");
    }
  } else {
    sd = &top;
  }
  auto name = [&](const std::string& k) { return where.empty() ? "'" + k + "'" : where + "['" + k + "']"; };
  for (const auto& [k, v] : sd->entries) {
    if (k->kind != LegacyValue::Kind::String)
      throw Error(path + ": " + (where.empty() ? "" : where + ": ") + "expected string keys, got " +
                  k->kind_name());
    if (v->kind != LegacyValue::Kind::Tensor)
      throw Error(path + ": " + name(k->text) + ": expected a tensor, got " + v->kind_name());
    if (!ck.tensors.emplace(k->text, v->tensor).second)
      throw Error(path + ": " + name(k->text) + " appears twice");
  }
  return ck;
}

}  // namespace

bool is_legacy_torch_file(const std::string& path) { return has_legacy_magic(head_of(path)); }

LegacyCheckpoint read_legacy_checkpoint(const std::string& path) {
  std::string bytes = read_file(path);
  LegacyValuePtr top = parse_legacy_torch(bytes, path);
  return checkpoint_from_legacy(*top, path);
}

TensorMap load_tensors(const std::string& path) {
  std::string bytes = read_file(path);
  if (has_legacy_magic(bytes)) return checkpoint_from_legacy(*parse_legacy_torch(bytes, path), path).tensors;
  if (!is_zip(bytes))
    throw Error(path + ": not a torch file (neither the zip format of torch.save nor the legacy format)");
  return tensors_from_ivalue(load_zip(path, bytes), path);
}

void save_tensors(const std::string& path, const TensorMap& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [k, t] : tensors) {
    if (!t.defined()) throw Error(path + ": '" + k + "' is an undefined tensor");
    dict.insert(k, (t.device().is_cpu() ? t : t.cpu()).contiguous());  // files hold the standard layout
  }
  write_atomic(path, torch::jit::pickle_save(c10::IValue(dict)));
}

at::Tensor load_tensor(const std::string& path) {
  std::string bytes = read_file(path);
  if (has_legacy_magic(bytes)) {
    LegacyValuePtr v = parse_legacy_torch(bytes, path);
    if (v->kind != LegacyValue::Kind::Tensor)
      throw Error(path + ": expected a tensor, got " + v->kind_name());
    return v->tensor;
  }
  if (!is_zip(bytes))
    throw Error(path + ": not a torch file (neither the zip format of torch.save nor the legacy format)");
  c10::IValue v = load_zip(path, bytes);
  if (!v.isTensor()) throw Error(path + ": expected a tensor, got " + ivalue_kind(v));
  return v.toTensor();
}

void save_tensor(const std::string& path, const at::Tensor& t) {
  if (!t.defined()) throw Error(path + ": cannot save an undefined tensor");
  write_atomic(path, torch::jit::pickle_save(c10::IValue(t.device().is_cpu() ? t : t.cpu())));
}

}  // namespace dofa
