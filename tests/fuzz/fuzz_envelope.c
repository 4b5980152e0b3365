/* libFuzzer target for the RPC envelope (common/include/warren/rpc.h): an
 * envelope wr_request_decode accepts encodes (wr_request_encode) to one it
 * accepts again with the same fields and, from then on, the same bytes; a
 * refused one leaves the request empty. The same for another service's
 * envelope (wr_request_decode_service). With jansson as the reference
 * reader: what the decoder accepts, jansson reads as an object without a
 * duplicate member, whose members hold the same values the request does.
 * Leaks are LeakSanitizer's to find. */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "warren/buf.h"
#include "warren/err.h"
#include "warren/proto.h"
#include "warren/rpc.h"

#define ENCODED_MAX (1u << 20)

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_empty(const struct wr_request *req)
{
    FUZZ_ASSERT(req->id[0] == '\0');
    FUZZ_ASSERT(req->op == NULL && req->collection == NULL);
    FUZZ_ASSERT(req->key == NULL && req->relation == NULL && req->related_id == NULL &&
                req->q == NULL);
    FUZZ_ASSERT(req->page == 0 && req->results_per_page == 0);
    FUZZ_ASSERT(!req->depth_given && req->depth == 0 && req->after == NULL && req->count == NULL);
    FUZZ_ASSERT(req->format == NULL);
    FUZZ_ASSERT(req->owner__ == NULL);
}

static void check_same(const struct wr_request *a, const struct wr_request *b)
{
    FUZZ_ASSERT(strcmp(a->id, b->id) == 0);
    FUZZ_ASSERT(same_str(a->op, b->op));
    FUZZ_ASSERT(same_str(a->collection, b->collection));
    FUZZ_ASSERT(same_str(a->key, b->key));
    FUZZ_ASSERT(same_str(a->relation, b->relation));
    FUZZ_ASSERT(same_str(a->related_id, b->related_id));
    FUZZ_ASSERT(same_str(a->q, b->q));
    FUZZ_ASSERT(a->page == b->page);
    FUZZ_ASSERT(a->results_per_page == b->results_per_page);
    FUZZ_ASSERT(a->depth_given == b->depth_given && a->depth == b->depth);
    FUZZ_ASSERT(same_str(a->after, b->after));
    FUZZ_ASSERT(same_str(a->count, b->count));
    FUZZ_ASSERT(same_str(a->format, b->format));
}

/* The string member name of o is s (both absent, or equal). */
static bool same_member(json_t *o, const char *name, const char *s)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL || s == NULL)
        return v == NULL && s == NULL;
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

/* The integer member name of o is i, or absent when i is 0 (not given). */
static bool same_int(json_t *o, const char *name, long long i)
{
    json_t *v = json_object_get(o, name);
    return v == NULL ? i == 0 : json_is_integer(v) && json_integer_value(v) == i;
}

/* What the decoder accepted, jansson reads the same. */
static void check_jansson(const struct wr_request *req, const char *data, size_t size)
{
    json_error_t jerr;
    json_t *o = json_loadb(data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        (void)fprintf(stderr, "accepted, jansson refuses: %s\n", jerr.text);
    FUZZ_ASSERT(o != NULL && json_is_object(o));
    FUZZ_ASSERT(same_member(o, "op", req->op) && same_member(o, "collection", req->collection));
    FUZZ_ASSERT(same_member(o, "id", req->key) && same_member(o, "relation", req->relation));
    FUZZ_ASSERT(same_member(o, "related_id", req->related_id) && same_member(o, "q", req->q));
    FUZZ_ASSERT(same_member(o, "body", req->body) && same_member(o, "after", req->after));
    FUZZ_ASSERT(same_member(o, "before", req->before) && same_member(o, "fields", req->fields));
    FUZZ_ASSERT(same_member(o, "count", req->count) && same_member(o, "format", req->format));
    FUZZ_ASSERT(same_member(o, "return", req->prefer_return));
    FUZZ_ASSERT(same_member(o, "resolution", req->resolution));
    FUZZ_ASSERT(same_int(o, "page", req->page));
    FUZZ_ASSERT(same_int(o, "results_per_page", req->results_per_page));
    FUZZ_ASSERT(req->depth_given ? same_int(o, "depth", req->depth)
                                 : json_object_get(o, "depth") == NULL);
    FUZZ_ASSERT(same_int(o, "v", WR_PROTO_VERSION));
    json_decref(o);
}

/* Another service's envelope: an accepted one has a word for an op and
 * round-trips through the encoder. */
static void fuzz_service(const char *data, size_t size)
{
    struct wr_request req, again;
    struct wr_err err = {0};
    int rc = wr_request_decode_service(&req, NULL, data, size, &err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == WR_EINVAL || rc == WR_EPROTO);
        FUZZ_ASSERT(err.code == rc && err.msg[0] != '\0');
        check_empty(&req);
        return;
    }
    FUZZ_ASSERT(wr_op_name_valid(req.op) && req.collection == NULL);
    check_jansson(&req, data, size);
    struct wr_buf b;
    wr_buf_init(&b, ENCODED_MAX);
    FUZZ_ASSERT(wr_request_encode(&req, &b) == 0);
    FUZZ_ASSERT(wr_request_decode_service(&again, req.op, b.data, b.len, &err) == 0);
    FUZZ_ASSERT(same_str(req.op, again.op) && same_str(req.key, again.key));
    wr_request_release(&again);
    wr_request_release(&req);
    wr_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_service((const char *)data, size);
    struct wr_request req;
    struct wr_err err = {0};
    int rc = wr_request_decode(&req, (const char *)data, size, &err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == WR_EINVAL || rc == WR_EPROTO);
        FUZZ_ASSERT(err.code == rc && err.msg[0] != '\0');
        check_empty(&req);
        wr_request_release(&req);
        return 0;
    }
    /* only the catalog ops (GET /api, /api/openapi.json) have no collection */
    bool catalog = req.op != NULL &&
                   (strcmp(req.op, WR_OP_COLLECTIONS) == 0 || strcmp(req.op, WR_OP_OPENAPI) == 0);
    FUZZ_ASSERT(req.op != NULL && (req.collection != NULL) != catalog);
    FUZZ_ASSERT(!req.depth_given || (req.depth >= 0 && req.depth <= WR_DEPTH_MAX));
    /* one related object: always with the object and its relation */
    FUZZ_ASSERT(req.related_id == NULL || (req.key != NULL && req.relation != NULL));
    FUZZ_ASSERT(req.count == NULL || strcmp(req.count, "exact") == 0 ||
                strcmp(req.count, "none") == 0 || strcmp(req.count, "estimated") == 0);
    check_jansson(&req, (const char *)data, size);

    struct wr_buf first, second;
    wr_buf_init(&first, ENCODED_MAX);
    wr_buf_init(&second, ENCODED_MAX);
    FUZZ_ASSERT(wr_request_encode(&req, &first) == 0);
    struct wr_request again;
    rc = wr_request_decode(&again, first.data, first.len, &err);
    if (rc != 0)
        (void)fprintf(stderr, "re-encoded envelope refused: %s\n%s\n", err.msg, first.data);
    FUZZ_ASSERT(rc == 0);
    check_same(&req, &again);
    FUZZ_ASSERT(wr_request_encode(&again, &second) == 0);
    FUZZ_ASSERT(first.len == second.len && memcmp(first.data, second.data, first.len) == 0);

    wr_request_release(&again);
    wr_request_release(&req);
    check_empty(&req);
    wr_buf_release(&second);
    wr_buf_release(&first);
    return 0;
}
