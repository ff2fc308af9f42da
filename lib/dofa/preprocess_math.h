// The per-pixel arithmetic of the eval transform (preprocess.h), one
// definition for the CPU path, its per-pixel host reference and the CUDA
// kernels: every function here compiles as host and as device code, so the
// GPU computes what the CPU computes, operation for operation (nvcc runs with
// --fmad=false for that: no fused multiply-adds the host does not do).
#pragma once

#include <cstddef>
#include <cmath>
#include <cstdint>

#include "preprocess.h"

#ifdef __CUDACC__
#define DOFA_HD __host__ __device__
#else
#define DOFA_HD
#endif

namespace dofa::pixel {

// The source region of the eval transform and its integer shrink factor.
struct Crop {
  int x0 = 0, y0 = 0, side = 0;  // centred square, in source pixels
  int factor = 1;                // integer area-shrink factor; 1 = none
  int n = 0;                     // side after the shrink: floor(side / factor)
};

// OFA's eval crop (ofa-facts §4): the shorter side resized to ceil(r / crop),
// the centre r x r; in source pixels, a centred square of side r * short / R.
// Then an integer-factor area shrink before a bilinear resize to r: no
// aliasing, and cheap (1080p to 28x28 as one INTER_AREA step took 9.5 ms, as
// an x8 integer step then linear 0.55 ms; numbers.md §7). The last
// side % factor pixels are dropped.
Crop eval_crop(int width, int height, double crop, int r);

// (v / 255 - mean) / std as one multiply-add per channel.
struct Normalise {
  float scale[3] = {1, 1, 1}, shift[3] = {0, 0, 0};
};
Normalise normalise_of(const Spec& spec);

// Rounded and clamped in integers (|v| is far below 2^31 here; truncation of
// negatives is clamped to 0 anyway).
DOFA_HD inline uint8_t to_u8(float v) {
  const int t = int(v + 0.5f);
  return uint8_t(t < 0 ? 0 : t > 255 ? 255 : t);
}

// BT.601 limited range, OpenCV's fixed-point coefficients (Q20) from
// modules/imgproc/src/color_yuv.simd.hpp (ITUR_BT_601_*), so the result
// matches COLOR_YUV2RGB_NV12 / _I420 up to rounding.
constexpr float kQ20 = 1.0f / (1 << 20);
constexpr float kCY = 1220542 * kQ20, kCUB = 2116026 * kQ20, kCUG = -409993 * kQ20, kCVG = -852492 * kQ20,
                kCVR = 1673527 * kQ20;
// OpenCV's RGB -> grey weights (BT.601 luma, Q14: 4899, 9617, 1868).
constexpr float kGreyR = 4899.0f / 16384, kGreyG = 9617.0f / 16384, kGreyB = 1868.0f / 16384;

// Box means -> model channels. YUV: a grey model reads luma expanded to full
// range, (Y - 16) * 255 / 219 (RGB -> grey of the converted picture gives the
// same: BT.601's luma weights cancel the chroma terms).
DOFA_HD inline uint8_t luma_grey(float y) { return to_u8((y - 16.0f) * (255.0f / 219.0f)); }
// Y, Cb, Cr means to R, G, B, one channel per function (so that the CPU's
// row loop vectorises): yuv_luma's term, then each channel.
DOFA_HD inline float yuv_luma(float y) {
  const float d = y - 16.0f;
  return 0.5f * (d + fabsf(d)) * kCY;  // max(Y - 16, 0) as OpenCV clamps it, in a form that vectorises
}
DOFA_HD inline uint8_t yuv_r(float yy, float cr) { return to_u8(yy + kCVR * (cr - 128.0f)); }
DOFA_HD inline uint8_t yuv_g(float yy, float cb, float cr) { return to_u8(yy + kCUG * (cb - 128.0f) + kCVG * (cr - 128.0f)); }
DOFA_HD inline uint8_t yuv_b(float yy, float cb) { return to_u8(yy + kCUB * (cb - 128.0f)); }
DOFA_HD inline uint8_t rgb_grey(float R, float G, float B) { return to_u8(kGreyR * R + kGreyG * G + kGreyB * B); }

// The mean of one plane over the luma box [lx, lx + f) x [ly, ly + f): a plane
// subsampled by `sub` (2 for 4:2:0 chroma) counts each sample once per luma
// pixel it covers (the mean of the plane upsampled to luma size); `q` of `ch`
// interleaved channels.
DOFA_HD inline float box_mean(const uint8_t* plane, size_t stride, int ch, int q, int sub, int lx, int ly, int f) {
  uint64_t sum = 0;
  for (int y = ly; y < ly + f; ++y) {
    const uint8_t* row = plane + size_t(y / sub) * stride;
    for (int x = lx; x < lx + f; ++x) sum += row[size_t(x / sub) * ch + q];
  }
  return float(int64_t(sum)) * (1.0f / (float(f) * float(f)));
}

// Shrunk pixel (i, j) of the crop in the model's `channels` (1 or 3; a grey
// picture gives the same value to all three).
DOFA_HD inline void shrunk_pixel(const ImageView& img, const Crop& c, int channels, int i, int j, uint8_t* out) {
  const int f = c.factor, lx = c.x0 + i * f, ly = c.y0 + j * f;
  if (img.format == PixelFormat::NV12 || img.format == PixelFormat::I420) {
    const float y = box_mean(img.data, img.stride, 1, 0, 1, lx, ly, f);
    if (channels == 1) {
      out[0] = luma_grey(y);
      return;
    }
    const bool nv12 = img.format == PixelFormat::NV12;
    const float cb = box_mean(img.planes[0], img.plane_strides[0], nv12 ? 2 : 1, 0, 2, lx, ly, f);
    const float cr = nv12 ? box_mean(img.planes[0], img.plane_strides[0], 2, 1, 2, lx, ly, f)
                          : box_mean(img.planes[1], img.plane_strides[1], 1, 0, 2, lx, ly, f);
    const float yy = yuv_luma(y);
    out[0] = yuv_r(yy, cr), out[1] = yuv_g(yy, cb, cr), out[2] = yuv_b(yy, cb);
    return;
  }
  if (img.format == PixelFormat::Gray8) {
    const uint8_t g = to_u8(box_mean(img.data, img.stride, 1, 0, 1, lx, ly, f));
    for (int k = 0; k < channels; ++k) out[k] = g;
    return;
  }
  const int bpp = img.format == PixelFormat::RGB || img.format == PixelFormat::BGR ? 3 : 4;
  const bool bgr = img.format == PixelFormat::BGR || img.format == PixelFormat::BGRA || img.format == PixelFormat::BGRx;
  const float R = box_mean(img.data, img.stride, bpp, bgr ? 2 : 0, 1, lx, ly, f);
  const float G = box_mean(img.data, img.stride, bpp, 1, 1, lx, ly, f);
  const float B = box_mean(img.data, img.stride, bpp, bgr ? 0 : 2, 1, lx, ly, f);
  if (channels == 1) {
    out[0] = rgb_grey(R, G, B);
  } else {
    out[0] = to_u8(R), out[1] = to_u8(G), out[2] = to_u8(B);
  }
}

// One axis of OpenCV's 8-bit INTER_LINEAR (modules/imgproc/src/resize.cpp):
// source coordinate (d + 0.5) * n / r - 0.5, clamped at the edges, weights in
// Q11 (INTER_RESIZE_COEF_BITS), rounded half to even as saturate_cast does.
struct Tap {
  int s0 = 0, s1 = 0;
  int a0 = 2048, a1 = 0;
};
DOFA_HD inline int round_even(float v) {  // v >= 0
  const int i = int(v);
  const float frac = v - float(i);
  return frac > 0.5f || (frac == 0.5f && (i & 1)) ? i + 1 : i;
}
DOFA_HD inline Tap linear_tap(int d, int n, int r) {
  const double scale = 1.0 / (double(r) / double(n));
  float fx = float((d + 0.5) * scale - 0.5);
  int sx = fx < 0 ? -1 : int(fx);  // floor; negatives are clamped to 0 below
  fx -= float(sx);
  if (sx < 0) fx = 0, sx = 0;
  if (sx >= n - 1) fx = 0, sx = n - 1;
  Tap t;
  t.s0 = sx;
  t.s1 = sx + 1 < n ? sx + 1 : n - 1;
  t.a0 = round_even((1.0f - fx) * 2048);
  t.a1 = round_even(fx * 2048);
  return t;
}

// Bilinear value of an n x n 8-bit plane: rows in Q11, columns in Q11, the sum
// rounded back from Q22 (OpenCV's FixedPtCast); a plane of size r is read as is.
DOFA_HD inline uint8_t linear_pixel(const uint8_t* plane, int n, const Tap& tx, const Tap& ty) {
  const uint8_t* r0 = plane + size_t(ty.s0) * n;
  const uint8_t* r1 = plane + size_t(ty.s1) * n;
  const int64_t h0 = int64_t(r0[tx.s0]) * tx.a0 + int64_t(r0[tx.s1]) * tx.a1;
  const int64_t h1 = int64_t(r1[tx.s0]) * tx.a0 + int64_t(r1[tx.s1]) * tx.a1;
  const int64_t v = (ty.a0 * h0 + ty.a1 * h1 + (int64_t(1) << 21)) >> 22;
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace dofa::pixel
