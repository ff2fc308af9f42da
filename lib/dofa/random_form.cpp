#include "random_form.h"

#include <cctype>
#include <cstdlib>

#include "error.h"

namespace dofa {

bool parse_random_form(const std::string& text, const std::string& what, uint64_t* seed) {
  if (text != "random" && text.rfind("random:", 0) != 0) return false;
  const std::string digits = text == "random" ? "0" : text.substr(7);
  // Digits only: strtoull alone would take "-1" (wrapping) and leading spaces.
  bool ok = !digits.empty();
  for (char c : digits) ok = ok && std::isdigit(static_cast<unsigned char>(c));
  if (!ok) throw Error(what + " '" + text + "': seed '" + digits + "' is not a non-negative integer (random[:SEED])");
  *seed = std::strtoull(digits.c_str(), nullptr, 10);
  return true;
}

}  // namespace dofa
