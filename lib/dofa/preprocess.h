// The one definition of image -> input tensor: 8-bit image buffer -> crop,
// resize, normalise to a level's resolution, as the spec says. Training,
// calibration, evaluation and the element all go through it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "spec.h"

namespace dofa {

// The video formats dofaclassify accepts. RGBx / BGRx ignore the fourth byte.
// NV12 and I420 are planar YUV 4:2:0 (one chroma sample per 2x2 luma pixels,
// (width + 1) / 2 x (height + 1) / 2 of them, as GStreamer lays out odd sizes).
enum class PixelFormat { Gray8, RGB, BGR, RGBA, BGRA, RGBx, BGRx, NV12, I420 };
// Bytes per pixel of `data`: packed formats' pixel size; 1 for the Y plane of NV12 / I420.
int bytes_per_pixel(PixelFormat f);
const char* format_name(PixelFormat f);  // GStreamer's name: "GRAY8", "RGB", ..., "NV12", "I420"

struct ImageView {
  const uint8_t* data = nullptr;  // packed pixels, or the Y plane of NV12 / I420
  int width = 0, height = 0;
  size_t stride = 0;  // bytes per row of `data`
  PixelFormat format = PixelFormat::RGB;
  // Chroma planes of NV12 (planes[0] = interleaved U, V) and I420 (planes[0] = U,
  // planes[1] = V), with their bytes per row; unused by the other formats.
  const uint8_t* planes[2] = {nullptr, nullptr};
  size_t plane_strides[2] = {0, 0};
};

// Evaluation transform (OFA's: resize the shorter side to ceil(r / eval_crop),
// centre crop r x r), then RGB (or grey) planes normalised with the spec's
// mean and std. Writes in_channels * r * r floats (CHW) to out.
//
// Every format takes the same path: the crop is shrunk by an integer factor
// (box means, as INTER_AREA), converted to the model's channels at that small
// size (grey with OpenCV's RGB2GRAY weights), resized to r bilinearly and
// normalised. Against OpenCV doing the same steps on the RGB picture it
// differs by rounding (at most 1 level of 255).
//
// YUV is BT.601 limited range, as OpenCV's COLOR_YUV2RGB_NV12 / _I420 (each
// 2x2 block of pixels shares its chroma). A 1-channel model reads luma only,
// expanded to full range, (Y - 16) * 255 / 219: what RGB -> grey of the
// converted picture gives, BT.601's luma weights cancelling the chroma. Since
// the colour of the box means is converted, not the means of converted colours,
// the result differs from full-size conversion followed by the same crop and
// resize where that conversion clips colours out of gamut (chroma edges):
// within 2 levels of 255 for all but under 1 % of values, at most 8
// (tests/test_preprocess.cpp). A malformed view (null plane, stride shorter
// than a row) throws dofa::Error naming the plane and the bytes expected.
void preprocess(const ImageView& img, const Spec& spec, int r, float* out);
// The same with another centre-crop fraction than the spec's eval_crop (1.0:
// the centre square of the whole picture; training's augmented pictures).
void preprocess(const ImageView& img, const Spec& spec, int r, float* out, double crop);

// The same transform computed value by value with preprocess_math.h, as the
// CUDA kernels compute it: their host-side reference. Equal to preprocess()
// within 1 level of 255 before normalisation (OpenCV's vectorised resize
// rounds its last step differently); slower.
void preprocess_reference(const ImageView& img, const Spec& spec, int r, float* out, double crop);

// Throws dofa::Error if `img` is malformed (naming the plane and the bytes
// expected) or the spec's channels or r cannot be produced.
void check_input(const ImageView& img, const Spec& spec, int r);

}  // namespace dofa
