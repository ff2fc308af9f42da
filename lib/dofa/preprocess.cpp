#include "preprocess.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"

namespace dofa {

int bytes_per_pixel(PixelFormat f) {
  switch (f) {
    case PixelFormat::Gray8: return 1;
    case PixelFormat::RGB:
    case PixelFormat::BGR: return 3;
    default: return 4;
  }
}

namespace {

// Converts the resized patch to the spec's channel layout: grey, or RGB.
cv::Mat to_model_channels(const cv::Mat& m, PixelFormat f, int channels) {
  cv::Mat out;
  if (channels == 1) {
    switch (f) {
      case PixelFormat::Gray8: return m;
      case PixelFormat::RGB: cv::cvtColor(m, out, cv::COLOR_RGB2GRAY); break;
      case PixelFormat::BGR: cv::cvtColor(m, out, cv::COLOR_BGR2GRAY); break;
      case PixelFormat::RGBA:
      case PixelFormat::RGBx: cv::cvtColor(m, out, cv::COLOR_RGBA2GRAY); break;
      case PixelFormat::BGRA:
      case PixelFormat::BGRx: cv::cvtColor(m, out, cv::COLOR_BGRA2GRAY); break;
    }
    return out;
  }
  switch (f) {
    case PixelFormat::Gray8: cv::cvtColor(m, out, cv::COLOR_GRAY2RGB); break;
    case PixelFormat::RGB: return m;
    case PixelFormat::BGR: cv::cvtColor(m, out, cv::COLOR_BGR2RGB); break;
    case PixelFormat::RGBA:
    case PixelFormat::RGBx: cv::cvtColor(m, out, cv::COLOR_RGBA2RGB); break;
    case PixelFormat::BGRA:
    case PixelFormat::BGRx: cv::cvtColor(m, out, cv::COLOR_BGRA2RGB); break;
  }
  return out;
}

}  // namespace

void preprocess(const ImageView& img, const Spec& spec, int r, float* out) {
  if (!img.data || img.width <= 0 || img.height <= 0)
    throw Error("preprocess: empty image (" + std::to_string(img.width) + "x" + std::to_string(img.height) + ")");
  if (spec.in_channels != 1 && spec.in_channels != 3)
    throw Error("preprocess: spec " + spec.name + " has " + std::to_string(spec.in_channels) +
                " input channels, expected 1 or 3");
  const int bpp = bytes_per_pixel(img.format);
  if (img.stride < size_t(img.width) * bpp)
    throw Error("preprocess: stride " + std::to_string(img.stride) + " is shorter than a row");
  cv::Mat src(img.height, img.width, CV_8UC(bpp), const_cast<uint8_t*>(img.data), img.stride);

  // Eval crop (ofa-facts §4): shorter side to R = ceil(r / crop), centre r x r.
  // In source pixels that is a centred square of side r * short / R.
  const int short_side = std::min(img.width, img.height);
  const double resized_short = std::ceil(r / spec.eval_crop);
  const int side = std::max(1, std::min(short_side, int(std::lround(r * short_side / resized_short))));
  cv::Rect roi((img.width - side) / 2, (img.height - side) / 2, side, side);
  cv::Mat patch = src(roi);

  // An integer-factor area shrink first (OpenCV's fast path, no aliasing),
  // then a bilinear resize to r (numbers.md §7).
  const int factor = side / r;
  if (factor >= 2) {
    cv::Mat shrunk;
    int trimmed = side / factor * factor;
    cv::resize(patch(cv::Rect(0, 0, trimmed, trimmed)), shrunk, cv::Size(trimmed / factor, trimmed / factor), 0, 0,
               cv::INTER_AREA);
    patch = shrunk;
  }
  cv::Mat sized;
  if (patch.cols == r && patch.rows == r)
    sized = patch;
  else
    cv::resize(patch, sized, cv::Size(r, r), 0, 0, cv::INTER_LINEAR);
  cv::Mat pix = to_model_channels(sized, img.format, spec.in_channels);

  const int c = spec.in_channels;
  for (int ch = 0; ch < c; ++ch) {
    const float scale = 1.0f / (255.0f * spec.std[ch]);
    const float shift = -spec.mean[ch] / spec.std[ch];
    float* plane = out + size_t(ch) * r * r;
    for (int y = 0; y < r; ++y) {
      const uint8_t* row = pix.ptr<uint8_t>(y);
      for (int x = 0; x < r; ++x) plane[y * r + x] = row[x * c + ch] * scale + shift;
    }
  }
}

}  // namespace dofa
