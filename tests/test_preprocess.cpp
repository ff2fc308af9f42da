// Preprocessing of every video format the element accepts against a
// straightforward reference (full-size conversion to RGB, then the same crop
// and resize with OpenCV), packed formats against RGB, odd sizes, padded
// strides, grey models, malformed views.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "error.h"
#include "preprocess.h"
#include "spec.h"
#include "test_util.h"

using namespace dofa;

namespace {

// tiny-mbv3: 3 channels, mean 0.5, std 0.25, eval crop 1.0.
Spec rgb_spec(double eval_crop = 1.0) {
  Spec s = Spec::load(dofa_test::fixtures() + "/tiny-mbv3.json");
  s.eval_crop = eval_crop;
  return s;
}

// The same with one input channel (a Fashion-MNIST-like grey model).
Spec grey_spec(double eval_crop = 1.0) {
  Spec s = rgb_spec(eval_crop);
  s.in_channels = 1;
  s.mean = {0.5f};
  s.std = {0.25f};
  return s;
}

// A picture with what video has: smooth gradients, saturated shapes with
// sharp edges, fine texture. RGB, w x h, tightly packed.
std::vector<uint8_t> picture(int w, int h) {
  std::vector<uint8_t> px(size_t(w) * h * 3);
  uint32_t noise = 12345;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &px[(size_t(y) * w + x) * 3];
      noise = noise * 1664525u + 1013904223u;
      const int n = int(noise >> 28) - 8;  // +-8
      int r = 40 + 150 * x / w + n, g = 60 + 120 * y / h + n, b = 200 - 120 * x / w + n;
      const int dx = x - w / 3, dy = y - h / 2;
      if (dx * dx + dy * dy < (h / 4) * (h / 4)) r = 230, g = 40, b = 30;  // red disc
      if (x > 2 * w / 3 && x < 2 * w / 3 + w / 6 && y > h / 5 && y < h / 2) r = 20, g = 180, b = 60;
      if ((x / 3 + y / 3) % 7 == 0 && y > 3 * h / 4) r = g = b = 235;  // fine stripes
      p[0] = uint8_t(std::clamp(r, 0, 255));
      p[1] = uint8_t(std::clamp(g, 0, 255));
      p[2] = uint8_t(std::clamp(b, 0, 255));
    }
  return px;
}

// A planar 4:2:0 picture in the layout GStreamer gives odd sizes: chroma
// (w + 1) / 2 x (h + 1) / 2, rows padded to the strides given.
struct Yuv {
  int w = 0, h = 0;
  size_t ys = 0, cs = 0;  // luma and (per plane) chroma strides
  std::vector<uint8_t> y, u, v;
};

Yuv yuv_picture(int w, int h, size_t pad) {
  Yuv p;
  p.w = w, p.h = h;
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  p.ys = size_t(w) + pad, p.cs = size_t(cw) + pad;
  p.y.assign(p.ys * h, 0xee);  // padding filled with a value no pixel has nearby
  p.u.assign(p.cs * ch, 0xee);
  p.v.assign(p.cs * ch, 0xee);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) p.y[y * p.ys + x] = uint8_t(16 + (x * 150 / w + y * 69 / h + (x * 7 + y * 13) % 11));
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x) {
      p.u[y * p.cs + x] = uint8_t(90 + x * 70 / cw + (x % 3) * 4);
      p.v[y * p.cs + x] = uint8_t(170 - y * 80 / ch + (y % 2) * 6);
    }
  return p;
}

// Interleaves U and V into one plane (NV12's layout), same padding.
std::vector<uint8_t> nv12_uv(const Yuv& p) {
  const int cw = (p.w + 1) / 2, ch = (p.h + 1) / 2;
  const size_t stride = 2 * p.cs;
  std::vector<uint8_t> uv(stride * ch, 0xee);
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x) {
      uv[y * stride + 2 * x] = p.u[y * p.cs + x];
      uv[y * stride + 2 * x + 1] = p.v[y * p.cs + x];
    }
  return uv;
}

ImageView i420_view(const Yuv& p) {
  ImageView v{p.y.data(), p.w, p.h, p.ys, PixelFormat::I420};
  v.planes[0] = p.u.data(), v.planes[1] = p.v.data();
  v.plane_strides[0] = v.plane_strides[1] = p.cs;
  return v;
}

ImageView nv12_view(const Yuv& p, const std::vector<uint8_t>& uv) {
  ImageView v{p.y.data(), p.w, p.h, p.ys, PixelFormat::NV12};
  v.planes[0] = uv.data();
  v.plane_strides[0] = 2 * p.cs;
  return v;
}

// The reference conversion, pixel by pixel at full size: BT.601 limited range
// with the textbook coefficients, each pixel taking its 2x2 block's chroma.
std::vector<uint8_t> reference_rgb(const Yuv& p) {
  std::vector<uint8_t> rgb(size_t(p.w) * p.h * 3);
  auto u8 = [](double v) { return uint8_t(std::clamp(std::lround(v), 0L, 255L)); };
  for (int y = 0; y < p.h; ++y)
    for (int x = 0; x < p.w; ++x) {
      const double Y = 1.164 * std::max(0, p.y[y * p.ys + x] - 16);
      const double U = p.u[(y / 2) * p.cs + x / 2] - 128.0, V = p.v[(y / 2) * p.cs + x / 2] - 128.0;
      uint8_t* o = &rgb[(size_t(y) * p.w + x) * 3];
      o[0] = u8(Y + 1.596 * V);
      o[1] = u8(Y - 0.392 * U - 0.813 * V);
      o[2] = u8(Y + 2.017 * U);
    }
  return rgb;
}

// The straightforward reference of the eval transform on an RGB picture, with
// OpenCV only: OFA's centre crop, an INTER_AREA shrink by the integer factor,
// INTER_LINEAR to r, RGB -> grey for a grey model, normalise.
std::vector<float> reference(const std::vector<uint8_t>& rgb, int w, int h, const Spec& s, int r) {
  const int short_side = std::min(w, h);
  const double resized = std::ceil(r / s.eval_crop);
  const int side = std::max(1, std::min(short_side, int(std::lround(r * short_side / resized))));
  const int factor = side / r >= 2 ? side / r : 1, n = side / factor;
  cv::Mat img(h, w, CV_8UC3, const_cast<uint8_t*>(rgb.data()));
  cv::Mat patch = img(cv::Rect((w - side) / 2, (h - side) / 2, n * factor, n * factor)), shrunk, sized;
  if (factor > 1) cv::resize(patch, shrunk, cv::Size(n, n), 0, 0, cv::INTER_AREA);
  else shrunk = patch;
  cv::resize(shrunk, sized, cv::Size(r, r), 0, 0, cv::INTER_LINEAR);
  if (s.in_channels == 1) cv::cvtColor(sized, sized, cv::COLOR_RGB2GRAY);
  const int c = s.in_channels;
  std::vector<float> out(size_t(c) * r * r);
  for (int k = 0; k < c; ++k)
    for (int y = 0; y < r; ++y)
      for (int x = 0; x < r; ++x)
        out[(size_t(k) * r + y) * r + x] = (sized.at<uint8_t>(y, x * c + k) / 255.0f - s.mean[k]) / s.std[k];
  return out;
}

std::vector<float> run(const ImageView& v, const Spec& s, int r) {
  std::vector<float> out(size_t(s.in_channels) * r * r, -99.0f);
  preprocess(v, s, r, out.data());
  return out;
}

// Differences in 8-bit levels (before normalisation): the largest, and the
// share of values more than `tol` levels apart.
struct Diff {
  double max = 0, share_over = 0;
};

Diff diff(const std::vector<float>& a, const std::vector<float>& b, const Spec& s, double tol) {
  ck_assert_uint_eq(a.size(), b.size());
  Diff d;
  const size_t plane = a.size() / s.in_channels;
  size_t over = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double levels = std::fabs(a[i] - b[i]) * s.std[i / plane] * 255.0;
    d.max = std::max(d.max, levels);
    if (levels > tol + 1e-3) ++over;
  }
  d.share_over = double(over) / a.size();
  return d;
}

void assert_same(const std::vector<float>& a, const std::vector<float>& b, const Spec& s, const char* what) {
  Diff d = diff(a, b, s, 0);
  ck_assert_msg(d.max < 1e-3, "%s: differs by %.3f levels", what, d.max);
}

// The documented tolerance against the reference: within 2 levels at all but
// 1 % of the values; the rest (averages of colours the reference clips) stay
// within a few levels.
void assert_near_reference(const std::vector<float>& got, const std::vector<float>& ref, const Spec& s,
                           const std::string& what) {
  Diff d = diff(got, ref, s, 2.0);
  ck_assert_msg(d.share_over <= 0.01, "%s: %.2f %% of values more than 2 levels off (max %.1f)", what.c_str(),
                100 * d.share_over, d.max);
  ck_assert_msg(d.max <= 8.0, "%s: a value %.1f levels off", what.c_str(), d.max);
}

// The picture in a packed format, rows padded by `pad` bytes.
std::vector<uint8_t> packed(const std::vector<uint8_t>& rgb, int w, int h, PixelFormat f, size_t pad) {
  const int bpp = bytes_per_pixel(f);
  const size_t stride = size_t(w) * bpp + pad;
  std::vector<uint8_t> out(stride * h, 0xee);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = &rgb[(size_t(y) * w + x) * 3];
      uint8_t* o = &out[y * stride + size_t(x) * bpp];
      switch (f) {
        case PixelFormat::Gray8: o[0] = p[1]; break;
        case PixelFormat::RGB: o[0] = p[0], o[1] = p[1], o[2] = p[2]; break;
        case PixelFormat::BGR: o[0] = p[2], o[1] = p[1], o[2] = p[0]; break;
        case PixelFormat::RGBA:
        case PixelFormat::RGBx: o[0] = p[0], o[1] = p[1], o[2] = p[2], o[3] = 77; break;
        case PixelFormat::BGRA:
        case PixelFormat::BGRx: o[0] = p[2], o[1] = p[1], o[2] = p[0], o[3] = 77; break;
        default: ck_abort_msg("not a packed format");
      }
    }
  return out;
}

const PixelFormat kPacked[] = {PixelFormat::RGB,  PixelFormat::BGR,  PixelFormat::RGBA,
                               PixelFormat::BGRA, PixelFormat::RGBx, PixelFormat::BGRx};

// Sizes and resolutions that exercise no shrink, even and odd shrink factors,
// odd crop offsets and odd frame sizes.
struct Case {
  int w, h, r;
  double crop;
};
const Case kCases[] = {{33, 17, 24, 1.0},  {64, 48, 24, 1.0},   {200, 150, 32, 0.875},
                       {321, 241, 28, 1.0}, {640, 360, 32, 0.875}, {1280, 720, 24, 0.875}};

}  // namespace

START_TEST(test_packed_formats_match_rgb) {
  // RGB against the reference: rounding apart (the reference rounds after
  // each OpenCV step); every other packed format gives RGB's numbers.
  for (const Case& c : kCases) {
    auto rgb = picture(c.w, c.h);
    for (const Spec& s : {rgb_spec(c.crop), grey_spec(c.crop)}) {
      const auto want = run({rgb.data(), c.w, c.h, size_t(c.w) * 3, PixelFormat::RGB}, s, c.r);
      Diff d = diff(want, reference(rgb, c.w, c.h, s, c.r), s, 1.0);
      ck_assert_msg(d.max <= 1.0 + 1e-3, "RGB %dx%d, %d channel(s): %.1f levels from the reference", c.w, c.h,
                    s.in_channels, d.max);
      for (PixelFormat f : kPacked)
        for (size_t pad : {size_t(0), size_t(13)}) {
          auto px = packed(rgb, c.w, c.h, f, pad);
          const size_t stride = size_t(c.w) * bytes_per_pixel(f) + pad;
          const std::string what = std::string(format_name(f)) + " " + std::to_string(c.w) + "x" +
                                   std::to_string(c.h) + " pad " + std::to_string(pad);
          assert_same(run({px.data(), c.w, c.h, stride, f}, s, c.r), want, s, what.c_str());
        }
    }
  }
}
END_TEST

START_TEST(test_gray8_matches_grey_rgb) {
  // GRAY8 is the RGB picture (g, g, g), for either model; a grey model reads it unchanged.
  for (const Case& c : kCases) {
    auto rgb = picture(c.w, c.h);
    for (size_t i = 0; i < rgb.size(); i += 3) rgb[i] = rgb[i + 2] = rgb[i + 1];
    auto grey = packed(rgb, c.w, c.h, PixelFormat::Gray8, 5);
    for (const Spec& s : {rgb_spec(c.crop), grey_spec(c.crop)})
      assert_same(run({grey.data(), c.w, c.h, size_t(c.w) + 5, PixelFormat::Gray8}, s, c.r),
                  run({rgb.data(), c.w, c.h, size_t(c.w) * 3, PixelFormat::RGB}, s, c.r), s, "GRAY8");
  }
}
END_TEST

START_TEST(test_reference_matches_opencv) {
  // The test's own reference conversion is OpenCV's COLOR_YUV2RGB_I420 up to rounding.
  Yuv p = yuv_picture(64, 48, 0);
  std::vector<uint8_t> i420(p.y);
  i420.insert(i420.end(), p.u.begin(), p.u.end());
  i420.insert(i420.end(), p.v.begin(), p.v.end());
  cv::Mat cv_rgb;
  cv::cvtColor(cv::Mat(48 * 3 / 2, 64, CV_8UC1, i420.data()), cv_rgb, cv::COLOR_YUV2RGB_I420);
  auto ref = reference_rgb(p);
  for (size_t i = 0; i < ref.size(); ++i) ck_assert_int_le(std::abs(int(ref[i]) - int(cv_rgb.data[i])), 1);
}
END_TEST

START_TEST(test_yuv_matches_reference) {
  for (const Case& c : kCases)
    for (size_t pad : {size_t(0), size_t(7)}) {
      Yuv p = yuv_picture(c.w, c.h, pad);
      auto uv = nv12_uv(p);
      auto ref_rgb = reference_rgb(p);
      for (const Spec& s : {rgb_spec(c.crop), grey_spec(c.crop)}) {
        const auto ref = reference(ref_rgb, c.w, c.h, s, c.r);
        const std::string what = std::to_string(c.w) + "x" + std::to_string(c.h) + " r " + std::to_string(c.r) +
                                 " pad " + std::to_string(pad) + " channels " + std::to_string(s.in_channels);
        const auto nv12 = run(nv12_view(p, uv), s, c.r);
        assert_near_reference(nv12, ref, s, "NV12 " + what);
        // One picture, two layouts: the same numbers.
        assert_same(run(i420_view(p), s, c.r), nv12, s, ("I420 " + what).c_str());
      }
    }
}
END_TEST

START_TEST(test_yuv_of_a_real_picture) {
  // An RGB picture through OpenCV's RGB -> I420 and back: the shrink-first path
  // lands where the full-size path does, at 1080p as the element sees it.
  const int w = 1920, h = 1080;
  auto rgb = picture(w, h);
  cv::Mat i420;
  cv::cvtColor(cv::Mat(h, w, CV_8UC3, rgb.data()), i420, cv::COLOR_RGB2YUV_I420);
  cv::Mat back;
  cv::cvtColor(i420, back, cv::COLOR_YUV2RGB_I420);
  ImageView v{i420.data, w, h, size_t(w), PixelFormat::I420};
  v.planes[0] = i420.data + size_t(w) * h;
  v.planes[1] = v.planes[0] + size_t(w / 2) * (h / 2);
  v.plane_strides[0] = v.plane_strides[1] = size_t(w / 2);
  const std::vector<uint8_t> back_rgb(back.data, back.data + back.total() * 3);
  for (int r : {28, 160, 176, 224}) {
    for (const Spec& s : {rgb_spec(0.875), grey_spec(1.0)})
      assert_near_reference(run(v, s, r), reference(back_rgb, w, h, s, r), s, "1080p I420 r " + std::to_string(r));
  }
}
END_TEST

START_TEST(test_yuv_constant_colours) {
  // A flat colour converts exactly as OpenCV converts one pixel of it, at any
  // size, including luma below 16 (clamped) and chroma at the extremes.
  const uint8_t colours[][3] = {{81, 90, 240}, {145, 54, 34}, {41, 240, 110}, {235, 128, 128}, {4, 16, 240}};
  const Spec s = rgb_spec(0.875), g = grey_spec(0.875);
  for (const auto& c : colours) {
    uint8_t one[6] = {c[0], c[0], c[0], c[0], c[1], c[2]};  // 2x2 I420
    cv::Mat px;
    cv::cvtColor(cv::Mat(3, 2, CV_8UC1, one), px, cv::COLOR_YUV2RGB_I420);
    Yuv p = yuv_picture(301, 203, 3);
    std::fill(p.y.begin(), p.y.end(), c[0]);
    std::fill(p.u.begin(), p.u.end(), c[1]);
    std::fill(p.v.begin(), p.v.end(), c[2]);
    auto uv = nv12_uv(p);
    const auto out = run(nv12_view(p, uv), s, 24);
    for (int k = 0; k < 3; ++k)
      for (int i : {0, 300, 575}) {
        const double got = (out[k * 576 + i] * s.std[k] + s.mean[k]) * 255.0;
        ck_assert_msg(std::fabs(got - px.data[k]) <= 1.0, "YUV %d %d %d channel %d: %.2f, OpenCV %d", c[0], c[1],
                      c[2], k, got, px.data[k]);
      }
    // A grey model reads luma expanded to full range: (Y - 16) * 255 / 219.
    const double luma = std::clamp((c[0] - 16) * 255.0 / 219.0, 0.0, 255.0);
    const double got = (run(i420_view(p), g, 24)[100] * g.std[0] + g.mean[0]) * 255.0;
    ck_assert_msg(std::fabs(got - luma) <= 0.5, "Y %d: grey %.2f, expected %.2f", c[0], got, luma);
  }
}
END_TEST

START_TEST(test_grey_model_from_colour) {
  // A grey model from colour input is the grey of the RGB picture (BT.601
  // weights, as OpenCV's RGB2GRAY), whatever the packed format.
  const Spec s = grey_spec(0.875);
  for (const Case& c : kCases) {
    auto rgb = picture(c.w, c.h);
    cv::Mat grey;
    cv::cvtColor(cv::Mat(c.h, c.w, CV_8UC3, rgb.data()), grey, cv::COLOR_RGB2GRAY);
    const auto from_grey = run({grey.data, c.w, c.h, grey.step, PixelFormat::Gray8}, s, c.r);
    for (PixelFormat f : kPacked) {
      auto px = packed(rgb, c.w, c.h, f, 0);
      // Grey of the resized colour patch against the resized grey: rounding apart.
      Diff d = diff(run({px.data(), c.w, c.h, size_t(c.w) * bytes_per_pixel(f), f}, s, c.r), from_grey, s, 1.0);
      ck_assert_msg(d.max <= 1.0 + 1e-3, "%s: %.2f levels from the grey picture", format_name(f), d.max);
    }
  }
}
END_TEST

START_TEST(test_odd_sizes_and_tiny_images) {
  // 1x1 to 3x3 frames (chroma 1x1 or 2x2), upscaled to r: no shrink, no crash,
  // and the value of a flat picture.
  for (int w = 1; w <= 3; ++w)
    for (int h = 1; h <= 3; ++h) {
      Yuv p = yuv_picture(w, h, 1);
      std::fill(p.y.begin(), p.y.end(), 126);
      std::fill(p.u.begin(), p.u.end(), 128);
      std::fill(p.v.begin(), p.v.end(), 128);
      auto uv = nv12_uv(p);
      for (const ImageView& v : {nv12_view(p, uv), i420_view(p)}) {
        const Spec s = rgb_spec();
        auto out = run(v, s, 24);
        const float want = ((126 - 16) * 1.164f / 255.0f - 0.5f) / 0.25f;
        for (float x : out) ck_assert_float_eq_tol(x, want, 1.5f / 255 / 0.25f);
      }
    }
}
END_TEST

START_TEST(test_malformed_views) {
  const Spec s = rgb_spec();
  std::vector<float> out(3 * 24 * 24);
  Yuv p = yuv_picture(33, 17, 0);  // chroma 17 x 9
  auto uv = nv12_uv(p);

  ImageView v = nv12_view(p, uv);
  v.planes[0] = nullptr;
  DOFA_ASSERT_ERROR(preprocess(v, s, 24, out.data()), "NV12", "UV (planes[0])", "null");
  v = nv12_view(p, uv);
  v.plane_strides[0] = 33;  // 2 * 17 = 34 bytes needed: odd widths round chroma up
  DOFA_ASSERT_ERROR(preprocess(v, s, 24, out.data()), "NV12 UV (planes[0]) stride 33", "34 bytes");
  v = i420_view(p);
  v.planes[1] = nullptr;
  DOFA_ASSERT_ERROR(preprocess(v, s, 24, out.data()), "I420 V (planes[1]) plane is null");
  v = i420_view(p);
  v.plane_strides[0] = 16;
  DOFA_ASSERT_ERROR(preprocess(v, s, 24, out.data()), "I420 U (planes[0]) stride 16", "17 bytes");
  v = i420_view(p);
  v.stride = 32;
  DOFA_ASSERT_ERROR(preprocess(v, s, 24, out.data()), "stride 32 is shorter than a row", "33 bytes of I420");
  v.data = nullptr;
  DOFA_ASSERT_ERROR(preprocess(v, s, 24, out.data()), "empty image");

  auto rgb = picture(8, 8);
  DOFA_ASSERT_ERROR(preprocess({rgb.data(), 8, 8, 31, PixelFormat::BGRx}, s, 24, out.data()), "stride 31",
                    "32 bytes of BGRx");
  DOFA_ASSERT_ERROR(preprocess({rgb.data(), 8, -1, 24, PixelFormat::RGB}, s, 24, out.data()), "empty image (8x-1)");
  DOFA_ASSERT_ERROR(preprocess({rgb.data(), 8, 8, 24, PixelFormat::RGB}, s, 0, out.data()), "resolution 0");
  Spec two = s;
  two.in_channels = 2;
  DOFA_ASSERT_ERROR(preprocess({rgb.data(), 8, 8, 24, PixelFormat::RGB}, two, 24, out.data()), "2 input channels",
                    "expected 1 or 3");
}
END_TEST

START_TEST(test_per_pixel_reference_matches) {
  // The arithmetic the CUDA kernels run (preprocess_math.h), value by value on
  // the host, against the CPU path: within 1 level for every format, size,
  // crop and channel count (OpenCV's vectorised resize rounds its last step
  // differently).
  double worst = 0;
  for (const Spec& s : {rgb_spec(), grey_spec(), rgb_spec(0.875), grey_spec(0.875)})
    for (const Case& c : kCases) {
      const std::vector<uint8_t> pic = picture(c.w, c.h);
      std::vector<ImageView> views;
      std::vector<std::vector<uint8_t>> keep;
      for (PixelFormat f : {PixelFormat::Gray8, PixelFormat::RGB, PixelFormat::BGR, PixelFormat::RGBA,
                            PixelFormat::BGRA, PixelFormat::RGBx, PixelFormat::BGRx}) {
        keep.push_back(packed(pic, c.w, c.h, f, 3));
        views.push_back(ImageView{keep.back().data(), c.w, c.h, size_t(c.w) * bytes_per_pixel(f) + 3, f});
      }
      const Yuv yuv = yuv_picture(c.w, c.h, 5);
      const std::vector<uint8_t> uv = nv12_uv(yuv);
      views.push_back(i420_view(yuv));
      views.push_back(nv12_view(yuv, uv));
      for (const ImageView& v : views) {
        std::vector<float> ref(size_t(s.in_channels) * c.r * c.r);
        preprocess_reference(v, s, c.r, ref.data(), c.crop);
        std::vector<float> cpu(ref.size());
        preprocess(v, s, c.r, cpu.data(), c.crop);
        const Diff d = diff(ref, cpu, s, 1.0);
        ck_assert_msg(d.max <= 1.0 + 1e-3, "%s %dx%d -> %d: the reference differs by %.2f levels",
                      format_name(v.format), c.w, c.h, c.r, d.max);
        worst = std::max(worst, d.max);
      }
    }
  ck_assert_double_le(worst, 1.001);
  DOFA_ASSERT_ERROR(preprocess_reference(ImageView{}, rgb_spec(), 8, nullptr, 1.0), "empty image");
}
END_TEST

START_TEST(test_format_names) {
  ck_assert_str_eq(format_name(PixelFormat::NV12), "NV12");
  ck_assert_str_eq(format_name(PixelFormat::I420), "I420");
  ck_assert_str_eq(format_name(PixelFormat::Gray8), "GRAY8");
  ck_assert_str_eq(format_name(PixelFormat::BGRx), "BGRx");
  ck_assert_int_eq(bytes_per_pixel(PixelFormat::NV12), 1);
  ck_assert_int_eq(bytes_per_pixel(PixelFormat::RGBA), 4);
}
END_TEST

int main() {
  Suite* s = suite_create("preprocess");
  TCase* tc = tcase_create("preprocess");
  tcase_add_test(tc, test_packed_formats_match_rgb);
  tcase_add_test(tc, test_gray8_matches_grey_rgb);
  tcase_add_test(tc, test_reference_matches_opencv);
  tcase_add_test(tc, test_yuv_matches_reference);
  tcase_add_test(tc, test_yuv_of_a_real_picture);
  tcase_add_test(tc, test_yuv_constant_colours);
  tcase_add_test(tc, test_grey_model_from_colour);
  tcase_add_test(tc, test_odd_sizes_and_tiny_images);
  tcase_add_test(tc, test_malformed_views);
  tcase_add_test(tc, test_per_pixel_reference_matches);
  tcase_add_test(tc, test_format_names);
  suite_add_tcase(s, tc);
  return dofa_test::run_suite(s);
}
