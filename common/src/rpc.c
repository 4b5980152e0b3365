/* The RPC envelope (encode, strict decode) and the request id. The client
 * API lives in rpc_client.c. The decoder reads the envelope's flat object
 * with json_read.h in one pass into a table of its members; the strings
 * land in one store the request owns. */
#include "warren/rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "random.h"
#include "warren/codec.h"
#include "warren/json.h"
#include "warren/json_scan.h"

#define MAX_NAME_LEN 128
#define MAX_KEY_LEN 1024
#define MAX_Q_LEN 65536
#define MAX_BODY_LEN ((size_t)16 * 1024 * 1024)
#define MAX_AFTER_LEN 2048
#define MAX_FIELDS_LEN 4096
/* The largest integer the envelope reader takes as one: 18 digits. */
#define INT_DIGITS_MAX 999999999999999999LL

void wr_request_id_new(char id[WR_REQUEST_ID_LEN + 1])
{
    unsigned char raw[WR_REQUEST_ID_LEN / 2];
    wr__random(raw, sizeof(raw));
    wr_hex_encode(id, raw, sizeof(raw));
}

bool wr_op_is_write(const char *op)
{
    return op != NULL && (strcmp(op, WR_OP_CREATE) == 0 || strcmp(op, WR_OP_UPDATE) == 0 ||
                          strcmp(op, WR_OP_DELETE) == 0 || strcmp(op, WR_OP_BATCH) == 0);
}

/* The bytes of a request id: lowercase hex digits. */
static const bool id_byte[256] = {
    ['0'] = true, ['1'] = true, ['2'] = true, ['3'] = true, ['4'] = true, ['5'] = true,
    ['6'] = true, ['7'] = true, ['8'] = true, ['9'] = true, ['a'] = true, ['b'] = true,
    ['c'] = true, ['d'] = true, ['e'] = true, ['f'] = true};

/* A table, not two range tests a byte: an id is checked three times a
 * request on each side of a batch. */
bool wr_request_id_valid(const char *s)
{
    for (size_t n = 0; n < WR_REQUEST_ID_LEN; n++)
        if (!id_byte[(unsigned char)s[n]])
            return false; /* a NUL too: nothing past it is read */
    return s[WR_REQUEST_ID_LEN] == '\0';
}

/* A member "name": value, after a comma unless it is the first. */
static void member(struct wr_buf *out, bool *first, const char *name)
{
    if (!*first)
        wr_buf_putc(out, ',');
    *first = false;
    wr_json_key(out, name);
}

static void str_member(struct wr_buf *out, bool *first, const char *name, const char *value)
{
    if (value == NULL)
        return;
    member(out, first, name);
    wr_json_cstr(out, value);
}

static void int_member(struct wr_buf *out, bool *first, const char *name, long value, bool given)
{
    if (!given)
        return;
    member(out, first, name);
    wr_json_int(out, value);
}

/* Keys in sorted order, as the canonical writer requires. */
int wr_request_encode(const struct wr_request *req, struct wr_buf *out)
{
    bool first = true;
    wr_buf_putc(out, '{');
    str_member(out, &first, "after", req->after);
    str_member(out, &first, "before", req->before);
    str_member(out, &first, "body", req->body);
    str_member(out, &first, "collection", req->collection);
    str_member(out, &first, "count", req->count);
    int_member(out, &first, "depth", req->depth, req->depth_given);
    str_member(out, &first, "fields", req->fields);
    str_member(out, &first, "format", req->format);
    str_member(out, &first, "id", req->key);
    str_member(out, &first, "op", req->op ? req->op : "");
    int_member(out, &first, "page", req->page, req->page > 0);
    str_member(out, &first, "q", req->q);
    str_member(out, &first, "related_id", req->related_id);
    str_member(out, &first, "relation", req->relation);
    str_member(out, &first, "resolution", req->resolution);
    int_member(out, &first, "results_per_page", req->results_per_page, req->results_per_page > 0);
    str_member(out, &first, "return", req->prefer_return);
    int_member(out, &first, "v", WR_PROTO_VERSION, true);
    return wr_buf_putc(out, '}');
}

/* One member's value as the envelope reader met it. */
enum jtype {
    J_ABSENT,
    J_STR,
    J_INT,  /* an integer of at most WR__JREAD_DIGITS_MAX digits */
    J_OTHER /* any other JSON value: the wrong type for every member */
};
struct jval {
    enum jtype type;
    const char *name; /* the member's, once read: what a refusal names */
    const char *s;    /* J_STR: unescaped, NUL-terminated, in the envelope's store */
    size_t n;
    long long i; /* J_INT */
};

/* A member name an envelope knows, and its length. */
struct name {
    const char *s;
    size_t n;
};
#define NAME(s)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

/* A string member of min to max bytes; NULL when absent. (The reader
 * refuses a string holding NUL.) */
static int get_str_n(const struct jval *v, size_t min, size_t max, const char **out,
                     struct wr_err *err)
{
    *out = NULL;
    if (v->type == J_ABSENT)
        return 0;
    if (v->type != J_STR)
        return wr_err_set(err, WR_EINVAL, "envelope: %s must be a string", v->name);
    if (v->n < min || v->n > max)
        return wr_err_set(err, WR_EINVAL, "envelope: %s must be %zu to %zu characters", v->name,
                          min, max);
    *out = v->s;
    return 0;
}

static int get_str(const struct jval *v, size_t max, const char **out, struct wr_err *err)
{
    return get_str_n(v, 1, max, out, err);
}

/* depth: 0 to WR_DEPTH_MAX when given. */
static int get_depth(const struct jval *v, struct wr_request *req, struct wr_err *err)
{
    if (v->type == J_ABSENT)
        return 0;
    if (v->type != J_INT || v->i < 0 || v->i > WR_DEPTH_MAX)
        return wr_err_set(err, WR_EINVAL, "depth must be 0 to %d", WR_DEPTH_MAX);
    req->depth_given = true;
    req->depth = (int)v->i;
    return 0;
}

/* A string member that is one of choices (NULL-terminated) when given. */
static int get_choice(const struct jval *v, const char *const *choices, const char **out,
                      struct wr_err *err)
{
    int rc = get_str(v, 32, out, err);
    bool ok = *out == NULL;
    for (size_t i = 0; rc == 0 && !ok && choices[i] != NULL; i++)
        ok = strcmp(*out, choices[i]) == 0;
    if (rc == 0 && !ok)
        rc = wr_err_set(err, WR_EINVAL, "envelope: %s has a value it does not take", v->name);
    return rc;
}

/* A positive integer member; 0 when absent. */
static int get_count(const struct jval *v, long *out, struct wr_err *err)
{
    *out = 0;
    if (v->type == J_ABSENT)
        return 0;
    if (v->type != J_INT || v->i < 1 || v->i > WR_PAGE_MAX)
        return wr_err_set(err, WR_EINVAL, "%s must be a positive integer", v->name);
    *out = (long)v->i;
    return 0;
}

/* An envelope being read: the names it knows (n of them) and, for each,
 * its value; the first member it does not know; the store its strings
 * land in. */
struct envelope {
    const struct name *known;
    size_t n;
    struct jval *vals;
    const char *unknown;
    char *store;
};

/* Which of e's names s (n bytes) is; e->n when none. */
static size_t known_index(const struct envelope *e, const char *s, size_t n)
{
    for (size_t k = 0; k < e->n; k++)
        if (e->known[k].n == n && memcmp(e->known[k].s, s, n) == 0)
            return k;
    return e->n;
}

/* One member's value: a string, an integer, or (checked, skipped) any
 * other value. -1 when it is not JSON. */
static int read_value(struct wr__jread *r, struct jval *v)
{
    wr__jread_ws(r);
    if (r->p < r->end && *r->p == '"') {
        v->type = J_STR;
        return wr__jread_str(r, &v->s, &v->n);
    }
    if (wr__jread_int(r, -INT_DIGITS_MAX, INT_DIGITS_MAX, &v->i) == 0) {
        v->type = J_INT;
        return 0;
    }
    size_t n = wr_json_value_len(r->p, (size_t)(r->end - r->p));
    if (n == 0)
        return -1;
    r->p += n;
    v->type = J_OTHER;
    return 0;
}

/* The object's members into e. -1 when the text is not one JSON object
 * (after white space), *twice set when it failed on a known member given
 * twice. */
static int read_object(struct wr__jread *r, struct envelope *e, const char **twice)
{
    if (!wr__jread_take(r, '{'))
        return -1;
    if (wr__jread_take(r, '}'))
        return 0;
    do {
        const char *name;
        size_t n;
        if (wr__jread_str(r, &name, &n) != 0 || !wr__jread_take(r, ':'))
            return -1;
        size_t k = known_index(e, name, n);
        struct jval other = {0};
        struct jval *v = k < e->n ? &e->vals[k] : &other;
        if (v->type != J_ABSENT) {
            *twice = e->known[k].s;
            return -1;
        }
        if (k == e->n && e->unknown == NULL)
            e->unknown = name;
        v->name = k < e->n ? e->known[k].s : name;
        if (read_value(r, v) != 0)
            return -1;
    } while (wr__jread_take(r, ','));
    return wr__jread_take(r, '}') ? 0 : -1;
}

/* Whether the text's first byte after white space is '{'. */
static bool opens_object(const char *body, size_t len)
{
    struct wr__jread r = {.p = body, .end = body + len};
    return wr__jread_take(&r, '{');
}

/* What every service's envelope starts with: one JSON object (a known
 * member given twice refused), version v1 (the member at v_index), then
 * members only from e's names: the version first, because a newer
 * envelope may carry members v1 does not know, and its sender should hear
 * about the version, not about a member. e->store gets the strings (the
 * caller's to free, also on error). */
static int parse_envelope(struct envelope *e, size_t v_index, const char *body, size_t len,
                          struct wr_err *err)
{
    e->store = malloc(len + 1);
    if (e->store == NULL)
        return wr_err_set(err, WR_ENOMEM, "envelope: out of memory");
    struct wr__jread r = {.p = body, .end = body + len, .out = e->store};
    const char *twice = NULL;
    int rc = read_object(&r, e, &twice);
    wr__jread_ws(&r);
    if (twice != NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: member %s given twice", twice);
    if (rc != 0 && !opens_object(body, len) && wr_json_is_one_value(body, len))
        return wr_err_set(err, WR_EINVAL, "envelope: not an object");
    if (rc != 0 || r.p != r.end)
        return wr_err_set(err, WR_EINVAL, "envelope: invalid JSON (at byte %zu)",
                          (size_t)(r.p - body));
    const struct jval *v = &e->vals[v_index];
    if (v->type != J_INT || v->i != WR_PROTO_VERSION)
        return wr_err_set(err, WR_EPROTO, "envelope: unsupported version (this is v%d)",
                          WR_PROTO_VERSION);
    if (e->unknown != NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: unknown member %.64s", e->unknown);
    return 0;
}

/* GET /api and /api/openapi.json: the op and v, nothing else. */
static bool is_catalog_op(const char *op)
{
    return strcmp(op, WR_OP_COLLECTIONS) == 0 || strcmp(op, WR_OP_OPENAPI) == 0;
}

/* The catalog ops take op and v only; batch takes its body too. */
static int check_catalog_op(const struct wr_request *req, struct wr_err *err)
{
    bool batch = strcmp(req->op, WR_OP_BATCH) == 0;
    if (req->collection || req->key || req->relation || req->related_id || req->q ||
        (req->body != NULL) != batch || req->page || req->results_per_page || req->depth_given ||
        req->after || req->before || req->count || req->fields || req->prefer_return ||
        req->resolution || req->format)
        return wr_err_set(err, WR_EINVAL, "envelope: op %s takes only %s", req->op,
                          batch ? "op, v and body" : "op and v");
    return 0;
}

/* fields goes with the reads of objects, return and resolution with create. */
static int check_options(const struct wr_request *req, bool create, struct wr_err *err)
{
    bool reads = strcmp(req->op, WR_OP_LIST) == 0 || strcmp(req->op, WR_OP_GET) == 0 ||
                 strcmp(req->op, WR_OP_RELATED) == 0;
    if (req->fields != NULL && !reads)
        return wr_err_set(err, WR_EINVAL, "envelope: fields goes with ops list, get and related");
    if ((req->prefer_return != NULL || req->resolution != NULL) && !create)
        return wr_err_set(err, WR_EINVAL, "envelope: return and resolution go with op create");
    return 0;
}

static int check_op(struct wr_request *req, struct wr_err *err)
{
    if (req->op != NULL && (is_catalog_op(req->op) || strcmp(req->op, WR_OP_BATCH) == 0))
        return check_catalog_op(req, err);
    if (req->op == NULL || req->collection == NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: op and collection are required");
    bool list = strcmp(req->op, WR_OP_LIST) == 0;
    bool get = strcmp(req->op, WR_OP_GET) == 0;
    bool related = strcmp(req->op, WR_OP_RELATED) == 0;
    bool functions = strcmp(req->op, WR_OP_FUNCTIONS) == 0;
    bool create = strcmp(req->op, WR_OP_CREATE) == 0;
    bool update = strcmp(req->op, WR_OP_UPDATE) == 0;
    bool del = strcmp(req->op, WR_OP_DELETE) == 0;
    if ((create || update) != (req->body != NULL))
        return wr_err_set(err, WR_EINVAL, "envelope: body goes with ops create and update");
    /* update and delete without an id change every object q finds */
    if ((update || del) && req->key != NULL && req->q != NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: op %s takes an id or q, not both", req->op);
    if (create && req->key != NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: op create takes no id");
    if (!list && !get && !related && !functions && !create && !update && !del)
        return wr_err_set(err, WR_EINVAL, "envelope: unknown op %.32s", req->op);
    if (functions && (req->q == NULL || req->key != NULL))
        return wr_err_set(err, WR_EINVAL, "envelope: op functions needs q and no id");
    if ((get || related) && req->key == NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: op %s needs an id", req->op);
    /* DELETE /api/<c>/<id>/<relation>/<related id>: out of the relation */
    bool unlink = del && req->related_id != NULL;
    if (related != (req->relation != NULL) && !unlink)
        return wr_err_set(err, WR_EINVAL,
                          "envelope: relation goes with op related, or delete with related_id");
    if (req->related_id != NULL && (req->relation == NULL || req->key == NULL))
        return wr_err_set(err, WR_EINVAL, "envelope: related_id needs an id and a relation");
    if (!list && !functions && !update && !del && req->q != NULL)
        return wr_err_set(err, WR_EINVAL,
                          "envelope: q goes with ops list, functions, update and delete only");
    if (list && req->key != NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: op list takes no id");
    if (!list && req->after != NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: after goes with op list only");
    if (!list && req->before != NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: before goes with op list only");
    /* an export walks by its cursor: no page, no count, no backward walk */
    if (req->format != NULL && (!list || req->page || req->count || req->before))
        return wr_err_set(err, WR_EINVAL,
                          "envelope: format goes with op list, without page, count or before");
    return check_options(req, create, err);
}

/* A decoded request owns the store; a refused one is emptied. Returns rc. */
static int finish(struct wr_request *req, char *store, int rc)
{
    if (rc != 0) {
        free(store);
        *req = (struct wr_request){0};
        return rc;
    }
    req->owner__ = store;
    return 0;
}

/* The catalog envelope's members (proto/README.md section 4), by name. */
enum member {
    M_AFTER,
    M_BEFORE,
    M_BODY,
    M_COLLECTION,
    M_COUNT,
    M_DEPTH,
    M_FIELDS,
    M_FORMAT,
    M_ID,
    M_OP,
    M_PAGE,
    M_Q,
    M_RELATED_ID,
    M_RELATION,
    M_RESOLUTION,
    M_RESULTS_PER_PAGE,
    M_RETURN,
    M_V,
    NMEMBERS
};
static const struct name members[NMEMBERS] = {
    NAME("after"),      NAME("before"),   NAME("body"),       NAME("collection"),
    NAME("count"),      NAME("depth"),    NAME("fields"),     NAME("format"),
    NAME("id"),         NAME("op"),       NAME("page"),       NAME("q"),
    NAME("related_id"), NAME("relation"), NAME("resolution"), NAME("results_per_page"),
    NAME("return"),     NAME("v")};

/* count, format, return and resolution: words from their lists when given. */
static int get_choices(const struct jval *v, struct wr_request *req, struct wr_err *err)
{
    static const char *const counts[] = {"exact", "none", "estimated", NULL};
    static const char *const returns[] = {"minimal", "representation", NULL};
    static const char *const resolutions[] = {"merge-duplicates", NULL};
    static const char *const formats[] = {WR_FORMAT_CSV, WR_FORMAT_NDJSON, NULL};
    int rc = get_choice(&v[M_COUNT], counts, &req->count, err);
    if (rc == 0)
        rc = get_choice(&v[M_FORMAT], formats, &req->format, err);
    if (rc == 0)
        rc = get_choice(&v[M_RETURN], returns, &req->prefer_return, err);
    if (rc == 0)
        rc = get_choice(&v[M_RESOLUTION], resolutions, &req->resolution, err);
    return rc;
}

/* The string members' types and lengths. */
static int get_strings(const struct jval *v, struct wr_request *req, struct wr_err *err)
{
    int rc = get_str(&v[M_OP], MAX_NAME_LEN, &req->op, err);
    if (rc == 0)
        rc = get_str(&v[M_COLLECTION], MAX_NAME_LEN, &req->collection, err);
    if (rc == 0)
        rc = get_str(&v[M_ID], MAX_KEY_LEN, &req->key, err);
    if (rc == 0)
        rc = get_str(&v[M_RELATION], MAX_NAME_LEN, &req->relation, err);
    if (rc == 0)
        rc = get_str(&v[M_RELATED_ID], MAX_KEY_LEN, &req->related_id, err);
    if (rc == 0)
        rc = get_str(&v[M_Q], MAX_Q_LEN, &req->q, err);
    if (rc == 0)
        rc = get_str(&v[M_BODY], MAX_BODY_LEN, &req->body, err);
    return rc;
}

int wr_request_decode(struct wr_request *req, const char *body, size_t len, struct wr_err *err)
{
    struct jval v[NMEMBERS] = {0};
    struct envelope e = {.known = members, .n = NMEMBERS, .vals = v};
    *req = (struct wr_request){0};
    int rc = parse_envelope(&e, M_V, body, len, err);
    if (rc == 0)
        rc = get_strings(v, req, err);
    if (rc == 0)
        rc = get_count(&v[M_PAGE], &req->page, err);
    if (rc == 0)
        rc = get_count(&v[M_RESULTS_PER_PAGE], &req->results_per_page, err);
    if (rc == 0)
        rc = get_str_n(&v[M_AFTER], 0, MAX_AFTER_LEN, &req->after, err);
    if (rc == 0)
        rc = get_str_n(&v[M_BEFORE], 1, MAX_AFTER_LEN, &req->before, err);
    if (rc == 0)
        rc = get_str(&v[M_FIELDS], MAX_FIELDS_LEN, &req->fields, err);
    if (rc == 0)
        rc = get_choices(v, req, err);
    if (rc == 0)
        rc = get_depth(&v[M_DEPTH], req, err);
    if (rc == 0)
        rc = check_op(req, err);
    return finish(req, e.store, rc);
}

bool wr_op_name_valid(const char *s)
{
    return s != NULL && s[0] >= 'a' && s[0] <= 'z' && wr_lower_word(s, WR_OP_NAME_MAX, '_');
}

/* A service's op: a word, and the message's type when type is not NULL. */
static int check_service_op(const char *op, const char *type, struct wr_err *err)
{
    if (op == NULL || !wr_op_name_valid(op))
        return wr_err_set(err, WR_EINVAL, "envelope: op must be a word of [a-z][a-z0-9_]{0,%d}",
                          WR_OP_NAME_MAX - 1);
    if (type != NULL && strcmp(op, type) != 0)
        return wr_err_set(err, WR_EINVAL, "envelope: op %s is not the message's type %.32s", op,
                          type);
    return 0;
}

int wr_request_decode_service(struct wr_request *req, const char *op, const char *body, size_t len,
                              struct wr_err *err)
{
    enum { S_ID, S_OP, S_V, NSERVICE };
    static const struct name known[NSERVICE] = {NAME("id"), NAME("op"), NAME("v")};
    struct jval v[NSERVICE] = {0};
    struct envelope e = {.known = known, .n = NSERVICE, .vals = v};
    *req = (struct wr_request){0};
    int rc = parse_envelope(&e, S_V, body, len, err);
    if (rc == 0)
        rc = get_str(&v[S_OP], WR_OP_NAME_MAX, &req->op, err);
    if (rc == 0)
        rc = check_service_op(req->op, op, err);
    if (rc == 0)
        rc = get_str(&v[S_ID], MAX_KEY_LEN, &req->key, err);
    return finish(req, e.store, rc);
}

void wr_request_release(struct wr_request *req)
{
    if (req == NULL)
        return;
    free(req->owner__);
    *req = (struct wr_request){0};
}
