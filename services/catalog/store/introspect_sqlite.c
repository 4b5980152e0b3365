/* The SQLite adapter's introspection (see store.h, store_introspect): the
 * tables, their columns and foreign keys as SQLite's catalog and pragmas
 * give them, copied into definitions the store keeps until it is freed or
 * introspected again. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "warren/analyzer.h"

void store__defs_free(struct store_defs *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free((void *)d->tables[i].cols);
        free((void *)d->tables[i].fks);
    }
    for (size_t i = 0; i < d->nstrings; i++)
        free(d->strings[i]);
    free(d->strings);
    free(d->tables);
    *d = (struct store_defs){0};
}

/* Introspection fills the store's definitions, arrays of structs written
 * at computed indexes, which gcc's analyzer loses track of;
 * store__defs_free frees them all. */
WR_ANALYZER_LEAK_FALSE_BEGIN

/* Keeps a copy of a column's text for the definitions; NULL stays NULL.
 * Out of memory, it returns NULL too and sets d->nomem. */
static const char *keep(struct store_defs *d, const unsigned char *s)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup((const char *)s);
    char **strings = copy ? realloc(d->strings, (d->nstrings + 1) * sizeof(*strings)) : NULL;
    if (strings == NULL) {
        free(copy);
        d->nomem = true;
        return NULL;
    }
    d->strings = strings;
    d->strings[d->nstrings++] = copy;
    return copy;
}

/* Runs one introspection statement (name bound to its ? unless NULL) and
 * hands each row to add, which adds it to the definitions; what names the
 * statement in an error. 0, WR_ENOMEM (when the definitions ran out of
 * memory) or the database's error. */
static int introspect(store *st, const char *sql, const char *name, const char *what,
                      void (*add)(struct store_defs *d, sqlite3_stmt *s, void *arg), void *arg,
                      struct wr_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(store__db(st), sql, -1, &s, NULL);
    if (rc == SQLITE_OK && name != NULL)
        rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    while (rc == SQLITE_ROW) {
        add(store__defs(st), s, arg);
        rc = store__defs(st)->nomem ? SQLITE_NOMEM : sqlite3_step(s);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_NOMEM)
        return wr_err_set(err, WR_ENOMEM, "store: out of memory");
    return rc == SQLITE_DONE ? 0 : store__db_error(st, rc, what, err);
}

/* arr (n elements of size bytes) with room for one more, or NULL with
 * d->nomem set (arr is then unchanged). */
static void *grow(struct store_defs *d, void *arr, size_t n, size_t size)
{
    void *more = realloc(arr, (n + 1) * size);
    if (more == NULL)
        d->nomem = true;
    return more;
}

static void add_column(struct store_defs *d, sqlite3_stmt *s, void *arg)
{
    struct schema_table_def *t = arg;
    struct schema_column_def *cols = grow(d, (void *)t->cols, t->ncols, sizeof(*cols));
    if (cols == NULL)
        return;
    cols[t->ncols] = (struct schema_column_def){.name = keep(d, sqlite3_column_text(s, 0)),
                                                .decltype = keep(d, sqlite3_column_text(s, 1)),
                                                .pk = sqlite3_column_int(s, 2)};
    t->cols = cols;
    t->ncols++;
}

static void add_fk(struct store_defs *d, sqlite3_stmt *s, void *arg)
{
    struct schema_table_def *t = arg;
    struct schema_fk_def *fks = grow(d, (void *)t->fks, t->nfks, sizeof(*fks));
    if (fks == NULL)
        return;
    fks[t->nfks] = (struct schema_fk_def){.id = sqlite3_column_int(s, 0),
                                          .table = keep(d, sqlite3_column_text(s, 1)),
                                          .from = keep(d, sqlite3_column_text(s, 2)),
                                          .to = keep(d, sqlite3_column_text(s, 3))};
    t->fks = fks;
    t->nfks++;
}

static void add_table(struct store_defs *d, sqlite3_stmt *s, void *arg)
{
    (void)arg;
    struct schema_table_def *tables = grow(d, d->tables, d->n, sizeof(*tables));
    if (tables == NULL)
        return;
    tables[d->n] = (struct schema_table_def){.name = keep(d, sqlite3_column_text(s, 0)),
                                             .sql = keep(d, sqlite3_column_text(s, 1))};
    d->tables = tables;
    d->n++;
}

int store_introspect(store *st, const struct schema_table_def **tables, size_t *n,
                     struct wr_err *err)
{
    struct store_defs *d = store__defs(st);
    store__defs_free(d);
    /* virtual tables too (an FTS5 table covers a collection: model/fts.h),
     * but not their shadow tables (tracks_fts_data...), which are no
     * collections */
    int rc = introspect(st,
                        "SELECT s.name, s.sql FROM sqlite_schema AS s JOIN pragma_table_list AS l "
                        "ON l.schema = 'main' AND l.name = s.name WHERE s.type = 'table' AND "
                        "l.type IN ('table', 'virtual') ORDER BY s.name",
                        NULL, "reading tables", add_table, NULL, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < d->n; i++) {
        if (d->tables[i].name == NULL)
            return wr_err_set(err, WR_ENOMEM, "store: out of memory");
        rc = introspect(st, "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid",
                        d->tables[i].name, "reading columns", add_column, &d->tables[i], err);
        if (rc == 0)
            rc = introspect(st,
                            "SELECT id, \"table\", \"from\", \"to\" FROM "
                            "pragma_foreign_key_list(?) ORDER BY id, seq",
                            d->tables[i].name, "reading foreign keys", add_fk, &d->tables[i], err);
        if (rc != 0)
            return rc;
    }
    *tables = d->tables;
    *n = d->n;
    return 0;
}
WR_ANALYZER_LEAK_FALSE_END
