/* An edge loop's listening socket: bound on HTTP_HOST:HTTP_PORT in a
 * SO_REUSEPORT group with the other loops', and kept from spinning when
 * accept() fails. libevent's listener retries a failed accept() as soon as
 * the socket is readable again, which it stays while clients wait: out of
 * file descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM),
 * that is a loop using a whole core. Here a failure pauses the listener
 * (10 ms, doubling to 1 s while failures go on), and the clients already
 * waiting get the 503 MAX_CONNECTIONS promises, through a reserve
 * descriptor kept for that: closed, used to accept and answer one client,
 * opened again. */
#ifndef EDGE_ACCEPT_H
#define EDGE_ACCEPT_H

#include <event2/event.h>
#include <event2/listener.h>

#include "warren/cfg.h"

typedef struct accepter accepter;

/* Binds the listening socket (backlog 4096) and guards it. NULL when it
 * cannot (errno set). accept_listener() is for the server (httpd.h), which
 * sets its accept callback. */
accepter *accept_new(struct event_base *base, const struct wr_cfg *cfg);
struct evconnlistener *accept_listener(const accepter *a);
/* Clients answered 503 because accept() failed, since the start. */
unsigned long accept_refused(const accepter *a);
/* Frees the guard and the listener (its socket closed). NULL-safe. */
void accept_free(accepter *a);

#endif
