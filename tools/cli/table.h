/* Reply bodies as a person at a terminal reads them (warren.1, "OUTPUT"):
 * a page as an aligned table, one object as aligned name/value lines.
 * Pure: JSON text in, text out; thread-safe. */
#ifndef WARREN_CLI_TABLE_H
#define WARREN_CLI_TABLE_H

#include <stddef.h>

#include "warren/buf.h"

/* The widest a table cell is shown, in characters; longer ones are cut
 * and end in an ellipsis. Name/value lines are never cut. */
#define CLI_CELL_MAX 60

/* Appends the body's text to out:
 * - an object with an "objects" or "collections" array (a page, /api, the
 *   auditlog's records): that array as a table, one row per element and a
 *   column per member (nested objects flattened into dotted names,
 *   "Artists.name"), then the object's other members as `name: value`
 *   lines; "(no objects)" for an empty array;
 * - any other object: one line per member, names aligned, nested objects
 *   flattened likewise;
 * - anything else: the value as a cell shows it.
 * In cells and values: strings without quotes, control characters escaped
 * (\n, \t, \u001b...), numbers as JSON writes them, null as "null", a
 * non-empty array of scalars joined by ", ", an array of objects as "[N]"
 * (its length), an empty one as "[]". Columns whose values are all numbers are right-aligned.
 * Returns 0, WR_EINVAL when body is not one JSON value (nothing
 * appended: show it as it is), WR_ENOMEM, or the buffer's error. */
int cli_table_render(const char *body, size_t len, struct wr_buf *out);

/* Appends the n bytes at s as a terminal may show them: control
 * characters (C0, DEL, and the C1 range U+0080-U+009F, which some
 * terminals obey) escaped as \n, \t, \r or \u00XX; the rest as is. */
void cli_put_text(struct wr_buf *b, const char *s, size_t n);

/* The width of the n bytes at s on a terminal, counted in code points
 * (bytes that do not continue a UTF-8 sequence). */
size_t cli_text_width(const char *s, size_t n);

#endif
