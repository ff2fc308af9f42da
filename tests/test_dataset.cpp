// IDX files, datasets and the training / evaluation transforms.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "augment.h"
#include "dataset.h"
#include "error.h"
#include "files.h"
#include "idx_file.h"
#include "test_util.h"

using namespace dofa;

namespace {

// An OpenCV picture as the library's Image (no copy; `m` must outlive it).
Image image_of(const cv::Mat& m) {
  Image i;
  i.width = m.cols, i.height = m.rows, i.channels = m.channels();
  i.data = m.data;
  return i;
}

std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data, uint8_t type = 0x08) {
  std::string b = {0, 0, char(type), char(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(char((d >> s) & 0xff));
  b.append(data.begin(), data.end());
  return b;
}

std::string gzip(const std::string& path) {
  ck_assert_int_eq(std::system(("gzip -kf " + path).c_str()), 0);
  return path + ".gz";
}

// A Fashion-MNIST-like folder of n images (pixel (y, x) of image i = (i + 3y + 5x) % 256) and labels i % 10.
std::string write_fmnist(int n) {
  std::string dir = dofa_test::temp_dir();
  std::vector<uint8_t> px, lab;
  for (int i = 0; i < n; ++i) {
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) px.push_back(uint8_t((i + 3 * y + 5 * x) % 256));
    lab.push_back(uint8_t(i % 10));
  }
  for (const char* p : {"train", "t10k"}) {
    write_file_atomic(dir + "/" + p + "-images-idx3-ubyte", idx_bytes({uint32_t(n), 28, 28}, px));
    write_file_atomic(dir + "/" + p + "-labels-idx1-ubyte", idx_bytes({uint32_t(n)}, lab));
    gzip(dir + "/" + p + "-images-idx3-ubyte");
    gzip(dir + "/" + p + "-labels-idx1-ubyte");
  }
  return dir;
}

Spec fmnist_spec() { return Spec::load(dofa_test::source_root() + "/models/fmnist-mbv3.json"); }

}  // namespace

START_TEST(test_idx_plain_and_gzip) {
  std::string p = dofa_test::write_temp("a-idx", idx_bytes({2, 3}, {1, 2, 3, 4, 5, 6}));
  for (const std::string& f : {p, gzip(p)}) {
    IdxArray a = read_idx(f);
    ck_assert_int_eq(a.dims.size(), 2);
    ck_assert_int_eq(a.dims[0], 2);
    ck_assert_int_eq(a.dims[1], 3);
    ck_assert_int_eq(a.data[5], 6);
  }
}
END_TEST

START_TEST(test_idx_malformed) {
  std::string magic = dofa_test::write_temp("magic", "PK\x03\x04 not idx");
  DOFA_ASSERT_ERROR(read_idx(magic), magic.c_str(), "not an IDX file");
  std::string type = dofa_test::write_temp("type", idx_bytes({2}, {1, 2}, 0x0d));
  DOFA_ASSERT_ERROR(read_idx(type), "element type", "unsigned byte");
  std::string trunc = dofa_test::write_temp("trunc", idx_bytes({10, 28, 28}, std::vector<uint8_t>(100)));
  DOFA_ASSERT_ERROR(read_idx(trunc), trunc.c_str(), "truncated IDX data", "100 bytes", "7840");
  std::string head = dofa_test::write_temp("head", std::string("\0\0\x08\x03\0\0", 6));
  DOFA_ASSERT_ERROR(read_idx(head), "truncated IDX header");
  std::string extra = dofa_test::write_temp("extra", idx_bytes({2}, {1, 2, 3}));
  DOFA_ASSERT_ERROR(read_idx(extra), "1 bytes after the IDX data");
  // A gzip file cut in half.
  std::string whole = read_file(gzip(dofa_test::write_temp("big", idx_bytes({4000}, std::vector<uint8_t>(4000, 7)))));
  std::string half = dofa_test::write_temp("half.gz", whole.substr(0, whole.size() / 2));
  DOFA_ASSERT_ERROR(read_idx(half), half.c_str(), "gzip data is corrupt or truncated");
  DOFA_ASSERT_ERROR(read_idx("/nonexistent/x-idx.gz"), "/nonexistent/x-idx.gz");
}
END_TEST

START_TEST(test_fmnist_splits) {
  setenv("DOFA_FMNIST_DIR", write_fmnist(10100).c_str(), 1);
  Dataset train = Dataset::open("fmnist:train"), val = Dataset::open("fmnist:val"), test = Dataset::open("fmnist:test");
  ck_assert_int_eq(val.size(), 10000);
  ck_assert_int_eq(train.size(), 100);
  ck_assert_int_eq(test.size(), 10100);
  ck_assert_int_eq(train.classes().size(), 10);
  // Labels follow the images: label = id % 10 and pixel (0,0) = id % 256, so they agree mod 2.
  for (int i = 0; i < train.size(); ++i)
    ck_assert_int_eq(train.label(i) % 2, train.image(i).at(0, 0) % 2);
  // The split is fixed.
  Dataset again = Dataset::open("fmnist:val");
  for (int i = 0; i < 50; ++i) {
    const Image a = again.image(i), b = val.image(i);
    ck_assert(std::equal(a.data, a.data + a.stride() * a.height, b.data));
  }
  DOFA_ASSERT_ERROR(Dataset::open("fmnist:bogus"), "fmnist:bogus", "train, val or test");
  setenv("DOFA_FMNIST_DIR", write_fmnist(50).c_str(), 1);
  DOFA_ASSERT_ERROR(Dataset::open("fmnist:train"), "too few for a validation split");
  unsetenv("DOFA_FMNIST_DIR");
}
END_TEST

START_TEST(test_fmnist_mismatched_files) {
  std::string dir = write_fmnist(20);
  write_file_atomic(dir + "/t10k-labels-idx1-ubyte", idx_bytes({19}, std::vector<uint8_t>(19, 1)));
  gzip(dir + "/t10k-labels-idx1-ubyte");
  setenv("DOFA_FMNIST_DIR", dir.c_str(), 1);
  DOFA_ASSERT_ERROR(Dataset::open("fmnist:test"), "20 images", "19 labels");
  write_file_atomic(dir + "/t10k-labels-idx1-ubyte", idx_bytes({20}, std::vector<uint8_t>(20, 12)));
  gzip(dir + "/t10k-labels-idx1-ubyte");
  DOFA_ASSERT_ERROR(Dataset::open("fmnist:test"), "label 12", "0 to 9");
  unsetenv("DOFA_FMNIST_DIR");
}
END_TEST

START_TEST(test_folder_dataset) {
  std::string dir = dofa_test::temp_dir();
  for (const char* c : {"cat", "dog"}) {
    ck_assert_int_eq(std::system(("mkdir -p " + dir + "/" + c).c_str()), 0);
    cv::Mat img(10, 12, CV_8UC3, cv::Scalar(10, 20, 30));  // B, G, R
    cv::imwrite(dir + "/" + c + "/a.png", img);
    write_file_atomic(dir + "/" + c + "/notes.txt", "ignored");
  }
  Dataset d = Dataset::open(dir);
  ck_assert_int_eq(d.size(), 2);
  ck_assert_str_eq(d.classes()[1].c_str(), "dog");
  ck_assert_int_eq(d.label(1), 1);
  const Image img = d.image(0);
  ck_assert_int_eq(img.channels, 3);
  ck_assert_int_eq(img.at(0, 0, 0), 30);  // R first
  ck_assert_int_eq(img.at(11, 9, 2), 10);
  write_file_atomic(dir + "/dog/broken.jpg", "not a jpeg");
  Dataset e = Dataset::open(dir);
  DOFA_ASSERT_ERROR(e.image(2), "broken.jpg", "not a readable image");
  DOFA_ASSERT_ERROR(Dataset::open(dofa_test::temp_dir()), "no class sub-folders");
  DOFA_ASSERT_ERROR(Dataset::open("/nonexistent-folder"), "/nonexistent-folder", "fmnist:train|val|test");
}
END_TEST

START_TEST(test_eval_transform_pixels) {
  Spec s = fmnist_spec();
  cv::Mat img(28, 28, CV_8UC1);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) img.at<uint8_t>(y, x) = uint8_t(7 * y + x);
  std::vector<float> out(28 * 28);
  eval_transform(image_of(img), s, 28, out.data());
  // Hand-computed: crop 1.0 at the native size is the identity, then (v / 255 - 0.2860) / 0.3530.
  for (int y : {0, 13, 27})
    for (int x : {0, 5, 27}) {
      double want = ((7 * y + x) / 255.0 - 0.2860) / 0.3530;
      ck_assert_double_eq_tol(out[size_t(y * 28 + x)], want, 1e-5);
    }
}
END_TEST

START_TEST(test_train_transform_is_a_shift_and_flip) {
  Spec s = fmnist_spec();
  cv::Mat img(28, 28, CV_8UC1);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) img.at<uint8_t>(y, x) = uint8_t(1 + 9 * y + x);
  int flips = 0, shifted = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Rng rng(seed);
    std::vector<float> out(28 * 28);
    train_transform(image_of(img), s, 28, rng, out.data());
    // Which shift (dx, dy in -2..2) and flip reproduce the output exactly?
    bool matched = false;
    for (int flip = 0; flip < 2 && !matched; ++flip)
      for (int dy = -2; dy <= 2 && !matched; ++dy)
        for (int dx = -2; dx <= 2 && !matched; ++dx) {
          bool ok = true;
          for (int y = 0; y < 28 && ok; ++y)
            for (int x = 0; x < 28 && ok; ++x) {
              int sx = x + dx, sy = y + dy;
              double v = (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) ? img.at<uint8_t>(sy, sx) : 0;
              int ox = flip ? 27 - x : x;
              ok = std::fabs(out[size_t(y * 28 + ox)] - (v / 255.0 - 0.2860) / 0.3530) < 1e-5;
            }
          if (ok) {
            matched = true;
            flips += flip;
            shifted += dx != 0 || dy != 0;
          }
        }
    ck_assert_msg(matched, "seed %d: output is no shift within the padding, flipped or not", int(seed));
  }
  ck_assert_int_gt(flips, 5);
  ck_assert_int_lt(flips, 35);
  ck_assert_int_gt(shifted, 20);
}
END_TEST

START_TEST(test_random_resized_crop_rgb) {
  Spec s = Spec::load(dofa_test::source_root() + "/models/ofa-mbv3-w12.json");
  cv::Mat img(60, 80, CV_8UC3, cv::Scalar(200, 100, 50));
  std::vector<float> out(3 * 32 * 32);
  Rng rng(3);
  train_transform(image_of(img), s, 32, rng, out.data());
  // A flat picture stays flat under crop, resize and flip; brightness scales all
  // channels alike, saturation blends towards grey: R stays the largest.
  for (int i = 0; i < 32 * 32; i += 97) {
    float r = out[size_t(i)] * s.std[0] + s.mean[0], g = out[size_t(1024 + i)] * s.std[1] + s.mean[1];
    ck_assert_float_eq_tol(r, out[0] * s.std[0] + s.mean[0], 1e-5);
    ck_assert(r > g);
  }
}
END_TEST

int main() {
  Suite* s = suite_create("dataset");
  TCase* t = tcase_create("dataset");
  tcase_add_test(t, test_idx_plain_and_gzip);
  tcase_add_test(t, test_idx_malformed);
  tcase_add_test(t, test_fmnist_splits);
  tcase_add_test(t, test_fmnist_mismatched_files);
  tcase_add_test(t, test_folder_dataset);
  tcase_add_test(t, test_eval_transform_pixels);
  tcase_add_test(t, test_train_transform_is_a_shift_and_flip);
  tcase_add_test(t, test_random_resized_crop_rgb);
  suite_add_tcase(s, t);
  return dofa_test::run_suite(s);
}
