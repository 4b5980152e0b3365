/* The statements of writes: INSERT, UPDATE ... SET, DELETE, the statements
 * that link and unlink related objects, and the WITH of a write of many.
 * Every identifier comes from the model (quoted by plan_ident), every
 * value is a bound `?`; the comment of each function gives its binds in
 * order. Each appends to sql, whose cap the caller checks with
 * wr_buf_error. Pure: no I/O. */
#ifndef CATALOG_WRITE_SQL_H
#define CATALOG_WRITE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"
#include "sql/query.h"
#include "warren/buf.h"

/* `INSERT INTO "c" ("a","b") VALUES (?,?)` over the n columns cols of c
 * (indices), or `INSERT INTO "c" DEFAULT VALUES` when n is 0. Binds: the
 * n values. */
void write_sql_insert(struct wr_buf *sql, const struct collection *c, const size_t *cols, size_t n);

/* An upsert: write_sql_insert of the n columns cols of c, which hold
 * every key column, and ` ON CONFLICT (<c's key>) DO UPDATE SET
 * "a"=excluded."a",...` over those that are not key columns (` DO
 * NOTHING` when there are none). Binds: the n values. */
void write_sql_upsert(struct wr_buf *sql, const struct collection *c, const size_t *cols, size_t n);

/* `UPDATE "c" SET "a"=?,"b"=?` over the n columns cols of c, or `"a"=NULL`
 * each with to_null; no WHERE. Binds: the n values (none with to_null). */
void write_sql_update(struct wr_buf *sql, const struct collection *c, const size_t *cols, size_t n,
                      bool to_null);

/* The head of a change of c's rows: `DELETE FROM "c"` with del, else
 * write_sql_update of the n columns cols; an update that sets nothing sets
 * the key's first column to itself, so it still finds (and counts) its
 * rows. No WHERE. Binds: the n values (none with del). */
void write_sql_change(struct wr_buf *sql, const struct collection *c, bool del, const size_t *cols,
                      size_t n);

/* write_sql_change of one object: ` WHERE` its key. Binds: the n values,
 * then c's key. */
void write_sql_change_one(struct wr_buf *sql, const struct collection *c, bool del,
                          const size_t *cols, size_t n);

/* For a write of many: into with, `WITH m("c0",...) AS (<q's SELECT>) `,
 * and into where, ` WHERE (c's key) IN (SELECT <key> FROM m)`, which keeps
 * the rows q finds; both empty when q is NULL (every row). The statement
 * is with, write_sql_change, where. Binds: q's (appended to binds, at most
 * cap, counted in *nbinds), then the change's. Returns as
 * query_select_sql. */
int write_sql_many(struct wr_buf *with, struct wr_buf *where, const struct collection *c,
                   const query *q, struct value *binds, size_t *nbinds, size_t cap);

/* Takes t's object out of relation r of c's object: a to-many clears t's
 * foreign key, a to-one clears c's, when the two are related. Binds: t's
 * key, then c's key. */
void write_sql_unlink(struct wr_buf *sql, const struct collection *c, const struct relation *r,
                      const struct collection *t);

/* Points the object of t (r's target) at a row of r's owner (unlink:
 * away from it, only if it points at it): `UPDATE "t" SET <r's remote
 * columns>=? WHERE <t's key>`. Binds: the owner's r->local values, t's key
 * (unlink: t's key, then the owner's values). */
void write_sql_relink(struct wr_buf *sql, const struct collection *t, const struct relation *r,
                      bool unlink);

/* Deletes the object of t (r's target) if it is related to a row of r's
 * owner. Binds: t's key, then the owner's r->local values. */
void write_sql_delete_related(struct wr_buf *sql, const struct collection *t,
                              const struct relation *r);

/* A to-many set: unlinks every object of t related to a row of r's owner
 * but the nkeep listed. Binds: the owner's r->local values, then nkeep
 * keys of t. */
void write_sql_unlink_others(struct wr_buf *sql, const struct collection *t,
                             const struct relation *r, size_t nkeep);

#endif
