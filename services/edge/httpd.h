/* The edge's HTTP/1.1 server: one loop's client connections, from the
 * accept to the close, and the requests on them, one at a time per
 * connection. Written for the edge (it replaced libevent's evhttp, which
 * took ~25k instructions and ~2 KB a request: README "Speed"):
 *   - every head is checked as bytes arrive (head.h): a refused one is
 *     answered 400 (505 for another major version) once the requests before
 *     it are answered, then the connection is closed lingering (linger.h);
 *   - beyond MAX_CONNECTIONS (MAX_CONNECTIONS_PER_ADDRESS from one address)
 *     a new connection gets a 503 and is closed;
 *   - a head past its backstop (MAX_URI_BYTES + MAX_HEADER_BYTES + 1024) is
 *     a 414 (a long request line) or 431, a body past MAX_BODY_BYTES a 413,
 *     a method the edge does not know (methods are case-sensitive) a 501:
 *     all in JSON, the connection closed;
 *   - a request (head and body) must arrive within HTTP_TIMEOUT_S of the
 *     connection's start, the next within REQUEST_TIMEOUT_MS +
 *     HTTP_TIMEOUT_S of the previous one's arrival, and an answer must make
 *     progress into the socket every HTTP_TIMEOUT_S: else the connection is
 *     closed;
 *   - answers are written at the end of the loop turn that made them (one
 *     write, no write event when the socket takes them whole).
 * Keep-alive as RFC 9112 9.3: HTTP/1.1 unless "Connection: close", HTTP/1.0
 * only with "Connection: keep-alive" (answered with it). */
#ifndef EDGE_HTTPD_H
#define EDGE_HTTPD_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h> /* enum evhttp_cmd_type: the method names, only */
#include <event2/listener.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "peers.h"
#include "warren/cfg.h"

typedef struct httpd httpd;
struct hreq;

struct httpd_handlers {
    /* A request arrived: the handler owns it until it answers it
     * (hreq_send, or hreq_start ... hreq_end) or it is gone. */
    void (*request)(struct hreq *req, void *arg);
    /* The client of a request with a parked call (hreq_park) went away:
     * the request is freed right after this returns. */
    void (*gone)(void *call, void *arg);
    void *arg;
};

/* Serves the connections lev accepts from now on (lev stays the caller's;
 * httpd_stop_accepting before freeing it), counted in *open (shared by
 * every loop, changed only atomically) and by address in peers (shared
 * too). NULL when out of memory. */
httpd *httpd_new(struct event_base *base, const struct wr_cfg *cfg, struct evconnlistener *lev,
                 atomic_long *open, peers *by_addr, const struct httpd_handlers *h);
/* No new connection from now on: the listener is the caller's to free. */
void httpd_stop_accepting(httpd *s);
/* Whether any connection has answer bytes not yet sent. NULL-safe. */
bool httpd_sending(const httpd *s);
/* Closes every connection (a parked call hears of it first). NULL-safe. */
void httpd_free(httpd *s);

/* The request. Strings are borrowed: valid while req is. */
enum evhttp_cmd_type hreq_method(const struct hreq *req);
/* The request target as sent; its path (before '?', the authority of an
 * absolute form left out) and query (after '?', NULL when none), both not
 * decoded, a fragment left out. */
const char *hreq_target(const struct hreq *req);
const char *hreq_path(const struct hreq *req);
const char *hreq_query(const struct hreq *req);
/* The value of header name (case-insensitive; the first when repeated),
 * or NULL. */
const char *hreq_header(const struct hreq *req, const char *name);
/* The request's headers in their order: i < hreq_header_count. */
size_t hreq_header_count(const struct hreq *req);
void hreq_header_at(const struct hreq *req, size_t i, const char **name, const char **value);
/* The body (chunked bodies decoded), len bytes; "" when none. */
const char *hreq_body(const struct hreq *req, size_t *len);
/* The client's address (len 0 when the socket has none). */
const struct peer_addr *hreq_addr(const struct hreq *req);
/* Parks call on req (NULL: none): gone() hears of it if the client goes
 * away while req waits for it. *ref (when not NULL) is set to req, and to
 * NULL when req ends (answered, aborted or gone, before gone() runs): the
 * call's way of knowing whether req is still there to be unparked. */
void hreq_park(struct hreq *req, void *call, struct hreq **ref);

/* The answer. Adds a response header (name and value copied). Date,
 * Content-Length, Transfer-Encoding, Connection and Keep-Alive are the
 * server's own: given here, they are dropped, but for "Connection: close",
 * which closes the connection after this answer. A name that is no RFC 9110
 * token or a value holding CR or LF is dropped too. */
void hreq_header_add(struct hreq *req, const char *name, const char *value);
/* Sends the answer: status (its RFC 9110 reason), the headers, Date and
 * Content-Length: len, then len bytes of body (none for HEAD, nor for
 * 1xx, 204 and 304, which have no length either). req is freed: never
 * touched afterwards. */
void hreq_send(struct hreq *req, int status, const char *body, size_t len);
/* A streamed answer: status and the headers now, then the body in parts
 * (chunked in HTTP/1.1; in HTTP/1.0 as bytes, the connection closed at the
 * end; none for HEAD). */
void hreq_start(struct hreq *req, int status);
/* Moves data's bytes into the answer; flushed(arg), when not NULL, runs
 * once everything queued so far has left into the socket (at most one
 * waits: a new one replaces it). */
void hreq_chunk(struct hreq *req, struct evbuffer *data, void (*flushed)(void *arg), void *arg);
/* Ends a streamed answer; req is freed (as by hreq_send). */
void hreq_end(struct hreq *req);
/* Closes req's connection now, what is not sent dropped; req is freed and
 * gone() is not called. */
void hreq_abort(struct hreq *req);
/* An answer must make progress into the socket within tv (from now on,
 * for this connection; HTTP_TIMEOUT_S by default). */
void hreq_write_timeout(struct hreq *req, const struct timeval *tv);

#endif
