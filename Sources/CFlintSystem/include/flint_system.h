// System calls Glibc has no wrapper for, which Swift cannot reach through the variadic syscall(2).
#ifndef FLINT_SYSTEM_H
#define FLINT_SYSTEM_H

/// Puts the calling thread's disk reads in the idle I/O class (ioprio_set(2), IOPRIO_CLASS_IDLE): a scheduler
/// that honours classes (mq-deadline, BFQ) serves them only when no other class waits, so they cannot hold up the
/// process's own page faults. Allowed without privilege. Returns 0, or -1 with errno set (a kernel or scheduler
/// without classes: ENOSYS, or nothing happens at all).
int flint_io_priority_idle(void);

#endif
