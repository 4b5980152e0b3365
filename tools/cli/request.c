/* A command turned into its request (see args.h): the arguments each
 * command needs, the options it takes, and the envelope members they
 * become. Every problem is named before anything is sent. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "filter.h"
#include "warren/cfg.h"
#include "warren/err.h"

#define BODY_MAX ((size_t)16 << 20) /* the envelope's body limit */

/* The options beyond the common ones (--json, --amqp-url, ...). */
enum {
    O_FILTER = 1 << 0,
    O_ORDER = 1 << 1,
    O_Q = 1 << 2,
    O_PAGE = 1 << 3,
    O_PER_PAGE = 1 << 4,
    O_DEPTH = 1 << 5,
    O_COUNT = 1 << 6,
    O_AFTER = 1 << 7,
    O_ALL = 1 << 8,
};

struct shape {
    const char *name;
    enum cli_cmd cmd;
    unsigned options;
};

static const struct shape shapes[] = {
    {"collections", CLI_COLLECTIONS, 0},
    {"openapi", CLI_OPENAPI, 0},
    {"get", CLI_GET, O_DEPTH},
    {"list", CLI_LIST,
     O_FILTER | O_ORDER | O_Q | O_PAGE | O_PER_PAGE | O_DEPTH | O_COUNT | O_AFTER},
    {"related", CLI_RELATED, O_PAGE | O_PER_PAGE | O_DEPTH | O_COUNT},
    {"eval", CLI_EVAL, O_FILTER | O_Q},
    {"post", CLI_POST, 0},
    {"patch", CLI_PATCH, O_FILTER | O_Q | O_ALL},
    {"delete", CLI_DELETE, O_FILTER | O_Q | O_ALL},
    {"svc", CLI_SVC, 0},
};

static const struct shape *shape_of(enum cli_cmd cmd)
{
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        if (shapes[i].cmd == cmd)
            return &shapes[i];
    return NULL;
}

/* The options a gave, as O_* bits, with their names for problems. */
static unsigned given(const struct cli_args *a)
{
    return (a->nfilters ? O_FILTER : 0u) | (a->norders ? O_ORDER : 0u) | (a->q ? O_Q : 0u) |
           (a->page ? O_PAGE : 0u) | (a->per_page ? O_PER_PAGE : 0u) |
           (a->depth >= 0 ? O_DEPTH : 0u) | (a->count ? O_COUNT : 0u) | (a->after ? O_AFTER : 0u) |
           (a->all ? O_ALL : 0u);
}

static const char *const option_names[] = {"--filter", "--order", "--q",     "--page", "--per-page",
                                           "--depth",  "--count", "--after", "--all"};

static int wrong_count(const struct shape *s, const char *usage, struct wr_buf *problems)
{
    (void)wr_buf_printf(problems, "arguments: %s takes %s\n", s->name, usage);
    return WR_EINVAL;
}

/* Checks the number of arguments: between lo and hi. */
static int arity(const struct cli_args *a, const struct shape *s, size_t lo, size_t hi,
                 const char *usage, struct wr_buf *problems)
{
    return a->npos >= lo && a->npos <= hi ? 0 : wrong_count(s, usage, problems);
}

/* --q: one JSON object, as the edge would check it. */
static int check_q(const char *q, struct wr_buf *problems)
{
    json_t *j = json_loads(q, JSON_REJECT_DUPLICATES, NULL);
    bool ok = json_is_object(j);
    json_decref(j);
    if (!ok)
        (void)wr_buf_puts(problems, "arguments: --q: one JSON object is needed\n");
    return ok ? 0 : WR_EINVAL;
}

/* The q of the command into r->q: --q as given, or built from --filter,
 * --order and eval's functions. */
static int build_q(struct cli_request *r, const struct cli_args *a, struct wr_buf *problems)
{
    if (a->q != NULL) {
        if ((a->nfilters || a->norders || (a->cmd == CLI_EVAL && a->npos > 1))) {
            (void)wr_buf_puts(problems, "arguments: --q replaces --filter, --order and eval's "
                                        "functions: not both\n");
            return WR_EINVAL;
        }
        r->req.q = a->q;
        return check_q(a->q, problems);
    }
    struct cli_search s = {
        .filters = a->filters, .nfilters = a->nfilters, .orders = a->orders, .norders = a->norders};
    if (a->cmd == CLI_EVAL) {
        s.functions = a->pos + 1;
        s.nfunctions = a->npos - 1;
    }
    int rc = cli_search_q(&s, &r->q, problems);
    if (rc == 0 && r->q.len > 0)
        r->req.q = r->q.data;
    return rc;
}

/* The command's arguments into r->req. */
static int positional(struct cli_request *r, const struct cli_args *a, const struct shape *s,
                      struct wr_buf *problems)
{
    struct wr_request *q = &r->req;
    const char *const *p = a->pos;
    bool many = a->nfilters || a->q || a->all;
    switch (a->cmd) {
    case CLI_GET:
        return arity(a, s, 2, 2, "COLLECTION ID", problems);
    case CLI_LIST:
        return arity(a, s, 1, 1, "COLLECTION", problems);
    case CLI_RELATED:
        q->relation = a->npos > 2 ? p[2] : NULL;
        q->related_id = a->npos > 3 ? p[3] : NULL;
        return arity(a, s, 3, 4, "COLLECTION ID RELATION [RELATED_ID]", problems);
    case CLI_EVAL:
        if (a->q == NULL && a->npos < 2)
            return wrong_count(s, "COLLECTION NAME:FIELD... (or --q)", problems);
        return arity(a, s, 1, CLI_POS_MAX, "COLLECTION NAME:FIELD...", problems);
    case CLI_POST:
        r->body_arg = a->npos > 1 ? p[1] : NULL;
        return arity(a, s, 1, 2, "COLLECTION [BODY]", problems);
    case CLI_PATCH:
        r->body_arg = a->npos > (many ? 1u : 2u) ? p[many ? 1 : 2] : NULL;
        if (many)
            return arity(a, s, 1, 2, "COLLECTION [BODY] with --filter, --q or --all", problems);
        return arity(a, s, 2, 3, "COLLECTION ID [BODY], or --filter, --q or --all", problems);
    case CLI_DELETE:
        if (many)
            return arity(a, s, 1, 1, "COLLECTION alone with --filter, --q or --all", problems);
        q->relation = a->npos == 4 ? p[2] : NULL;
        q->related_id = a->npos == 4 ? p[3] : NULL;
        if (a->npos == 3)
            return wrong_count(s, "COLLECTION ID [RELATION RELATED_ID]", problems);
        return arity(a, s, 2, 4, "COLLECTION ID [RELATION RELATED_ID]", problems);
    default:
        return arity(a, s, 0, 0, "no arguments", problems);
    }
}

static const char *op_of(enum cli_cmd cmd)
{
    static const char *const ops[] = {
        [CLI_COLLECTIONS] = WR_OP_COLLECTIONS,
        [CLI_OPENAPI] = WR_OP_OPENAPI,
        [CLI_GET] = WR_OP_GET,
        [CLI_LIST] = WR_OP_LIST,
        [CLI_RELATED] = WR_OP_RELATED,
        [CLI_EVAL] = WR_OP_FUNCTIONS,
        [CLI_POST] = WR_OP_CREATE,
        [CLI_PATCH] = WR_OP_UPDATE,
        [CLI_DELETE] = WR_OP_DELETE,
    };
    return (size_t)cmd < sizeof(ops) / sizeof(ops[0]) ? ops[cmd] : NULL;
}

/* svc SERVICE OP [ID]: another service's op. */
static int build_svc(struct cli_request *r, const struct cli_args *a, const struct shape *s,
                     struct wr_buf *problems)
{
    if (arity(a, s, 2, 3, "SERVICE OP [ID]", problems) != 0)
        return WR_EINVAL;
    int rc = 0;
    if (!wr_cfg_service_name_ok(a->pos[0], strlen(a->pos[0]))) {
        (void)wr_buf_puts(problems, "arguments: svc: SERVICE is a name of [a-z][a-z0-9-]{0,31}\n");
        rc = WR_EINVAL;
    }
    if (!wr_op_name_valid(a->pos[1])) {
        (void)wr_buf_puts(problems, "arguments: svc: OP is a word of [a-z][a-z0-9_]{0,31}\n");
        rc = WR_EINVAL;
    }
    r->service = a->pos[0];
    r->req.op = a->pos[1];
    r->req.key = a->npos > 2 ? a->pos[2] : NULL;
    return rc;
}

int cli_request_build(struct cli_request *r, const struct cli_args *a, struct wr_buf *problems)
{
    *r = (struct cli_request){0};
    wr_buf_init(&r->q, (size_t)64 * 1024); /* the envelope's q limit */
    if (a->request_id != NULL)
        (void)snprintf(r->req.id, sizeof(r->req.id), "%s", a->request_id);
    const struct shape *s = shape_of(a->cmd);
    if (s == NULL)
        return WR_EINVAL;
    int rc = 0;
    unsigned extra = given(a) & ~s->options;
    for (size_t i = 0; i < sizeof(option_names) / sizeof(option_names[0]); i++)
        if (extra & (1u << i)) {
            (void)wr_buf_printf(problems, "arguments: %s does not apply to %s\n", option_names[i],
                                s->name);
            rc = WR_EINVAL;
        }
    if (a->all && (a->nfilters || a->q)) {
        (void)wr_buf_puts(problems, "arguments: --all or --filter/--q, not both\n");
        rc = WR_EINVAL;
    }
    if (a->cmd == CLI_SVC)
        return build_svc(r, a, s, problems) != 0 ? WR_EINVAL : rc;
    r->req.op = op_of(a->cmd);
    r->req.collection = a->npos > 0 ? a->pos[0] : NULL;
    bool many = a->nfilters || a->q || a->all;
    r->req.key = a->npos > 1 && a->cmd != CLI_EVAL && a->cmd != CLI_POST &&
                         !((a->cmd == CLI_PATCH || a->cmd == CLI_DELETE) && many)
                     ? a->pos[1]
                     : NULL;
    r->wants_body = a->cmd == CLI_POST || a->cmd == CLI_PATCH;
    if (positional(r, a, s, problems) != 0)
        rc = WR_EINVAL;
    if (rc == 0 && build_q(r, a, problems) != 0)
        rc = WR_EINVAL;
    r->req.page = a->page;
    r->req.results_per_page = a->per_page;
    r->req.depth_given = a->depth >= 0;
    r->req.depth = a->depth >= 0 ? a->depth : 0;
    r->req.count = a->count;
    r->req.after = a->after;
    return rc;
}

void cli_request_release(struct cli_request *r)
{
    wr_buf_release(&r->q);
    *r = (struct cli_request){0};
}

int cli_body_check(const char *body, size_t len, struct wr_buf *problems)
{
    const char *what = NULL;
    json_error_t jerr;
    bool parse = len <= BODY_MAX && memchr(body, '\0', len) == NULL;
    json_t *j = parse ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (len > BODY_MAX)
        what = "larger than 16 MiB";
    else if (!parse)
        what = "holds a NUL byte";
    else if (j == NULL)
        what = jerr.text;
    else if (!json_is_object(j))
        what = "not a JSON object";
    if (what != NULL)
        (void)wr_buf_printf(problems, "body: %s\n", what);
    json_decref(j);
    return what != NULL ? WR_EINVAL : 0;
}
