/* A database value as the catalog passes it between the SQLite adapter, the
 * handlers and the renderer, so that only the adapter includes sqlite3.h. */
#ifndef CATALOG_VALUE_H
#define CATALOG_VALUE_H

#include <stddef.h>

enum value_kind { V_NULL, V_INT, V_REAL, V_TEXT, V_BLOB };

struct value {
    enum value_kind kind;
    long long i;
    double d;
    const char *s; /* V_TEXT and V_BLOB: borrowed, n bytes (text is also NUL-terminated) */
    size_t n;
};

#endif
