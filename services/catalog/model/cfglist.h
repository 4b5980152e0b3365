/* The config's lists of names, as the collection settings write them:
 * `a, b c` (COLLECTIONS, EXCLUDE, INCLUDE, METHODS: entries separated by
 * commas and/or spaces), `old:new, ...` (RENAME) and dotted
 * `relation.column` entries of EXCLUDE and INCLUDE. Pure; a NULL list is
 * an empty one. */
#ifndef CATALOG_CFGLIST_H
#define CATALOG_CFGLIST_H

#include <stdbool.h>
#include <stddef.h>

/* The next entry of a list whose entries are separated by commas and/or
 * spaces, from *cursor on: its first byte (its length in *len), with
 * *cursor moved past it; NULL when no entry is left. */
const char *cfglist_next(const char **cursor, size_t *len);

/* Whether list has the entry name. */
bool cfglist_has(const char *list, const char *name);

/* The new name a RENAME value (`old:new, ...`) gives old, copied to out
 * (cap bytes) and returned; NULL when it gives none, or one that does not
 * fit. */
const char *cfglist_renamed(const char *list, const char *old, char *out, size_t cap);

/* Whether list has a dotted entry `rel.<anything>` (col NULL), or
 * `rel.col` or `rel.col2` (col2 may be NULL). */
bool cfglist_has_dotted(const char *list, const char *rel, const char *col, const char *col2);

#endif
