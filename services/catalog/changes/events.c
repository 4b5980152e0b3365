/* Change events rendered inside the write transaction (see events.h): the
 * changeset's rows mapped to collections, each object read back on the
 * writer's connection as GET renders it, and the lines the outbox keeps. */
#include "changes/events.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ops/render.h"
#include "ops/rows.h"
#include "ops/writes.h"
#include "warren/json.h"

/* What one walk of a changeset renders with. */
struct walk {
    const struct handler_env *env; /* the hook's, reading on the writer */
    const struct store_tx_info *tx;
    char time[32];
    struct wr_buf *out;
    struct wr_buf object; /* one object's rendering, reused */
    struct wr_err *err;
};

/* The collection that serves table, or NULL. */
static const struct collection *served(const schema *s, const char *table)
{
    for (size_t i = 0; i < schema_count(s); i++) {
        const struct collection *c = schema_at(s, i);
        if (strcmp(c->table, table) == 0)
            return c;
    }
    return NULL;
}

/* RFC 3339, UTC, milliseconds: 2026-12-05T01:02:03.456Z. */
static void format_time(long long ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char day[24] = "1970-01-01T00:00:00";
    if (gmtime_r(&secs, &tm) != NULL)
        (void)strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(out, 32, "%s.%03lldZ", day, ms % 1000);
}

/* The row's id as GET renders it: a one-column key as its column's
 * value, a key of several as the text of its URL. */
static void write_id(struct wr_buf *b, const struct collection *c, const struct value *key)
{
    if (c->npk == 1) {
        render_value(b, c->cols[c->pk[0]].type, &key[0]);
        return;
    }
    char text[1100];
    write_key_text(c, key, text, sizeof(text));
    wr_json_cstr(b, text);
}

/* The object with key as GET /api/<c>/<key> renders it now, into
 * w->object ("null" when there is none). */
static int read_object(struct walk *w, const struct collection *c, const struct value *key)
{
    const struct handler_env *env = w->env;
    const struct plan_coll *pc = plan_coll_at(env->plan, schema_index(env->schema, c));
    wr_buf_reset(&w->object);
    struct rows x = {.env = env, .coll = c, .out = &w->object, .depth = c->depth, .err = w->err};
    int rc = store_query(env->store, pc->get, key, c->npk, rows_on_row, &x, w->err);
    if (rc == 0 && x.count == 0)
        wr_buf_puts(&w->object, "null");
    return rc;
}

static int on_row(void *arg, const struct store_row *r)
{
    struct walk *w = arg;
    const struct collection *c = served(w->env->schema, r->table);
    if (c == NULL || c->ncols != r->ncols)
        return 0; /* warren's own tables, or those COLLECTIONS leaves out */
    struct value key[SCHEMA_MAX_KEY_COLS];
    for (size_t k = 0; k < c->npk; k++)
        key[k] = r->cols[c->pk[k]];
    const char *op = r->op == STORE_ROW_INSERT   ? "created"
                     : r->op == STORE_ROW_DELETE ? "deleted"
                                                 : "updated";
    int rc = r->op == STORE_ROW_DELETE ? 0 : read_object(w, c, key);
    if (rc != 0)
        return rc;
    /* "<Collection>.<op>\t<body>\n": the body (canonical JSON) holds no
     * raw tab nor newline, so a line's last tab ends its key */
    struct wr_buf *b = w->out;
    wr_buf_printf(b, "%s.%s\t", c->name, op);
    /* the keys in sorted order: the canonical form */
    wr_buf_putc(b, '{');
    wr_json_key(b, "collection");
    wr_json_cstr(b, c->name);
    wr_buf_putc(b, ',');
    wr_json_key(b, "id");
    write_id(b, c, key);
    wr_buf_putc(b, ',');
    wr_json_key(b, "object");
    if (r->op == STORE_ROW_DELETE)
        wr_json_null(b);
    else
        wr_buf_append(b, w->object.data, w->object.len);
    wr_buf_putc(b, ',');
    wr_json_key(b, "op");
    wr_json_cstr(b, op);
    wr_buf_putc(b, ',');
    wr_json_key(b, "position");
    wr_json_int(b, w->tx->position);
    wr_buf_putc(b, ',');
    wr_json_key(b, "principal");
    if (w->tx->principal != NULL)
        wr_json_cstr(b, w->tx->principal);
    else
        wr_json_null(b);
    wr_buf_putc(b, ',');
    wr_json_key(b, "request_id");
    wr_json_cstr(b, w->tx->request_id);
    wr_buf_putc(b, ',');
    wr_json_key(b, "time");
    wr_json_cstr(b, w->time);
    wr_buf_puts(b, "}\n");
    return wr_buf_error(b) != 0 || wr_buf_error(&w->object) != 0
               ? wr_err_set(w->err, WR_ETOOBIG, "change events: too large")
               : 0;
}

int events_render(void *arg, store *st, const struct store_tx_info *tx, const void *changeset,
                  size_t len, struct wr_buf *out, struct wr_err *err)
{
    const struct events_ctx *ctx = arg;
    /* the objects are read on the writer's connection, inside the
     * transaction: as it leaves them, before anyone else sees them */
    struct handler_env env = *ctx->env;
    env.store = st;
    env.view = NULL;
    env.tx = NULL;
    struct walk w = {.env = &env, .tx = tx, .out = out, .err = err};
    format_time(tx->at_ms, w.time);
    wr_buf_init(&w.object, out->max);
    int rc = store_changeset_rows(changeset, len, on_row, &w, err);
    wr_buf_release(&w.object);
    return rc;
}

bool events_next(const char *events, size_t n, size_t *off, struct event_line *line)
{
    if (events == NULL || *off >= n)
        return false;
    const char *start = events + *off;
    const char *nl = memchr(start, '\n', n - *off);
    if (nl == NULL) {
        *off = n;
        return false;
    }
    *off = (size_t)(nl - events) + 1;
    const char *tab = NULL;
    for (const char *p = nl; p > start; p--)
        if (p[-1] == '\t') {
            tab = p - 1;
            break;
        }
    const char *dot = NULL;
    for (const char *p = tab; p != NULL && p > start; p--)
        if (p[-1] == '.') {
            dot = p - 1;
            break;
        }
    if (tab == NULL || dot == NULL || dot == start || tab + 1 == nl) {
        *off = n;
        return false;
    }
    *line = (struct event_line){.collection = start,
                                .collection_len = (size_t)(dot - start),
                                .op = dot + 1,
                                .op_len = (size_t)(tab - dot - 1),
                                .body = tab + 1,
                                .body_len = (size_t)(nl - tab - 1)};
    return true;
}

size_t events_count(const char *events, size_t n)
{
    size_t off = 0, count = 0;
    struct event_line line;
    while (events_next(events, n, &off, &line))
        count++;
    return count;
}
