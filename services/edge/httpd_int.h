/* What the server's two files share (httpd.h is the contract): httpd.c
 * keeps the connections and sends answers, hreq.c reads a request from a
 * connection's input and writes an answer's head (pure: the unit tests link
 * it alone). */
#ifndef EDGE_HTTPD_INT_H
#define EDGE_HTTPD_INT_H

#include "expiry.h"
#include "head.h"
#include "httpd.h"
#include "linger.h"

#include <stdint.h>

struct hconn;

struct httpd {
    struct event_base *base;
    const struct wr_cfg *cfg;
    struct httpd_handlers h;
    struct evconnlistener *lev;     /* NULL once it stopped accepting */
    struct expiry heads;            /* HTTP_TIMEOUT_S: a first request's arrival */
    struct expiry nexts;            /* the next request's arrival */
    const struct timeval *write_tv; /* HTTP_TIMEOUT_S: an answer's progress */
    atomic_long *open;              /* every loop's connections */
    peers *peers;                   /* every loop's connections by address */
    struct lingers lingers;
    struct hconn *first;     /* every connection, to close them at the end */
    struct event *flush_ev;  /* active while answers wait to be written */
    struct hconn **flushing; /* the connections whose answers wait */
    size_t nflush, capflush;
};

/* One request's header field, pointing into the request's own copy. */
struct hfield {
    const char *name, *value;
};

struct hreq {
    struct hconn *conn;
    enum evhttp_cmd_type method;
    bool http10;
    bool keep_alive;  /* the client keeps the connection after the answer */
    bool close_after; /* closed after the answer, whatever the client said */
    bool chunked;     /* its parts are chunks */
    const char *target, *path, *query;
    struct hfield *fields;
    size_t nfields;
    char *body;
    size_t body_len;
    char *out; /* the answer's header lines, "Name: value\r\n" each */
    size_t out_len, out_cap;
    char text[]; /* the head's copy, the path's, then the body */
};

/* hreq.c: reads the request at the start of in, whose head (of head_len
 * bytes, checked: head.h) and body (body_len bytes on the wire) are there
 * whole; NULL when out of memory. The caller drains them from in. */
struct hreq *hreq_read(struct evbuffer *in, size_t head_len, const struct head_info *info,
                       size_t wire_body_len);
/* How far hreq_chunked_len read a chunked body that is still arriving:
 * the offset in the input of the first chunk not all there (0: none read),
 * and the sizes of the chunks before it. Zeroed for each request. */
struct chunk_scan {
    size_t at;
    uint64_t declared;
};
/* hreq.c: the wire length of the chunked body at offset from of in (a body
 * the framer passed): 0 while it is not all there; *declared the sizes of
 * its chunks so far (of one whose size line is not all there, its digits
 * so far). Reads on from where the last call for this body stopped (scan):
 * the chunks already read are not read again, nor is the input made one
 * block, so a body trickling in costs its length, not its length times its
 * reads. */
size_t hreq_chunked_len(struct evbuffer *in, size_t from, struct chunk_scan *scan,
                        uint64_t *declared);
/* hreq.c: writes req's answer head (status line, Date, its headers,
 * framing) into out. */
void hreq_write_head(struct hreq *req, struct evbuffer *out, int status, bool has_length,
                     size_t length);
/* hreq.c: whether the checked head asks for "100 Continue" (an HTTP/1.1
 * "Expect: 100-continue"). */
bool hreq_head_expects_continue(const char *head, size_t len);
/* hreq.c: frees req's storage (not its connection's). NULL-safe. */
void hreq_free(struct hreq *req);
/* hreq.c: whether the connection closes after req's answer. */
bool hreq_closes(const struct hreq *req);
/* hreq.c: a chunk's size line for n bytes ("1a2\r\n"); its length. */
size_t hreq_chunk_line(size_t n, char line[24]);

#endif
