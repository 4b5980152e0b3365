/* What `warren` prints for a reply and the status it exits with
 * (warren.1, "OUTPUT" and "EXIT STATUS"). Pure: the text is appended to
 * buffers that main() writes; thread-safe. */
#ifndef WARREN_CLI_OUTPUT_H
#define WARREN_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"

/* The exit status for an HTTP status: 0 for 2xx, 4 for 4xx, 5 for 5xx, 1
 * for anything else. (2 is for usage and configuration errors.) */
#define CLI_EXIT_OK 0
#define CLI_EXIT_OTHER 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_4XX 4
#define CLI_EXIT_5XX 5
int cli_exit_code(int status);

/* One reply: its status, body (len bytes; may be empty, as a 204's) and
 * Link header (NULL when absent). */
struct cli_reply {
    int status;
    const char *body;
    size_t len;
    const char *link;
};

/* Appends what a reply shows: to out, the body's bytes as they are (raw),
 * or in table mode cli_table_render's text for a success (the bytes when
 * the body is not JSON) and then `next: --page N` or `next: --after
 * CURSOR` when the Link has a rel="next"; to err, for a status of 400 and
 * up (or any but 2xx), `warren: <status> <code>: <message>` and one
 * `  <member>: <problem>` line per validation error. A 204 shows nothing.
 * Returns the exit status (cli_exit_code). */
int cli_output(const struct cli_reply *r, bool table, struct wr_buf *out, struct wr_buf *err);

/* The next page's option from a Link header: `--after CURSOR` or `--page
 * N`, appended to out; false (nothing appended) when link has no
 * rel="next" with either parameter. */
bool cli_next_hint(const char *link, struct wr_buf *out);

#endif
