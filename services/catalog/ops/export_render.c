/* CSV and NDJSON rows (see export_render.h). */
#include "ops/export_render.h"

#include <string.h>

#include "ops/render.h"
#include "warren/codec.h"

/* Whether column i of c is written: visible in the collection (one of its
 * flat fields) and not hidden by the request. */
static bool shown(const struct collection *c, size_t i, const bool *hide)
{
    if (hide != NULL && hide[i])
        return false;
    for (size_t k = 0; k < c->nflat; k++)
        if (c->flat[k].index == i)
            return true;
    return false;
}

void export_csv_field(struct wr_buf *b, const char *s, size_t n)
{
    bool quote = n == 0; /* "" for empty text: NULL alone is an empty field */
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        wr_buf_append(b, s, n);
        return;
    }
    wr_buf_putc(b, '"');
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"')
            continue;
        wr_buf_append(b, s + from, i + 1 - from); /* up to and with the quote */
        wr_buf_putc(b, '"');                      /* doubled */
        from = i + 1;
    }
    wr_buf_append(b, s + from, n - from);
    wr_buf_putc(b, '"');
}

void export_csv_header(struct wr_buf *b, const struct collection *c, const bool *hide)
{
    bool first = true;
    for (size_t i = 0; i < c->ncols; i++) {
        if (!shown(c, i, hide))
            continue;
        if (!first)
            wr_buf_putc(b, ',');
        first = false;
        export_csv_field(b, c->cols[i].attr, strlen(c->cols[i].attr));
    }
    wr_buf_puts(b, "\r\n");
}

/* One value as a CSV field: numbers as the JSON answers write them, text
 * and dates unquoted, BLOBs in base64, NULL as nothing. */
static void csv_value(struct wr_buf *b, enum col_type type, const struct value *v)
{
    char iso[RENDER_ISO_MAX];
    size_t len;
    switch (v->kind) {
    case V_NULL:
        return;
    case V_INT:
    case V_REAL:
        render_value(b, type, v); /* a bare number: nothing to quote */
        return;
    case V_TEXT:
        len = type == COL_DATETIME ? render_iso_datetime(v->s, v->n, iso) : 0;
        if (len > 0)
            wr_buf_append(b, iso, len);
        else
            export_csv_field(b, v->s, v->n);
        return;
    case V_BLOB:
        wr_base64_append(b, v->s, v->n, false); /* letters, digits, + / =: never quoted */
        return;
    }
}

/* An NDJSON line: the flat object, as a list at depth 0 writes it (its
 * members sorted), less what hide hides. */
static void ndjson_row(struct wr_buf *b, const struct collection *c, const struct value *row,
                       const bool *hide)
{
    render_flat_in(b, c, row, hide);
    wr_buf_putc(b, '\n');
}

void export_row(struct wr_buf *b, enum export_format f, const struct collection *c,
                const struct value *row, const bool *hide)
{
    if (f == EXPORT_NDJSON) {
        ndjson_row(b, c, row, hide);
        return;
    }
    bool first = true;
    for (size_t i = 0; i < c->ncols; i++) {
        if (!shown(c, i, hide))
            continue;
        if (!first)
            wr_buf_putc(b, ',');
        first = false;
        csv_value(b, c->cols[i].type, &row[i]);
    }
    wr_buf_puts(b, "\r\n");
}
