/* Proto v2's batch decoder (see warren/rpc_batch.h): one strict pass over
 * the body, reading only the shapes a batch may hold (an object of "v" and
 * the list; items of fixed members; headers of strings). It replaces a
 * general JSON parser because a reply batch is mostly page bodies carried
 * as JSON strings, and a parser that reads a string a character at a time
 * through a stream spent two thirds of the edge's instructions there
 * (callgrind). Here a string's plain runs are copied whole; every string
 * lands, unescaped and NUL-terminated, in one store the batch owns (never
 * longer than the body: an escape is never shorter than what it stands
 * for). A reply's "json" body is checked (warren/json_scan.h) and
 * copied as it is. RFC 8259 grammar; what it refuses beyond the grammar:
 * duplicate or unknown members, strings holding NUL or ill-formed UTF-8
 * (lone surrogates included), integers past 18 digits. */
#include "warren/rpc_batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swar.h"
#include "warren/codec.h"
#include "warren/json_scan.h"
#include "warren/rpc.h"

#define DIGITS_MAX 18 /* more could pass a long long */

struct rd {
    const char *p, *end;
    char *out;   /* the store's next free byte */
    size_t item; /* for messages: the item read, (size_t)-1 outside one */
    struct wr_err *err;
};

static int bad(struct rd *r, const char *what)
{
    if (r->item == (size_t)-1)
        return wr_err_set(r->err, WR_EINVAL, "batch: %s", what);
    return wr_err_set(r->err, WR_EINVAL, "batch: item %zu: %s", r->item, what);
}

static void ws(struct rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* Skips white space; whether the next byte is c (then taken). */
static bool take(struct rd *r, char c)
{
    ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

static int hex4(const char *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = wr_hex_value(p[i]);
        if (d < 0)
            return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

static char *utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* The escape after a backslash at r->p (past it); its bytes written to
 * r->out. A \u escape of a surrogate must be a high one followed by
 * \u and a low one. */
static int unescape(struct rd *r)
{
    if (r->p >= r->end)
        return -1;
    char one = 0;
    switch (*r->p) {
    case '"':
    case '\\':
    case '/':
        one = *r->p;
        break;
    case 'b':
        one = '\b';
        break;
    case 'f':
        one = '\f';
        break;
    case 'n':
        one = '\n';
        break;
    case 'r':
        one = '\r';
        break;
    case 't':
        one = '\t';
        break;
    default:
        break;
    }
    if (one != 0) {
        *r->out++ = one;
        r->p++;
        return 0;
    }
    uint32_t cp, lo;
    if (*r->p != 'u' || r->end - r->p < 5 || hex4(r->p + 1, &cp) != 0)
        return -1;
    r->p += 5;
    if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
        return -1; /* NUL (no string here may hold one), or a lone low surrogate */
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) != 0 ||
            lo < 0xdc00 || lo > 0xdfff)
            return -1;
        r->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    r->out = utf8_put(r->out, cp);
    return 0;
}

/* Copies the plain bytes at r->p to r->out, 8 at a time, up to the first
 * byte that may end the run ('"', '\\', a control character, a byte >=
 * 0x80) or the last 7 bytes. A copy of 8 fits: the store never runs ahead
 * of the body. */
static void plain_run(struct rd *r)
{
    while (r->end - r->p >= 8) {
        uint64_t x = wr__swar_load(r->p);
        wr__swar_store(r->out, x);
        uint64_t m = wr__swar_lt(x, 0x20) | wr__swar_eq(x, '"') | wr__swar_eq(x, '\\') |
                     wr__swar_ge(x, 0x80);
        size_t k = m == 0 ? 8 : wr__swar_first(m);
        r->out += k;
        r->p += k;
        if (k < 8)
            return;
    }
}

/* A string: its bytes, unescaped and NUL-terminated, in the store at *s
 * (length *n). Refused when not a string, or holding NUL or ill-formed
 * UTF-8. */
static int str(struct rd *r, const char **s, size_t *n)
{
    if (!take(r, '"'))
        return -1;
    char *start = r->out;
    bool high = false; /* a raw byte >= 0x80: UTF-8 to check */
    for (;;) {
        plain_run(r);
        if (r->p >= r->end)
            return -1; /* unterminated */
        unsigned char c = (unsigned char)*r->p++;
        if (c == '"')
            break;
        if (c == '\\') {
            if (unescape(r) != 0)
                return -1;
        } else if (c < 0x20) {
            return -1; /* a raw control character */
        } else {
            high = high || c >= 0x80;
            *r->out++ = (char)c;
        }
    }
    *n = (size_t)(r->out - start);
    *r->out++ = '\0';
    if (high && !wr_utf8_valid(start, *n))
        return -1;
    *s = start;
    return 0;
}

/* An integer (no fraction, no exponent) from lo to hi. */
static int integer(struct rd *r, long long lo, long long hi, long long *out)
{
    ws(r);
    bool neg = r->p < r->end && *r->p == '-';
    const char *d = r->p + neg;
    size_t n = 0;
    long long v = 0;
    while (d + n < r->end && d[n] >= '0' && d[n] <= '9' && n < DIGITS_MAX)
        v = v * 10 + (d[n++] - '0');
    const char *after = d + n;
    if (n == 0 || (d[0] == '0' && n > 1) ||
        (after < r->end && strchr(".eE0123456789", *after) != NULL && *after != '\0'))
        return -1;
    v = neg ? -v : v;
    if (v < lo || v > hi)
        return -1;
    r->p = after;
    *out = v;
    return 0;
}

/* Refuses with what (unless a deeper reader said why already). */
static int fail(struct rd *r, const char *what)
{
    if (r->err->code == 0)
        (void)bad(r, what);
    return -1;
}

static int syntax(struct rd *r)
{
    return fail(r, "not JSON, or not a batch's JSON");
}

static int oom(struct rd *r)
{
    (void)wr_err_set(r->err, WR_ENOMEM, "batch: out of memory");
    return -1;
}

static int fail_list(struct rd *r, bool reply)
{
    if (r->err->code == 0)
        (void)wr_err_set(r->err, WR_EINVAL, "batch: %s must be a list of 1 to %d items",
                         reply ? "replies" : "batch", WR_RPC_BATCH_ITEMS_MAX);
    return -1;
}

/* An object's opening brace; whether it is empty (then closed too). */
static int open_object(struct rd *r, bool *empty)
{
    if (!take(r, '{'))
        return -1;
    *empty = take(r, '}');
    return 0;
}

/* After a member: whether another follows (-1: neither ',' nor '}'). */
static int next_member(struct rd *r)
{
    if (take(r, ','))
        return 1;
    return take(r, '}') ? 0 : -1;
}

/* A member's name and its colon. */
static int member_name(struct rd *r, const char **name)
{
    size_t n;
    if (str(r, name, &n) != 0 || !take(r, ':'))
        return -1;
    return 0;
}

/* The headers object: at most WR_AMQP_MAX_HDRS strings, each named
 * [a-z0-9-]{1,64}, no name twice. */
static int headers(struct rd *r, struct wr_msg *m)
{
    static const char *const what = "headers must be an object of at most 8 strings "
                                    "named [a-z0-9-]{1,64}, each once";
    bool empty;
    if (open_object(r, &empty) != 0)
        return fail(r, what);
    int more = !empty;
    for (; more > 0; more = next_member(r)) {
        const char *name, *value;
        size_t vn;
        if (member_name(r, &name) != 0 || str(r, &value, &vn) != 0 || m->nhdrs == WR_AMQP_MAX_HDRS)
            return fail(r, what);
        if (!wr_batch_hdr_name_ok(name))
            return fail(r, what);
        for (size_t i = 0; i < m->nhdrs; i++)
            if (strcmp(m->hdrs[i].name, name) == 0)
                return fail(r, what);
        m->hdrs[m->nhdrs++] = (struct wr_amqp_hdr){name, value};
    }
    if (more < 0)
        return syntax(r);
    return 0;
}

/* A JSON value: the body is its text with the white space around it, all
 * from the member's colon to what follows (copied into the store). */
static int json_body(struct rd *r, struct wr_msg *m)
{
    const char *start = r->p;
    ws(r);
    size_t v = wr_json_value_len(r->p, (size_t)(r->end - r->p));
    if (v == 0)
        return fail(r, "json must be a JSON value");
    r->p += v;
    ws(r);
    size_t n = (size_t)(r->p - start);
    memcpy(r->out, start, n);
    m->body = r->out;
    m->len = n;
    r->out += n;
    *r->out++ = '\0';
    return 0;
}

enum member { BODY, DEADLINE, ENVELOPE, EXPIRATION, HEADERS, ID, JSON, STATUS, TYPE, NMEMBERS };
static const char *const member_names[NMEMBERS] = {
    "body", "deadline_ms", "envelope", "expiration_ms", "headers", "id", "json", "status", "type"};
#define BIT(x) (1u << (x))
#define REQ_MEMBERS                                                                                \
    (BIT(DEADLINE) | BIT(ENVELOPE) | BIT(EXPIRATION) | BIT(HEADERS) | BIT(ID) | BIT(TYPE))
/* a reply's body comes as a string (body) or as JSON (json), never both */
#define REP_MEMBERS (BIT(BODY) | BIT(HEADERS) | BIT(ID) | BIT(JSON) | BIT(STATUS))
#define REP_ONE_OF (BIT(BODY) | BIT(JSON))

/* One member's value into m. */
static int member(struct rd *r, enum member k, struct wr_msg *m)
{
    const char *s;
    size_t n;
    switch (k) {
    case BODY:
    case ENVELOPE:
        if (str(r, &s, &n) != 0)
            return fail(r, k == BODY ? "body must be a string" : "envelope must be a string");
        m->body = s;
        m->len = n;
        return 0;
    case DEADLINE:
        if (integer(r, 0, WR_RPC_BATCH_INT_MAX, &m->deadline_ms) != 0)
            return fail(r, "deadline_ms must be an integer from 0 (none)");
        return 0;
    case EXPIRATION:
        if (integer(r, -1, WR_RPC_BATCH_INT_MAX, &m->expiration_ms) != 0)
            return fail(r, "expiration_ms must be an integer from -1 (none)");
        return 0;
    case HEADERS:
        return headers(r, m);
    case JSON:
        return json_body(r, m);
    case ID:
        if (str(r, &s, &n) != 0 || !wr_request_id_valid(s))
            return fail(r, "id must be a request id (32 lowercase hex)");
        m->correlation_id = s;
        return 0;
    case STATUS: {
        long long st;
        if (integer(r, 100, 599, &st) != 0)
            return fail(r, "status must be an integer from 100 to 599");
        m->status = (int)st;
        return 0;
    }
    case TYPE:
        if (str(r, &s, &n) != 0 || !wr_op_name_valid(s))
            return fail(r, "type must be an op name");
        m->type = s;
        return 0;
    default:
        return -1;
    }
}

/* One item: exactly the members of its kind. */
static int item(struct rd *r, bool reply, struct wr_msg *m)
{
    const unsigned want = reply ? REP_MEMBERS : REQ_MEMBERS;
    const char *what = reply ? "needs exactly headers, id, status and one of body or json"
                             : "needs exactly deadline_ms, envelope, expiration_ms, "
                               "headers, id and type";
    *m = (struct wr_msg){.expiration_ms = -1};
    unsigned seen = 0;
    bool empty;
    if (open_object(r, &empty) != 0)
        return fail(r, "must be an object");
    int more = !empty;
    for (; more > 0; more = next_member(r)) {
        const char *name;
        if (member_name(r, &name) != 0)
            return syntax(r);
        unsigned k = 0;
        while (k < NMEMBERS && strcmp(member_names[k], name) != 0)
            k++;
        if (k == NMEMBERS || (want & BIT(k)) == 0 || (seen & BIT(k)) != 0 ||
            (reply && (BIT(k) & REP_ONE_OF) != 0 && (seen & REP_ONE_OF) != 0))
            return fail(r, what);
        seen |= BIT(k);
        if (member(r, (enum member)k, m) != 0)
            return -1;
    }
    if (more < 0)
        return syntax(r);
    /* every member but the pair, and one of the pair (the loop refused both) */
    unsigned need = reply ? want & ~REP_ONE_OF : want;
    if ((seen & need) != need || (reply && (seen & REP_ONE_OF) == 0))
        return fail(r, what);
    if (!reply)
        m->message_id = m->correlation_id;
    return 0;
}

/* The list of items, into *items (malloc'd) and *n. */
static int list(struct rd *r, bool reply, struct wr_msg **items, size_t *n)
{
    if (*items != NULL || !take(r, '[') || take(r, ']'))
        return fail_list(r, reply);
    size_t cap = 8;
    *items = malloc(cap * sizeof(**items));
    if (*items == NULL)
        return oom(r);
    do {
        if (*n == WR_RPC_BATCH_ITEMS_MAX)
            return fail_list(r, reply);
        if (*n == cap) {
            struct wr_msg *more = realloc(*items, 2 * cap * sizeof(**items));
            if (more == NULL)
                return oom(r);
            *items = more;
            cap *= 2;
        }
        r->item = *n;
        if (item(r, reply, &(*items)[*n]) != 0)
            return -1;
        r->item = (size_t)-1;
        (*n)++;
    } while (take(r, ','));
    return take(r, ']') ? 0 : syntax(r);
}

/* The root: exactly "v" (2) and the list, then nothing but white space. */
static int root(struct rd *r, bool reply, struct wr_msg **items, size_t *n)
{
    static const char *const what = "must be an object of exactly \"v\": 2 and its list";
    const char *list_key = reply ? "replies" : "batch";
    bool empty, v_seen = false;
    if (open_object(r, &empty) != 0 || empty)
        return fail(r, what);
    int more = 1;
    for (; more > 0; more = next_member(r)) {
        const char *name;
        long long v;
        if (member_name(r, &name) != 0)
            return syntax(r);
        if (strcmp(name, "v") == 0 && !v_seen) {
            if (integer(r, WR_RPC_BATCH_VERSION, WR_RPC_BATCH_VERSION, &v) != 0)
                return fail(r, what);
            v_seen = true;
        } else if (strcmp(name, list_key) != 0 || list(r, reply, items, n) != 0) {
            return fail(r, what);
        }
    }
    if (more < 0)
        return syntax(r);
    ws(r);
    if (!v_seen || *items == NULL || r->p != r->end)
        return fail(r, what);
    return 0;
}

int wr_batch_decode(const void *body, size_t len, bool reply, struct wr_batch *out,
                    struct wr_err *err)
{
    *out = (struct wr_batch){0};
    struct wr_err local = {0};
    struct wr_batch b = {.store = malloc(len + 1)};
    struct rd r = {.p = body,
                   .end = (const char *)body + len,
                   .out = b.store,
                   .item = (size_t)-1,
                   .err = err != NULL ? err : &local};
    r.err->code = 0;
    r.err->msg[0] = '\0';
    int rc = b.store != NULL ? root(&r, reply, &b.items, &b.n) : oom(&r);
    if (rc != 0) {
        wr_batch_release(&b);
        return r.err->code;
    }
    *out = b;
    return 0;
}

void wr_batch_release(struct wr_batch *b)
{
    if (b == NULL)
        return;
    free(b->items);
    free(b->store);
    *b = (struct wr_batch){0};
}
