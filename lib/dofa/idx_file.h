// IDX files (the MNIST / Fashion-MNIST format, http://yann.lecun.com/exdb/mnist/),
// plain or gzip-compressed: magic 0x0000 08 NDIM (unsigned bytes), NDIM
// big-endian uint32 sizes, then the bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dofa {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // product(dims) bytes
};

// Throws Error naming the file and the problem (bad magic, truncated, ...).
IdxArray read_idx(const std::string& path);

// The whole file, gunzipped when it starts with the gzip magic.
std::string read_maybe_gzip(const std::string& path);

}  // namespace dofa
