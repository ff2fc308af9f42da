// "random" or "random:SEED": the text that stands for seeded random choices
// where an arch (--arch) or weights (--weights, a spec's "weights") are named.
#pragma once

#include <cstdint>
#include <string>

namespace dofa {

// False when text is not of that form. For "random" the seed is 0. A malformed
// seed throws Error naming `what`, the text and what was expected.
bool parse_random_form(const std::string& text, const std::string& what, uint64_t* seed);

}  // namespace dofa
