/* Proto v2's batch decoder (see warren/rpc_batch.h): one strict pass over
 * the body, reading only the shapes a batch may hold (an object of "v" and
 * the list; items of fixed members; headers of strings). It replaces a
 * general JSON parser because a reply batch is mostly page bodies carried
 * as JSON strings, and a parser that reads a string a character at a time
 * through a stream spent two thirds of the edge's instructions there
 * (callgrind). Its tokens come from json_read.h: a string's plain runs
 * are copied whole; every string lands, unescaped and NUL-terminated, in
 * one store the batch owns. A reply's "json" body is checked
 * (warren/json_scan.h) and copied as it is; a skimming reader copies the
 * json_bytes before it unread. RFC 8259 grammar; what it
 * refuses beyond the grammar: duplicate or unknown members, and what
 * json_read.h refuses. */
#include "warren/rpc_batch.h"

#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "warren/json_scan.h"
#include "warren/rpc.h"

struct rd {
    struct wr__jread j;   /* the text, and the store strings land in */
    size_t item;          /* for messages: the item read, (size_t)-1 outside one */
    bool skim;            /* take a json member of known length unread */
    long long json_bytes; /* the item's json_bytes, -1 until given */
    struct wr_err *err;
};

static int bad(struct rd *r, const char *what)
{
    if (r->item == (size_t)-1)
        return wr_err_set(r->err, WR_EINVAL, "batch: %s", what);
    return wr_err_set(r->err, WR_EINVAL, "batch: item %zu: %s", r->item, what);
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
    if (!wr__jread_take(&r->j, '{'))
        return -1;
    *empty = wr__jread_take(&r->j, '}');
    return 0;
}

/* After a member: whether another follows (-1: neither ',' nor '}'). */
static int next_member(struct rd *r)
{
    if (wr__jread_take(&r->j, ','))
        return 1;
    return wr__jread_take(&r->j, '}') ? 0 : -1;
}

/* A member's name and its colon. */
static int member_name(struct rd *r, const char **name)
{
    size_t n;
    if (wr__jread_str(&r->j, name, &n) != 0 || !wr__jread_take(&r->j, ':'))
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
        if (member_name(r, &name) != 0 || wr__jread_str(&r->j, &value, &vn) != 0 ||
            m->nhdrs == WR_AMQP_MAX_HDRS)
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
 * from the member's colon to what follows (copied into the store). With
 * json_bytes given: exactly that many bytes, which a skimming reader takes
 * unread once a ',' or '}' follows them, and a strict one checks. */
static int json_body(struct rd *r, struct wr_msg *m)
{
    static const char *const wrong = "json_bytes must be the length of json's text";
    const char *start = r->j.p;
    size_t left = (size_t)(r->j.end - start), n;
    if (r->skim && r->json_bytes >= 0) {
        n = (size_t)r->json_bytes;
        if (n >= left || (start[n] != ',' && start[n] != '}'))
            return fail(r, wrong);
        r->j.p += n;
    } else {
        wr__jread_ws(&r->j);
        size_t v = wr_json_value_len(r->j.p, (size_t)(r->j.end - r->j.p));
        if (v == 0)
            return fail(r, "json must be a JSON value");
        r->j.p += v;
        wr__jread_ws(&r->j);
        n = (size_t)(r->j.p - start);
        if (r->json_bytes >= 0 && (size_t)r->json_bytes != n)
            return fail(r, wrong);
    }
    memcpy(r->j.out, start, n);
    m->body = r->j.out;
    m->len = n;
    r->j.out += n;
    *r->j.out++ = '\0';
    return 0;
}

enum member {
    BODY,
    DEADLINE,
    ENVELOPE,
    EXPIRATION,
    HEADERS,
    ID,
    JSON,
    JSON_BYTES,
    STATUS,
    TYPE,
    NMEMBERS
};
static const char *const member_names[NMEMBERS] = {
    "body", "deadline_ms", "envelope",   "expiration_ms", "headers",
    "id",   "json",        "json_bytes", "status",        "type"};
/* The member a name is (NMEMBERS: none): by its first letter, then one
 * comparison or two, where trying each name in turn took five on average
 * (every item of every batch asks, on the edge and in the worker). */
static unsigned member_of(const char *name)
{
    unsigned k;
    switch (name[0]) {
    case 'b':
        k = BODY;
        break;
    case 'd':
        k = DEADLINE;
        break;
    case 'e':
        k = name[1] == 'n' ? ENVELOPE : EXPIRATION;
        break;
    case 'h':
        k = HEADERS;
        break;
    case 'i':
        k = ID;
        break;
    case 'j':
        k = strcmp(name, "json") == 0 ? JSON : JSON_BYTES;
        break;
    case 's':
        k = STATUS;
        break;
    case 't':
        k = TYPE;
        break;
    default:
        return NMEMBERS;
    }
    return strcmp(member_names[k], name) == 0 ? k : NMEMBERS;
}
#define BIT(x) (1u << (x))
#define REQ_MEMBERS                                                                                \
    (BIT(DEADLINE) | BIT(ENVELOPE) | BIT(EXPIRATION) | BIT(HEADERS) | BIT(ID) | BIT(TYPE))
/* a reply's body comes as a string (body) or as JSON (json), never both */
#define REP_MEMBERS (BIT(BODY) | BIT(HEADERS) | BIT(ID) | BIT(JSON) | BIT(JSON_BYTES) | BIT(STATUS))
#define REP_ONE_OF (BIT(BODY) | BIT(JSON))

/* One member's value into m. */
static int member(struct rd *r, enum member k, struct wr_msg *m)
{
    const char *s;
    size_t n;
    switch (k) {
    case BODY:
    case ENVELOPE:
        if (wr__jread_str(&r->j, &s, &n) != 0)
            return fail(r, k == BODY ? "body must be a string" : "envelope must be a string");
        m->body = s;
        m->len = n;
        return 0;
    case DEADLINE:
        if (wr__jread_int(&r->j, 0, WR_RPC_BATCH_INT_MAX, &m->deadline_ms) != 0)
            return fail(r, "deadline_ms must be an integer from 0 (none)");
        return 0;
    case EXPIRATION:
        if (wr__jread_int(&r->j, -1, WR_RPC_BATCH_INT_MAX, &m->expiration_ms) != 0)
            return fail(r, "expiration_ms must be an integer from -1 (none)");
        return 0;
    case HEADERS:
        return headers(r, m);
    case JSON:
        return json_body(r, m);
    case JSON_BYTES:
        if (wr__jread_int(&r->j, 1, WR_RPC_BATCH_INT_MAX, &r->json_bytes) != 0)
            return fail(r, "json_bytes must be an integer from 1");
        return 0;
    case ID:
        if (wr__jread_str(&r->j, &s, &n) != 0 || !wr_request_id_valid(s))
            return fail(r, "id must be a request id (32 lowercase hex)");
        m->correlation_id = s;
        return 0;
    case STATUS: {
        long long st;
        if (wr__jread_int(&r->j, 100, 599, &st) != 0)
            return fail(r, "status must be an integer from 100 to 599");
        m->status = (int)st;
        return 0;
    }
    case TYPE:
        if (wr__jread_str(&r->j, &s, &n) != 0 || !wr_op_name_valid(s))
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
    r->json_bytes = -1;
    unsigned seen = 0;
    bool empty;
    if (open_object(r, &empty) != 0)
        return fail(r, "must be an object");
    int more = !empty;
    for (; more > 0; more = next_member(r)) {
        const char *name;
        if (member_name(r, &name) != 0)
            return syntax(r);
        unsigned k = member_of(name);
        if (k == NMEMBERS || (want & BIT(k)) == 0 || (seen & BIT(k)) != 0 ||
            (reply && (BIT(k) & REP_ONE_OF) != 0 && (seen & REP_ONE_OF) != 0))
            return fail(r, what);
        if ((k == JSON_BYTES && (seen & REP_ONE_OF) != 0) ||
            (k == BODY && (seen & BIT(JSON_BYTES)) != 0))
            return fail(r, "json_bytes must come before json, and only with it");
        seen |= BIT(k);
        if (member(r, (enum member)k, m) != 0)
            return -1;
    }
    if (more < 0)
        return syntax(r);
    /* every member but the pair, and one of the pair (the loop refused both) */
    unsigned need = reply ? want & ~(REP_ONE_OF | BIT(JSON_BYTES)) : want;
    if ((seen & need) != need || (reply && (seen & REP_ONE_OF) == 0))
        return fail(r, what);
    if (!reply)
        m->message_id = m->correlation_id;
    return 0;
}

/* The list of items, into *items (malloc'd) and *n. */
static int list(struct rd *r, bool reply, struct wr_msg **items, size_t *n)
{
    if (*items != NULL || !wr__jread_take(&r->j, '[') || wr__jread_take(&r->j, ']'))
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
    } while (wr__jread_take(&r->j, ','));
    return wr__jread_take(&r->j, ']') ? 0 : syntax(r);
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
            if (wr__jread_int(&r->j, WR_RPC_BATCH_VERSION, WR_RPC_BATCH_VERSION, &v) != 0)
                return fail(r, what);
            v_seen = true;
        } else if (strcmp(name, list_key) != 0 || list(r, reply, items, n) != 0) {
            return fail(r, what);
        }
    }
    if (more < 0)
        return syntax(r);
    wr__jread_ws(&r->j);
    if (!v_seen || *items == NULL || r->j.p != r->j.end)
        return fail(r, what);
    return 0;
}

static int decode(const void *body, size_t len, bool reply, bool skim, struct wr_batch *out,
                  struct wr_err *err)
{
    *out = (struct wr_batch){0};
    struct wr_err local = {0};
    struct wr_batch b = {.store = malloc(len + 1)};
    struct rd r = {.j = {.p = body, .end = (const char *)body + len, .out = b.store},
                   .item = (size_t)-1,
                   .skim = skim,
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

int wr_batch_decode(const void *body, size_t len, bool reply, struct wr_batch *out,
                    struct wr_err *err)
{
    return decode(body, len, reply, false, out, err);
}

int wr_batch_decode_skim(const void *body, size_t len, struct wr_batch *out, struct wr_err *err)
{
    return decode(body, len, true, true, out, err);
}

void wr_batch_release(struct wr_batch *b)
{
    if (b == NULL)
        return;
    free(b->items);
    free(b->store);
    *b = (struct wr_batch){0};
}
