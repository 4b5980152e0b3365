/* Random bytes for ids (request, trace and span ids), from the kernel's
 * generator (getrandom) but not one system call per id: each thread
 * takes WR__RANDOM_POOL bytes at a time and hands them out once each.
 * A request made two or three getrandom calls in the edge and two in a
 * worker (strace); now one in about twenty requests does. A child of
 * fork() never hands out its parent's bytes: a fork drops every pool
 * (pthread_atfork). Thread-safe. Private to libwarren. */
#ifndef WARREN_RANDOM_H
#define WARREN_RANDOM_H

#include <stddef.h>

#define WR__RANDOM_POOL 256

/* Fills n bytes at out (n <= WR__RANDOM_POOL). Should the kernel ever
 * refuse (its pool not yet initialised at boot), the clock, the pid and
 * a counter fill them: ids stay apart, not unpredictable. */
void wr__random(void *out, size_t n);

#endif
