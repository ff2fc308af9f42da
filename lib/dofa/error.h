// Errors raised by libdofa. Every message names the file, field or value at
// fault and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace dofa {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace dofa
