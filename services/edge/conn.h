/* The edge's client connections: each one is watched from its accept to
 * its close. Beyond MAX_CONNECTIONS (or MAX_CONNECTIONS_PER_ADDRESS from
 * its address) a new connection gets a 503 in JSON and is closed; its input
 * is checked as bytes (head.h) before libevent parses it, a refused head or
 * framing answered 400 and the connection closed; a request (head and body) must arrive within
 * HTTP_TIMEOUT_S of the connection's start, and the next one within REQUEST_TIMEOUT_MS +
 * HTTP_TIMEOUT_S of the previous one, else the connection is closed; the
 * errors libevent answers itself in HTML (a malformed head, a head past its
 * backstop, a body over MAX_BODY_BYTES) are rewritten into JSON 400, 414,
 * 431 or 413 before they are sent. */
#ifndef EDGE_CONN_H
#define EDGE_CONN_H

#include <event2/event.h>
#include <event2/http.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "peers.h"
#include "warren/cfg.h"

typedef struct conns conns;
struct conn;

/* Watches every connection http accepts from now on, counted in *open
 * (shared by every loop's conns, changed only atomically) and by address
 * in peers (shared too). gone(call, arg)
 * is called when the client of a parked call goes away; libevent frees the
 * request right after. NULL when out of memory. */
conns *conns_new(struct event_base *base, struct evhttp *http, const struct wr_cfg *cfg,
                 atomic_long *open, peers *by_addr, void (*gone)(void *call, void *arg), void *arg);
/* After evhttp_free (which closes every connection). NULL-safe. */
void conns_free(conns *c);
/* Whether any connection has answer bytes not yet sent. NULL-safe. */
bool conns_sending(const conns *c);

/* The connection of req; NULL when it is not watched (only short of
 * memory), in which case nobody will learn that its client went away. */
struct conn *conns_of(const conns *c, struct evhttp_request *req);
/* The client address of conn (len 0 when the socket has none). Borrowed:
 * valid while conn is. */
const struct peer_addr *conn_addr(const struct conn *conn);
/* A request arrived on conn: the deadline for the next one starts. */
void conn_request(struct conn *conn);
/* Parks call on conn (NULL: none): gone() hears of it if the client goes. */
void conn_park(struct conn *conn, void *call);
/* Lets go of the unanswered request of a connection that closed under it
 * (called from gone()). libevent frees a request still on its connection
 * once gone() returns, but not one it detached first (the client's EOF or a
 * failed write while the answer was pending): that one is freed here. Either
 * way req must not be touched afterwards. */
void conn_drop_request(struct evhttp_request *req);

#endif
