/* libFuzzer target for route_parse (services/edge/route.h). The input is a
 * URL's path and query, split at the first '?' or NUL (no separator: no
 * query). An accepted route must name segments that cannot change which
 * route is taken, page numbers in range, and the op its segments imply;
 * a /svc/ route a service and an op of their forms and no parameter; the
 * batch route nothing but its op. The whole input is also read as a
 * Prefer header, which yields only the words it knows. */
#include <stdbool.h>
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "route.h"
#include "warren/cfg.h"
#include "warren/codec.h"
#include "warren/err.h"
#include "warren/proto.h"

static char *copy(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    FUZZ_ASSERT(s != NULL);
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* A decoded path segment in an array of cap bytes: terminated inside it,
 * non-empty, no '/', not "." or "..". */
static void check_segment(const char *s, size_t cap)
{
    FUZZ_ASSERT(memchr(s, '\0', cap) != NULL);
    FUZZ_ASSERT(s[0] != '\0');
    FUZZ_ASSERT(strchr(s, '/') == NULL);
    FUZZ_ASSERT(strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
}

/* A page number or size: 0 when absent, else 1 to 10^9. */
static void check_count(long v)
{
    FUZZ_ASSERT(v == 0 || (v >= 1 && v <= 1000000000L));
}

/* /api and /api/openapi.json: no collection, no parameters. */
static void check_catalog(const char *path, const struct route *r)
{
    bool index = strcmp(r->op, WR_OP_COLLECTIONS) == 0;
    FUZZ_ASSERT(strcmp(path, index ? "/api" : "/api/openapi.json") == 0);
    FUZZ_ASSERT(r->collection[0] == '\0' && r->key[0] == '\0' && r->relation[0] == '\0');
    FUZZ_ASSERT(r->q == NULL && r->page == 0 && r->per_page == 0 && r->depth == -1 &&
                r->count == NULL && !r->has_after);
}

/* depth, count, fields, after: each absent or one of its forms; after
 * only on a list; fields not on /api/eval. */
static void check_options(const struct route *r)
{
    FUZZ_ASSERT(r->depth >= -1 && r->depth <= WR_DEPTH_MAX);
    FUZZ_ASSERT(r->count == NULL || strcmp(r->count, "exact") == 0 ||
                strcmp(r->count, "none") == 0 || strcmp(r->count, "estimated") == 0);
    if (r->has_fields) {
        FUZZ_ASSERT(strcmp(r->op, WR_OP_FUNCTIONS) != 0);
        FUZZ_ASSERT(memchr(r->fields, '\0', sizeof(r->fields)) != NULL);
        FUZZ_ASSERT(r->fields[strspn(r->fields, ", ")] != '\0');
        FUZZ_ASSERT(wr_utf8_valid(r->fields, strlen(r->fields)));
    }
    if (!r->has_after)
        return;
    FUZZ_ASSERT(strcmp(r->op, WR_OP_LIST) == 0);
    FUZZ_ASSERT(memchr(r->after, '\0', sizeof(r->after)) != NULL);
    for (const char *p = r->after; *p; p++)
        FUZZ_ASSERT((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_');
}

static void check_api(const struct route *r)
{
    check_segment(r->collection, sizeof(r->collection));
    FUZZ_ASSERT(memchr(r->key, '\0', sizeof(r->key)) != NULL);
    FUZZ_ASSERT(memchr(r->relation, '\0', sizeof(r->relation)) != NULL);
    bool has_key = r->key[0] != '\0';
    bool has_relation = r->relation[0] != '\0';
    if (has_key)
        check_segment(r->key, sizeof(r->key));
    if (has_relation)
        check_segment(r->relation, sizeof(r->relation));
    FUZZ_ASSERT(r->op != NULL);
    if (strcmp(r->op, WR_OP_LIST) == 0)
        FUZZ_ASSERT(!has_key && !has_relation);
    else if (strcmp(r->op, WR_OP_GET) == 0)
        FUZZ_ASSERT(has_key && !has_relation);
    else if (strcmp(r->op, WR_OP_RELATED) == 0)
        FUZZ_ASSERT(has_key && has_relation);
    else if (strcmp(r->op, WR_OP_FUNCTIONS) == 0)
        FUZZ_ASSERT(!has_key && !has_relation && r->q != NULL);
    else
        FUZZ_ASSERT(!"op is one of WR_OP_LIST, WR_OP_GET, WR_OP_RELATED, WR_OP_FUNCTIONS");
    check_count(r->page);
    check_count(r->per_page);
    check_options(r);
    /* a search is a JSON object, and only lists have one */
    if (r->q != NULL) {
        FUZZ_ASSERT(strcmp(r->op, WR_OP_LIST) == 0 || strcmp(r->op, WR_OP_FUNCTIONS) == 0);
        json_t *j = json_loads(r->q, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_ASSERT(json_is_object(j));
        json_decref(j);
    }
}

/* /svc/<service>/<op>[/<id>]: names of their forms, nothing else set. */
static void check_service(const char *path, const char *query, const struct route *r)
{
    FUZZ_ASSERT(strncmp(path, "/svc/", 5) == 0);
    FUZZ_ASSERT(memchr(r->service, '\0', sizeof(r->service)) != NULL);
    FUZZ_ASSERT(wr_cfg_service_name_ok(r->service, strlen(r->service)));
    FUZZ_ASSERT(r->op == r->svc_op);
    FUZZ_ASSERT(memchr(r->svc_op, '\0', sizeof(r->svc_op)) != NULL);
    FUZZ_ASSERT(r->svc_op[0] >= 'a' && r->svc_op[0] <= 'z');
    for (const char *p = r->svc_op; *p; p++)
        FUZZ_ASSERT((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
    FUZZ_ASSERT(memchr(r->key, '\0', sizeof(r->key)) != NULL);
    if (r->key[0] != '\0')
        check_segment(r->key, sizeof(r->key));
    FUZZ_ASSERT(r->collection[0] == '\0' && r->relation[0] == '\0' && r->related_key[0] == '\0');
    FUZZ_ASSERT(r->q == NULL && r->page == 0 && r->per_page == 0 && r->depth == -1 &&
                r->count == NULL && !r->has_after);
    /* no parameter: only empty pairs */
    for (const char *p = query; p != NULL && *p; p++)
        FUZZ_ASSERT(*p == '&');
}

/* /api/_batch: the op alone (the path's one segment decodes to _batch). */
static void check_batch(const char *path, const struct route *r)
{
    FUZZ_ASSERT(strncmp(path, "/api/", 5) == 0 && strchr(path + 5, '/') == NULL);
    FUZZ_ASSERT(r->collection[0] == '\0' && r->key[0] == '\0' && r->relation[0] == '\0');
    FUZZ_ASSERT(r->q == NULL && r->page == 0 && r->per_page == 0 && r->depth == -1 &&
                r->count == NULL && !r->has_after && !r->has_fields);
}

/* A Prefer header yields the words it knows, or nothing. */
static void check_prefer(const char *value)
{
    struct route_prefer p = {0};
    route_prefer_parse(value, &p);
    FUZZ_ASSERT(p.ret == NULL || strcmp(p.ret, "minimal") == 0 ||
                strcmp(p.ret, "representation") == 0);
    FUZZ_ASSERT(p.resolution == NULL || strcmp(p.resolution, "merge-duplicates") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut = 0;
    while (cut < size && data[cut] != '?' && data[cut] != '\0')
        cut++;
    char *path = copy(data, cut);
    char *query = cut < size ? copy(data + cut + 1, size - cut - 1) : NULL;
    struct route r;
    memset(&r, 0xa5, sizeof(r)); /* anything route_parse leaves unset shows */
    struct wr_err err = {0};
    int rc = route_parse(path, query, NULL, &r, &err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == WR_ENOTFOUND || rc == WR_EINVAL || rc == WR_ENOMEM);
        FUZZ_ASSERT(r.q == NULL); /* an error leaves nothing to release */
        FUZZ_ASSERT(err.code == rc && err.msg[0] != '\0');
    } else if (r.kind == ROUTE_HEALTH) {
        FUZZ_ASSERT(strcmp(path, "/healthz") == 0);
    } else if (r.kind == ROUTE_READY) {
        FUZZ_ASSERT(strcmp(path, "/readyz") == 0);
    } else if (r.kind == ROUTE_METRICS) {
        FUZZ_ASSERT(strcmp(path, "/metrics") == 0);
    } else if (r.kind == ROUTE_SVC) {
        check_service(path, query, &r);
    } else {
        FUZZ_ASSERT(r.kind == ROUTE_API);
        if (r.op != NULL &&
            (strcmp(r.op, WR_OP_COLLECTIONS) == 0 || strcmp(r.op, WR_OP_OPENAPI) == 0))
            check_catalog(path, &r);
        else if (r.op != NULL && strcmp(r.op, WR_OP_BATCH) == 0)
            check_batch(path, &r);
        else
            check_api(&r);
    }
    check_prefer(path);
    if (rc == 0)
        route_release(&r);
    free(query);
    free(path);
    return 0;
}
