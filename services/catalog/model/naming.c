/* The naming rules (see naming.h): table and column names as the API
 * shows them, and the type a declared SQL type renders as. */
#include "model/naming.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

char *schema_collection_name(const char *table)
{
    size_t n = strlen(table);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t j = 0;
    bool upper = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)table[i];
        if (c == '_') {
            upper = true;
            continue;
        }
        out[j++] = (char)(upper ? toupper(c) : c);
        upper = false;
    }
    out[j] = '\0';
    return out;
}

char *schema_attr_name(const char *column)
{
    size_t n = strlen(column);
    char *out = malloc(2 * n + 1);
    if (out == NULL)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)column[i];
        unsigned char prev = i > 0 ? (unsigned char)column[i - 1] : 0;
        unsigned char next = (unsigned char)column[i + 1];
        /* A word starts at an upper-case letter after a lower-case letter or
         * digit (AlbumId), or at the last capital of an acronym (HTTPServer). */
        bool boundary = isupper(c) && i > 0 &&
                        (islower(prev) || isdigit(prev) || (isupper(prev) && islower(next)));
        if (boundary && out[j - 1] != '_')
            out[j++] = '_';
        out[j++] = (char)tolower(c);
    }
    out[j] = '\0';
    return out;
}

enum col_type schema_col_type(const char *decltype)
{
    if (decltype == NULL || decltype[0] == '\0')
        return COL_ANY;
    char t[64];
    size_t i = 0;
    for (; decltype[i] != '\0' && i + 1 < sizeof(t); i++)
        t[i] = (char)toupper((unsigned char)decltype[i]);
    t[i] = '\0';
    /* SQLite's affinity rules, in their order, with dates first. */
    if (strstr(t, "DATETIME") || strstr(t, "TIMESTAMP"))
        return COL_DATETIME;
    if (strcmp(t, "DATE") == 0)
        return COL_DATE;
    if (strstr(t, "INT"))
        return COL_INTEGER;
    if (strstr(t, "CHAR") || strstr(t, "CLOB") || strstr(t, "TEXT"))
        return COL_TEXT;
    if (strstr(t, "BLOB"))
        return COL_BLOB;
    /* REAL, FLOA, DOUB, and NUMERIC/DECIMAL, which Flask-Restless writes as
     * numbers with a fraction. */
    return COL_REAL;
}
