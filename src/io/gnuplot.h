// gnuplot as a child process on a generated script: the one way xcept starts it, for the
// training curves (xcept/plot.h) and the experiments' plots (experiments/plots.h).
// Pictures are drawn by a plotting tool made for the job, never pixel by pixel here.
#pragma once

#include <string>
#include <vector>

#include "xcept/plot.h"  // PlotterMissing

namespace xcept {

// `s` in gnuplot's single quotes, where '' stands for a quote (no other escapes apply).
std::string gnuplot_quote(const std::string& s);

// Runs `program script` (program looked up on PATH unless it holds a '/'), with each
// of `defines` passed before the script as `-e DEFINE`, in `workdir` when it is not empty;
// stdin and stdout are /dev/null. Throws PlotterMissing when the program cannot be
// started, and xcept::Error with what gnuplot wrote to stderr when it exits non-zero.
void run_gnuplot(const std::string& program, const std::string& script,
                 const std::vector<std::string>& defines = {}, const std::string& workdir = "");

}  // namespace xcept
