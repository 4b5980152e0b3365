/* Objects at depth 0, 1 and 2 (see objects.h). */
#include "ops/objects.h"

#include "ops/render.h"
#include "warren/json.h"

/* The related rows of one relation member, being written. */
struct related {
    const struct handler_env *env;
    const struct collection *coll;
    const struct objects_shape *shape;
    int depth;
    struct wr_buf *out;
    size_t count;
    struct wr_err *err;
};

static int on_related(void *arg, const struct value *row, size_t ncols)
{
    struct related *x = arg;
    (void)ncols;
    if (x->count++ > 0)
        wr_buf_putc(x->out, ',');
    return objects_write(x->env, x->coll, row, x->depth, x->shape, x->out, x->err);
}

/* Relation ri of c for row: a to-one as its object or null, a to-many as
 * a list, its objects at depth in shape (NULL: the relation's config). */
static int write_relation(const struct handler_env *env, const struct collection *c, size_t ri,
                          const struct value *row, int depth, const struct objects_shape *shape,
                          struct wr_buf *out, struct wr_err *err)
{
    const struct relation *r = &c->rels[ri];
    const struct objects_shape own = {.hide_cols = r->col_hidden, .no_rels = r->narrowed};
    struct value key[SCHEMA_MAX_KEY_COLS] = {{.kind = V_NULL}};
    bool any = true;
    for (size_t k = 0; k < r->nkeys && any; k++) {
        key[k] = row[r->local[k]];
        any = key[k].kind != V_NULL;
    }
    struct related x = {.env = env,
                        .coll = schema_at(env->schema, r->target),
                        .shape = shape != NULL ? shape : &own,
                        .depth = depth,
                        .out = out,
                        .err = err};
    const char *sql = plan_coll_at(env->plan, schema_index(env->schema, c))->rel_all[ri];
    if (r->to_many)
        wr_buf_putc(out, '[');
    int rc = any ? store_query(env->store, sql, key, r->nkeys, on_related, &x, err) : 0;
    if (r->to_many)
        wr_buf_putc(out, ']');
    else if (x.count == 0)
        wr_json_null(out);
    return rc;
}

int objects_write(const struct handler_env *env, const struct collection *c,
                  const struct value *row, int depth, const struct objects_shape *shape,
                  struct wr_buf *out, struct wr_err *err)
{
    static const struct objects_shape plain = {0};
    const struct objects_shape *s = shape != NULL ? shape : &plain;
    if (depth <= 0) {
        render_flat_in(out, c, row, s->hide_cols);
        return wr_buf_error(out);
    }
    wr_buf_putc(out, '{');
    bool first = true;
    for (size_t i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        bool rel = f->is_relation;
        if ((!rel && s->hide_cols != NULL && s->hide_cols[f->index]) ||
            (rel && (s->no_rels || (s->hide_rels != NULL && s->hide_rels[f->index]))))
            continue;
        if (!first)
            wr_buf_putc(out, ',');
        first = false;
        wr_json_key(out, f->name);
        if (!rel) {
            render_value(out, c->cols[f->index].type, &row[f->index]);
            continue;
        }
        int rc = write_relation(env, c, f->index, row, depth - 1,
                                s->sub != NULL ? &s->sub[f->index] : NULL, out, err);
        if (rc != 0)
            return rc;
    }
    wr_buf_putc(out, '}');
    return wr_buf_error(out);
}
