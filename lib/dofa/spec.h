// Supernet spec: the static description of an elastic MobileNetV3 supernet
// (models/<name>.json, "schema": 1). Layer rules follow OFA's OFAMobileNetV3.
#pragma once

#include <string>
#include <vector>

namespace dofa {

enum class Act { Relu, HSwish, HSigmoid, None };
const char* act_name(Act a);

// OFA's make_divisible (ofa/utils/pytorch_modules.py): round to the nearest
// multiple, never more than 10 % below v.
int make_divisible(double v, int divisor = 8);

struct ConvSpec {
  int width = 0;
  int kernel = 1;
  int stride = 1;
  Act act = Act::None;
};

struct StageSpec {
  int width = 0;
  int stride = 1;
  Act act = Act::Relu;
  bool se = false;
};

// One block of the supernet with its largest shape; blocks[0] is the static
// first block (expand 1), the rest are the elastic MBConv blocks.
struct SuperBlock {
  int index = 0;   // blocks.<index> in the weights
  int stage = -1;  // -1 for the first block
  int pos = 0;     // position inside the stage
  int in = 0, out = 0, stride = 1;
  int max_mid = 0;  // make_divisible(round(in * max_e), 8); in for the first block
  int kernel = 0;   // first block only; elastic blocks take it from the arch
  Act act = Act::Relu;
  bool se = false;
  bool residual = false;  // identity shortcut: stride 1 and in == out
};

struct Spec {
  int schema = 1;
  std::string name;
  std::string path;  // file it was read from ("" when built in memory)
  std::string description;

  int in_channels = 3;
  std::vector<float> mean, std;  // per input channel, on [0,1] pixels

  double eval_crop = 0.875;  // centre crop fraction at evaluation
  // Training augmentation (used by training and calibration).
  double train_scale_min = 0.08, train_scale_max = 1.0;  // random resized crop
  int train_pad = 0;                                      // pad + random crop instead
  bool train_flip = true;
  double train_brightness = 0.0, train_saturation = 0.0;

  ConvSpec first_conv;
  StageSpec first_block;
  int first_block_kernel = 3;
  std::vector<StageSpec> stages;
  ConvSpec final_expand;  // 1x1, with BN
  ConvSpec feature_mix;   // 1x1, no BN
  int classes = 0;
  double dropout = 0.0;

  std::vector<int> kernel_sizes, expand_ratios, depths, resolutions;  // sorted ascending
  double bn_momentum = 0.1, bn_eps = 1e-5;

  std::vector<std::string> labels;  // classes entries
  std::string weights;  // resolved path of the weights file, "random[:SEED]", or "" (none named)

  // Derived.
  std::vector<SuperBlock> blocks;  // first block + stages * max depth
  int max_depth() const { return depths.back(); }
  int num_elastic_blocks() const { return int(stages.size()) * max_depth(); }
  const SuperBlock& elastic_block(int stage, int pos) const {
    return blocks[1 + stage * max_depth() + pos];
  }

  static Spec load(const std::string& path);
  static Spec parse(const std::string& json, const std::string& origin);
  // Resolves a built-in model name (models/<name>.json in the data path) or a path.
  static std::string find(const std::string& name_or_path);
  void derive();  // fills blocks; validates cross-field rules
};

// Data directories searched for built-in models and level tables:
// $DOFA_DATA_PATH (colon-separated), the source tree when uninstalled, the install datadir.
std::vector<std::string> data_path();

}  // namespace dofa
