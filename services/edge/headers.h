/* A response's header list, written for libevent 2.1's evhttp: every
 * header the edge sends goes through here (respond.h). libevent prints
 * each entry of the list with a printf of its own, so the headers it does
 * not read share one entry (headers.c says how); on the wire they are the
 * same lines. Needs evhttp_set_default_content_type(http, NULL) on the
 * server (edge.c): Content-Type is folded too. */
#ifndef EDGE_HEADERS_H
#define EDGE_HEADERS_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* Adds header name: value to h (both copied), after those added before.
 * A name that is no RFC 9110 token, or a value holding CR or LF, is
 * dropped (so is a header when out of memory). Date is the edge's own
 * (headers_date): a value given for it is ignored. A list this adds to
 * carries Date. */
void headers_add(struct evkeyvalq *h, const char *name, const char *value);

/* Adds the Date header (httpdate.h) unless h has it, so that libevent
 * does not format one itself. */
void headers_date(struct evkeyvalq *h);

#endif
