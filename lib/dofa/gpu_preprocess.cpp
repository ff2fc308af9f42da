#include "gpu_preprocess.h"

#include "error.h"

namespace dofa::gpu {

namespace {

size_t aligned(size_t n) { return (n + 255) / 256 * 256; }

}  // namespace

const float* FramePreprocess::run(const ImageView& host, const Spec& spec, int r, double crop) {
  check_input(host, spec, r);
  const pixel::Crop c = pixel::eval_crop(host.width, host.height, crop, r);

  // The frame's planes, one after another in one device buffer.
  const size_t chroma_rows = (size_t(host.height) + 1) / 2;
  const int extra = host.format == PixelFormat::NV12 ? 1 : host.format == PixelFormat::I420 ? 2 : 0;
  size_t sizes[3] = {host.stride * size_t(host.height), 0, 0};
  for (int p = 0; p < extra; ++p) sizes[1 + p] = host.plane_strides[p] * chroma_rows;
  auto* base = static_cast<uint8_t*>(frame_.reserve(aligned(sizes[0]) + aligned(sizes[1]) + sizes[2]));
  ImageView dev = host;
  dev.data = base;
  upload(base, host.data, sizes[0]);
  uint8_t* next = base + aligned(sizes[0]);
  for (int p = 0; p < extra; ++p) {
    dev.planes[p] = next;
    upload(next, host.planes[p], sizes[1 + p]);
    next += aligned(sizes[1 + p]);
  }
  const int ch = spec.in_channels;
  auto* scratch = static_cast<uint8_t*>(scratch_.reserve(size_t(ch) * c.n * c.n));
  auto* out = static_cast<float*>(out_.reserve(sizeof(float) * ch * r * r));
  launch_preprocess(dev, c, pixel::normalise_of(spec), ch, r, scratch, out);
  return out;
}

}  // namespace dofa::gpu
