// Shared helpers of the Check tests.
#pragma once

#include <string>

#include <check.h>
// Check's deprecated `fail` macro clashes with std::ios::fail and JsonValue::fail.
#undef fail

namespace dofa_test {

std::string source_root();                    // project source tree
std::string fixtures();                       // tests/fixtures
std::string temp_dir();                       // a fresh temporary directory
std::string write_temp(const std::string& name, const std::string& content);  // in temp_dir()
bool file_exists(const std::string& path);
// Runs the suite, returns the process exit code.
int run_suite(Suite* s);

}  // namespace dofa_test

// Asserts that `expr` throws dofa::Error whose message contains every given fragment.
#define DOFA_ASSERT_ERROR(expr, ...)                                                     \
  do {                                                                                   \
    bool thrown_ = false;                                                                \
    try {                                                                                \
      (void)(expr);                                                                      \
    } catch (const dofa::Error& e_) {                                                    \
      thrown_ = true;                                                                    \
      std::string msg_ = e_.what();                                                      \
      for (const char* frag_ : {__VA_ARGS__})                                            \
        ck_assert_msg(msg_.find(frag_) != std::string::npos, "error '%s' lacks '%s'",    \
                      msg_.c_str(), frag_);                                              \
    }                                                                                    \
    ck_assert_msg(thrown_, "expected dofa::Error from %s", #expr);                       \
  } while (0)
