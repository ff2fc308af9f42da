// Runs gnuplot (Debian's gnuplot-nox) on a script: the plots of `dofa report`
// and `dofa demo`. Data goes into the script as datablocks ($name << EOD).
#pragma once

#include <string>

namespace dofa::cli {

// Throws Error naming `who` when gnuplot is missing or fails (with its stderr).
void run_gnuplot(const std::string& script, const std::string& who);

}  // namespace dofa::cli
