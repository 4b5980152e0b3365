/* Reading where a JSON value ends without building it: for a batch that
 * carries a reply body that is JSON as JSON (proto/README.md section 13),
 * so neither side escapes nor unescapes it. Pure and thread-safe. */
#ifndef WARREN_JSON_SCAN_H
#define WARREN_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The deepest nesting of arrays and objects wr_json_value_len reads. */
#define WR_JSON_DEPTH_MAX 128

/* The length of the one JSON value s starts with (RFC 8259: white space
 * allowed inside it, none before it), or 0 when s does not start with
 * one. Stricter than the grammar where a reader could disagree: strings
 * must be well-formed UTF-8 and their \u escapes may not be lone
 * surrogates, and arrays and objects nest at most WR_JSON_DEPTH_MAX deep.
 * Numbers are checked for their grammar only, whatever their size.
 * Duplicate object keys are not looked for. */
size_t wr_json_value_len(const char *s, size_t n);

/* Whether the n bytes at s are one JSON value (as wr_json_value_len reads
 * it) with nothing around it but white space: a body a reply batch may
 * carry as JSON. */
bool wr_json_is_one_value(const char *s, size_t n);

#endif
