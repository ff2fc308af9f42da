#include "dataset.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>

#include "dofa_config.h"
#if DOFA_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

#include "error.h"
#include "idx_file.h"

namespace dofa {

namespace {

const char* const kFmnistClasses[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
constexpr int kFmnistVal = 10000;
constexpr uint64_t kSplitSeed = 0;  // the val split never changes

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) throw Error(dir + ": cannot open folder");
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') out.push_back(e->d_name);
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool is_image_name(const std::string& n) {
  std::string l = n;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* ext : {".jpg", ".jpeg", ".png"})
    if (l.size() > std::strlen(ext) && l.compare(l.size() - std::strlen(ext), std::string::npos, ext) == 0)
      return true;
  return false;
}

}  // namespace

std::string fmnist_dir() {
  const char* env = std::getenv("DOFA_FMNIST_DIR");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

Dataset Dataset::open(const std::string& form, const std::string& option) {
  Dataset ds;
  ds.name_ = form;
  if (form.rfind("fmnist:", 0) == 0) {
    const std::string split = form.substr(7);
    if (split != "train" && split != "val" && split != "test")
      throw Error(option + " " + form + ": unknown Fashion-MNIST split '" + split + "', expected train, val or test");
    const std::string dir = fmnist_dir(), prefix = split == "test" ? "t10k" : "train";
    const std::string img_path = dir + "/" + prefix + "-images-idx3-ubyte.gz";
    const std::string lab_path = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
    IdxArray img = read_idx(img_path), lab = read_idx(lab_path);
    if (img.dims.size() != 3) throw Error(img_path + ": expected 3 dimensions (N, rows, cols)");
    if (lab.dims.size() != 1) throw Error(lab_path + ": expected 1 dimension (N)");
    if (img.dims[0] != lab.dims[0])
      throw Error(img_path + " holds " + std::to_string(img.dims[0]) + " images but " + lab_path + " " +
                  std::to_string(lab.dims[0]) + " labels");
    for (size_t i = 0; i < lab.data.size(); ++i)
      if (lab.data[i] >= 10)
        throw Error(lab_path + ": label " + std::to_string(lab.data[i]) + " at " + std::to_string(i) +
                    ", expected 0 to 9");
    const int n = int(img.dims[0]);
    ds.rows_ = int(img.dims[1]);
    ds.cols_ = int(img.dims[2]);
    ds.pixels_ = std::make_shared<const std::vector<uint8_t>>(std::move(img.data));
    ds.classes_.assign(std::begin(kFmnistClasses), std::end(kFmnistClasses));
    std::vector<int> order(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) order[size_t(i)] = i;
    if (split != "test") {
      if (n <= kFmnistVal) throw Error(img_path + ": " + std::to_string(n) + " images, too few for a validation split");
      // Fisher-Yates with a fixed generator: the same split on every machine.
      std::mt19937_64 rng(kSplitSeed);
      for (int i = n - 1; i > 0; --i) std::swap(order[size_t(i)], order[size_t(rng() % uint64_t(i + 1))]);
      if (split == "val") order.resize(kFmnistVal);
      else order.erase(order.begin(), order.begin() + kFmnistVal);
      std::sort(order.begin(), order.end());
    }
    ds.index_ = order;
    for (int i : order) ds.labels_.push_back(lab.data[size_t(i)]);
    return ds;
  }
  if (!is_dir(form))
    throw Error(option + " " + form + ": not fmnist:train|val|test nor a folder of class sub-folders");
#if !DOFA_HAVE_OPENCV
  throw Error(option + " " + form + ": image folders need OpenCV to decode JPEG and PNG, and this build has none");
#endif
  for (const std::string& c : list_dir(form)) {
    if (!is_dir(form + "/" + c)) continue;
    const int label = int(ds.classes_.size());
    ds.classes_.push_back(c);
    for (const std::string& f : list_dir(form + "/" + c))
      if (is_image_name(f)) {
        ds.files_.push_back(form + "/" + c + "/" + f);
        ds.labels_.push_back(label);
      }
  }
  if (ds.classes_.empty()) throw Error(form + ": no class sub-folders");
  if (ds.files_.empty()) throw Error(form + ": no .jpg, .jpeg or .png images in its class sub-folders");
  return ds;
}

ImageView Image::view() const {
  ImageView v;
  v.data = data;
  v.width = width;
  v.height = height;
  v.stride = stride();
  v.format = channels == 1 ? PixelFormat::Gray8 : PixelFormat::RGB;
  return v;
}

Image Dataset::image(int i) const {
  Image img;
  if (pixels_) {
    img.width = cols_, img.height = rows_, img.channels = 1;
    img.data = pixels_->data() + size_t(index_[size_t(i)]) * size_t(rows_ * cols_);
    img.owner = pixels_;
    return img;
  }
  const std::string& f = files_[size_t(i)];
#if DOFA_HAVE_OPENCV
  cv::Mat m = cv::imread(f, cv::IMREAD_COLOR);
  if (m.empty()) throw Error(f + ": not a readable image");
  cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  auto px = std::make_shared<std::vector<uint8_t>>(m.total() * 3);
  for (int y = 0; y < m.rows; ++y) std::copy(m.ptr<uint8_t>(y), m.ptr<uint8_t>(y) + m.cols * 3, px->data() + size_t(y) * m.cols * 3);
  img.width = m.cols, img.height = m.rows, img.channels = 3;
  img.data = px->data();
  img.owner = std::move(px);
  return img;
#else
  throw Error(f + ": this build has no OpenCV to decode images");
#endif
}

Dataset Dataset::first(int n) const {
  Dataset d = *this;
  if (n >= size()) return d;
  d.labels_.resize(size_t(n));
  if (!d.index_.empty()) d.index_.resize(size_t(n));
  if (!d.files_.empty()) d.files_.resize(size_t(n));
  return d;
}

}  // namespace dofa
