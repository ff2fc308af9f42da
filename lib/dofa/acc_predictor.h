// OFA's accuracy predictor (ofa-facts §5): an MLP over a one-hot arch
// encoding that predicts top-1 as a fraction (internal: ATen types).
//   Library form (ofa/nas/accuracy_predictor): [resolution one-hot over the
//     spec's resolutions | 3 kernel slots per block | 3 expand slots per block],
//     hidden ReLU layers, Linear(hidden, 1, bias=False) + base_acc.
//   Tutorial form (ofa/tutorial, Dynamic-OFA's acc_predictor.pth):
//     [3 kernel slots per block | 3 expand slots per block | 8 slots, (r - 112) // 16],
//     Linear layers with biases, no base_acc.
// A block past its stage's depth has all its slots zero.
#pragma once

#include <cstdint>
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "arch.h"
#include "torchfile.h"

namespace dofa {

struct PredictorFit {
  double rmse_pp = 0;       // hold-out root-mean-square error, top-1 percentage points
  double kendall_tau = 0;   // hold-out rank agreement
  int train = 0, holdout = 0;
};

class AccPredictor {
 public:
  enum class Form { Library, Tutorial };

  static std::vector<float> encode(const Spec& spec, const Arch& a, Form form);

  // Trains a library-form predictor on (arch, top-1 fraction) pairs: the last
  // 20 % (after a seeded shuffle) are held out and scored. Adam, lr 1e-3, weight
  // decay 1e-4, base_acc = the mean target (the OFA maintainers' advice, ofa-facts §5.2).
  static AccPredictor fit(const Spec& spec, const std::vector<Arch>& archs, const std::vector<double>& top1,
                          PredictorFit* fit, uint64_t seed = 0, int hidden = 400, int layers = 3);

  // Ours (library keys), OFA's library file or the tutorial acc_predictor.pth
  // (legacy torch format included); the form is told by the keys.
  static AccPredictor load(const std::string& path, const Spec& spec);
  void save(const std::string& path) const;  // library keys

  double predict(const Arch& a) const;  // top-1 fraction
  std::vector<double> predict(const std::vector<Arch>& archs) const;
  Form form() const { return form_; }

 private:
  at::Tensor forward(const at::Tensor& x) const;

  Spec spec_;
  Form form_ = Form::Library;
  std::vector<at::Tensor> w_, b_;  // hidden layers then the output layer (b_ of the output undefined in library form)
  double base_acc_ = 0;
};

double kendall_tau(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace dofa
