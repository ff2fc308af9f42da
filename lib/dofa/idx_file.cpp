#include "idx_file.h"

#include <gio/gio.h>

#include "error.h"
#include "files.h"

namespace dofa {

std::string read_maybe_gzip(const std::string& path) {
  std::string raw = read_file(path);
  if (raw.size() < 2 || uint8_t(raw[0]) != 0x1f || uint8_t(raw[1]) != 0x8b) return raw;
  GZlibDecompressor* z = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  std::string out;
  std::vector<char> buf(1 << 20);
  size_t pos = 0;
  for (;;) {
    gsize read = 0, written = 0;
    GError* err = nullptr;
    GConverterResult r = g_converter_convert(G_CONVERTER(z), raw.data() + pos, raw.size() - pos, buf.data(),
                                             buf.size(), G_CONVERTER_INPUT_AT_END, &read, &written, &err);
    pos += read;
    out.append(buf.data(), written);
    if (r == G_CONVERTER_ERROR) {
      std::string msg = err ? err->message : "unknown error";
      g_clear_error(&err);
      g_object_unref(z);
      throw Error(path + ": gzip data is corrupt or truncated (" + msg + ")");
    }
    if (r == G_CONVERTER_FINISHED) break;
  }
  g_object_unref(z);
  return out;
}

IdxArray read_idx(const std::string& path) {
  const std::string b = read_maybe_gzip(path);
  auto u8 = [&b](size_t i) { return uint32_t(uint8_t(b[i])); };
  if (b.size() < 4 || u8(0) != 0 || u8(1) != 0)
    throw Error(path + ": not an IDX file (expected the magic 00 00 08 NDIM)");
  if (u8(2) != 0x08)
    throw Error(path + ": IDX element type 0x" + std::to_string(u8(2)) + " not supported, expected 0x08 (unsigned byte)");
  const uint32_t ndim = u8(3);
  if (ndim < 1 || ndim > 4) throw Error(path + ": IDX has " + std::to_string(ndim) + " dimensions, expected 1 to 4");
  if (b.size() < 4 + 4 * ndim) throw Error(path + ": truncated IDX header");
  IdxArray a;
  size_t n = 1;
  for (uint32_t d = 0; d < ndim; ++d) {
    size_t o = 4 + 4 * d;
    int64_t v = int64_t(u8(o) << 24 | u8(o + 1) << 16 | u8(o + 2) << 8 | u8(o + 3));
    if (v <= 0 || v > (1 << 28)) throw Error(path + ": IDX dimension " + std::to_string(d) + " is " + std::to_string(v));
    a.dims.push_back(v);
    n *= size_t(v);
  }
  const size_t have = b.size() - (4 + 4 * ndim);
  if (have < n)
    throw Error(path + ": truncated IDX data: " + std::to_string(have) + " bytes, expected " + std::to_string(n));
  if (have > n)
    throw Error(path + ": " + std::to_string(have - n) + " bytes after the IDX data, expected none");
  a.data.assign(b.begin() + 4 + 4 * ndim, b.end());
  return a;
}

}  // namespace dofa
