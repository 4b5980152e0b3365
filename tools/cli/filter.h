/* The command line's search syntax (warren.1, "FILTERS"): `--filter 'FIELD
 * OP VALUE'` and `--order [-]FIELD` turned into the members of a
 * Flask-Restless `q` (proto/README.md section 4), and the `q` of a command
 * written as canonical JSON text. Pure: no I/O, thread-safe. */
#ifndef WARREN_CLI_FILTER_H
#define WARREN_CLI_FILTER_H

#include <jansson.h>
#include <stddef.h>

#include "warren/buf.h"

/* Parses one filter, `FIELD OP VALUE` (FIELD a name of [A-Za-z0-9_], which
 * relation__field names are too; OP one of Flask-Restless's operators;
 * VALUE as warren.1 states: JSON when the text is one JSON value, else the
 * text as a string; a list for in/not_in; a nested filter for has/any; none
 * for is_null/is_not_null). Returns the filter object
 * {"name","op"[,"val"]} (the caller owns it: json_decref), or NULL with one
 * line naming the problem appended to problems. */
json_t *cli_filter_parse(const char *text, struct wr_buf *problems);

/* Parses `[-]FIELD[,[-]FIELD...]` and appends one {"field","direction"}
 * object per field to order_by (a JSON array): `-` means descending.
 * Returns 0, or WR_EINVAL with a line appended to problems. */
int cli_order_parse(const char *text, json_t *order_by, struct wr_buf *problems);

/* Parses `NAME:FIELD` (a function over a field, e.g. sum:total) and appends
 * {"field","name"} to functions. 0 or WR_EINVAL with a problem line. */
int cli_function_parse(const char *text, json_t *functions, struct wr_buf *problems);

/* What a command's q is made of; any list may be empty (n = 0). */
struct cli_search {
    const char *const *filters; /* --filter texts: joined by and */
    size_t nfilters;
    const char *const *orders; /* --order texts, in order */
    size_t norders;
    const char *const *functions; /* eval's NAME:FIELD arguments */
    size_t nfunctions;
};

/* Writes the q of s as canonical JSON text (keys sorted, no newline) into
 * out: {"filters":[...],"functions":[...],"order_by":[...]}, members with
 * an empty list left out. Writes nothing and returns 0 when every list is
 * empty. Returns WR_EINVAL with every problem appended to problems, or the
 * buffer's error. */
int cli_search_q(const struct cli_search *s, struct wr_buf *out, struct wr_buf *problems);

#endif
