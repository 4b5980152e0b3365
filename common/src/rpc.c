/* The RPC envelope (encode, strict decode) and the request id. The client
 * API lives in rpc_client.c. */
#include "warren/rpc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "warren/codec.h"
#include "warren/json.h"

#define MAX_NAME_LEN 128
#define MAX_KEY_LEN 1024
#define MAX_Q_LEN 65536
#define MAX_BODY_LEN ((size_t)16 * 1024 * 1024)
#define MAX_AFTER_LEN 2048
#define MAX_FIELDS_LEN 4096

void wr_request_id_new(char id[WR_REQUEST_ID_LEN + 1])
{
    unsigned char raw[WR_REQUEST_ID_LEN / 2];
    /* getrandom on 16 bytes does not fail once the pool is initialised; if it
     * ever does, the clock and the pid keep ids unique enough. */
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        struct timespec ts;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        long long t = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        long long pid = getpid();
        memcpy(raw, &t, sizeof(t));
        memcpy(raw + sizeof(t), &pid, sizeof(pid));
    }
    wr_hex_encode(id, raw, sizeof(raw));
}

bool wr_op_is_write(const char *op)
{
    return op != NULL && (strcmp(op, WR_OP_CREATE) == 0 || strcmp(op, WR_OP_UPDATE) == 0 ||
                          strcmp(op, WR_OP_DELETE) == 0 || strcmp(op, WR_OP_BATCH) == 0);
}

bool wr_request_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        if (n >= WR_REQUEST_ID_LEN || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return n == WR_REQUEST_ID_LEN;
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

/* A string member of min to max bytes and no NUL; NULL when absent. */
static int get_str_n(json_t *root, const char *name, size_t min, size_t max, const char **out,
                     struct wr_err *err)
{
    json_t *v = json_object_get(root, name);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return wr_err_set(err, WR_EINVAL, "envelope: %s must be a string", name);
    size_t n = json_string_length(v);
    if (n < min || n > max || strlen(json_string_value(v)) != n)
        return wr_err_set(err, WR_EINVAL, "envelope: %s must be %zu to %zu characters", name, min,
                          max);
    *out = json_string_value(v);
    return 0;
}

static int get_str(json_t *root, const char *name, size_t max, const char **out, struct wr_err *err)
{
    return get_str_n(root, name, 1, max, out, err);
}

/* depth: 0 to WR_DEPTH_MAX when given. */
static int get_depth(json_t *root, struct wr_request *req, struct wr_err *err)
{
    json_t *v = json_object_get(root, "depth");
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > WR_DEPTH_MAX)
        return wr_err_set(err, WR_EINVAL, "depth must be 0 to %d", WR_DEPTH_MAX);
    req->depth_given = true;
    req->depth = (int)json_integer_value(v);
    return 0;
}

/* A string member that is one of choices (NULL-terminated) when given. */
static int get_choice(json_t *root, const char *name, const char *const *choices, const char **out,
                      struct wr_err *err)
{
    int rc = get_str(root, name, 32, out, err);
    bool ok = *out == NULL;
    for (size_t i = 0; rc == 0 && !ok && choices[i] != NULL; i++)
        ok = strcmp(*out, choices[i]) == 0;
    if (rc == 0 && !ok)
        rc = wr_err_set(err, WR_EINVAL, "envelope: %s has a value it does not take", name);
    return rc;
}

/* count, return and resolution: words from their lists when given. */
static int get_choices(json_t *root, struct wr_request *req, struct wr_err *err)
{
    static const char *const counts[] = {"exact", "none", "estimated", NULL};
    static const char *const returns[] = {"minimal", "representation", NULL};
    static const char *const resolutions[] = {"merge-duplicates", NULL};
    static const char *const formats[] = {WR_FORMAT_CSV, WR_FORMAT_NDJSON, NULL};
    int rc = get_choice(root, "count", counts, &req->count, err);
    if (rc == 0)
        rc = get_choice(root, "format", formats, &req->format, err);
    if (rc == 0)
        rc = get_choice(root, "return", returns, &req->prefer_return, err);
    if (rc == 0)
        rc = get_choice(root, "resolution", resolutions, &req->resolution, err);
    return rc;
}

/* A positive integer member; 0 when absent. */
static int get_count(json_t *root, const char *name, long *out, struct wr_err *err)
{
    json_t *v = json_object_get(root, name);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > WR_PAGE_MAX)
        return wr_err_set(err, WR_EINVAL, "%s must be a positive integer", name);
    *out = (long)json_integer_value(v);
    return 0;
}

/* The version first: a newer envelope may carry members v1 does not know,
 * and its sender should hear about the version, not about a member. Then
 * every member must be one of known (n names). */
static int check_members(json_t *root, const char *const *known, size_t n, struct wr_err *err)
{
    json_t *v = json_object_get(root, "v");
    if (!json_is_integer(v) || json_integer_value(v) != WR_PROTO_VERSION)
        return wr_err_set(err, WR_EPROTO, "envelope: unsupported version (this is v%d)",
                          WR_PROTO_VERSION);
    const char *name;
    json_t *value;
    json_object_foreach(root, name, value) {
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strcmp(name, known[i]) == 0;
        if (!ok)
            return wr_err_set(err, WR_EINVAL, "envelope: unknown member %.64s", name);
    }
    return 0;
}

/* What every service's envelope starts with: one JSON object (a member
 * given twice refused), version v1, members only from known. *root gets
 * the parsed object (the caller's to json_decref), or NULL on error. */
static int parse_envelope(json_t **root, const char *body, size_t len, const char *const *known,
                          size_t n, struct wr_err *err)
{
    json_error_t jerr;
    *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (*root == NULL)
        return wr_err_set(err, WR_EINVAL, "envelope: invalid JSON: %s", jerr.text);
    int rc = json_is_object(*root) ? 0 : wr_err_set(err, WR_EINVAL, "envelope: not an object");
    if (rc == 0)
        rc = check_members(*root, known, n, err);
    if (rc != 0) {
        json_decref(*root);
        *root = NULL;
    }
    return rc;
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

/* A decoded request owns root; a refused one is emptied. Returns rc. */
static int finish(struct wr_request *req, json_t *root, int rc)
{
    if (rc != 0) {
        json_decref(root);
        *req = (struct wr_request){0};
        return rc;
    }
    req->owner__ = root;
    return 0;
}

int wr_request_decode(struct wr_request *req, const char *body, size_t len, struct wr_err *err)
{
    static const char *const known[] = {"after",      "before",   "body",       "collection",
                                        "count",      "depth",    "fields",     "format",
                                        "id",         "op",       "page",       "q",
                                        "related_id", "relation", "resolution", "results_per_page",
                                        "return",     "v"};
    *req = (struct wr_request){0};
    json_t *root;
    int rc = parse_envelope(&root, body, len, known, sizeof(known) / sizeof(known[0]), err);
    if (rc == 0)
        rc = get_str(root, "op", MAX_NAME_LEN, &req->op, err);
    if (rc == 0)
        rc = get_str(root, "collection", MAX_NAME_LEN, &req->collection, err);
    if (rc == 0)
        rc = get_str(root, "id", MAX_KEY_LEN, &req->key, err);
    if (rc == 0)
        rc = get_str(root, "relation", MAX_NAME_LEN, &req->relation, err);
    if (rc == 0)
        rc = get_str(root, "related_id", MAX_KEY_LEN, &req->related_id, err);
    if (rc == 0)
        rc = get_str(root, "q", MAX_Q_LEN, &req->q, err);
    if (rc == 0)
        rc = get_str(root, "body", MAX_BODY_LEN, &req->body, err);
    if (rc == 0)
        rc = get_count(root, "page", &req->page, err);
    if (rc == 0)
        rc = get_count(root, "results_per_page", &req->results_per_page, err);
    if (rc == 0)
        rc = get_str_n(root, "after", 0, MAX_AFTER_LEN, &req->after, err);
    if (rc == 0)
        rc = get_str_n(root, "before", 1, MAX_AFTER_LEN, &req->before, err);
    if (rc == 0)
        rc = get_str(root, "fields", MAX_FIELDS_LEN, &req->fields, err);
    if (rc == 0)
        rc = get_choices(root, req, err);
    if (rc == 0)
        rc = get_depth(root, req, err);
    if (rc == 0)
        rc = check_op(req, err);
    return finish(req, root, rc);
}

bool wr_op_name_valid(const char *s)
{
    size_t n = s != NULL ? strnlen(s, WR_OP_NAME_MAX + 1) : 0;
    return n >= 1 && n <= WR_OP_NAME_MAX && s[0] >= 'a' && s[0] <= 'z' &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
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
    static const char *const known[] = {"id", "op", "v"};
    *req = (struct wr_request){0};
    json_t *root;
    int rc = parse_envelope(&root, body, len, known, sizeof(known) / sizeof(known[0]), err);
    if (rc == 0)
        rc = get_str(root, "op", WR_OP_NAME_MAX, &req->op, err);
    if (rc == 0)
        rc = check_service_op(req->op, op, err);
    if (rc == 0)
        rc = get_str(root, "id", MAX_KEY_LEN, &req->key, err);
    return finish(req, root, rc);
}

void wr_request_release(struct wr_request *req)
{
    if (req == NULL)
        return;
    json_decref(req->owner__);
    *req = (struct wr_request){0};
}
