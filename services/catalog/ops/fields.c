/* fields= read into the shapes objects are written in (see fields.h). */
#include "ops/fields.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 300

/* The visible column of c (inside relation r when not NULL) named attr. */
static bool column_of(const schema *s, const struct collection *c, const struct relation *r,
                      const char *attr, size_t *idx)
{
    for (size_t i = 0; i < c->ncols; i++) {
        bool visible = r != NULL ? schema_rel_col_visible(s, r, i) : !c->cols[i].hidden;
        if (visible && strcmp(c->cols[i].attr, attr) == 0) {
            *idx = i;
            return true;
        }
    }
    return false;
}

/* The visible relation of c named name. */
static bool relation_of(const struct collection *c, const char *name, size_t *idx)
{
    const struct relation *r = schema_relation(c, name);
    if (r == NULL || r->hidden)
        return false;
    *idx = (size_t)(r - c->rels);
    return true;
}

/* Every array the view needs, hidden (true) until an entry shows it. */
static int allocate(struct view *v, const schema *s, const struct collection *c)
{
    size_t n = c->ncols + c->nrels;
    for (size_t i = 0; i < c->nrels; i++) {
        const struct collection *t = schema_at(s, c->rels[i].target);
        n += t->ncols + t->nrels;
    }
    v->mem = malloc((n + 1) * sizeof(bool));
    v->sub = calloc(c->nrels + 1, sizeof(*v->sub));
    if (v->mem == NULL || v->sub == NULL)
        return WR_ENOMEM;
    memset(v->mem, 1, (n + 1) * sizeof(bool));
    /* c's columns and relations first; each relation's arrays after them
     * are handed out by narrow() */
    v->top.hide_cols = v->mem;
    v->top.hide_rels = v->mem + c->ncols;
    v->top.sub = v->sub;
    for (size_t i = 0; i < c->nrels; i++) /* as configured until a dotted entry narrows it */
        v->sub[i] = (struct objects_shape){.hide_cols = c->rels[i].col_hidden,
                                           .no_rels = c->rels[i].narrowed};
    return 0;
}

/* The arrays of relation ri's objects (its target's columns, then its
 * relations), in use once a dotted entry narrows them: nothing shown but
 * what the entries name. */
static bool *narrow(struct view *v, const schema *s, size_t ri)
{
    const struct collection *c = v->c;
    bool *p = v->mem + c->ncols + c->nrels;
    for (size_t i = 0; i < ri; i++) {
        const struct collection *t = schema_at(s, c->rels[i].target);
        p += t->ncols + t->nrels;
    }
    const struct collection *t = schema_at(s, c->rels[ri].target);
    v->sub[ri].hide_cols = p;
    v->sub[ri].hide_rels = p + t->ncols;
    return p;
}

/* One entry, `name` or `rel.name`, of n bytes at e. */
static int entry(struct view *v, const schema *s, const char *e, size_t n, int depth,
                 struct wr_err *err)
{
    char name[NAME_MAX_LEN];
    if (n >= sizeof(name))
        return wr_err_set(err, WR_EINVAL, "fields: %.64s...: no field has so long a name", e);
    memcpy(name, e, n);
    name[n] = '\0';
    const struct collection *c = v->c;
    bool *top_cols = v->mem, *top_rels = v->mem + c->ncols; /* v->top's arrays */
    char *dot = strchr(name, '.');
    size_t i = 0;
    if (dot == NULL) {
        if (column_of(s, c, NULL, name, &i)) {
            top_cols[i] = false;
        } else if (!relation_of(c, name, &i)) {
            return wr_err_set(err, WR_EINVAL, "fields: %s is not a field of %s", name, c->name);
        } else if (depth == 0) {
            return wr_err_set(err, WR_EINVAL,
                              "fields: %s is a relation, and depth 0 writes no relations", name);
        } else {
            top_rels[i] = false;
        }
        return 0;
    }
    *dot = '\0';
    const char *inner = dot + 1;
    if (strchr(inner, '.') != NULL)
        return wr_err_set(err, WR_EINVAL, "fields: %s.%s: at most one dot (relation.field)", name,
                          inner);
    if (!relation_of(c, name, &i))
        return wr_err_set(err, WR_EINVAL, "fields: %s is not a relation of %s", name, c->name);
    if (depth == 0)
        return wr_err_set(err, WR_EINVAL,
                          "fields: %s is a relation, and depth 0 writes no relations", name);
    const struct relation *r = &c->rels[i];
    const struct collection *t = schema_at(s, r->target);
    size_t j = 0;
    bool *cols = narrow(v, s, i), *rels = cols + t->ncols;
    top_rels[i] = false;
    if (column_of(s, t, r, inner, &j)) {
        cols[j] = false;
        return 0;
    }
    if (r->narrowed || !relation_of(t, inner, &j))
        return wr_err_set(err, WR_EINVAL, "fields: %s.%s is not a field of %s's objects", name,
                          inner, name);
    if (depth < 2)
        return wr_err_set(err, WR_EINVAL,
                          "fields: %s.%s is a relation of %s's objects, which depth 2 writes", name,
                          inner, name);
    rels[j] = false;
    return 0;
}

int view_parse(struct view *v, const schema *s, const struct collection *c, const char *fields,
               int depth, struct wr_err *err)
{
    *v = (struct view){.c = c};
    int rc = allocate(v, s, c);
    if (rc != 0)
        return wr_err_set(err, rc, "out of memory");
    size_t entries = 0;
    for (const char *p = fields; rc == 0 && *p != '\0';) {
        size_t n = strcspn(p, ",");
        const char *e = p;
        size_t len = n;
        while (len > 0 && (*e == ' ' || *e == '\t')) {
            e++;
            len--;
        }
        while (len > 0 && (e[len - 1] == ' ' || e[len - 1] == '\t'))
            len--;
        if (len > 0) {
            rc = entry(v, s, e, len, depth, err);
            entries++;
        }
        p += n + (p[n] == ',' ? 1 : 0);
    }
    if (rc == 0 && entries == 0)
        rc = wr_err_set(err, WR_EINVAL, "fields: names no field");
    return rc;
}

void view_release(struct view *v)
{
    if (v == NULL)
        return;
    free(v->mem);
    free(v->sub);
    *v = (struct view){0};
}
