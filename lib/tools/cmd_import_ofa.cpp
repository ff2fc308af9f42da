// dofa import-ofa: the official OFA supernet checkpoint (as downloaded) -> a
// checked dofa weights file.
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "error.h"
#include "level_table.h"
#include "torchfile.h"
#include "supernet.h"

namespace dofa::cli {

namespace {

const char* const kUsage =
    "usage: dofa import-ofa CHECKPOINT --out WEIGHTS [--spec MODEL|FILE]\n"
    "\n"
    "Converts an official OFA supernet checkpoint (e.g. ofa_mbv3_d234_e346_k357_w1.2 as\n"
    "downloaded: legacy torch.save {\"state_dict\": ...}; the zip format is accepted too)\n"
    "into a weights file (torch zip format, readable by torch.load).\n"
    "Every tensor is checked against the spec: all missing, unexpected and mis-shaped\n"
    "keys are listed and nothing is written if there is any. The num_batches_tracked\n"
    "buffers are dropped (training counters, unused at inference).\n"
    "\n"
    "  --spec MODEL|FILE  built-in model name or spec file (default: the built-in model)\n"
    "  --out WEIGHTS      file to write\n";

}  // namespace

int cmd_import_ofa(const std::vector<std::string>& args) {
  Options o(args, {"spec", "out"}, {});
  if (o.help()) {
    std::cout << kUsage;
    return 0;
  }
  if (o.positional().size() != 1) throw Error("expected one CHECKPOINT argument (see --help)");
  const std::string ckpt = o.positional()[0];
  const std::string out = o.require("out");
  const Spec spec = load_spec(o);

  TensorMap found;
  std::vector<std::string> skipped;
  if (is_legacy_torch_file(ckpt)) {
    LegacyCheckpoint ck = read_legacy_checkpoint(ckpt);
    found = std::move(ck.tensors);
    skipped = std::move(ck.skipped);
  } else {
    found = load_tensors(ckpt);
  }

  const std::vector<std::string> problems = weight_problems(spec, found);
  if (!problems.empty()) {
    std::string msg = ckpt + " does not match spec " + spec.name + " (" + std::to_string(problems.size()) +
                      (problems.size() == 1 ? " problem" : " problems") + "; nothing written):";
    for (const auto& p : problems) msg += "\n  " + p;
    throw Error(msg);
  }
  TensorMap weights;
  long long params = 0;
  int dropped = 0;
  for (auto& [name, t] : found) {
    if (is_batch_counter(name)) {
      ++dropped;
      continue;
    }
    // A view of a larger storage would be written with all of it.
    weights[name] = t.is_contiguous() && t.storage().nbytes() == size_t(t.numel()) * t.element_size() ? t : t.clone();
    params += t.numel();
  }

  save_tensors(out, weights);
  std::string skipped_text;
  for (const auto& s : skipped) skipped_text += (skipped_text.empty() ? "" : ", ") + s;
  std::printf("%s: %zu tensors, %lld parameters, sha256 %s (from %s; dropped %d num_batches_tracked%s%s)\n",
              out.c_str(), weights.size(), params, sha256_file(out).c_str(), ckpt.c_str(), dropped,
              skipped.empty() ? "" : "; ignored ", skipped_text.c_str());
  return 0;
}

}  // namespace dofa::cli
