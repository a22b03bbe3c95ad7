// Runs the xcept command-line program for end-to-end tests.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

extern char** environ;

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

// Starts argv[0] with these arguments, stdout and stderr to /dev/null, without waiting
// (tests that kill it mid-run). Returns the pid, or -1.
inline pid_t spawn_quiet(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// waitpid's status of a spawned process.
inline int wait_status(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace xcept::test
