/* Closing a refused connection without losing its answer: closing a
 * socket with unread input makes the kernel send a reset, which can destroy
 * the answer before the client reads it. A lingering socket has its sending
 * side shut (the client sees the end after the answer) and what still
 * arrives read and dropped, until the client closes, 1 s passes or 256 KiB
 * were dropped. */
#ifndef EDGE_LINGER_H
#define EDGE_LINGER_H

#include <event2/event.h>

struct lingering;

/* The lingering sockets of one loop: caller-owned, zeroed with its base
 * set; linger_release ends them all (before the base is freed). */
struct lingers {
    struct event_base *base;
    struct lingering *first;
};

/* Lingers on a duplicate of fd (the caller closes fd as usual). Without a
 * spare file descriptor or memory, nothing happens: fd's close then sends
 * the reset. fd must have no events in its base's epoll set any more, not
 * even a removal still waiting in the changelist (loops.c): a socket that
 * the duplicate keeps open would stay in the set after fd's close. */
void linger_close(struct lingers *ls, int fd);
/* Closes every socket still lingering. NULL-safe. */
void linger_release(struct lingers *ls);

#endif
