// Per-thread scheduling for AgentLedger (Sources/Collector/Store/StorageThread.swift and the proxy's event loops).
// glibc 2.36 has no wrapper for sched_setattr / sched_getattr, so they are called through syscall(2).
#define _GNU_SOURCE
#include "thread_tuning.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif

// struct sched_attr of <linux/sched/types.h>, its first version (48 bytes) plus utilization clamps (56).
struct agentledger_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};

int agentledger_thread_request_slice(uint64_t nanoseconds) {
#if defined(__linux__) && defined(SYS_sched_setattr) && defined(SYS_sched_getattr)
    struct agentledger_sched_attr attr;
    memset(&attr, 0, sizeof(attr));
    if (syscall(SYS_sched_getattr, 0, &attr, (unsigned int)sizeof(attr), 0) != 0) return -1;
    if (attr.sched_policy != SCHED_OTHER) {
        errno = EINVAL;
        return -1;
    }
    attr.size = sizeof(attr);
    attr.sched_flags = 0;
    attr.sched_runtime = nanoseconds;
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
#else
    (void)nanoseconds;
    errno = ENOSYS;
    return -1;
#endif
}

int agentledger_thread_set_idle(void) {
#if defined(__linux__)
    struct sched_param param;
    memset(&param, 0, sizeof(param));
    return sched_setscheduler(0, SCHED_IDLE, &param);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int agentledger_thread_set_nice(int nice) {
    // On Linux the nice value belongs to the thread, and `who` 0 names the calling one.
    return setpriority(PRIO_PROCESS, 0, nice);
}

int agentledger_thread_nice(void) {
    errno = 0;
    return getpriority(PRIO_PROCESS, 0);
}

int agentledger_thread_policy(void) {
#if defined(__linux__)
    return sched_getscheduler(0);
#else
    errno = ENOSYS;
    return -1;
#endif
}
