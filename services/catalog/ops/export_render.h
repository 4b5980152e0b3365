/* An export's rows as bytes: CSV by RFC 4180 (a header row of attribute
 * names, CRLF line ends, a field quoted when it holds a comma, a quote,
 * CR or LF, quotes doubled; NULL as an empty field, empty text as "") or NDJSON (one flat
 * object a line, as a list writes it at depth 0). Columns come in table
 * order, less those the collection hides and those hide[] hides (may be
 * NULL). Values are written as the JSON answers write them, unquoted:
 * numbers, ISO 8601 dates, text as it is, BLOBs in base64. Pure: no I/O;
 * every function appends to b and fails only by b's cap. */
#ifndef CATALOG_EXPORT_RENDER_H
#define CATALOG_EXPORT_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"

enum export_format { EXPORT_CSV, EXPORT_NDJSON };

/* n bytes at s as one CSV field: quoted (quotes doubled) when it holds a
 * comma, a quote, CR or LF, or is empty ("": empty text, told from NULL),
 * else as they are. */
void export_csv_field(struct wr_buf *b, const char *s, size_t n);
/* The CSV header row: the attribute names of c's shown columns, CRLF. */
void export_csv_header(struct wr_buf *b, const struct collection *c, const bool *hide);
/* One row of c (every column, in table order) in format, ended by CRLF
 * (CSV) or LF (NDJSON). */
void export_row(struct wr_buf *b, enum export_format f, const struct collection *c,
                const struct value *row, const bool *hide);

#endif
