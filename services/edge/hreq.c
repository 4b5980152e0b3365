/* One request and its answer's head (see httpd.h): the head read into one
 * allocation with the body, the answer's head written straight into the
 * connection's output. Pure: no I/O (httpd.c sends). The head was checked by head.h before it gets
 * here, so reading it trusts its grammar: CRLF lines, "token SP target SP HTTP/1.x", "name: value"
 * fields without obs-fold. */
#include "httpd_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpdate.h"
#include "reason.h"
#include "warren/codec.h"

/* A page's headers take ~300-450 bytes: once the list grows past its
 * first line, one step to this where doubling took three. The first line
 * (the request's X-Trace-Id, added when it arrives) gets exactly its
 * size: a request in flight holds that and no more. */
#define OUT_ROOM 512

/* Copies n bytes of s to p (parts of a line, not strings): past them. */
static char *put(char *p, const void *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static enum evhttp_cmd_type method_of(const char *m)
{
    static const struct {
        const char *name;
        enum evhttp_cmd_type type;
    } known[] = {{"GET", EVHTTP_REQ_GET},       {"POST", EVHTTP_REQ_POST},
                 {"HEAD", EVHTTP_REQ_HEAD},     {"PUT", EVHTTP_REQ_PUT},
                 {"DELETE", EVHTTP_REQ_DELETE}, {"OPTIONS", EVHTTP_REQ_OPTIONS},
                 {"TRACE", EVHTTP_REQ_TRACE},   {"CONNECT", EVHTTP_REQ_CONNECT},
                 {"PATCH", EVHTTP_REQ_PATCH}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(m, known[i].name) == 0)
            return known[i].type;
    return 0;
}

/* Whether the comma-separated list s holds token (case-insensitive). */
static bool list_has(const char *s, const char *token)
{
    size_t n = strlen(token);
    while (s != NULL && *s != '\0') {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        size_t len = strcspn(s, ", \t");
        if (len == n && strncasecmp(s, token, n) == 0)
            return true;
        s += len;
    }
    return false;
}

/* Splits the target into path and query at dst (NUL-terminated each):
 * an absolute form's scheme and authority left out, a fragment dropped. */
static void split_target(struct hreq *r, const char *t, char *dst)
{
    const char *p = t;
    const char *scheme_end = *t != '/' ? strstr(t, "://") : NULL;
    if (scheme_end != NULL) {
        p = scheme_end + 3;
        p += strcspn(p, "/?#");
    }
    size_t plen = strcspn(p, "?#");
    memcpy(dst, p, plen);
    dst[plen] = '\0';
    r->path = dst;
    r->query = NULL;
    if (p[plen] == '?') {
        const char *q = p + plen + 1;
        size_t qlen = strcspn(q, "#");
        char *qd = dst + plen + 1;
        memcpy(qd, q, qlen);
        qd[qlen] = '\0';
        r->query = qd;
    }
}

/* Reads the fields of the head's copy h (after the request line), at most
 * cap, NUL ending each name and value in place. */
static void read_fields(struct hreq *r, char *h, size_t cap)
{
    for (char *line = h; *line != '\r' && r->nfields < cap;) {
        char *end = strstr(line, "\r\n");
        char *colon = end != NULL ? memchr(line, ':', (size_t)(end - line)) : NULL;
        if (colon == NULL)
            return; /* cannot be: head.h checked every line */
        *colon = '\0';
        char *v = colon + 1, *ve = end;
        while (*v == ' ' || *v == '\t')
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        *ve = '\0';
        r->fields[r->nfields++] = (struct hfield){line, v};
        line = end + 2;
    }
}

/* Decodes the chunked body at in[0..) into dst; its decoded length. */
static size_t dechunk(const char *in, char *dst)
{
    size_t out = 0;
    for (;;) {
        size_t size = 0;
        for (; *in != '\r'; in++)
            size = size * 16 + (size_t)wr_hex_value(*in);
        in += 2;
        if (size == 0)
            return out;
        memcpy(dst + out, in, size);
        out += size;
        in += size + 2;
    }
}

/* A chunk's size line: at most 15 hex digits and CRLF (head.h's framer
 * passed it), with room to spare. */
#define SIZE_LINE_MAX 24

size_t hreq_chunked_len(struct evbuffer *in, size_t from, struct chunk_scan *scan,
                        uint64_t *declared)
{
    size_t n = evbuffer_get_length(in);
    if (scan->at < from)
        *scan = (struct chunk_scan){.at = from};
    *declared = scan->declared;
    while (scan->at < n) {
        char line[SIZE_LINE_MAX];
        struct evbuffer_ptr pos;
        if (evbuffer_ptr_set(in, &pos, scan->at, EVBUFFER_PTR_SET) != 0)
            return 0;
        ev_ssize_t got = evbuffer_copyout_from(in, &pos, line, sizeof(line));
        size_t i = 0, size = 0;
        while (got > 0 && i < (size_t)got && line[i] != '\r')
            size = size * 16 + (size_t)wr_hex_value(line[i++]);
        *declared = scan->declared + size;
        size_t data = scan->at + i + 2; /* the chunk's first byte */
        if (got <= 0 || i + 2 > (size_t)got || data + size + 2 > n)
            return 0; /* this chunk is not all there: read it again next time */
        if (size == 0)
            return data + 2 - from; /* the last chunk's CRLF ends the body */
        scan->declared += size;
        scan->at = data + size + 2;
    }
    return 0;
}

struct hreq *hreq_read(struct evbuffer *in, size_t head_len, const struct head_info *info,
                       size_t wire_body_len)
{
    const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)(head_len + wire_body_len));
    if (p == NULL)
        return NULL;
    size_t lines = 0;
    for (const char *c = memchr(p, '\n', head_len); c != NULL;
         c = memchr(c + 1, '\n', head_len - (size_t)(c + 1 - p)))
        lines++;
    size_t nfields = lines >= 2 ? lines - 2 : 0;
    /* the head's copy, the path and query's (shorter than the request
     * line, which holds them and more), the body */
    const char *eol = memchr(p, '\r', head_len);
    size_t line = eol != NULL ? (size_t)(eol - p) : head_len;
    size_t size = sizeof(struct hreq) + nfields * sizeof(struct hfield) + (head_len + 1) +
                  (line + 1) + wire_body_len + 1;
    struct hreq *r = malloc(size);
    if (r == NULL)
        return NULL;
    *r = (struct hreq){.method = method_of(info->method)};
    r->fields = (struct hfield *)(void *)r->text;
    char *head = put(r->text + nfields * sizeof(struct hfield), p, head_len) - head_len;
    head[head_len] = '\0';
    /* "METHOD SP target SP HTTP/1.x CRLF": head.h checked it */
    char *sp = strchr(head, ' ');
    char *sp2 = sp != NULL ? strchr(sp + 1, ' ') : NULL;
    char *fields = sp2 != NULL ? strstr(sp2 + 1, "\r\n") : NULL;
    if (fields == NULL) {
        free(r);
        return NULL;
    }
    *sp = '\0';
    *sp2 = '\0';
    r->target = sp + 1;
    r->http10 = sp2[8] == '0';
    split_target(r, r->target, head + head_len + 1);
    read_fields(r, fields + 2, nfields);
    r->body = head + (head_len + 1) + (line + 1);
    if (info->body == HEAD_BODY_CHUNKED)
        r->body_len = dechunk(p + head_len, r->body);
    else if ((r->body_len = wire_body_len) > 0)
        memcpy(r->body, p + head_len, wire_body_len);
    r->body[r->body_len] = '\0';
    const char *conn = hreq_header(r, "Connection");
    r->keep_alive = r->http10 ? list_has(conn, "keep-alive") && !list_has(conn, "close")
                              : !list_has(conn, "close");
    return r;
}

bool hreq_head_expects_continue(const char *head, size_t len)
{
    const char *end = head + len;
    const char *line = memchr(head, '\n', len);
    if (line == NULL || line - head < 9 || memcmp(line - 9, "HTTP/1.1", 8) != 0)
        return false;
    for (line++; line < end && *line != '\r';) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL)
            return false;
        static const char want[] = "expect:";
        if ((size_t)(nl - line) > sizeof(want) && strncasecmp(line, want, sizeof(want) - 1) == 0) {
            const char *v = line + sizeof(want) - 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (strncasecmp(v, "100-continue", 12) == 0)
                return true;
        }
        line = nl + 1;
    }
    return false;
}

void hreq_free(struct hreq *req)
{
    if (req == NULL)
        return;
    free(req->out);
    free(req);
}

enum evhttp_cmd_type hreq_method(const struct hreq *req)
{
    return req->method;
}

const char *hreq_target(const struct hreq *req)
{
    return req->target;
}

const char *hreq_path(const struct hreq *req)
{
    return req->path;
}

const char *hreq_query(const struct hreq *req)
{
    return req->query;
}

const char *hreq_header(const struct hreq *req, const char *name)
{
    for (size_t i = 0; i < req->nfields; i++)
        if (strcasecmp(req->fields[i].name, name) == 0)
            return req->fields[i].value;
    return NULL;
}

size_t hreq_header_count(const struct hreq *req)
{
    return req->nfields;
}

void hreq_header_at(const struct hreq *req, size_t i, const char **name, const char **value)
{
    *name = req->fields[i].name;
    *value = req->fields[i].value;
}

const char *hreq_body(const struct hreq *req, size_t *len)
{
    *len = req->body_len;
    return req->body;
}

/* The header names the server writes itself (httpd.h). */
static bool servers_own(const char *name, size_t n)
{
    switch (n) {
    case 4:
        return strcasecmp(name, "Date") == 0;
    case 10:
        return strcasecmp(name, "Connection") == 0 || strcasecmp(name, "Keep-Alive") == 0;
    case 14:
        return strcasecmp(name, "Content-Length") == 0;
    case 17:
        return strcasecmp(name, "Transfer-Encoding") == 0;
    default:
        return false;
    }
}

/* RFC 9110 5.1: a field name is a token. */
static bool token_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!head_tchar((unsigned char)s[i]))
            return false;
    return true;
}

void hreq_header_add(struct hreq *req, const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    if (servers_own(name, n)) {
        if (n == 10 && strcasecmp(name, "Connection") == 0 && list_has(value, "close"))
            req->close_after = true;
        return;
    }
    if (!token_ok(name, n) || strpbrk(value, "\r\n") != NULL)
        return;
    size_t need = req->out_len + n + 2 + v + 2;
    if (need > req->out_cap) {
        size_t cap = req->out_cap == 0             ? need
                     : req->out_cap * 2 < OUT_ROOM ? OUT_ROOM
                                                   : req->out_cap * 2;
        char *more = realloc(req->out, cap > need ? cap : need);
        if (more == NULL)
            return; /* dropped, out of memory */
        req->out = more;
        req->out_cap = cap > need ? cap : need;
    }
    char *p = req->out + req->out_len;
    p = put(p, name, n);
    p = put(p, ": ", 2);
    p = put(p, value, v);
    (void)put(p, "\r\n", 2);
    req->out_len = need;
}

bool hreq_closes(const struct hreq *req)
{
    return req->close_after || !req->keep_alive;
}

void hreq_write_head(struct hreq *req, struct evbuffer *out, int status, bool has_length,
                     size_t length)
{
    char line[64];
    const char *reason = http_reason(status);
    size_t rn = strlen(reason);
    char *p = put(line, req->http10 ? "HTTP/1.0 " : "HTTP/1.1 ", 9);
    *p++ = (char)('0' + status / 100 % 10);
    *p++ = (char)('0' + status / 10 % 10);
    *p++ = (char)('0' + status % 10);
    *p++ = ' ';
    p = put(p, reason, rn < sizeof(line) - 15 ? rn : sizeof(line) - 15);
    p = put(p, "\r\n", 2);
    (void)evbuffer_add(out, line, (size_t)(p - line));
    (void)evbuffer_add(out, "Date: ", 6);
    (void)evbuffer_add(out, httpdate_now(), HTTPDATE_LEN);
    (void)evbuffer_add(out, "\r\n", 2);
    if (req->out_len > 0)
        (void)evbuffer_add(out, req->out, req->out_len);
    if (has_length) {
        char n[40] = "Content-Length: ";
        char digits[21];
        size_t d = wr_decimal(digits, length);
        (void)put(put(n + 16, digits, d), "\r\n", 2);
        (void)evbuffer_add(out, n, 18 + d);
    } else if (req->chunked) {
        (void)evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
    }
    if (hreq_closes(req))
        (void)evbuffer_add(out, "Connection: close\r\n", 19);
    else if (req->http10)
        (void)evbuffer_add(out, "Connection: keep-alive\r\n", 24);
    (void)evbuffer_add(out, "\r\n", 2);
}

size_t hreq_chunk_line(size_t n, char line[24])
{
    size_t d = 0;
    for (int shift = 60; shift >= 0; shift -= 4)
        if ((n >> shift) != 0 || shift == 0 || d > 0)
            line[d++] = wr_hex_lower[(n >> shift) & 15];
    (void)put(line + d, "\r\n", 2);
    return d + 2;
}
