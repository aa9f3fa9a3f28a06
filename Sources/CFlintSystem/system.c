#include "flint_system.h"

#include <sys/syscall.h>
#include <unistd.h>

// From linux/ioprio.h, which not every libc's headers carry.
enum { ioprio_class_shift = 13, ioprio_class_idle = 3, ioprio_who_process = 1 };

int flint_io_priority_idle(void) {
#ifdef SYS_ioprio_set
    // who 0: the calling thread (I/O priorities are per thread on Linux).
    return (int)syscall(SYS_ioprio_set, ioprio_who_process, 0, ioprio_class_idle << ioprio_class_shift);
#else
    return -1;
#endif
}
