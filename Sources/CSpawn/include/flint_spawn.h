// Starting an execution environment's process the way Lambda's sandbox would: nothing of the emulator leaks into
// it, it ends when the emulator ends, and it runs inside its cgroups from its first instruction.
#ifndef FLINT_SPAWN_H
#define FLINT_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (NULL-terminated) in a new process and returns its pid, or a negative
/// errno when it could not start (`*failed_step` then names the step: "fork", "cgroup", "chdir", "exec", ...).
///
/// The child: standard input from /dev/null, standard output and error on `out_fd` and `err_fd`, every other
/// descriptor closed (whatever the emulator holds, close-on-exec or not: listening sockets, epoll, timers);
/// a process group of its own; SIGINT, SIGTERM, SIGPIPE and SIGHUP at their defaults and no signal blocked; a
/// parent-death signal (SIGKILL), so it ends when the emulator dies however it dies; the pid written into each of
/// `cgroup_procs` (the `cgroup.procs` files of its cgroups) before it runs anything; `directory` (when not NULL) as
/// its working directory. The parent-death signal follows the thread that spawns: call it from a thread that lives
/// as long as the children should.
pid_t flint_spawn(const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd,
                  const char *directory, const char *const cgroup_procs[], int cgroup_count,
                  const char **failed_step);

#endif
