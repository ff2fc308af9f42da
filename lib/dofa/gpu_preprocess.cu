// The kernels of gpu_preprocess.h: one thread per shrunk pixel, then one per
// output value, each running the shared per-pixel arithmetic.
#include <cuda_runtime.h>

#include "error.h"
#include "gpu_preprocess.h"

namespace dofa::gpu {

namespace {

__global__ void shrink_convert(ImageView img, pixel::Crop c, int channels, uint8_t* out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x, j = blockIdx.y * blockDim.y + threadIdx.y;
  if (i >= c.n || j >= c.n) return;
  uint8_t v[3];
  pixel::shrunk_pixel(img, c, channels, i, j, v);
  const size_t plane = size_t(c.n) * c.n;
  for (int k = 0; k < channels; ++k) out[k * plane + size_t(j) * c.n + i] = v[k];
}

__global__ void resize_normalise(const uint8_t* shrunk, int n, int r, pixel::Normalise nm, float* out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y, k = blockIdx.z;
  if (x >= r || y >= r) return;
  const uint8_t* p = shrunk + size_t(k) * n * n;
  const uint8_t u = n == r ? p[size_t(y) * n + x]
                           : pixel::linear_pixel(p, n, pixel::linear_tap(x, n, r), pixel::linear_tap(y, n, r));
  out[(size_t(k) * r + y) * r + x] = u * nm.scale[k] + nm.shift[k];
}

}  // namespace

void launch_preprocess(const ImageView& dev, const pixel::Crop& c, const pixel::Normalise& nm, int channels, int r,
                       uint8_t* scratch, float* out) {
  const dim3 block(16, 16);
  shrink_convert<<<dim3((c.n + 15) / 16, (c.n + 15) / 16), block>>>(dev, c, channels, scratch);
  resize_normalise<<<dim3((r + 15) / 16, (r + 15) / 16, channels), block>>>(scratch, c.n, r, nm, out);
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw Error(std::string("CUDA preprocessing kernels: ") + cudaGetErrorString(e));
}

}  // namespace dofa::gpu
