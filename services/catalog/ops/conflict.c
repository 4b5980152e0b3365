/* The words of a 409 (see conflict.h): SQLite's message parsed, its
 * table.column names looked up in the served model. */
#include "ops/conflict.h"

#include <stdio.h>
#include <string.h>

#include "warren/buf.h"

/* The visible attribute of the served collection whose table and column
 * are the n bytes at tc ("table.column"; either may hold dots, so every
 * split is tried). Appends "Collection.attribute" to b; false when there
 * is none. */
static bool put_attr(const schema *s, const char *tc, size_t n, struct wr_buf *b)
{
    for (const char *dot = memchr(tc, '.', n); dot != NULL;
         dot = memchr(dot + 1, '.', n - (size_t)(dot + 1 - tc))) {
        size_t tlen = (size_t)(dot - tc), clen = n - tlen - 1;
        for (size_t i = 0; i < schema_count(s); i++) {
            const struct collection *c = schema_at(s, i);
            if (strlen(c->table) != tlen || strncmp(c->table, tc, tlen) != 0)
                continue;
            for (size_t k = 0; k < c->ncols; k++) {
                const struct column *col = &c->cols[k];
                if (strlen(col->sql) != clen || strncmp(col->sql, dot + 1, clen) != 0)
                    continue;
                if (col->hidden)
                    return false;
                wr_buf_printf(b, "%s.%s", c->name, col->attr);
                return true;
            }
        }
    }
    return false;
}

/* "table.col, table.col" (n bytes at list) as the API's names into b. */
static bool put_columns(const schema *s, const char *list, size_t n, struct wr_buf *b)
{
    const char *p = list, *end = list + n;
    while (p < end) {
        const char *sep = strstr(p, ", ");
        size_t len = sep != NULL && sep < end ? (size_t)(sep - p) : (size_t)(end - p);
        if (len == 0 || !put_attr(s, p, len, b))
            return false;
        p += len;
        if (p < end) {
            wr_buf_puts(b, ", ");
            p += 2;
        }
    }
    return n > 0;
}

void conflict_message(const schema *s, const char *msg, char *out, size_t cap)
{
    static const char *const kinds[] = {"UNIQUE constraint failed: ",
                                        "NOT NULL constraint failed: "};
    static const char fk[] = "FOREIGN KEY constraint failed";
    const char *text = CONFLICT_GENERIC;
    struct wr_buf b;
    wr_buf_init(&b, cap > 0 ? cap - 1 : 0);
    for (size_t i = 0; msg != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const char *at = strstr(msg, kinds[i]);
        if (at == NULL)
            continue;
        const char *list = at + strlen(kinds[i]);
        size_t klen = strlen(kinds[i]);
        wr_buf_append(&b, kinds[i], klen);
        if (put_columns(s, list, strlen(list), &b) && wr_buf_error(&b) == 0)
            text = b.data;
        break;
    }
    if (msg != NULL && text != b.data) {
        const char *at = strstr(msg, fk);
        if (at != NULL && strcmp(at, fk) == 0)
            text = fk;
    }
    (void)snprintf(out, cap, "%s", text);
    wr_buf_release(&b);
}
