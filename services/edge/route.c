/* Route and parameter parsing (see route.h). Path segments are
 * percent-decoded one by one; a segment that decodes to a '/', a NUL, '.' or
 * '..' is refused, so no encoding can change which route is taken. */
#include "route.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warren/cfg.h"
#include "warren/codec.h"
#include "warren/proto.h"

/* Why a path segment is refused. */
enum seg { SEG_OK, SEG_MALFORMED, SEG_NOT_A_NAME };

/* The next path segment of *p, decoded into out. Malformed: empty, a bad
 * escape, a NUL, too long, or not UTF-8; not a name: '/', '.' or '..'. */
static enum seg segment(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = strcspn(s, "/");
    *p = s + n + (s[n] == '/' ? 1 : 0);
    if (n == 0 || !wr_pct_decode(s, n, out, cap, false) || !wr_utf8_valid(out, strlen(out)))
        return SEG_MALFORMED;
    if (strchr(out, '/') != NULL || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        return SEG_NOT_A_NAME;
    return SEG_OK;
}

/* A 404 for a refused segment, saying why when it is malformed. */
static int bad_segment(enum seg why, const char *what, struct wr_err *err)
{
    if (why == SEG_MALFORMED)
        return wr_err_set(err, WR_ENOTFOUND,
                          "no such %s: the path segment is empty, too long, has a bad percent "
                          "escape or a NUL, or is not valid UTF-8",
                          what);
    return wr_err_set(err, WR_ENOTFOUND, "no such %s", what);
}

/* A page number or size: plain decimal digits, 1 to WR_PAGE_MAX. */
static bool parse_count(const char *s, long *out)
{
    if (s[0] < '1' || s[0] > '9' || strlen(s) > 10)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > WR_PAGE_MAX)
        return false;
    *out = v;
    return true;
}

/* depth=0|1|2 and count=exact|none|estimated. */
static int choice(struct route *r, const char *name, const char *value, struct wr_err *err)
{
    if (strcmp(name, "depth") == 0) {
        if (r->depth != -1)
            return wr_err_set(err, WR_EINVAL, "depth: given more than once");
        if (value[0] < '0' || value[0] > '0' + WR_DEPTH_MAX || value[1] != '\0')
            return wr_err_set(err, WR_EINVAL, "depth: must be 0, 1 or %d", WR_DEPTH_MAX);
        r->depth = value[0] - '0';
        return 0;
    }
    static const char *const counts[] = {"exact", "none", "estimated"};
    if (r->count != NULL)
        return wr_err_set(err, WR_EINVAL, "count: given more than once");
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]) && r->count == NULL; i++)
        if (strcmp(value, counts[i]) == 0)
            r->count = counts[i];
    if (r->count == NULL)
        return wr_err_set(err, WR_EINVAL, "count: must be exact, none or estimated");
    return 0;
}

static int parameter(struct route *r, const char *name, const char *value, struct wr_err *err)
{
    if (strcmp(name, "depth") == 0 || strcmp(name, "count") == 0)
        return choice(r, name, value, err);
    long *slot = NULL;
    if (strcmp(name, "page") == 0)
        slot = &r->page;
    else if (strcmp(name, "results_per_page") == 0)
        slot = &r->per_page;
    else
        return 0; /* Flask-Restless ignores parameters it does not know */
    if (*slot != 0)
        return wr_err_set(err, WR_EINVAL, "%s: given more than once", name);
    if (!parse_count(value, slot))
        return wr_err_set(err, WR_EINVAL, "%s: must be a whole number from 1 to %ld", name,
                          WR_PAGE_MAX);
    return 0;
}

int route_json_depth(const char *s, size_t n)
{
    int depth = 0, max = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (escaped) {
            escaped = false;
        } else if (in_string) {
            if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

/* The longest in / not_in list in a search: every object whose "op" is
 * one of those, wherever it is nested (filters, or, and, not, has / any). */
static size_t longest_in(const json_t *j)
{
    size_t longest = 0;
    if (json_is_object(j)) {
        const char *op = json_string_value(json_object_get(j, "op"));
        const json_t *val = json_object_get(j, "val");
        if (op != NULL && (strcmp(op, "in") == 0 || strcmp(op, "not_in") == 0) &&
            json_is_array(val))
            longest = json_array_size(val);
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            size_t n = longest_in(v);
            longest = n > longest ? n : longest;
        }
    } else if (json_is_array(j)) {
        size_t i;
        const json_t *v;
        json_array_foreach(j, i, v) {
            size_t n = longest_in(v);
            longest = n > longest ? n : longest;
        }
    }
    return longest;
}

/* q: decoded and checked to be one JSON object (no duplicate keys, valid
 * UTF-8, no deeper than max_depth, no in list longer than max_in), so that
 * malformed searches are refused here and never published. What it may ask
 * for is the worker's to judge: only it knows the schema. */
static int search(struct route *r, const char *v, size_t vlen, const struct route_limits *lim,
                  struct wr_err *err)
{
    if (r->q != NULL)
        return wr_err_set(err, WR_EINVAL, "q: given more than once");
    if (vlen > ROUTE_Q_MAX * 3)
        return wr_err_set(err, WR_EINVAL, "q: longer than %zu bytes", ROUTE_Q_MAX);
    r->q = calloc(1, vlen + 1); /* zeroed: the analysers cannot see decode fill it */
    if (r->q == NULL)
        return wr_err_set(err, WR_ENOMEM, "out of memory");
    if (!wr_pct_decode(v, vlen, r->q, vlen + 1, true))
        return wr_err_set(err, WR_EINVAL, "q: malformed percent-encoding or a NUL byte");
    if (strlen(r->q) > ROUTE_Q_MAX)
        return wr_err_set(err, WR_EINVAL, "q: longer than %zu bytes", ROUTE_Q_MAX);
    /* checked before parsing: the parser recurses once per level */
    if (route_json_depth(r->q, strlen(r->q)) > lim->max_depth)
        return wr_err_set(err, WR_EINVAL, "q: nested deeper than %d arrays and objects",
                          lim->max_depth);
    json_error_t jerr;
    json_t *j = json_loads(r->q, JSON_REJECT_DUPLICATES, &jerr);
    bool object = json_is_object(j);
    size_t longest = object ? longest_in(j) : 0;
    json_decref(j);
    if (j == NULL)
        return wr_err_set(err, WR_EINVAL, "q: not valid JSON: %s (at character %d)", jerr.text,
                          jerr.position);
    if (!object)
        return wr_err_set(err, WR_EINVAL, "q: must be a JSON object");
    if (longest > lim->max_in)
        return wr_err_set(err, WR_EINVAL, "q: an in / not_in list of %zu values (at most %zu)",
                          longest, lim->max_in);
    return 0;
}

/* Whether n bytes of s percent-decode (with '+' as a space) to valid UTF-8
 * without a NUL. */
static bool text_ok(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    bool ok =
        out != NULL && wr_pct_decode(s, n, out, n + 1, true) && wr_utf8_valid(out, strlen(out));
    free(out);
    return ok;
}

/* after (before): a keyset cursor, base64url text the worker decodes and
 * checks; an empty after starts a walk, an empty before is no cursor. */
static int cursor(struct route *r, bool before, const char *v, size_t vlen, struct wr_err *err)
{
    const char *name = before ? "before" : "after";
    char *out = before ? r->before : r->after;
    if (before ? r->has_before : r->has_after)
        return wr_err_set(err, WR_EINVAL, "%s: given more than once", name);
    if (!wr_pct_decode(v, vlen, out, ROUTE_AFTER_MAX + 1, true))
        return wr_err_set(err, WR_EINVAL, "%s: malformed or longer than %d bytes", name,
                          ROUTE_AFTER_MAX);
    for (const char *p = out; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return wr_err_set(err, WR_EINVAL, "%s: not a cursor from a Link header", name);
    if (before && out[0] == '\0')
        return wr_err_set(err, WR_EINVAL, "before: not a cursor from a Link header");
    if (before)
        r->has_before = true;
    else
        r->has_after = true;
    return 0;
}

/* fields: names of attributes and relations, `Relation.attribute` too,
 * separated by ','; what they name is the worker's to judge (400 for an
 * unknown or hidden one). Here: not empty, decoded, no NUL, UTF-8. */
static int field_list(struct route *r, const char *v, size_t vlen, struct wr_err *err)
{
    if (r->has_fields)
        return wr_err_set(err, WR_EINVAL, "fields: given more than once");
    if (!wr_pct_decode(v, vlen, r->fields, sizeof(r->fields), true) ||
        !wr_utf8_valid(r->fields, strlen(r->fields)))
        return wr_err_set(err, WR_EINVAL,
                          "fields: a bad percent escape, a NUL or invalid UTF-8, or longer than "
                          "%d bytes",
                          ROUTE_FIELDS_MAX);
    if (r->fields[strspn(r->fields, ", ")] == '\0')
        return wr_err_set(err, WR_EINVAL, "fields: names no field");
    r->has_fields = true;
    return 0;
}

/* One `name=value` pair of n bytes. A name that does not decode is no
 * parameter we know and is ignored, as Flask-Restless ignores unknown ones. */
static int pair(struct route *r, const char *p, size_t n, const struct route_limits *lim,
                struct wr_err *err)
{
    char name[64], value[64];
    size_t eq = strcspn(p, "=");
    size_t name_len = eq < n ? eq : n;
    const char *v = eq < n ? p + eq + 1 : p + n;
    size_t vlen = eq < n ? n - eq - 1 : 0;
    /* Unknown parameters are ignored, but not when they are not text:
     * nothing malformed gets past the edge. */
    if (!text_ok(p, name_len))
        return wr_err_set(err, WR_EINVAL,
                          "query: a parameter name with a bad percent escape, a NUL or invalid "
                          "UTF-8");
    if (!wr_pct_decode(p, name_len, name, sizeof(name), true))
        return 0;
    if (strcmp(name, "q") == 0)
        return search(r, v, vlen, lim, err);
    if (strcmp(name, "after") == 0 || strcmp(name, "before") == 0)
        return cursor(r, name[0] == 'b', v, vlen, err);
    if (strcmp(name, "fields") == 0)
        return field_list(r, v, vlen, err);
    if (!text_ok(v, vlen))
        return wr_err_set(err, WR_EINVAL,
                          "%s: a bad percent escape, a NUL or invalid UTF-8 in the value", name);
    bool known = strcmp(name, "page") == 0 || strcmp(name, "results_per_page") == 0 ||
                 strcmp(name, "depth") == 0 || strcmp(name, "count") == 0;
    if (!wr_pct_decode(v, vlen, value, sizeof(value), true))
        return known ? wr_err_set(err, WR_EINVAL, "%s: malformed value", name) : 0;
    return parameter(r, name, value, err);
}

static int parse_query(struct route *r, const char *query, const struct route_limits *lim,
                       struct wr_err *err)
{
    for (const char *p = query; p && *p;) {
        size_t n = strcspn(p, "&");
        int rc = n > 0 ? pair(r, p, n, lim, err) : 0;
        if (rc != 0)
            return rc;
        p += n + (p[n] == '&' ? 1 : 0);
    }
    return 0;
}

/* A service's op: [a-z][a-z0-9_]{0,31}. */
static bool op_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ROUTE_OP_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* /svc/ routes take no query parameter: the first one given is a 400
 * that names it (when it decodes to a name that can be shown). */
static int no_parameters(const char *query, struct wr_err *err)
{
    for (const char *p = query; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n == 0) {
            p += p[n] == '&' ? 1 : 0;
            continue;
        }
        size_t eq = strcspn(p, "=");
        size_t name_len = eq < n ? eq : n;
        char name[64];
        if (!text_ok(p, name_len))
            return wr_err_set(err, WR_EINVAL,
                              "query: a parameter name with a bad percent escape, a NUL or "
                              "invalid UTF-8");
        if (name_len == 0 || !wr_pct_decode(p, name_len, name, sizeof(name), true))
            return wr_err_set(err, WR_EINVAL, "query: service requests take no parameters");
        return wr_err_set(err, WR_EINVAL, "%s: service requests take no parameters", name);
    }
    return 0;
}

/* /svc/<service>/<op>[/<id>] (p is past "/svc/"): the service and the op
 * must be names of their forms (404 otherwise), the id one segment. */
static int service_route(const char *path, const char *p, const char *query, struct route *r,
                         struct wr_err *err)
{
    r->kind = ROUTE_SVC;
    enum seg why = segment(&p, r->service, sizeof(r->service));
    if (why != SEG_OK || !wr_cfg_service_name_ok(r->service, strlen(r->service)))
        return wr_err_set(err, WR_ENOTFOUND, "no such service");
    if (*p == '\0')
        return wr_err_set(err, WR_ENOTFOUND, "no such route: /svc/<service>/<op>[/<id>]");
    why = segment(&p, r->svc_op, sizeof(r->svc_op));
    if (why != SEG_OK || !op_name_ok(r->svc_op))
        return wr_err_set(err, WR_ENOTFOUND, "no such operation");
    r->op = r->svc_op;
    if (*p != '\0') {
        why = segment(&p, r->key, sizeof(r->key));
        if (why != SEG_OK)
            return bad_segment(why, "object", err);
    }
    if (*p != '\0' || path[strlen(path) - 1] == '/')
        return wr_err_set(err, WR_ENOTFOUND, "no such route: /svc/<service>/<op>[/<id>]");
    return no_parameters(query, err);
}

void route_init(struct route *r)
{
    r->kind = ROUTE_API;
    r->op = NULL;
    r->page = r->per_page = 0;
    r->q = NULL;
    r->depth = -1;
    r->count = NULL;
    r->has_fields = r->has_after = r->has_before = false;
    r->collection[0] = r->key[0] = r->relation[0] = r->related_key[0] = '\0';
    r->fields[0] = r->after[0] = r->before[0] = r->service[0] = r->svc_op[0] = '\0';
}

void route_release(struct route *r)
{
    free(r->q);
    r->q = NULL;
}

int route_parse(const char *path, const char *query, const struct route_limits *limits,
                struct route *r, struct wr_err *err)
{
    struct route_limits lim = {ROUTE_DEFAULT_MAX_DEPTH, ROUTE_DEFAULT_MAX_IN};
    if (limits != NULL && limits->max_depth > 0)
        lim.max_depth = limits->max_depth;
    if (limits != NULL && limits->max_in > 0)
        lim.max_in = limits->max_in;
    route_init(r);
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0) {
        r->kind = path[1] == 'h' ? ROUTE_HEALTH : ROUTE_READY;
        return 0;
    }
    if (strcmp(path, "/metrics") == 0) {
        r->kind = ROUTE_METRICS;
        return 0;
    }
    /* The catalog of the API: its parameters are ignored (it has none). */
    if (strcmp(path, "/api") == 0 || strcmp(path, "/api/openapi.json") == 0) {
        r->op = path[4] == '\0' ? WR_OP_COLLECTIONS : WR_OP_OPENAPI;
        return 0;
    }
    if (strncmp(path, "/svc/", 5) == 0)
        return service_route(path, path + 5, query, r, err);
    if (strncmp(path, "/api/", 5) != 0)
        return wr_err_set(err, WR_ENOTFOUND, "no such route");
    const char *p = path + 5;
    /* /api/eval/<collection>: Flask-Restless's functions endpoint */
    bool eval = strncmp(p, "eval/", 5) == 0;
    if (eval)
        p += 5;
    enum seg why = segment(&p, r->collection, sizeof(r->collection));
    if (why != SEG_OK)
        return bad_segment(why, "collection", err);
    /* The batch of writes (no collection takes its name): its body says the
     * rest; parameters are ignored; nothing is below it. */
    if (strcmp(r->collection, WR_BATCH_SEGMENT) == 0) {
        r->collection[0] = '\0';
        if (eval || *p != '\0' || path[strlen(path) - 1] == '/')
            return wr_err_set(err, WR_ENOTFOUND, "no such route");
        r->op = WR_OP_BATCH;
        return 0;
    }
    r->op = eval ? WR_OP_FUNCTIONS : WR_OP_LIST;
    if (eval && *p != '\0')
        return wr_err_set(err, WR_ENOTFOUND, "no such route");
    if (*p != '\0') {
        why = segment(&p, r->key, sizeof(r->key));
        if (why != SEG_OK)
            return bad_segment(why, "object", err);
        r->op = WR_OP_GET;
    }
    if (*p != '\0') {
        why = segment(&p, r->relation, sizeof(r->relation));
        if (why != SEG_OK)
            return bad_segment(why, "relation", err);
        r->op = WR_OP_RELATED;
    }
    if (*p != '\0') { /* one related object (Flask-Restless 0.17's relationinstid) */
        why = segment(&p, r->related_key, sizeof(r->related_key));
        if (why != SEG_OK)
            return bad_segment(why, "related object", err);
    }
    if (*p != '\0' || (strlen(path) > 0 && path[strlen(path) - 1] == '/'))
        return wr_err_set(err, WR_ENOTFOUND, "no such route");
    int rc = parse_query(r, query, &lim, err);
    if (rc == 0 && r->q != NULL && !eval && strcmp(r->op, WR_OP_LIST) != 0)
        rc = wr_err_set(err, WR_EINVAL, "q: searches a collection, not one object");
    if (rc == 0 && eval && r->q == NULL)
        rc = wr_err_set(err, WR_EINVAL, "q: /api/eval needs q with functions");
    if (rc == 0 && r->has_after && strcmp(r->op, WR_OP_LIST) != 0)
        rc = wr_err_set(err, WR_EINVAL, "after: pages a collection's list only");
    if (rc == 0 && r->has_before && strcmp(r->op, WR_OP_LIST) != 0)
        rc = wr_err_set(err, WR_EINVAL, "before: pages a collection's list only");
    if (rc == 0 && r->has_after && r->has_before)
        rc = wr_err_set(err, WR_EINVAL, "after and before: give one of them");
    if (rc == 0 && r->has_fields && eval)
        rc = wr_err_set(err, WR_EINVAL, "fields: narrows objects, which /api/eval has none of");
    if (rc != 0)
        route_release(r);
    return rc;
}

/* The n bytes at s, spaces and tabs (and a pair of quotes) around them
 * dropped, equal word (case-insensitive). */
static bool word_is(const char *s, size_t n, const char *word)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

void route_prefer_parse(const char *value, struct route_prefer *p)
{
    for (const char *s = value; s != NULL && *s != '\0';) {
        size_t n = strcspn(s, ",");
        size_t pref = strcspn(s, ";,"); /* the preference, without its parameters */
        size_t eq = strcspn(s, "=;,");  /* its name: `token [BWS "=" BWS word]` */
        const char *v = s + eq + 1;
        size_t vn = eq < pref ? pref - eq - 1 : 0;
        if (eq < pref && word_is(s, eq, "return") && word_is(v, vn, "minimal"))
            p->ret = "minimal";
        else if (eq < pref && word_is(s, eq, "return") && word_is(v, vn, "representation"))
            p->ret = "representation";
        else if (eq < pref && word_is(s, eq, "resolution") && word_is(v, vn, "merge-duplicates"))
            p->resolution = "merge-duplicates";
        s += n + (s[n] == ',' ? 1 : 0);
    }
}
