/* The clocks warren reads, one rule each: the real-time clock for times
 * people read (audit records, log lines), a steady clock for deadlines and
 * durations, so that a step of the system clock (an operator, NTP's step,
 * faketime) moves no deadline, no timeout and no measured duration, and a
 * thread's CPU clock for the work it did. */
#ifndef WARREN_CLOCK_H
#define WARREN_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Milliseconds since the epoch, from the real-time clock: for times people
 * read, never for deadlines or durations. */
long long wr_now_ms(void);
/* The same clock in microseconds. */
long long wr_now_us(void);

/* Milliseconds since the epoch on the clock deadlines are stamped and
 * judged by (x-deadline-ms) and durations measured on: the real-time clock
 * as this process first read it, advanced by the monotonic clock since. It
 * never steps: a step of the system clock after start moves no deadline and
 * no duration in this process, and processes whose clocks agreed when they
 * started agree on it. Thread-safe. */
long long wr_steady_ms(void);

/* Microseconds of CPU the calling thread has used (a system call, unlike
 * the two above): for how much work a stretch took, whatever else ran. */
long long wr_thread_cpu_us(void);

/* Initialises c to time its waits on the monotonic clock: a wait bounded by
 * wr_steady_timespec never stretches when the system clock steps back.
 * Returns pthread_cond_init's result. */
int wr_cond_init_steady(pthread_cond_t *c);

/* The monotonic time ms milliseconds from now (ms <= 0: now), for
 * pthread_cond_timedwait on a condition from wr_cond_init_steady. */
struct timespec wr_steady_timespec(long long ms);

#endif
