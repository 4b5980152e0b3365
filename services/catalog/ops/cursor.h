/* Keyset cursors for deep pages (`?after=`): the sort key of a page's last
 * row (its primary key, or with a q order_by the ordered columns and then
 * the key) and the number of the page that follows it, so the next page is
 * `WHERE (key) > (?)` instead of an OFFSET that reads every row before it.
 *
 * The text is base64url (no padding) of `{"h":"<16 hex>","k":[key...],"p":N}`.
 * It is opaque to clients but not secret: h is a checksum (FNV-1a 64) over
 * the collection, the search q, the page size, k and p, so a cursor that
 * was edited, cut short, or used with another collection, search or page
 * size is refused (a 400) rather than read as another position. The key's
 * values are only ever bound. Pure: no I/O. */
#ifndef CATALOG_CURSOR_H
#define CATALOG_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"

#define CURSOR_MAX 2048 /* characters of a cursor; the edge's limit too */

/* Appends the cursor of key (n values: null, integers, reals or text) and
 * page, for a list of c with search q (NULL for none) and page size
 * per_page. WR_EINVAL for a BLOB value (no cursor), else 0 or out's error. */
int cursor_encode(struct wr_buf *out, const struct collection *c, const char *q, long per_page,
                  const struct value *key, size_t n, long page);

/* Reads text back into key (one value per column cols[0..n) of c, typed
 * by the column; text points into scratch, cap bytes) and *page. False
 * when text is not a cursor this list made. */
bool cursor_decode(const char *text, const struct collection *c, const size_t *cols, size_t n,
                   const char *q, long per_page, struct value *key, long *page, char *scratch,
                   size_t cap);

#endif
