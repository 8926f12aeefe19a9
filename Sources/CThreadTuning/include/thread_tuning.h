#ifndef AGENTLEDGER_THREAD_TUNING_H
#define AGENTLEDGER_THREAD_TUNING_H

#include <stdint.h>

/// The calling thread asks the scheduler for time slices of `nanoseconds` (Linux 6.12 and later, EEVDF): a thread
/// with a shorter slice than the one running preempts it on wakeup instead of waiting for the running slice to end.
/// Its policy and nice value are kept. Answers 0, or -1 with errno set (EINVAL or ENOSYS on older kernels).
int agentledger_thread_request_slice(uint64_t nanoseconds);

/// The calling thread's scheduling policy becomes SCHED_IDLE: it runs only when no other thread of the machine wants
/// the CPU. Answers 0, or -1 with errno set.
int agentledger_thread_set_idle(void);

/// The calling thread's nice value (-20…19): set with `nice`, answers 0, or -1 with errno set.
int agentledger_thread_set_nice(int nice);

/// The calling thread's nice value.
int agentledger_thread_nice(void);

/// The calling thread's scheduling policy (SCHED_OTHER 0, SCHED_IDLE 5…), or -1 with errno set.
int agentledger_thread_policy(void);

#endif
