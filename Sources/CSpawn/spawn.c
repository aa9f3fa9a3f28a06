// fork + exec with the child's set-up done in between, since posix_spawn can neither close every inherited
// descriptor on every glibc nor set a parent-death signal nor join a cgroup. Between fork and exec the child of a
// multithreaded parent may only make async-signal-safe calls: every step below is a plain system call.
#define _GNU_SOURCE
#include "flint_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

// What the child reports through the status pipe when a step fails: the step's index and errno.
static const char *const steps[] = {"fork", "pipe", "signals", "process group", "parent-death signal", "cgroup",
                                    "standard streams", "chdir", "close descriptors", "exec"};

static void report(int status_fd, int step) {
    int message[2] = {step, errno};
    (void)!write(status_fd, message, sizeof message);
    _exit(127);
}

// Every descriptor from `low` up, except `keep`: close_range where the kernel has it (5.9+), else one by one.
static void close_from(int low, int keep) {
    if (keep >= low) {
        if (keep > low && syscall(SYS_close_range, (unsigned)low, (unsigned)(keep - 1), 0) != 0) {
            for (int fd = low; fd < keep; fd++) close(fd);
        }
        low = keep + 1;
    }
    if (syscall(SYS_close_range, (unsigned)low, ~0U, 0) != 0) {
        long limit = sysconf(_SC_OPEN_MAX);
        if (limit < 0 || limit > 65536) limit = 65536;
        for (int fd = low; fd < limit; fd++) close(fd);
    }
}

static int write_decimal(int fd, long value) {
    char digits[24];
    int length = 0;
    do {
        digits[sizeof digits - 1 - length++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    return write(fd, digits + sizeof digits - length, (size_t)length) == length ? 0 : -1;
}

pid_t flint_spawn(const char *path, char *const argv[], char *const envp[], int out_fd, int err_fd,
                  const char *directory, const char *const cgroup_procs[], int cgroup_count,
                  const char **failed_step) {
    int status[2];
    if (pipe2(status, O_CLOEXEC) != 0) {
        if (failed_step) *failed_step = steps[1];
        return -errno;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int error = errno;
        close(status[0]);
        close(status[1]);
        if (failed_step) *failed_step = steps[0];
        return -error;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        struct sigaction standard;
        memset(&standard, 0, sizeof standard);
        standard.sa_handler = SIG_DFL;
        int defaults[] = {SIGINT, SIGTERM, SIGPIPE, SIGHUP};
        for (unsigned i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
            if (sigaction(defaults[i], &standard, NULL) != 0) report(status[1], 2);
        }
        if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) report(status[1], 2);
        if (setpgid(0, 0) != 0) report(status[1], 3);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) report(status[1], 4);
        // The parent may have died before the signal was armed.
        if (getppid() != parent) _exit(127);
        for (int i = 0; i < cgroup_count; i++) {
            int fd = open(cgroup_procs[i], O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write_decimal(fd, (long)getpid()) != 0) report(status[1], 5);
            close(fd);
        }
        int input = open("/dev/null", O_RDONLY);
        if (input < 0 || dup2(input, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) report(status[1], 6);
        if (directory && chdir(directory) != 0) report(status[1], 7);
        close_from(3, status[1]);
        execve(path, argv, envp);
        report(status[1], 9);
    }
    close(status[1]);
    int message[2];
    ssize_t got;
    do { got = read(status[0], message, sizeof message); } while (got < 0 && errno == EINTR);
    close(status[0]);
    if (got == (ssize_t)sizeof message) {
        int ignored;
        while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {}
        if (failed_step) *failed_step = steps[message[0]];
        return -message[1];
    }
    return pid;
}
