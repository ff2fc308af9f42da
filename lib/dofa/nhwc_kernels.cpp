#include "nhwc_kernels.h"

#include <algorithm>
#include <cstring>

// x86-64 builds target the baseline ISA; the hot loops get an AVX2+FMA clone
// picked at load time (GCC function multi-versioning, an IFUNC). Not under
// ThreadSanitizer: its runtime is not up when the loader runs IFUNC resolvers.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define DOFA_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DOFA_HOT
#endif

// CBLAS (libblas.so.3), declared here: Debian ships its header under a
// per-implementation name. The enums are plain ints in the ABI.
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* b, int ldb, float beta, float* c, int ldc);

namespace dofa::nhwc {

namespace {

constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111;

// ATen's formulas (hardswish, hardsigmoid), so both kernels agree to rounding.
inline float activated(float v, Act a) {
  switch (a) {
    case Act::Relu: return std::max(v, 0.f);
    case Act::HSwish: return v * std::min(std::max(v + 3.f, 0.f), 6.f) / 6.f;
    case Act::HSigmoid: return std::min(std::max(v + 3.f, 0.f), 6.f) / 6.f;
    case Act::None: return v;
  }
  return v;
}

// One switch per span, not per value, so each loop vectorises.
inline void activate(float* __restrict p, int64_t count, Act a) {
  switch (a) {
    case Act::Relu:
      for (int64_t i = 0; i < count; ++i) p[i] = activated(p[i], Act::Relu);
      break;
    case Act::HSwish:
      for (int64_t i = 0; i < count; ++i) p[i] = activated(p[i], Act::HSwish);
      break;
    case Act::HSigmoid:
      for (int64_t i = 0; i < count; ++i) p[i] = activated(p[i], Act::HSigmoid);
      break;
    case Act::None: break;
  }
}

inline void set_bias(float* __restrict o, const float* __restrict b, int c) {
  if (b)
    std::memcpy(o, b, sizeof(float) * size_t(c));
  else
    std::memset(o, 0, sizeof(float) * size_t(c));
}

// The taps [first, end) of a k-wide window at output position o (stride,
// padding k/2) that fall inside a map `size` wide; the others read zero padding.
struct Taps {
  int first, end;
};
inline Taps inside(int o, int stride, int k, int size) {
  const int start = o * stride - k / 2;  // the input position of tap 0
  return {std::max(0, -start), std::min(k, size - start)};
}

// o += a * w, elementwise over c channels.
inline void multiply_add(float* __restrict o, const float* __restrict a, const float* __restrict w, int c) {
  for (int i = 0; i < c; ++i) o[i] += a[i] * w[i];
}

// o += s * w over c channels.
inline void scaled_add(float* __restrict o, float s, const float* __restrict w, int c) {
  for (int i = 0; i < c; ++i) o[i] += s * w[i];
}

}  // namespace

Shape conv_out(const Shape& in, int k, int stride, int c_out) {
  const int pad = k / 2;
  return {in.n, (in.h + 2 * pad - k) / stride + 1, (in.w + 2 * pad - k) / stride + 1, c_out};
}

DOFA_HOT void pointwise(const float* x, const Shape& in, const float* wt, const float* b, int c_out, Act act,
                        float* y) {
  // y[pixels][c_out] = x[pixels][c_in] * wt[c_in][c_out]
  cblas_sgemm(kCblasRowMajor, kCblasNoTrans, kCblasNoTrans, int(in.pixels()), c_out, in.c, 1.f, x, in.c, wt, c_out,
              0.f, y, c_out);
  for (int64_t p = 0; p < in.pixels(); ++p) {
    float* __restrict o = y + p * c_out;
    for (int i = 0; i < c_out; ++i) o[i] += b[i];
    activate(o, c_out, act);
  }
}

DOFA_HOT void depthwise(const float* x, const Shape& in, const float* wk, const float* b, int k, int stride, Act act,
                        float* y) {
  const Shape out = conv_out(in, k, stride, in.c);
  const int pad = k / 2, c = in.c;
  for (int img = 0; img < in.n; ++img)
    for (int oy = 0; oy < out.h; ++oy) {
      const Taps ky = inside(oy, stride, k, in.h);
      for (int ox = 0; ox < out.w; ++ox) {
        float* o = y + ((int64_t(img) * out.h + oy) * out.w + ox) * c;
        set_bias(o, b, c);
        const Taps kx = inside(ox, stride, k, in.w);
        for (int ty = ky.first; ty < ky.end; ++ty) {
          const float* row = x + ((int64_t(img) * in.h + oy * stride - pad + ty) * in.w) * c;
          for (int tx = kx.first; tx < kx.end; ++tx)
            multiply_add(o, row + int64_t(ox * stride - pad + tx) * c, wk + (ty * k + tx) * c, c);
        }
        activate(o, c, act);
      }
    }
}

DOFA_HOT void dense(const float* x, const Shape& in, const float* wk, const float* b, int c_out, int k, int stride,
                    Act act, float* y) {
  const Shape out = conv_out(in, k, stride, c_out);
  const int pad = k / 2, c_in = in.c;
  for (int img = 0; img < in.n; ++img)
    for (int oy = 0; oy < out.h; ++oy) {
      const Taps ky = inside(oy, stride, k, in.h);
      for (int ox = 0; ox < out.w; ++ox) {
        float* o = y + ((int64_t(img) * out.h + oy) * out.w + ox) * c_out;
        set_bias(o, b, c_out);
        const Taps kx = inside(ox, stride, k, in.w);
        for (int ty = ky.first; ty < ky.end; ++ty)
          for (int tx = kx.first; tx < kx.end; ++tx) {
            const float* px =
                x + ((int64_t(img) * in.h + oy * stride - pad + ty) * in.w + ox * stride - pad + tx) * c_in;
            const float* w = wk + int64_t((ty * k + tx) * c_in) * c_out;
            for (int ci = 0; ci < c_in; ++ci) scaled_add(o, px[ci], w + int64_t(ci) * c_out, c_out);
          }
        activate(o, c_out, act);
      }
    }
}

DOFA_HOT void mean_pixels(const float* x, const Shape& in, float* y) {
  const int64_t per_image = int64_t(in.h) * in.w;
  for (int img = 0; img < in.n; ++img) {
    float* __restrict o = y + int64_t(img) * in.c;
    std::fill(o, o + in.c, 0.f);
    const float* px = x + int64_t(img) * per_image * in.c;
    for (int64_t p = 0; p < per_image; ++p)
      for (int i = 0; i < in.c; ++i) o[i] += px[p * in.c + i];
    for (int i = 0; i < in.c; ++i) o[i] /= float(per_image);
  }
}

DOFA_HOT void linear(const float* x, int n, int c_in, const float* wt, const float* b, int c_out, Act act, float* y) {
  // Accumulated row by row of wt, so the loop runs over outputs and
  // vectorises without reassociating a dot product.
  for (int r = 0; r < n; ++r) {
    float* o = y + int64_t(r) * c_out;
    set_bias(o, b, c_out);
    for (int i = 0; i < c_in; ++i) scaled_add(o, x[int64_t(r) * c_in + i], wt + int64_t(i) * c_out, c_out);
    activate(o, c_out, act);
  }
}

DOFA_HOT void squeeze_excite(float* x, const Shape& in, const float* rwt, const float* rb, int mid, const float* ewt,
                             const float* eb, float* scratch) {
  float* pooled = scratch;
  float* squeezed = pooled + int64_t(in.n) * in.c;
  float* gate = squeezed + int64_t(in.n) * mid;
  mean_pixels(x, in, pooled);
  linear(pooled, in.n, in.c, rwt, rb, mid, Act::Relu, squeezed);
  linear(squeezed, in.n, mid, ewt, eb, in.c, Act::HSigmoid, gate);
  const int64_t per_image = int64_t(in.h) * in.w;
  for (int img = 0; img < in.n; ++img) {
    const float* g = gate + int64_t(img) * in.c;
    float* px = x + int64_t(img) * per_image * in.c;
    for (int64_t p = 0; p < per_image; ++p) {
      float* __restrict o = px + p * in.c;
      for (int i = 0; i < in.c; ++i) o[i] *= g[i];
    }
  }
}

DOFA_HOT void add(float* y, const float* x, int64_t count) {
  float* __restrict o = y;
  const float* __restrict a = x;
  for (int64_t i = 0; i < count; ++i) o[i] += a[i];
}

}  // namespace dofa::nhwc
