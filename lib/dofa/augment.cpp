#include "augment.h"

#include <algorithm>
#include <cmath>

#include "dofa_config.h"
#if DOFA_HAVE_OPENCV
#include <opencv2/imgproc.hpp>
#endif

#include "error.h"
#include "preprocess.h"

namespace dofa {

uint64_t Rng::mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

#if DOFA_HAVE_OPENCV
namespace {

ImageView view_of(const cv::Mat& m) {
  if (m.depth() != CV_8U || (m.channels() != 1 && m.channels() != 3))
    throw Error("augment: expected an 8-bit grey or RGB picture, got " + std::to_string(m.channels()) + " channels");
  ImageView v;
  v.data = m.data;
  v.width = m.cols;
  v.height = m.rows;
  v.stride = m.step[0];
  v.format = m.channels() == 1 ? PixelFormat::Gray8 : PixelFormat::RGB;
  return v;
}

// torchvision's RandomResizedCrop.get_params, as OFA uses it: 10 tries at a
// random area and log-uniform aspect ratio, else the whole picture's centre
// at the nearest allowed ratio.
cv::Rect random_resized_crop(int w, int h, double smin, double smax, Rng& rng) {
  const double area = double(w) * h, lr0 = std::log(3.0 / 4.0), lr1 = std::log(4.0 / 3.0);
  for (int t = 0; t < 10; ++t) {
    double a = area * rng.uniform(smin, smax), ratio = std::exp(rng.uniform(lr0, lr1));
    int cw = int(std::lround(std::sqrt(a * ratio))), ch = int(std::lround(std::sqrt(a / ratio)));
    if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
      int y = rng.below(h - ch + 1), x = rng.below(w - cw + 1);
      return {x, y, cw, ch};
    }
  }
  double in_ratio = double(w) / h;
  int cw = w, ch = h;
  if (in_ratio < 3.0 / 4.0) ch = int(std::lround(w / (3.0 / 4.0)));
  else if (in_ratio > 4.0 / 3.0) cw = int(std::lround(h * (4.0 / 3.0)));
  return {(w - cw) / 2, (h - ch) / 2, cw, ch};
}

// torchvision's ColorJitter brightness and saturation (in that order): scale
// the pixels; blend with the grey picture (ITU-R 601-2 luma).
void jitter(cv::Mat& m, double brightness, double saturation, Rng& rng) {
  if (brightness > 0) {
    double f = rng.uniform(std::max(0.0, 1 - brightness), 1 + brightness);
    m.convertTo(m, CV_8U, f);
  }
  if (saturation > 0 && m.channels() == 3) {
    double f = rng.uniform(std::max(0.0, 1 - saturation), 1 + saturation);
    cv::Mat grey, grey3;
    cv::cvtColor(m, grey, cv::COLOR_RGB2GRAY);
    cv::cvtColor(grey, grey3, cv::COLOR_GRAY2RGB);
    cv::addWeighted(m, f, grey3, 1 - f, 0, m);
  }
}

}  // namespace

void train_transform(const Image& image, const Spec& spec, int r, Rng& rng, float* out) {
  const cv::Mat img(image.height, image.width, image.channels == 1 ? CV_8UC1 : CV_8UC3, const_cast<uint8_t*>(image.data));
  cv::Mat m;
  if (spec.train_pad > 0) {
    // Zero padding then a crop of the original size: a shift by up to pad pixels.
    const int p = spec.train_pad, dx = rng.below(2 * p + 1) - p, dy = rng.below(2 * p + 1) - p;
    m = cv::Mat::zeros(img.size(), img.type());
    cv::Rect src(std::max(0, dx), std::max(0, dy), img.cols - std::abs(dx), img.rows - std::abs(dy));
    cv::Rect dst(std::max(0, -dx), std::max(0, -dy), src.width, src.height);
    img(src).copyTo(m(dst));
  } else {
    cv::Rect c = random_resized_crop(img.cols, img.rows, spec.train_scale_min, spec.train_scale_max, rng);
    cv::resize(img(c), m, cv::Size(r, r), 0, 0, cv::INTER_LINEAR);
  }
  if (spec.train_flip && rng.below(2)) cv::flip(m, m, 1);
  jitter(m, spec.train_brightness, spec.train_saturation, rng);
  // The augmented picture is the whole input: no eval crop.
  preprocess(view_of(m), spec, r, out, 1.0);
}

#else
void train_transform(const Image&, const Spec&, int, Rng&, float*) {
  throw Error("training augmentation needs OpenCV, and this build has none");
}
#endif

void eval_transform(const Image& img, const Spec& spec, int r, float* out) { preprocess(img.view(), spec, r, out); }

}  // namespace dofa
