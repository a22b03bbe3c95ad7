// Runs the xcept command-line program for end-to-end tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace xcept::test {

struct CliRun {
  int status;       // exit status, or -1 when the program did not exit normally
  std::string out;  // stdout, and stderr too unless the caller keeps it apart
};

// `[ENV] xcept ARGS`; merge_stderr=false keeps stdout clean for JSON parsing; env is
// prefixed to the command line ("NAME=value ...").
inline CliRun run_cli(const std::string& args, bool merge_stderr = true,
                      const std::string& env = "") {
  std::string cmd = (env.empty() ? "" : env + " ") + std::string(XCEPT_CLI_PATH) + " " + args + (merge_stderr ? " 2>&1" : "");
  FILE* p = popen(cmd.c_str(), "r");
  CliRun r{-1, ""};
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace xcept::test
