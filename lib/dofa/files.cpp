#include "files.h"

#include <glib.h>

#include "error.h"

namespace dofa {

std::string read_file(const std::string& path) {
  gchar* data = nullptr;
  gsize len = 0;
  GError* err = nullptr;
  if (!g_file_get_contents(path.c_str(), &data, &len, &err)) {
    std::string msg = path + ": cannot read: " + (err ? err->message : "unknown error");
    if (err) g_error_free(err);
    throw Error(msg);
  }
  std::string out(data, len);
  g_free(data);
  return out;
}

void write_file_atomic(const std::string& path, const std::string& data) {
  GError* err = nullptr;
  if (!g_file_set_contents(path.c_str(), data.data(), gssize(data.size()), &err)) {
    std::string msg = path + ": cannot write: " + (err ? err->message : "unknown error");
    if (err) g_error_free(err);
    throw Error(msg);
  }
}

}  // namespace dofa
