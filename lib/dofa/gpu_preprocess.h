// The eval transform on the GPU: the frame is uploaded once, then two kernels
// compute preprocess_math.h's arithmetic value by value: one shrinks the crop
// by its integer factor and converts it to the model's channels, one samples
// that bilinearly to r x r and normalises straight into the input tensor.
#pragma once

#include <cstdint>

#include "gpu.h"
#include "preprocess_math.h"

namespace dofa::gpu {

// The kernels (gpu_preprocess.cu). `dev` points to device memory; scratch
// holds channels * c.n * c.n bytes, out channels * r * r floats (CHW).
void launch_preprocess(const ImageView& dev, const pixel::Crop& c, const pixel::Normalise& nm, int channels, int r,
                       uint8_t* scratch, float* out);

class FramePreprocess {
 public:
  // A host frame to spec.in_channels * r * r floats in device memory, valid
  // until the next call. Throws dofa::Error on a malformed view.
  const float* run(const ImageView& host, const Spec& spec, int r, double crop);

 private:
  Buffer frame_, scratch_, out_;
};

}  // namespace dofa::gpu
