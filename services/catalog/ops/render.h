/* Rows -> the bytes Flask-Restless 0.17 sends: objects with sorted keys, the
 * page envelope, the Link header, and error bodies. Pure: no I/O. Every
 * function appends to a caller's buffer and cannot fail but by the
 * buffer's cap, which the caller reads with wr_buf_error; arguments are
 * borrowed. */
#ifndef CATALOG_RENDER_H
#define CATALOG_RENDER_H

#include "sql/plan.h"
#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"

/* SQLite's text form of a DATETIME, "YYYY-MM-DD HH:MM:SS[.fff]" (n bytes
 * at s), as Python's isoformat() writes it: a 'T' and, with a fraction, six
 * digits, into iso. Its length, or 0 when s is not of that form (then it is
 * written as the text it is). */
#define RENDER_ISO_MAX 32
size_t render_iso_datetime(const char *s, size_t n, char iso[RENDER_ISO_MAX]);
/* One value as its column's type has it written: dates in ISO 8601
 * ("2009-01-01T00:00:00"), numbers of REAL/NUMERIC columns as floats
 * (1.0), blobs in base64, NULL as null. */
void render_value(struct wr_buf *b, enum col_type type, const struct value *v);
/* An object with c's visible columns from row (depth 0: no relations). */
void render_flat(struct wr_buf *b, const struct collection *c, const struct value *row);
/* The same less the columns hidden[i] hides (hidden may be NULL): an
 * object inside a relation with dotted EXCLUDE / INCLUDE entries. */
void render_flat_in(struct wr_buf *b, const struct collection *c, const struct value *row,
                    const bool *hidden);

/* `{"num_results":N,"objects":[` and `],"page":P,"total_pages":T}`; N and T
 * are null when the page is uncounted; an estimated or truncated count
 * adds `"num_results_estimated":true` / `"num_results_truncated":true`
 * after N. */
void render_page_head(struct wr_buf *b, const struct page *pg);
void render_page_tail(struct wr_buf *b, const struct page *pg);

/* The Link header of a page, in this order: rel="first" and rel="prev"
 * after page 1, rel="next" while there is a next page (by its cursor when
 * pg->next_after is set), rel="last" when the page's count is exact
 * (plan_page_open is false) and there are pages. path is the collection's URL path ("/api/Albums"),
 * possibly with a query of its own ("/api/Albums?q=..."), which every link keeps. Writes nothing
 * for a counted list without pages. */
void render_link(struct wr_buf *b, const char *base_url, const char *path, const struct page *pg);
/* Appends s to a URL path, percent-encoding all but unreserved characters
 * (and ','). */
void render_path_segment(struct wr_buf *b, const char *s);
/* Appends the URL of the collection called name: base_url (may be NULL:
 * a bare path), "/api/" and the name as a path segment. */
void render_collection_url(struct wr_buf *b, const char *base_url, const char *name);

#endif
