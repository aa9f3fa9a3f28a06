// A small persistent thread pool for intra-op parallelism: workers start once, sleep on a condition variable, and
// take numbered parts of a job. Sized as flint_pool_configure says, else from the CPUs this process may use
// (affinity mask and the cgroup's CPU quota, v1 or v2; Lambda gives up to 6 vCPUs). Work too small to split runs on the caller alone.
#define _GNU_SOURCE
#include "flint_kernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLINT_MAX_THREADS 16

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static int thread_count = 1;
static unsigned long generation = 0;
static int next_part = 0, parts_total = 0;
// Written under the lock, also read without it by the spin phases below.
static _Atomic unsigned long published = 0;
static _Atomic int parts_pending = 0;

// Waking a sleeping thread costs tens of microseconds on a virtual machine, more than a small layer's work, and
// a forward pass hands out a job every few tens of microseconds. So a worker that finishes polls for the next job
// for a short while before it sleeps, and the caller polls for completion before it waits. flint_pool_configure
// sets the window (default 200 µs; 0 never spins).
static long spin_nanoseconds = 200000;
// Threads asked for by flint_pool_configure; 0 sizes the pool from the CPUs.
static int configured_threads = 0;
// flint_pool_cap's limit on a pool sized from the CPUs; 0 for none.
static int cpu_cap = 0;
static _Atomic int pool_started = 0;

static long monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)now.tv_sec * 1000000000L + now.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Polls `done(argument)` for up to the spin window; returns whether it became true.
static int spin_until(int (*done)(unsigned long), unsigned long argument) {
    if (spin_nanoseconds <= 0) return 0;
    long deadline = monotonic_nanoseconds() + spin_nanoseconds;
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (done(argument)) return 1;
            relax();
        }
        if (monotonic_nanoseconds() > deadline) return 0;
    }
}

// When the last job split over the pool ended: its workers poll for the next one until the spin window closes.
static _Atomic long last_split_end = 0;
// Bumped by flint_pool_wake: a sleeping worker that sees it polls again instead of going back to sleep.
static unsigned long wake_requests = 0;

static int job_published(unsigned long seen) { return atomic_load_explicit(&published, memory_order_acquire) != seen; }
static int parts_done(unsigned long unused) { (void)unused; return atomic_load_explicit(&parts_pending, memory_order_acquire) == 0; }
static void (*job_function)(void *, int, int) = NULL;
static void *job_argument = NULL;

// CPUs a quota of `quota` per `period` microseconds allows, rounded up (0: no quota).
static int cpus_for(long quota, long period) { return quota > 0 && period > 0 ? (int)((quota + period - 1) / period) : 0; }

// The CPU quota of this process's own cgroup (as the emulator and Lambda set it): cgroup v2's cpu.max, or v1's
// cpu.cfs_quota_us and cpu.cfs_period_us, under the path /proc/self/cgroup gives (inside a cgroup namespace the
// path is "/", and the files are at the mount's top). 0 when there is no quota.
static int quota_cpus(void) {
    FILE *groups = fopen("/proc/self/cgroup", "r");
    char line[512], v2[256] = "", v1[256] = "";
    int found_v1 = 0;
    while (groups && fgets(line, sizeof line, groups)) {
        line[strcspn(line, "\n")] = 0;
        char *controllers = strchr(line, ':');
        char *path = controllers ? strchr(controllers + 1, ':') : NULL;
        if (!path) continue;
        *path++ = 0;
        controllers++;
        if (controllers[0] == 0) {
            snprintf(v2, sizeof v2, "%s", path);
        } else {
            // "cpu", "cpu,cpuacct" or "cpuacct,cpu": the cpu controller alone, not cpuset.
            for (char *name = strtok(controllers, ","); name; name = strtok(NULL, ",")) {
                if (strcmp(name, "cpu") == 0) { snprintf(v1, sizeof v1, "%s", path); found_v1 = 1; }
            }
        }
    }
    if (groups) fclose(groups);
    char file[600];
    int cpus = 0;
    if (found_v1) {
        long quota = 0, period = 0;
        snprintf(file, sizeof file, "/sys/fs/cgroup/cpu%s/cpu.cfs_quota_us", strcmp(v1, "/") == 0 ? "" : v1);
        FILE *f = fopen(file, "r");
        if (f) { if (fscanf(f, "%ld", &quota) != 1) quota = 0; fclose(f); }
        snprintf(file, sizeof file, "/sys/fs/cgroup/cpu%s/cpu.cfs_period_us", strcmp(v1, "/") == 0 ? "" : v1);
        f = fopen(file, "r");
        if (f) { if (fscanf(f, "%ld", &period) != 1) period = 0; fclose(f); }
        cpus = cpus_for(quota, period);
    }
    if (cpus == 0) {
        snprintf(file, sizeof file, "/sys/fs/cgroup%s/cpu.max", strcmp(v2, "/") == 0 ? "" : v2);
        FILE *f = fopen(file, "r");
        if (f) {
            char quota[32] = {0};
            long period = 0;
            if (fscanf(f, "%31s %ld", quota, &period) == 2 && quota[0] != 'm') cpus = cpus_for(atol(quota), period);
            fclose(f);
        }
    }
    return cpus;
}

static void *worker(void *unused) {
    (void)unused;
    unsigned long seen = 0, wakes_seen = 0;
    for (;;) {
        spin_until(job_published, seen);
        pthread_mutex_lock(&lock);
        int woken = 0;
        while (generation == seen || next_part >= parts_total) {
            if (generation != seen && next_part >= parts_total) seen = generation;
            if (wake_requests != wakes_seen) { wakes_seen = wake_requests; woken = 1; break; }
            pthread_cond_wait(&wake, &lock);
        }
        if (woken) { pthread_mutex_unlock(&lock); continue; }
        int part = next_part++;
        void (*function)(void *, int, int) = job_function;
        void *argument = job_argument;
        int total = parts_total;
        pthread_mutex_unlock(&lock);
        function(argument, part, total);
        pthread_mutex_lock(&lock);
        if (--parts_pending == 0) pthread_cond_signal(&finished);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void start_pool(void) {
    int cpus = 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
    int quota = quota_cpus();
    if (quota > 0 && quota < cpus) cpus = quota;
    if (cpu_cap > 0 && cpu_cap < cpus) cpus = cpu_cap;
    atomic_store(&pool_started, 1);
    if (configured_threads > 0) cpus = configured_threads;
    if (cpus > FLINT_MAX_THREADS) cpus = FLINT_MAX_THREADS;
    if (cpus < 1) cpus = 1;
    thread_count = cpus;
    for (int i = 1; i < cpus; i++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker, NULL) != 0) { thread_count = i; break; }
        pthread_detach(thread);
    }
}

int flint_pool_configure(int threads, long spin_microseconds) {
    if (atomic_load(&pool_started) || threads < 0) return 0;
    configured_threads = threads;
    if (spin_microseconds >= 0) spin_nanoseconds = spin_microseconds * 1000L;
    return 1;
}

int flint_pool_cap(int cpus) {
    if (atomic_load(&pool_started) || cpus < 0) return 0;
    cpu_cap = cpus;
    return 1;
}

int flint_thread_count(void) {
    pthread_once(&once, start_pool);
    return thread_count;
}

// One job at a time: a second caller waits here until the first one's job is done.
static pthread_mutex_t callers = PTHREAD_MUTEX_INITIALIZER;

void flint_parallel_for(int parts, void (*function)(void *, int, int), void *argument) {
    int threads = flint_thread_count();
    if (parts <= 1 || threads <= 1) {
        for (int part = 0; part < parts; part++) function(argument, part, parts);
        return;
    }
    pthread_mutex_lock(&callers);
    pthread_mutex_lock(&lock);
    job_function = function;
    job_argument = argument;
    parts_total = parts;
    next_part = 1;  // the caller takes part 0
    parts_pending = parts - 1;
    generation++;
    atomic_store_explicit(&published, generation, memory_order_release);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    function(argument, 0, parts);
    // The caller helps with parts no worker has taken yet.
    for (;;) {
        pthread_mutex_lock(&lock);
        if (next_part >= parts_total) { pthread_mutex_unlock(&lock); break; }
        int part = next_part++;
        pthread_mutex_unlock(&lock);
        function(argument, part, parts);
        pthread_mutex_lock(&lock);
        parts_pending--;
        pthread_mutex_unlock(&lock);
    }
    if (!spin_until(parts_done, 0)) {
        pthread_mutex_lock(&lock);
        while (parts_pending > 0) pthread_cond_wait(&finished, &lock);
        pthread_mutex_unlock(&lock);
    }
    atomic_store_explicit(&last_split_end, monotonic_nanoseconds(), memory_order_relaxed);
    pthread_mutex_unlock(&callers);
}

void flint_pool_wake(void) {
    if (flint_thread_count() <= 1 || spin_nanoseconds <= 0) return;
    pthread_mutex_lock(&lock);
    wake_requests++;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    atomic_store_explicit(&last_split_end, monotonic_nanoseconds(), memory_order_relaxed);
}

int flint_pool_polling(void) {
    if (flint_thread_count() <= 1 || spin_nanoseconds <= 0) return 0;
    // Half the window: a worker started polling when it finished its part, a little before the job ended.
    long since = monotonic_nanoseconds() - atomic_load_explicit(&last_split_end, memory_order_relaxed);
    return since < spin_nanoseconds / 2;
}
