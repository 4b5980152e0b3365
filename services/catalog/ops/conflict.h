/* The words of a 409: SQLite names a failed constraint's columns as
 * `table.Column`, which would tell a client the SQL names of attributes it
 * knows by other names, and of columns EXCLUDE or INCLUDE hide. The
 * message is rewritten to the API's names, or to a generic one when a
 * name is not served as a visible attribute. Pure: no I/O. */
#ifndef CATALOG_CONFLICT_H
#define CATALOG_CONFLICT_H

#include <stddef.h>

#include "model/schema.h"

/* The generic message: no column named. */
#define CONFLICT_GENERIC "a constraint refused the write"

/* Writes into out (cap bytes, NUL-terminated, cut if need be) the client's
 * message for a constraint failure whose error text is msg (the store's
 * "sqlite: <step>: <SQLite's message>"):
 *   "UNIQUE constraint failed: albums.AlbumId" -> "UNIQUE constraint
 *   failed: Albums.album_id" (likewise NOT NULL), when every column is a
 *   visible attribute of a served collection;
 *   "FOREIGN KEY constraint failed" as it is (it names nothing);
 *   anything else (a hidden or unserved column, a CHECK constraint, whose
 *   text may quote its expression, a trigger's RAISE) -> CONFLICT_GENERIC. */
void conflict_message(const schema *s, const char *msg, char *out, size_t cap);

#endif
