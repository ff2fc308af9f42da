#include "gpu_preprocess.h"

#include "error.h"

namespace dofa::gpu {

namespace {

size_t aligned(size_t n) { return (n + 255) / 256 * 256; }

}  // namespace

const float* FramePreprocess::run(const ImageView& host, const Spec& spec, int r, double crop) {
  check_input(host, spec, r);
  pixel::Crop c = pixel::eval_crop(host.width, host.height, crop, r);
  const int ch = spec.in_channels;

  // The crop's rows travel, each plane in one contiguous copy (a pitched copy
  // from pageable memory goes row by row and costs more than the extra
  // columns); from an even row, so that 4:2:0 chroma keeps its phase. A grey
  // model reads no chroma.
  const int ys = c.y0 & ~1, h = c.y0 + c.n * c.factor - ys;
  const bool yuv = host.format == PixelFormat::NV12 || host.format == PixelFormat::I420;
  const int chroma_planes = !yuv || ch == 1 ? 0 : host.format == PixelFormat::NV12 ? 1 : 2;
  const size_t chroma_rows = size_t((h + 1) / 2);
  size_t bytes = aligned(host.stride * h);
  for (int p = 0; p < chroma_planes; ++p) bytes += aligned(host.plane_strides[p] * chroma_rows);
  auto* base = static_cast<uint8_t*>(frame_.reserve(bytes));
  ImageView dev = host;
  dev.height = h;
  dev.data = base;
  upload(base, host.data + size_t(ys) * host.stride, host.stride * h);
  uint8_t* next = base + aligned(host.stride * h);
  for (int p = 0; p < chroma_planes; ++p) {
    upload(next, host.planes[p] + size_t(ys / 2) * host.plane_strides[p], host.plane_strides[p] * chroma_rows);
    dev.planes[p] = next;
    next += aligned(host.plane_strides[p] * chroma_rows);
  }
  c.y0 -= ys;
  auto* scratch = static_cast<uint8_t*>(scratch_.reserve(size_t(ch) * c.n * c.n));
  auto* out = static_cast<float*>(out_.reserve(sizeof(float) * ch * r * r));
  launch_preprocess(dev, c, pixel::normalise_of(spec), ch, r, scratch, out);
  return out;
}

}  // namespace dofa::gpu
