// The level's own CPU kernels (internal): plain loops over float maps stored
// pixel-major (NHWC: [image][row][column][channel]), written into buffers the
// caller owns. A level of the built-in model is about a hundred small ops;
// through ATen each one costs a dispatch and an allocation (about 5-10 us,
// reference/numbers.md §3.5), which was three quarters of the smallest
// level's time. Loops run over channels innermost, so the compiler
// vectorises them; the pointwise GEMMs go to the BLAS ATen uses.
#pragma once

#include <cstdint>

#include "spec.h"

namespace dofa::nhwc {

// A map's shape: n images of h x w pixels of c channels.
struct Shape {
  int n = 1, h = 0, w = 0, c = 0;
  int64_t pixels() const { return int64_t(n) * h * w; }
  int64_t size() const { return pixels() * c; }
};

// Output shape of a k x k conv with stride s and padding k/2.
Shape conv_out(const Shape& in, int k, int stride, int c_out);

// y = act(x * wt + b), a 1x1 stride-1 conv as one GEMM over all pixels;
// wt: [c_in][c_out].
void pointwise(const float* x, const Shape& in, const float* wt, const float* b, int c_out, Act act, float* y);

// Depthwise k x k conv, stride s, padding k/2; wk: [k][k][c].
void depthwise(const float* x, const Shape& in, const float* wk, const float* b, int k, int stride, Act act,
               float* y);

// Dense k x k conv, stride s, padding k/2; wk: [k][k][c_in][c_out]. For the
// first conv, whose input has one to three channels.
void dense(const float* x, const Shape& in, const float* wk, const float* b, int c_out, int k, int stride, Act act,
           float* y);

// Per image: y[c] = mean of x over its pixels.
void mean_pixels(const float* x, const Shape& in, float* y);

// Per row of x ([n][c_in]): y = act(x * wt + b); wt: [c_in][c_out]; b may be null.
void linear(const float* x, int n, int c_in, const float* wt, const float* b, int c_out, Act act, float* y);

// Squeeze-and-excitation in place (OFA's SEModule): x *= hsigmoid(expand(relu(reduce(mean(x))))).
// rwt: [c][mid], ewt: [mid][c]; scratch holds n * (c + mid + c) floats.
void squeeze_excite(float* x, const Shape& in, const float* rwt, const float* rb, int mid, const float* ewt,
                    const float* eb, float* scratch);

// y += x, count floats.
void add(float* y, const float* x, int64_t count);

}  // namespace dofa::nhwc
