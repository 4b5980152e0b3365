/* Canonical JSON output: the bytes Python's json.dumps(obj, sort_keys=True,
 * separators=(",", ":")) writes, which is what Flask-Restless 0.17 sends.
 * Writers append to a struct wr_buf and leave errors in its sticky error.
 * Keys are written by the caller in sorted order (wr_json_key_cmp orders them).
 * Pure and thread-safe: no state but the caller's buffer. */
#ifndef WARREN_JSON_H
#define WARREN_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "warren/buf.h"

/* A JSON string of the n bytes at s, quoted: \" \\ \n \r \t \b \f, \u00xx for
 * other control characters and 0x7f, non-ASCII as lowercase \uxxxx (surrogate
 * pairs above U+FFFF), '/' left alone. Invalid UTF-8 sequences are written as
 * \ufffd, one per invalid byte. */
void wr_json_str(struct wr_buf *b, const char *s, size_t n);
/* Same for a NUL-terminated string. */
void wr_json_cstr(struct wr_buf *b, const char *s);
/* The error body of the contract (proto/README.md section 8):
 * `{"code":"...","message":"..."}`, without a newline. */
void wr_json_error(struct wr_buf *b, const char *code, const char *message);
/* A string key and its colon: `"key":`. */
void wr_json_key(struct wr_buf *b, const char *key);
void wr_json_int(struct wr_buf *b, int64_t v);
/* Python's repr of a double: the shortest text that reads back the same
 * (0.99, 1.0, 1e+21, 1e-07, -0.0). NaN and infinities are written as null. */
void wr_json_real(struct wr_buf *b, double v);
void wr_json_null(struct wr_buf *b);
void wr_json_bool(struct wr_buf *b, int v);

/* Any jansson value, canonically (object keys sorted by code point). */
void wr_json_value(struct wr_buf *b, const json_t *v);

/* Orders keys as Python's sort_keys does (by code point; for UTF-8 this is
 * byte order). Suits qsort over `const char *`. */
int wr_json_key_cmp(const void *a, const void *b);

#endif
