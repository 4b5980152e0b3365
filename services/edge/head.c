/* Request heads and framing as bytes (see head.h): a strict reading of
 * RFC 9112 that refuses every head a lenient server (libevent 2.1.12's)
 * would read otherwise than a strict proxy, and a framer that walks a
 * connection's input request by request the way the edge's server then
 * reads it (fuzz_head holds the two to the same requests). */
#include "head.h"

#include <stdlib.h>
#include <string.h>

#include "warren/codec.h"
#include "warren/err.h"

enum {
    FR_HEAD,       /* collecting a head */
    FR_BODY,       /* skipping left bytes of a Content-Length body */
    FR_CHUNK_SIZE, /* reading a chunk size's hex digits */
    FR_CHUNK_LF,   /* the LF after a chunk size's CR */
    FR_CHUNK_DATA, /* skipping left bytes of chunk data */
    FR_DATA_CR,    /* the CRLF after chunk data */
    FR_DATA_LF,
    FR_LAST_CR, /* the CRLF after the last chunk (no trailer fields) */
    FR_LAST_LF,
    FR_GAVE_UP, /* a head past max_head: the server's backstop refuses it */
    FR_BAD,
};

/* A byte of a request target: visible ASCII or obs-text, no space. */
static bool is_target(unsigned char c)
{
    return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

/* A byte of a field value: VCHAR, obs-text, SP or HTAB. */
static bool is_value(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool ieq(const char *p, size_t n, const char *word)
{
    size_t k = strlen(word);
    if (n != k)
        return false;
    for (size_t i = 0; i < n; i++) {
        int a = (unsigned char)p[i];
        if (a >= 'A' && a <= 'Z')
            a += 'a' - 'A';
        if (a != (unsigned char)word[i])
            return false;
    }
    return true;
}

/* The line at p[0..n): its length before CRLF in *len. false when no CRLF
 * ends it or a bare CR or LF is inside it. */
static bool line_at(const char *p, size_t n, size_t *len)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            return false; /* LF without CR */
        if (p[i] == '\r') {
            if (i + 1 >= n || p[i + 1] != '\n')
                return false;
            *len = i;
            return true;
        }
    }
    return false;
}

const char head_why_version[] = "an HTTP version other than 1.0 and 1.1";
static const char why_request_line[] = "a malformed request line";

/* NULL when p[0..n) is "token SP target SP HTTP/1.x"; else why not:
 * head_why_version for a well-formed "HTTP/d.d" of another major version
 * (HTTP/2's preface "PRI * HTTP/2.0" among them). */
static const char *request_line(const char *p, size_t n, struct head_info *info, bool *http10)
{
    size_t m = 0;
    while (m < n && head_tchar((unsigned char)p[m]))
        m++;
    if (m == 0 || m >= n || p[m] != ' ')
        return why_request_line;
    size_t t = m + 1, u = t;
    while (u < n && is_target((unsigned char)p[u]))
        u++;
    if (u == t || u >= n || p[u] != ' ')
        return why_request_line;
    const char *v = p + u + 1;
    bool dd = n - u - 1 == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' &&
              v[6] == '.' && v[7] >= '0' && v[7] <= '9';
    if (!dd)
        return why_request_line;
    if (v[5] != '1')
        return head_why_version;
    if (v[7] != '0' && v[7] != '1')
        return why_request_line; /* 1.2 and up: a 400, as the README says */
    *http10 = v[7] == '0';
    size_t keep = m < sizeof(info->method) - 1 ? m : sizeof(info->method) - 1;
    memcpy(info->method, p, keep);
    info->method[keep] = '\0';
    return NULL;
}

/* A Content-Length value: 1 to 18 digits (no sign, no list). */
static bool decimal(const char *p, size_t n, uint64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

/* What the header fields said, to frame the body once all are read. */
struct fields {
    int lengths, encodings, hosts;
    bool chunked;
    uint64_t length;
};

/* One field line (without its CRLF). NULL, or why it is refused. */
static const char *field_line(const char *p, size_t n, struct fields *fl)
{
    if (n > 0 && (p[0] == ' ' || p[0] == '\t'))
        return "a folded header line (obs-fold)";
    size_t k = 0;
    while (k < n && head_tchar((unsigned char)p[k]))
        k++;
    if (k == 0 || k >= n || p[k] != ':')
        return "a header name that is not a token (a space before the colon?)";
    size_t a = k + 1, b = n;
    for (size_t i = a; i < n; i++)
        if (!is_value((unsigned char)p[i]))
            return "a control character in a header value";
    while (a < b && (p[a] == ' ' || p[a] == '\t'))
        a++;
    while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
        b--;
    if (ieq(p, k, "content-length")) {
        if (++fl->lengths > 1)
            return "Content-Length given twice";
        if (!decimal(p + a, b - a, &fl->length))
            return "a Content-Length that is not a plain decimal number";
    } else if (ieq(p, k, "transfer-encoding")) {
        if (++fl->encodings > 1)
            return "Transfer-Encoding given twice";
        /* "chunked" is the one coding the edge reads; any other would be
         * read as the connection's end */
        if (!ieq(p + a, b - a, "chunked"))
            return "a Transfer-Encoding other than chunked";
        fl->chunked = true;
    } else if (ieq(p, k, "host") && ++fl->hosts > 1) {
        return "Host given twice";
    }
    return NULL;
}

static bool takes_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

bool head_check(const char *p, size_t n, struct head_info *info, const char **why)
{
    memset(info, 0, sizeof(*info));
    *why = why_request_line;
    size_t len = 0;
    bool http10 = false;
    if (!line_at(p, n, &len))
        return false;
    *why = request_line(p, len, info, &http10);
    if (*why != NULL)
        return false;
    struct fields fl = {0};
    size_t at = len + 2;
    for (;;) {
        if (!line_at(p + at, n - at, &len)) {
            *why = "a line not ended by CRLF (a bare CR or LF)";
            return false;
        }
        if (len == 0)
            break;
        const char *bad = field_line(p + at, len, &fl);
        if (bad != NULL) {
            *why = bad;
            return false;
        }
        at += len + 2;
    }
    if (at + 2 != n) {
        *why = "bytes after the end of the head";
        return false;
    }
    if (fl.lengths > 0 && fl.encodings > 0) {
        *why = "both Content-Length and Transfer-Encoding";
        return false;
    }
    if (fl.encodings > 0 && http10) {
        *why = "Transfer-Encoding in an HTTP/1.0 request";
        return false;
    }
    bool body = fl.chunked || fl.length > 0;
    if (body && !takes_body(info->method)) {
        *why = "a body on a method that takes none (only POST, PUT and PATCH do)";
        return false;
    }
    if (fl.hosts == 0 && !http10) { /* RFC 9112 3.2: a MUST, as two are */
        *why = "no Host header (HTTP/1.1 requires one)";
        return false;
    }
    info->body = fl.chunked ? HEAD_BODY_CHUNKED : body ? HEAD_BODY_LENGTH : HEAD_BODY_NONE;
    info->length = fl.length;
    *why = NULL;
    return true;
}

void head_framer_init(struct head_framer *f, size_t max_head)
{
    *f = (struct head_framer){.state = FR_HEAD, .max_head = max_head};
}

void head_framer_release(struct head_framer *f)
{
    if (f == NULL)
        return;
    free(f->head);
    f->head = NULL;
    f->len = f->cap = 0;
}

static int fail(struct head_framer *f, const char *why)
{
    f->state = FR_BAD;
    f->why = why;
    return WR_EINVAL;
}

/* The head head[0..len) is complete: checked, then its body framed. */
static int head_done(struct head_framer *f, const char *head, size_t len)
{
    const char *why = NULL;
    if (!head_check(head, len, &f->info, &why))
        return fail(f, why);
    f->requests++;
    f->head_len = (uint32_t)len; /* at most max_head */
    f->len = 0;
    f->left = f->info.length;
    if (f->info.body == HEAD_BODY_CHUNKED) {
        f->state = FR_CHUNK_SIZE;
        f->digits = 0;
    } else {
        f->state = f->info.body == HEAD_BODY_LENGTH && f->left > 0 ? FR_BODY : FR_HEAD;
    }
    return 0;
}

/* Where a head that starts at p ends (just past the LF of its empty line),
 * or 0 when p[0..n) holds no end. A head ends at an empty line, LF or
 * CRLF ended; which ends are allowed is head_check's to say. */
static size_t head_end(const char *p, size_t n)
{
    size_t line = 0; /* where the current line starts */
    const char *nl;
    while (line < n && (nl = memchr(p + line, '\n', n - line)) != NULL) {
        size_t at = (size_t)(nl - p);
        if (at == line || (at == line + 1 && p[line] == '\r'))
            return at + 1;
        line = at + 1;
    }
    return 0;
}

/* Takes head bytes from p up to the head's end: *used of them. A head
 * that arrives whole in one read (nearly all) is checked where it lies;
 * one split over reads is collected in f->head, which is freed once it is
 * checked, so that a connection between requests holds no buffer. */
static int feed_head(struct head_framer *f, const char *p, size_t n, size_t *used)
{
    size_t whole = f->len == 0 ? head_end(p, n) : 0;
    if (whole > 0 && whole <= f->max_head) {
        *used = whole;
        return head_done(f, p, whole);
    }
    size_t i = 0;
    bool done = false;
    while (i < n && !done) {
        char c = p[i++];
        if (c == '\n') {
            /* the line just ended: empty, or a lone CR */
            size_t start = f->len;
            while (start > 0 && f->head[start - 1] != '\n')
                start--;
            done = f->len == start || (f->len == start + 1 && f->head[start] == '\r');
        }
        if (f->len == f->cap) {
            if (f->len >= f->max_head) {
                f->state = FR_GAVE_UP;
                *used = n;
                return 0;
            }
            size_t cap = f->cap ? f->cap * 2 : 512;
            if (cap > f->max_head)
                cap = f->max_head;
            char *more = realloc(f->head, cap);
            if (more == NULL)
                return WR_ENOMEM;
            f->head = more;
            f->cap = cap;
        }
        f->head[f->len++] = c;
    }
    *used = i;
    if (!done)
        return 0;
    int rc = head_done(f, f->head, f->len);
    free(f->head);
    f->head = NULL;
    f->cap = 0;
    return rc;
}

/* One byte of a chunked body's framing (not of its data). */
static int chunk_byte(struct head_framer *f, char c)
{
    switch (f->state) {
    case FR_CHUNK_SIZE:
        if (wr_hex_value(c) >= 0 && f->digits < 15) {
            f->left = f->left * 16 + (uint64_t)wr_hex_value(c);
            f->digits++;
            return 0;
        }
        if (c != '\r' || f->digits == 0)
            return fail(f, "a malformed chunk size (hex digits, no extensions)");
        f->state = FR_CHUNK_LF;
        return 0;
    case FR_CHUNK_LF:
        if (c != '\n')
            return fail(f, "a chunk size line not ended by CRLF");
        f->state = f->left > 0 ? FR_CHUNK_DATA : FR_LAST_CR;
        return 0;
    case FR_DATA_CR:
    case FR_LAST_CR:
        if (c != '\r')
            return fail(f, f->state == FR_LAST_CR ? "trailer fields after a chunked body"
                                                  : "chunk data longer than its size");
        f->state = f->state == FR_DATA_CR ? FR_DATA_LF : FR_LAST_LF;
        return 0;
    default: /* FR_DATA_LF, FR_LAST_LF */
        if (c != '\n')
            return fail(f, "a chunk not ended by CRLF");
        f->state = f->state == FR_DATA_LF ? FR_CHUNK_SIZE : FR_HEAD;
        f->left = 0;
        f->digits = 0;
        return 0;
    }
}

int head_framer_feed(struct head_framer *f, const char *p, size_t n)
{
    uint64_t base = f->fed;
    f->fed += n; /* all of it, unless a refusal stops it: then no one counts */
    size_t i = 0;
    while (i < n) {
        if (f->state == FR_BAD)
            return WR_EINVAL;
        if (f->state == FR_GAVE_UP)
            return 0;
        if (f->state == FR_HEAD) {
            if (f->len == 0) /* a request begins */
                f->started = base + i;
            size_t used = 0;
            int rc = feed_head(f, p + i, n - i, &used);
            if (rc != 0)
                return rc;
            i += used;
        } else if (f->state == FR_BODY || f->state == FR_CHUNK_DATA) {
            uint64_t skip = n - i < f->left ? n - i : f->left;
            i += (size_t)skip;
            f->left -= skip;
            f->body_bytes += skip;
            if (f->left == 0)
                f->state = f->state == FR_BODY ? FR_HEAD : FR_DATA_CR;
        } else if (chunk_byte(f, p[i++]) != 0) {
            return WR_EINVAL;
        }
    }
    return f->state == FR_BAD ? WR_EINVAL : 0;
}

bool head_framer_idle(const struct head_framer *f)
{
    return f->state == FR_HEAD && f->len == 0;
}

bool head_framer_gave_up(const struct head_framer *f)
{
    return f->state == FR_GAVE_UP;
}
