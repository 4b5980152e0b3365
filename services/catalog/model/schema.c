/* Builds the model of the served database (see schema.h) from introspected
 * definitions and the config: names, hidden columns, relations in both
 * directions, and each collection's fields in the sorted order the JSON
 * writer needs, so rendering never sorts. */
#include "model/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/cfglist.h"
#include "model/fts.h"
#include "warren/analyzer.h"
#include "warren/buf.h"

struct schema {
    struct collection *colls;
    size_t n;
};

/* Problems are collected, then reported together. */
struct problems {
    struct wr_buf text;
    int count;
};

static void problem(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct problems *p, const char *fmt, ...)
{
    if (p->count++ > 0)
        wr_buf_puts(&p->text, "; ");
    va_list ap;
    va_start(ap, fmt);
    wr_buf_vprintf(&p->text, fmt, ap);
    va_end(ap);
}

static void free_collection(struct collection *c)
{
    for (size_t i = 0; i < c->ncols; i++) {
        free(c->cols[i].sql);
        free(c->cols[i].attr);
    }
    for (size_t i = 0; i < c->nrels; i++) {
        free(c->rels[i].name);
        free(c->rels[i].col_hidden);
    }
    free(c->cols);
    free(c->rels);
    free(c->fields);
    free(c->flat);
    free(c->name);
    free(c->table);
    free(c->config_name);
    free(c->fts_table);
}

void schema_free(schema *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        free_collection(&s->colls[i]);
    free(s->colls);
    free(s);
}

size_t schema_count(const schema *s)
{
    return s->n;
}

const struct collection *schema_at(const schema *s, size_t i)
{
    return i < s->n ? &s->colls[i] : NULL;
}

size_t schema_index(const schema *s, const struct collection *c)
{
    return (size_t)(c - s->colls);
}

const struct collection *schema_find(const schema *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->colls[i].name, name) == 0)
            return &s->colls[i];
    return NULL;
}

const struct relation *schema_relation(const struct collection *c, const char *name)
{
    for (size_t i = 0; i < c->nrels; i++)
        if (strcmp(c->rels[i].name, name) == 0)
            return &c->rels[i];
    return NULL;
}

bool schema_rel_col_visible(const schema *s, const struct relation *r, size_t col)
{
    const struct collection *t = schema_at(s, r->target);
    return t != NULL && col < t->ncols && !t->cols[col].hidden &&
           !(r->col_hidden != NULL && r->col_hidden[col]);
}

static bool has_pk(const struct schema_table_def *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].pk > 0)
            return true;
    return false;
}

/* Whether table t is served: not internal, has a key, and is listed in
 * COLLECTIONS when that is set. */
static bool served(const struct schema_table_def *t, const struct wr_cfg *cfg)
{
    /* sqlite_* is SQLite's, warren_* warren's own (the applied writes). */
    if (strncmp(t->name, "sqlite_", 7) == 0 || strncmp(t->name, "warren_", 7) == 0 || !has_pk(t))
        return false;
    if (cfg->collections == NULL || cfg->collections[0] == '\0')
        return true;
    char *name = schema_collection_name(t->name);
    bool ok = name != NULL && cfglist_has(cfg->collections, name);
    free(name);
    return ok;
}

/* On an error the names made so far stay in c->cols, which free_collection
 * frees; gcc's analyzer loses them (stored at a computed index). */
WR_ANALYZER_LEAK_FALSE_BEGIN
static int init_columns(struct collection *c, const struct schema_table_def *t,
                        const struct wr_cfg *cfg, struct problems *p)
{
    c->cols = calloc(t->ncols, sizeof(*c->cols));
    if (c->cols == NULL)
        return WR_ENOMEM;
    c->ncols = t->ncols;
    const char *renames = wr_cfg_coll_get(cfg, c->config_name, "RENAME");
    const char *excludes = wr_cfg_coll_get(cfg, c->config_name, "EXCLUDE");
    const char *includes = wr_cfg_coll_get(cfg, c->config_name, "INCLUDE");
    for (size_t i = 0; i < t->ncols; i++) {
        struct column *col = &c->cols[i];
        char renamed[128];
        col->sql = strdup(t->cols[i].name);
        col->attr = schema_attr_name(t->cols[i].name);
        if (col->sql == NULL || col->attr == NULL)
            return WR_ENOMEM;
        col->type = schema_col_type(t->cols[i].decltype);
        col->hidden = (excludes && cfglist_has(excludes, col->attr)) ||
                      (includes && !cfglist_has(includes, col->attr));
        if (renames && cfglist_renamed(renames, col->attr, renamed, sizeof(renamed))) {
            free(col->attr);
            col->attr = strdup(renamed);
            if (col->attr == NULL)
                return WR_ENOMEM;
        }
        int pk = t->cols[i].pk;
        if (pk > 0 && pk <= SCHEMA_MAX_KEY_COLS) {
            c->pk[pk - 1] = i;
            if ((size_t)pk > c->npk)
                c->npk = (size_t)pk;
        } else if (pk > SCHEMA_MAX_KEY_COLS) {
            problem(p, "table %s: more than 8 primary key columns", t->name);
        }
    }
    return 0;
}
WR_ANALYZER_LEAK_FALSE_END

static size_t column_index(const struct schema_table_def *t, const char *name, bool *ok)
{
    for (size_t i = 0; i < t->ncols; i++) {
        if (strcasecmp(t->cols[i].name, name) == 0) {
            *ok = true;
            return i;
        }
    }
    *ok = false;
    return 0;
}

static struct relation *add_relation(struct collection *c)
{
    struct relation *r = realloc(c->rels, (c->nrels + 1) * sizeof(*r));
    if (r == NULL)
        return NULL;
    c->rels = r;
    r = &c->rels[c->nrels++];
    *r = (struct relation){0};
    return r;
}

/* Counts the distinct foreign keys of t that point at table. */
static int fks_into(const struct schema_table_def *t, const char *table)
{
    int count = 0;
    for (size_t i = 0; i < t->nfks; i++)
        if (t->fks[i].from && strcasecmp(t->fks[i].table, table) == 0 &&
            (i == 0 || t->fks[i - 1].id != t->fks[i].id))
            count++;
    return count;
}

static char *relation_name(const char *base, const char *suffix)
{
    size_t n = strlen(base) + (suffix ? strlen(suffix) + 1 : 0) + 1;
    char *s = malloc(n);
    if (s != NULL)
        (void)snprintf(s, n, suffix ? "%s_%s" : "%s", base, suffix ? suffix : "");
    return s;
}

/* One foreign key (the run of fks starting at fk[0] with the same id) from
 * collection src (table t) into dst (table u): a to-one on src, a to-many on dst. */
static int link_fk(struct collection *src, size_t src_i, const struct schema_table_def *t,
                   struct collection *dst, size_t dst_i, const struct schema_table_def *u,
                   const struct schema_fk_def *fk, size_t nfk, struct problems *p)
{
    struct relation one = {.target = dst_i}, many = {.to_many = true, .target = src_i};
    for (size_t k = 0; k < nfk && k < SCHEMA_MAX_KEY_COLS; k++) {
        bool ok1, ok2 = true;
        size_t from = column_index(t, fk[k].from, &ok1);
        size_t to = fk[k].to ? column_index(u, fk[k].to, &ok2) : dst->pk[k];
        if (!ok1 || !ok2 || (fk[k].to == NULL && k >= dst->npk)) {
            problem(p, "table %s: a foreign key into %s names unknown columns", t->name, u->name);
            return 0;
        }
        one.local[k] = from;
        one.remote[k] = to;
        many.local[k] = to;
        many.remote[k] = from;
        one.nkeys = many.nkeys = k + 1;
    }
    bool ambiguous = src == dst || fks_into(t, u->name) > 1;
    const char *suffix = ambiguous ? src->cols[one.local[0]].attr : NULL;
    one.name = relation_name(dst->name, suffix);
    many.name = relation_name(t->name, suffix);
    struct relation *r1 = one.name && many.name ? add_relation(src) : NULL;
    if (r1 != NULL)
        *r1 = one;
    struct relation *r2 = r1 ? add_relation(dst) : NULL;
    if (r2 == NULL) {
        free(one.name);
        free(many.name);
        if (r1 != NULL)
            src->nrels--;
        return WR_ENOMEM;
    }
    *r2 = many;
    return 0;
}

static int field_cmp(const void *a, const void *b)
{
    return strcmp(((const struct field *)a)->name, ((const struct field *)b)->name);
}

/* Fills fields and flat in sorted order and reports duplicate names. */
static int sort_fields(struct collection *c, struct problems *p)
{
    c->fields = calloc(c->ncols + c->nrels + 1, sizeof(*c->fields));
    c->flat = calloc(c->ncols + 1, sizeof(*c->flat));
    if (c->fields == NULL || c->flat == NULL)
        return WR_ENOMEM;
    for (size_t i = 0; i < c->ncols; i++) {
        if (c->cols[i].hidden)
            continue;
        c->flat[c->nflat++] = (struct field){c->cols[i].attr, false, i};
        c->fields[c->nfields++] = (struct field){c->cols[i].attr, false, i};
    }
    for (size_t i = 0; i < c->nrels; i++)
        if (!c->rels[i].hidden)
            c->fields[c->nfields++] = (struct field){c->rels[i].name, true, i};
    qsort(c->flat, c->nflat, sizeof(*c->flat), field_cmp);
    qsort(c->fields, c->nfields, sizeof(*c->fields), field_cmp);
    for (size_t i = 1; i < c->nfields; i++)
        if (strcmp(c->fields[i - 1].name, c->fields[i].name) == 0)
            problem(p, "collection %s: two fields are named %s (rename one with RENAME)", c->name,
                    c->fields[i].name);
    return 0;
}

/* Whether c has a column whose attribute (default), or with sql its SQL
 * name, is the len bytes at s. */
static bool has_column(const struct collection *c, const char *s, size_t len, bool sql)
{
    bool found = false;
    for (size_t i = 0; i < c->ncols && !found; i++) {
        char *attr = schema_attr_name(c->cols[i].sql);
        found = (attr && strlen(attr) == len && strncmp(attr, s, len) == 0) ||
                (sql && strlen(c->cols[i].sql) == len && strncmp(c->cols[i].sql, s, len) == 0);
        free(attr);
    }
    return found;
}

/* Whether the len bytes at s name a field of c: a column, a relation, or
 * (dotted, EXCLUDE and INCLUDE only) relation.column of its target. */
static bool names_field(const schema *sc, const struct collection *c, const char *s, size_t len,
                        bool dotted)
{
    const char *dot = dotted ? memchr(s, '.', len) : NULL;
    size_t rlen = dot ? (size_t)(dot - s) : len;
    if (dot == NULL && has_column(c, s, len, false))
        return true;
    for (size_t i = 0; i < c->nrels; i++) {
        if (strlen(c->rels[i].name) != rlen || strncmp(c->rels[i].name, s, rlen) != 0)
            continue;
        if (dot == NULL)
            return true;
        return has_column(schema_at(sc, c->rels[i].target), dot + 1, len - rlen - 1, true);
    }
    return false;
}

/* Every name a collection's RENAME, EXCLUDE or INCLUDE mentions must exist. */
static void check_names(const schema *sc, const struct collection *c, const char *setting,
                        const char *list, struct problems *p)
{
    bool rename = strcmp(setting, "RENAME") == 0;
    const char *s = list;
    while (s && *s) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t len = strcspn(s, rename ? ":," : ", ");
        while (len > 0 && s[len - 1] == ' ')
            len--;
        if (len > 0 && !names_field(sc, c, s, len, !rename)) {
            char name[64];
            (void)snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), s);
            problem(p, "%s names unknown field %s", setting, name);
        }
        s += strcspn(s, ",");
    }
}

/* Which of target's columns a dotted EXCLUDE / INCLUDE entry of relation
 * rel (its default name) hides inside it; NULL when none names it. */
static int nested_columns(struct relation *r, const char *rel, const struct collection *target,
                          const char *excludes, const char *includes)
{
    bool ex = excludes && cfglist_has_dotted(excludes, rel, NULL, NULL);
    bool in = includes && cfglist_has_dotted(includes, rel, NULL, NULL);
    r->narrowed = in; /* only the listed columns: no relations of its own at depth 2 */
    if (!ex && !in)
        return 0;
    r->col_hidden = calloc(target->ncols + 1, sizeof(bool));
    if (r->col_hidden == NULL)
        return WR_ENOMEM;
    for (size_t j = 0; j < target->ncols; j++) {
        const char *sql = target->cols[j].sql;
        char *attr = schema_attr_name(sql);
        if (attr == NULL)
            return WR_ENOMEM;
        r->col_hidden[j] = (ex && cfglist_has_dotted(excludes, rel, attr, sql)) ||
                           (in && !cfglist_has_dotted(includes, rel, attr, sql));
        free(attr);
    }
    return 0;
}

/* RENAME, EXCLUDE and INCLUDE for relations, by their default names. */
static int rename_relations(const schema *s, struct collection *c, const struct wr_cfg *cfg)
{
    const char *renames = wr_cfg_coll_get(cfg, c->config_name, "RENAME");
    const char *excludes = wr_cfg_coll_get(cfg, c->config_name, "EXCLUDE");
    const char *includes = wr_cfg_coll_get(cfg, c->config_name, "INCLUDE");
    char renamed[128];
    for (size_t i = 0; i < c->nrels; i++) {
        struct relation *r = &c->rels[i];
        r->hidden = (excludes && cfglist_has(excludes, r->name)) ||
                    (includes && !cfglist_has(includes, r->name) &&
                     !cfglist_has_dotted(includes, r->name, NULL, NULL));
        int rc = nested_columns(r, r->name, schema_at(s, r->target), excludes, includes);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; renames && i < c->nrels; i++) {
        if (cfglist_renamed(renames, c->rels[i].name, renamed, sizeof(renamed)) == NULL)
            continue;
        char *name = strdup(renamed);
        if (name != NULL) {
            free(c->rels[i].name);
            c->rels[i].name = name;
        }
    }
    return 0;
}

bool schema_allows(const struct collection *c, unsigned mask)
{
    return (c->methods & mask) != 0;
}

bool schema_writable(const schema *s)
{
    for (size_t i = 0; i < s->n; i++)
        if ((s->colls[i].methods & ~(unsigned)METHOD_GET) != 0)
            return true;
    return false;
}

static int init_collection(struct collection *c, const struct schema_table_def *t,
                           const struct wr_cfg *cfg, struct problems *p)
{
    c->table = strdup(t->name);
    c->config_name = schema_collection_name(t->name);
    const char *name = c->config_name ? wr_cfg_coll_get(cfg, c->config_name, "NAME") : NULL;
    c->name = name ? strdup(name) : (c->config_name ? strdup(c->config_name) : NULL);
    if (c->table == NULL || c->name == NULL)
        return WR_ENOMEM;
    const char *depth = wr_cfg_coll_get(cfg, c->config_name, "DEPTH");
    const char *count = wr_cfg_coll_get(cfg, c->config_name, "COUNT");
    c->depth = depth && strcmp(depth, "0") == 0 ? 0 : 1;
    c->count_none = count && strcmp(count, "none") == 0;
    c->count_estimated = count && strcmp(count, "estimated") == 0;
    char bad[80];
    if (!schema_methods_parse(wr_cfg_coll_get(cfg, c->config_name, "METHODS"), &c->methods, bad,
                              sizeof(bad)))
        problem(p,
                "collection %s: METHODS has %s (expected GET, POST, PATCH, PUT, DELETE, "
                "PATCH_MANY or DELETE_MANY)",
                c->config_name, bad);
    if (wr_cfg_coll_get(cfg, c->config_name, "EXCLUDE") &&
        wr_cfg_coll_get(cfg, c->config_name, "INCLUDE"))
        problem(p, "collection %s: give EXCLUDE or INCLUDE, not both", c->config_name);
    return init_columns(c, t, cfg, p);
}

/* Each foreign key of every served table, as relations on both ends. */
static int link_all(schema *s, const struct schema_table_def *tables, const size_t *defs,
                    struct problems *p)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct schema_table_def *t = &tables[defs[i]];
        for (size_t k = 0; k < t->nfks;) {
            size_t run = 1;
            while (k + run < t->nfks && t->fks[k + run].id == t->fks[k].id)
                run++;
            for (size_t j = 0; j < s->n; j++) {
                const struct schema_table_def *u = &tables[defs[j]];
                if (strcasecmp(u->name, t->fks[k].table) != 0)
                    continue;
                int rc = link_fk(&s->colls[i], i, t, &s->colls[j], j, u, &t->fks[k], run, p);
                if (rc != 0)
                    return rc;
            }
            k += run;
        }
    }
    return 0;
}

/* Every dotted config key must name a table's collection. */
static void check_config(const schema *s, const struct schema_table_def *tables, size_t n,
                         const struct wr_cfg *cfg, struct problems *p)
{
    for (size_t i = 0; i < cfg->ncolls; i++) {
        bool known = false;
        for (size_t j = 0; j < n && !known; j++) {
            char *name = schema_collection_name(tables[j].name);
            known = name && strcmp(name, cfg->colls[i].collection) == 0;
            free(name);
        }
        if (!known)
            problem(p, "config: %s.%s names no table", cfg->colls[i].collection,
                    cfg->colls[i].setting);
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct collection *c = &s->colls[i];
        for (size_t j = i + 1; j < s->n; j++)
            if (strcmp(c->name, s->colls[j].name) == 0)
                problem(p, "two collections are named %s", c->name);
        check_names(s, c, "RENAME", wr_cfg_coll_get(cfg, c->config_name, "RENAME"), p);
        check_names(s, c, "EXCLUDE", wr_cfg_coll_get(cfg, c->config_name, "EXCLUDE"), p);
        check_names(s, c, "INCLUDE", wr_cfg_coll_get(cfg, c->config_name, "INCLUDE"), p);
    }
    const char *list = cfg->collections;
    size_t len;
    for (const char *e = cfglist_next(&list, &len); e != NULL; e = cfglist_next(&list, &len)) {
        bool found = false;
        for (size_t i = 0; i < s->n && !found; i++)
            found = strlen(s->colls[i].config_name) == len &&
                    strncmp(s->colls[i].config_name, e, len) == 0;
        if (!found)
            problem(p, "COLLECTIONS names %.*s, which is no table with a primary key",
                    (int)(len < 63 ? len : 63), e);
    }
}

schema *schema_build(const struct schema_table_def *tables, size_t n, const struct wr_cfg *cfg,
                     struct wr_err *err)
{
    struct problems p = {.count = 0};
    wr_buf_init(&p.text, sizeof(err->msg));
    schema *s = calloc(1, sizeof(*s));
    size_t *defs = calloc(n + 1, sizeof(*defs));
    int rc = s && defs ? 0 : WR_ENOMEM;
    if (rc == 0)
        s->colls = calloc(n + 1, sizeof(*s->colls));
    rc = s && s->colls ? rc : WR_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!served(&tables[i], cfg))
            continue;
        defs[s->n] = i;
        rc = init_collection(&s->colls[s->n++], &tables[i], cfg, &p);
    }
    if (rc == 0)
        rc = link_all(s, tables, defs, &p);
    /* Config names are checked against the default names, then applied. */
    if (rc == 0)
        check_config(s, tables, n, cfg, &p);
    for (size_t i = 0; s && i < s->n && rc == 0; i++)
        rc = rename_relations(s, &s->colls[i], cfg);
    for (size_t i = 0; s && i < s->n && rc == 0; i++)
        rc = sort_fields(&s->colls[i], &p);
    for (size_t i = 0; s && i < n && rc == 0; i++)
        for (size_t j = 0; j < s->n && rc == 0; j++)
            rc = fts_cover(&s->colls[j], &tables[i]);
    if (rc == 0 && p.count > 0)
        rc = wr_err_set(err, WR_EINVAL, "%s", p.text.data ? p.text.data : "schema problems");
    else if (rc != 0)
        wr_err_set(err, rc, "schema: out of memory");
    free(defs);
    wr_buf_release(&p.text);
    if (rc != 0) {
        schema_free(s);
        return NULL;
    }
    return s;
}
