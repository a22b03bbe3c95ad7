#include "io/gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

extern char** environ;

namespace xcept {

PlotterMissing::~PlotterMissing() = default;

std::string gnuplot_quote(const std::string& s) {
  std::string r = "'";
  for (char ch : s) r += ch == '\'' ? std::string("''") : std::string(1, ch);
  return r + "'";
}

void run_gnuplot(const std::string& program, const std::string& script,
                 const std::vector<std::string>& defines, const std::string& workdir) {
  std::vector<std::string> args = {program};
  for (const std::string& d : defines) args.insert(args.end(), {"-e", d});
  args.push_back(script);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // stderr comes back through a pipe: it is the error message when gnuplot fails.
  int fds[2];
  if (pipe(fds) != 0) fail("plot: cannot create a pipe: {}", std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  if (!workdir.empty()) posix_spawn_file_actions_addchdir_np(&fa, workdir.c_str());
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw PlotterMissing(fmt::format("cannot run {} ({}); install gnuplot (Debian: gnuplot-nox)",
                                     program, std::strerror(rc)));
  }
  std::string err;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0) err.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (exit_status != 0)
    fail("{} failed on {} (exit status {}): {}", program, script, exit_status, err);
}

}  // namespace xcept
