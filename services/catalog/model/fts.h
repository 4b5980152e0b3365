/* Full-text indexes: which FTS5 table covers which collection. An FTS5
 * table covers a collection when it is an external-content table over the
 * collection's table (`content='tracks'`) whose rowid is the collection's
 * key (`content_rowid='TrackId'`, a single INTEGER key; absent: the rowid,
 * which an INTEGER PRIMARY KEY is). Its columns are the collection's
 * columns of the same names. Pure: reads the CREATE VIRTUAL TABLE text the
 * SQLite adapter hands over. */
#ifndef CATALOG_FTS_H
#define CATALOG_FTS_H

#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"

/* What an FTS5 table's CREATE statement says about its content. */
struct fts_def {
    char content[128];       /* content='<table>'; "" when absent or empty */
    char content_rowid[128]; /* content_rowid='<column>'; "" when absent */
};

/* Reads sql, the text of a `CREATE VIRTUAL TABLE x USING fts5(...)`, into
 * out. False when sql is no FTS5 table, or its arguments do not parse or
 * do not fit out (the table then covers nothing). */
bool fts_parse(const char *sql, struct fts_def *out);

/* Makes t (a table's definition: its columns and CREATE text) c's
 * fts_table and marks the columns it indexes, when t is an FTS5 table
 * that covers c by the rule above, c has no fts_table yet and every
 * column of t is a column of c. 0 (whether or not it covers c) or
 * WR_ENOMEM. */
int fts_cover(struct collection *c, const struct schema_table_def *t);

#endif
