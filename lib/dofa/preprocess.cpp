#include "preprocess.h"

#include "dofa_config.h"
#if DOFA_HAVE_OPENCV
#include <opencv2/imgproc.hpp>
#endif

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "error.h"
#include "preprocess_math.h"

namespace dofa {

int bytes_per_pixel(PixelFormat f) {
  switch (f) {
    case PixelFormat::Gray8:
    case PixelFormat::NV12:
    case PixelFormat::I420: return 1;
    case PixelFormat::RGB:
    case PixelFormat::BGR: return 3;
    default: return 4;
  }
}

const char* format_name(PixelFormat f) {
  switch (f) {
    case PixelFormat::Gray8: return "GRAY8";
    case PixelFormat::RGB: return "RGB";
    case PixelFormat::BGR: return "BGR";
    case PixelFormat::RGBA: return "RGBA";
    case PixelFormat::BGRA: return "BGRA";
    case PixelFormat::RGBx: return "RGBx";
    case PixelFormat::BGRx: return "BGRx";
    case PixelFormat::NV12: return "NV12";
    case PixelFormat::I420: return "I420";
  }
  return "?";
}

namespace {

bool is_yuv(PixelFormat f) { return f == PixelFormat::NV12 || f == PixelFormat::I420; }

using pixel::Crop;
using pixel::to_u8;

// An n x n 8-bit plane, rows packed.
struct Plane {
  std::vector<uint8_t> px;
  int n = 0;
  void create(int side) {
    n = side;
    px.resize(size_t(side) * side);
  }
  uint8_t* row(int j) { return px.data() + size_t(j) * n; }
  const uint8_t* row(int j) const { return px.data() + size_t(j) * n; }
};

// Division rounding down, also for a negative x (C++ rounds towards zero).
int floor_div(int x, int d) { return x >= 0 ? x / d : -((-x + d - 1) / d); }

// Box means of one plane over the boxes of a factor-f shrink of the luma crop:
// output (i, j) averages luma pixels [x0 + i f, x0 + (i + 1) f) x [y0 + j f, ...).
// A plane subsampled by `sub` (2 for 4:2:0 chroma) contributes each sample
// weighted by the luma pixels of the box it covers, so the result is the box
// mean of the plane upsampled to luma size (as a full-size conversion does it)
// without upsampling anything. Rows are summed first (contiguous, vectorised),
// then each box's columns.
class BoxShrink {
 public:
  // ch: interleaved channels, 1 to 4 (NV12's UV: 2; packed pixels: 1, 3 or 4).
  BoxShrink(const uint8_t* plane, size_t stride, int ch, int sub, const Crop& c)
      : plane_(plane), stride_(stride), ch_(ch), n_(c.n) {
    const int f = c.factor;
    scale_ = 1.0f / (float(f) * float(f));
    // Rows: the sample rows of each box row and the luma rows each covers.
    taps_ = f / sub + 2;
    row_first_.resize(n_);
    row_taps_.resize(n_);
    row_w_.assign(size_t(n_) * taps_, 0);
    for (int j = 0; j < n_; ++j) {
      const int a = c.y0 + j * f;
      row_first_[j] = a / sub;
      row_taps_[j] = (a + f - 1) / sub - a / sub + 1;
      for (int k = 0; k < row_taps_[j]; ++k) {
        const int s = a / sub + k;
        row_w_[size_t(j) * taps_ + k] = uint16_t(std::min((s + 1) * sub, a + f) - std::max(s * sub, a));
      }
    }
    // Columns: box [a, a + f) covers luma columns x, sample x / sub. Grouped
    // by x % sub, each group reads a contiguous run of samples, so a box sum
    // is sub unweighted runs (a sample covering two columns is in two runs).
    first_ = c.x0 / sub;
    for (int p = 0; p < sub; ++p) {
      Runs runs;
      for (int i = 0; i < n_; ++i) {
        const int a = c.x0 + i * f, b = a + f - 1;
        const int lo = floor_div(a - p + sub - 1, sub), hi = floor_div(b - p, sub);  // x = s sub + p in [a, b]
        runs.start.push_back((lo - first_) * ch);
        runs.len.push_back(std::max(0, hi - lo + 1));
      }
      runs_.push_back(runs);
    }
    len_ = size_t((c.x0 + n_ * f - 1) / sub - first_ + 1) * ch;
    // 16-bit column sums while they cannot overflow (255 per luma row of a box).
    narrow_ = 255 * f <= 0xffff;
    if (narrow_) acc16_.resize(len_);
    else acc32_.resize(len_);
    sums_.resize(size_t(n_) * ch);
    plan_fixed();
  }

  // Means of output row j, channel-planar: out[q * n + i].
  void row(int j, float* out) {
    if (narrow_) row_sums(j, out, acc16_.data());
    else row_sums(j, out, acc32_.data());
  }

 private:
  struct Runs {
    std::vector<int> start, len;  // per box: first sum index, samples
  };

  // Every run of one short length L (factors up to 8 for luma, 16 for
  // chroma) takes an unrolled path: the per-box loop is most of the cost
  // otherwise. Chroma's two runs per box then start a constant `pair_`
  // values apart (f even), so one pass adds neighbours and a box reads one run.
  void plan_fixed() {
    const int L = runs_[0].len[0];
    for (const Runs& r : runs_)
      for (int l : r.len)
        if (l != L) return;
    if (L < 1 || L > 8 || !narrow_) return;
    if (runs_.size() == 2) {
      const int d = runs_[1].start[0] - runs_[0].start[0];
      for (int i = 0; i < n_; ++i)
        if (runs_[1].start[i] - runs_[0].start[i] != d) return;
      if (d < 0) std::swap(runs_[0], runs_[1]);
      pair_ = std::abs(d);
      if (pair_ == 0) scale_ *= 2;  // the same run twice
      else pairs_.resize(len_);
    }
    fixed_ = L;
  }

  template <typename Acc>
  void row_sums(int j, float* out, Acc* __restrict acc) {
    vertical(j, acc);
    if constexpr (std::is_same_v<Acc, uint16_t>) {
      if (fixed_ > 0) {
        const uint16_t* sums = acc;
        if (pair_ > 0) {
          uint16_t* __restrict pairs = pairs_.data();
          for (size_t x = 0; x + pair_ < len_; ++x) pairs[x] = uint16_t(acc[x] + acc[x + pair_]);
          sums = pairs;
        }
        return fixed_boxes(sums, out);
      }
    }
    std::fill(sums_.begin(), sums_.end(), 0u);
    for (const Runs& runs : runs_) {
      uint64_t* __restrict s = sums_.data();
      for (int i = 0; i < n_; ++i) {
        const Acc* p = acc + runs.start[i];
        for (int q = 0; q < ch_; ++q) {
          uint64_t t = 0;
          for (int k = 0; k < runs.len[i]; ++k) t += p[k * ch_ + q];
          s[q * n_ + i] += t;
        }
      }
    }
    for (int x = 0; x < n_ * ch_; ++x) out[x] = float(int64_t(sums_[x])) * scale_;
  }

  // Weighted sum of the sample rows of box row j, two rows per pass (half
  // the loads and stores of acc that one row per pass costs).
  template <typename Acc>
  void vertical(int j, Acc* __restrict acc) const {
    const uint16_t* w = row_w_.data() + size_t(j) * taps_;
    const int m = row_taps_[j];
    auto row = [&](int k) { return plane_ + size_t(row_first_[j] + k) * stride_ + size_t(first_) * ch_; };
    int k = 0;
    if (m >= 2) {
      add_rows<Acc, true>(acc, row(0), row(1), w[0], w[1]);
      k = 2;
    } else {
      add_rows<Acc, true>(acc, row(0), row(0), w[0], 0);
      k = 1;
    }
    for (; k + 1 < m; k += 2) add_rows<Acc, false>(acc, row(k), row(k + 1), w[k], w[k + 1]);
    if (k < m) add_rows<Acc, false>(acc, row(k), row(k), w[k], 0);
  }

  // acc (=, or +=) wa * a + wb * b.
  template <typename Acc, bool kSet>
  void add_rows(Acc* __restrict acc, const uint8_t* __restrict a, const uint8_t* __restrict b, Acc wa,
                Acc wb) const {
    const size_t len = len_;
    if (wa == 1 && wb == 1) {
      for (size_t x = 0; x < len; ++x) acc[x] = Acc((kSet ? 0 : acc[x]) + Acc(a[x]) + Acc(b[x]));
    } else if (wb == 0) {
      for (size_t x = 0; x < len; ++x) acc[x] = Acc((kSet ? 0 : acc[x]) + Acc(wa * a[x]));
    } else {
      for (size_t x = 0; x < len; ++x) acc[x] = Acc((kSet ? 0 : acc[x]) + Acc(wa * a[x]) + Acc(wb * b[x]));
    }
  }

  void fixed_boxes(const uint16_t* sums, float* out) const {
    using Fn = void (BoxShrink::*)(const uint16_t*, float*) const;
#define DOFA_BOXES(CH)                                                                                      \
  {&BoxShrink::boxes<CH, 1>, &BoxShrink::boxes<CH, 2>, &BoxShrink::boxes<CH, 3>, &BoxShrink::boxes<CH, 4>, \
   &BoxShrink::boxes<CH, 5>, &BoxShrink::boxes<CH, 6>, &BoxShrink::boxes<CH, 7>, &BoxShrink::boxes<CH, 8>}
    static constexpr Fn table[4][8] = {DOFA_BOXES(1), DOFA_BOXES(2), DOFA_BOXES(3), DOFA_BOXES(4)};
#undef DOFA_BOXES
    (this->*table[ch_ - 1][fixed_ - 1])(sums, out);
  }

  // One run of L samples per box, CH interleaved channels.
  template <int CH, int L>
  void boxes(const uint16_t* sums, float* __restrict out) const {
    const int* start = runs_[0].start.data();
    for (int i = 0; i < n_; ++i)
      for (int q = 0; q < CH; ++q) {
        uint32_t t = 0;  // f <= 16 here
        for (int k = 0; k < L; ++k) t += sums[start[i] + k * CH + q];
        out[q * n_ + i] = float(t) * scale_;
      }
  }

  const uint8_t* plane_;
  size_t stride_;
  int ch_, n_;
  float scale_ = 1;             // 1 / box area
  int taps_ = 0;                // most sample rows a box row covers
  std::vector<int> row_first_;  // each box row's first sample row,
  std::vector<int> row_taps_;   // how many,
  std::vector<uint16_t> row_w_;  // and the luma rows each covers (n x taps_)
  std::vector<Runs> runs_;      // sub of them
  int first_ = 0;               // first sample column read
  size_t len_ = 0;              // values of a row read
  bool narrow_ = true;
  int fixed_ = -1;              // the length of every run, -1 if they differ
  size_t pair_ = 0;             // values between a box's two runs (chroma)
  std::vector<uint16_t> acc16_;  // column sums of one box row
  std::vector<uint32_t> acc32_;
  std::vector<uint16_t> pairs_;  // acc[x] + acc[x + pair_]
  std::vector<uint64_t> sums_;   // box sums of one row, channel-planar (255 f^2 may pass 2^32)
};

// One row of Y, Cb, Cr means to R, G, B; separate arrays so that it vectorises.
void convert_row(const float* __restrict y, const float* __restrict cb, const float* __restrict cr,
                 uint8_t* __restrict R, uint8_t* __restrict G, uint8_t* __restrict B, int n) {
  for (int i = 0; i < n; ++i) {
    const float yy = pixel::yuv_luma(y[i]);
    R[i] = pixel::yuv_r(yy, cr[i]);
    G[i] = pixel::yuv_g(yy, cb[i], cr[i]);
    B[i] = pixel::yuv_b(yy, cb[i]);
  }
}

// The crop of a planar YUV 4:2:0 image, shrunk by the crop's factor, in the
// model's channels (R, G, B planes, or grey): shrink first, then convert the
// small image.
void yuv_planes(const ImageView& img, const Crop& c, int channels, std::vector<Plane>& planes) {
  const int n = c.n;
  BoxShrink luma(img.data, img.stride, 1, 1, c);
  std::vector<float> y(n), uv(size_t(n) * 2);
  planes.resize(channels);
  for (auto& m : planes) m.create(n);
  if (channels == 1) {
    // Luma expanded to full range: RGB -> grey of the converted picture is the
    // same, BT.601's luma weights cancel the chroma terms.
    for (int j = 0; j < n; ++j) {
      luma.row(j, y.data());
      uint8_t* dst = planes[0].row(j);
      for (int i = 0; i < n; ++i) dst[i] = pixel::luma_grey(y[i]);
    }
    return;
  }
  // NV12: one interleaved UV plane; I420: U and V planes. Either way the row
  // means come out as U then V.
  const bool nv12 = img.format == PixelFormat::NV12;
  BoxShrink u(img.planes[0], img.plane_strides[0], nv12 ? 2 : 1, 2, c);
  std::unique_ptr<BoxShrink> v;
  if (!nv12) v = std::make_unique<BoxShrink>(img.planes[1], img.plane_strides[1], 1, 2, c);
  const float* cb = uv.data();
  const float* cr = uv.data() + n;
  for (int j = 0; j < n; ++j) {
    luma.row(j, y.data());
    u.row(j, uv.data());
    if (v) v->row(j, uv.data() + n);
    convert_row(y.data(), cb, cr, planes[0].row(j), planes[1].row(j), planes[2].row(j), n);
  }
}

// The crop of a packed image shrunk by the crop's factor, as planes in the
// model's channels (colour is converted on the small image); grey input to an
// RGB model gives one plane, used for all three.
void packed_planes(const ImageView& img, const Crop& c, int channels, std::vector<Plane>& planes) {
  const int n = c.n, bpp = bytes_per_pixel(img.format);
  BoxShrink box(img.data, img.stride, bpp, 1, c);
  std::vector<float> m(size_t(n) * bpp);  // one row of means, channel-planar
  const bool grey = img.format == PixelFormat::Gray8;
  const bool bgr = img.format == PixelFormat::BGR || img.format == PixelFormat::BGRA || img.format == PixelFormat::BGRx;
  const float* R = m.data() + (grey ? 0 : bgr ? 2 * n : 0);
  const float* G = m.data() + (grey ? 0 : n);
  const float* B = m.data() + (grey ? 0 : bgr ? 0 : 2 * n);
  planes.resize(grey || channels == 1 ? 1 : 3);
  for (auto& p : planes) p.create(n);
  for (int j = 0; j < n; ++j) {
    box.row(j, m.data());
    uint8_t* __restrict d0 = planes[0].row(j);
    if (grey) {
      for (int i = 0; i < n; ++i) d0[i] = to_u8(m[i]);
    } else if (channels == 1) {
      for (int i = 0; i < n; ++i) d0[i] = pixel::rgb_grey(R[i], G[i], B[i]);
    } else {
      uint8_t* __restrict d1 = planes[1].row(j);
      uint8_t* __restrict d2 = planes[2].row(j);
      for (int i = 0; i < n; ++i) d0[i] = to_u8(R[i]), d1[i] = to_u8(G[i]), d2[i] = to_u8(B[i]);
    }
  }
}

// Plane p resized to r x r (bilinear, OpenCV's INTER_LINEAR).
void resize_plane(const Plane& p, int r, Plane& out) {
  out.create(r);
#if DOFA_HAVE_OPENCV
  const cv::Mat src(p.n, p.n, CV_8UC1, const_cast<uint8_t*>(p.px.data()));
  cv::Mat dst(r, r, CV_8UC1, out.px.data());
  cv::resize(src, dst, cv::Size(r, r), 0, 0, cv::INTER_LINEAR);
#else
  std::vector<pixel::Tap> taps(r);
  for (int d = 0; d < r; ++d) taps[d] = pixel::linear_tap(d, p.n, r);
  for (int y = 0; y < r; ++y)
    for (int x = 0; x < r; ++x) out.row(y)[x] = pixel::linear_pixel(p.px.data(), p.n, taps[x], taps[y]);
#endif
}

void check_spec(const Spec& spec, int r) {
  if (spec.in_channels != 1 && spec.in_channels != 3)
    throw Error("preprocess: spec " + spec.name + " has " + std::to_string(spec.in_channels) +
                " input channels, expected 1 or 3");
  if (r < 1) throw Error("preprocess: resolution " + std::to_string(r) + ", expected >= 1");
}

void check_plane(const char* what, const uint8_t* p, size_t stride, size_t row_bytes, PixelFormat f) {
  const std::string name = std::string("preprocess: ") + format_name(f) + " " + what;
  if (!p) throw Error(name + " plane is null");
  if (stride < row_bytes)
    throw Error(name + " stride " + std::to_string(stride) + " is shorter than a row (" + std::to_string(row_bytes) +
                " bytes)");
}

}  // namespace

namespace pixel {

Crop eval_crop(int width, int height, double crop, int r) {
  Crop c;
  const int short_side = std::min(width, height);
  const double resized_short = std::ceil(r / crop);
  c.side = std::max(1, std::min(short_side, int(std::lround(r * short_side / resized_short))));
  c.x0 = (width - c.side) / 2;
  c.y0 = (height - c.side) / 2;
  c.factor = c.side / r >= 2 ? c.side / r : 1;
  c.n = c.side / c.factor;
  return c;
}

Normalise normalise_of(const Spec& spec) {
  Normalise nm;
  for (int k = 0; k < spec.in_channels && k < 3; ++k) {
    nm.scale[k] = 1.0f / (255.0f * spec.std[k]);
    nm.shift[k] = -spec.mean[k] / spec.std[k];
  }
  return nm;
}

}  // namespace pixel

namespace {

void check_view(const ImageView& img) {
  if (!img.data || img.width <= 0 || img.height <= 0)
    throw Error("preprocess: empty image (" + std::to_string(img.width) + "x" + std::to_string(img.height) + ")");
  const size_t row = size_t(img.width) * bytes_per_pixel(img.format);
  if (img.stride < row)
    throw Error("preprocess: stride " + std::to_string(img.stride) + " is shorter than a row (" +
                std::to_string(row) + " bytes of " + format_name(img.format) + ")");
  // Chroma of odd sizes is rounded up, as GStreamer lays it out.
  const size_t chroma_w = (size_t(img.width) + 1) / 2;
  if (img.format == PixelFormat::NV12) {
    check_plane("UV (planes[0])", img.planes[0], img.plane_strides[0], 2 * chroma_w, img.format);
  } else if (img.format == PixelFormat::I420) {
    check_plane("U (planes[0])", img.planes[0], img.plane_strides[0], chroma_w, img.format);
    check_plane("V (planes[1])", img.planes[1], img.plane_strides[1], chroma_w, img.format);
  }
}

}  // namespace

void check_input(const ImageView& img, const Spec& spec, int r) {
  check_view(img);
  check_spec(spec, r);
}

void preprocess(const ImageView& img, const Spec& spec, int r, float* out) {
  preprocess(img, spec, r, out, spec.eval_crop);
}

void preprocess(const ImageView& img, const Spec& spec, int r, float* out, double crop) {
  check_input(img, spec, r);
  const Crop c = pixel::eval_crop(img.width, img.height, crop, r);
  const pixel::Normalise nm = pixel::normalise_of(spec);
  const int ch = spec.in_channels;
  const size_t plane = size_t(r) * r;
  // Every format is shrunk and converted to the model's channels first, then
  // each plane is resized to r (bilinear) and normalised. The planes are kept
  // by the calling thread: freed, they go back to the system and come back
  // page-faulted on the next frame.
  thread_local std::vector<Plane> planes, resized;
  if (is_yuv(img.format)) yuv_planes(img, c, ch, planes);
  else packed_planes(img, c, ch, planes);
  resized.resize(planes.size());
  std::vector<const Plane*> sized(planes.size());
  for (size_t p = 0; p < planes.size(); ++p) {
    sized[p] = &planes[p];
    if (planes[p].n != r) {
      resize_plane(planes[p], r, resized[p]);
      sized[p] = &resized[p];
    }
  }
  for (int k = 0; k < ch; ++k) {
    const Plane& pix = *sized[std::min(size_t(k), sized.size() - 1)];
    for (int y = 0; y < r; ++y) {
      const uint8_t* row = pix.row(y);
      float* o = out + k * plane + size_t(y) * r;
      for (int x = 0; x < r; ++x) o[x] = row[x] * nm.scale[k] + nm.shift[k];
    }
  }
}

void preprocess_reference(const ImageView& img, const Spec& spec, int r, float* out, double crop) {
  check_input(img, spec, r);
  const Crop c = pixel::eval_crop(img.width, img.height, crop, r);
  const pixel::Normalise nm = pixel::normalise_of(spec);
  const int ch = spec.in_channels, n = c.n;
  // Stage 1 as the shrink kernel: every shrunk pixel on its own.
  std::vector<uint8_t> shrunk(size_t(ch) * n * n);
  uint8_t v[3];
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      pixel::shrunk_pixel(img, c, ch, i, j, v);
      for (int k = 0; k < ch; ++k) shrunk[(size_t(k) * n + j) * n + i] = v[k];
    }
  // Stage 2 as the resize kernel: every output value on its own.
  for (int k = 0; k < ch; ++k)
    for (int y = 0; y < r; ++y)
      for (int x = 0; x < r; ++x) {
        const uint8_t* p = shrunk.data() + size_t(k) * n * n;
        const uint8_t u = n == r ? p[size_t(y) * n + x]
                                 : pixel::linear_pixel(p, n, pixel::linear_tap(x, n, r), pixel::linear_tap(y, n, r));
        out[(size_t(k) * r + y) * r + x] = u * nm.scale[k] + nm.shift[k];
      }
}

}  // namespace dofa
