// The one definition of image -> input tensor: 8-bit image buffer -> crop,
// resize, normalise to a level's resolution, as the spec says. Training,
// calibration, evaluation and the element all go through it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "spec.h"

namespace dofa {

enum class PixelFormat { Gray8, RGB, BGR, RGBA, BGRA, RGBx, BGRx };
int bytes_per_pixel(PixelFormat f);

struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t stride = 0;  // bytes per row
  PixelFormat format = PixelFormat::RGB;
};

// Evaluation transform (OFA's: resize the shorter side to ceil(r / eval_crop),
// centre crop r x r), then RGB (or grey) planes normalised with the spec's
// mean and std. Writes in_channels * r * r floats (CHW) to out.
void preprocess(const ImageView& img, const Spec& spec, int r, float* out);

}  // namespace dofa
