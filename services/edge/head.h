/* The request head as bytes, as they arrive and before the edge's server
 * reads a request (httpd.h): RFC 9112's grammar for the request line and
 * header fields, and the framing of each request (where its body ends), so
 * that the edge never reads a stream two ways a proxy in front could read
 * one way. Lenient servers (libevent's 2.1.12 among them) trim "Name :" to
 * a name with a space, take obs-fold lines, a bare CR, the first of two
 * Content-Lengths, and read no body after HEAD or TRACE whatever the
 * headers say: each is refused here. Pure: no I/O. */
#ifndef EDGE_HEAD_H
#define EDGE_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 9110 tchar: a byte of a token (a method, a field name). Inline: the
 * head check asks it of every byte of a request's names. */
static inline bool head_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) { /* a jump, where strchr was a call for every '-' of a name */
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

enum head_body {
    HEAD_BODY_NONE,    /* no body: the next request starts after the head */
    HEAD_BODY_LENGTH,  /* length bytes */
    HEAD_BODY_CHUNKED, /* chunks, then "0" CRLF CRLF (no trailer fields) */
};

/* What a head that passed says about its request. */
struct head_info {
    char method[16];     /* truncated past 15 bytes */
    enum head_body body; /* how its body is framed */
    uint64_t length;     /* HEAD_BODY_LENGTH: the body's bytes */
};

/* Checks one complete request head: p[0..n) is the request line through
 * the empty line that ends the head, both line ends CRLF. true and *info
 * when it is well formed and framed one way only; false with a reason in
 * why (static storage, one sentence for the client) when it is not:
 *   - any line end but CRLF (a bare CR or LF), a NUL or another control
 *     character but HTAB in a field value;
 *   - a request line not "token SP target SP HTTP/1.x" (why is
 *     head_why_version, the one reason a caller tells apart, when it is
 *     "HTTP/d.d" of another major version: 505, not 400);
 *   - a field name that is not a token (empty, a space before the colon),
 *     an obs-fold line (one starting with SP or HTAB);
 *   - Content-Length that is not plain decimal (at most 18 digits) or
 *     given twice, Transfer-Encoding given twice or not exactly "chunked",
 *     both, Transfer-Encoding in HTTP/1.0, Host given twice, or not at
 *     all in HTTP/1.1;
 *   - a body (Content-Length above 0 or Transfer-Encoding) on a method
 *     other than POST, PUT and PATCH: the edge's routes take none there,
 *     and a lenient server reads none after HEAD, TRACE or an unknown
 *     method, leaving it to be read as the next request. */
bool head_check(const char *p, size_t n, struct head_info *info, const char **why);
/* head_check's why for a version the edge does not speak. */
extern const char head_why_version[];

/* A connection's input, followed request by request: heads are collected
 * (up to max_head bytes, beyond which the framer gives up and leaves the
 * refusal to the server's backstop on a head's size) and checked with head_check, bodies
 * skipped by their framing. Caller-owned: head_framer_init, then
 * head_framer_release. */
struct head_framer {
    int state;
    uint32_t head_len; /* the last head accepted's bytes (info's) */
    char *head;        /* the head being collected */
    size_t len, cap, max_head;
    uint64_t left;          /* body or chunk bytes still to skip */
    int digits;             /* a chunk size's hex digits so far */
    unsigned long requests; /* heads accepted */
    uint64_t body_bytes;    /* body bytes (chunk data) skipped, in all */
    struct head_info info;  /* the last head accepted (invalid once why is set) */
    const char *why;        /* once bad: why (static storage) */
    uint64_t fed;           /* bytes taken, in all */
    uint64_t started;       /* where (in fed bytes) the current request began */
};

void head_framer_init(struct head_framer *f, size_t max_head);
/* Frees the head buffer. NULL-safe; f may be initialised again. */
void head_framer_release(struct head_framer *f);
/* Feeds the next n bytes of the input. 0 while it is well formed, or
 * WR_EINVAL once it is not (f->why says why, f->started where the refused
 * request began: every byte before it belongs to requests that passed;
 * every later call returns it too), or WR_ENOMEM. A framer that gave up (a
 * head past max_head) takes anything from then on. */
int head_framer_feed(struct head_framer *f, const char *p, size_t n);
/* Whether the framer is between requests (no head or body half read). */
bool head_framer_idle(const struct head_framer *f);
/* Whether it gave up on a head past max_head. */
bool head_framer_gave_up(const struct head_framer *f);

#endif
