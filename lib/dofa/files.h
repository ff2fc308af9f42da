// Whole-file reads and atomic writes; errors name the file.
#pragma once

#include <string>

namespace dofa {

std::string read_file(const std::string& path);
// Temp file + rename in the same directory, so a failed write never leaves half a file.
void write_file_atomic(const std::string& path, const std::string& data);

}  // namespace dofa
