// Labelled images for training, calibration, search and evaluation.
//   fmnist:train | fmnist:val | fmnist:test  Fashion-MNIST (Debian's
//       dataset-fashion-mnist; $DOFA_FMNIST_DIR overrides the folder). val is
//       a fixed 10,000-image split held out of the 60,000 training images
//       (as OFA's valid_size, ofa-facts §3); train is the other 50,000.
//   DIR  an ImageNet-style folder: one sub-folder of JPEG/PNG images per class,
//       classes in name order.
#pragma once


#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "preprocess.h"

namespace dofa {

// An 8-bit grey or RGB picture (channel order R, G, B), rows packed; the
// pixels live as long as any copy of it.
struct Image {
  int width = 0, height = 0, channels = 1;
  const uint8_t* data = nullptr;
  std::shared_ptr<const std::vector<uint8_t>> owner;
  size_t stride() const { return size_t(width) * size_t(channels); }
  uint8_t at(int x, int y, int c = 0) const { return data[size_t(y) * stride() + size_t(x) * channels + c]; }
  ImageView view() const;  // GRAY8 or RGB
};

class Dataset {
 public:
  // `option` names where the form came from in errors (--data, --val, --test).
  static Dataset open(const std::string& form, const std::string& option = "--data");

  int size() const { return int(labels_.size()); }
  int label(int i) const { return labels_[size_t(i)]; }
  // Folder images are read on demand (with OpenCV; builds without it refuse
  // folders at open()); an unreadable one throws Error naming the file.
  Image image(int i) const;
  const std::vector<std::string>& classes() const { return classes_; }
  const std::string& name() const { return name_; }
  // The first n images (n >= size(): all), for smoke runs.
  Dataset first(int n) const;

 private:
  std::string name_;
  std::vector<std::string> classes_;
  std::vector<int> labels_;
  // Fashion-MNIST: shared pixel array and the rows of this split.
  std::shared_ptr<const std::vector<uint8_t>> pixels_;
  int rows_ = 0, cols_ = 0;
  std::vector<int> index_;
  std::vector<std::string> files_;  // folder
};

// Fashion-MNIST's folder: $DOFA_FMNIST_DIR or /usr/share/datasets/fashion-mnist.
std::string fmnist_dir();

}  // namespace dofa
