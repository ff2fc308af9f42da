#include "test_util.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace dofa_test {

std::string source_root() {
  const char* p = std::getenv("DOFA_DATA_PATH");
  return p ? p : ".";
}

std::string fixtures() {
  const char* p = std::getenv("DOFA_FIXTURES");
  return p ? p : source_root() + "/tests/fixtures";
}

std::string temp_dir() {
  GError* err = nullptr;
  gchar* d = g_dir_make_tmp("dofa-test-XXXXXX", &err);
  ck_assert_msg(d != nullptr, "cannot make a temporary directory");
  std::string s = d;
  g_free(d);
  return s;
}

std::string write_temp(const std::string& name, const std::string& content) {
  static std::string dir = temp_dir();
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

bool file_exists(const std::string& path) { return g_file_test(path.c_str(), G_FILE_TEST_EXISTS); }

int run_suite(Suite* s) {
  SRunner* sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace dofa_test
