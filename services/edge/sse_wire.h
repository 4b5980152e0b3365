/* Server-Sent Events on the wire, pure (no I/O; unit tests and the fuzzer
 * call it directly): the mark of a row event (its position and index k in
 * its transaction), the Last-Event-ID it resumes after, the text of one
 * SSE event, and the ?collections= filter. The rules are those of
 * proto/README.md, "Change events": `id: <position>` on a transaction's
 * last event, `id: <position>:<k>` on the earlier ones. */
#ifndef EDGE_SSE_WIRE_H
#define EDGE_SSE_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"

/* A row event's place in the change log. k SSE_WHOLE stands for "every
 * event of that position" (an id without :k). */
struct sse_mark {
    long long pos;
    long long k;
};
#define SSE_WHOLE 0x7fffffffffffffffLL
#define SSE_POS_DIGITS 18 /* a position fits a long long */
#define SSE_K_DIGITS 9

/* a after b in the log. */
bool sse_mark_after(const struct sse_mark *a, const struct sse_mark *b);

/* Parses a Last-Event-ID value: `<position>` or `<position>:<k>`, decimal
 * digits without sign or blanks (at most SSE_POS_DIGITS and SSE_K_DIGITS).
 * 0, or WR_EINVAL for anything else. */
int sse_mark_parse(const char *s, struct sse_mark *out);

/* Appends one SSE event to out: `event: <op>`, `id:` as above (count: the
 * events of the transaction), one `data:` line per line of the JSON body
 * (a body has none, but a line break in it must not end the event), a
 * blank line. 0 or the buffer's error. */
int sse_event_format(struct wr_buf *out, const char *op, const struct sse_mark *m, long long count,
                     const char *body, size_t len);

/* The collections a stream is for: none (every one) or up to
 * SSE_FILTER_MAX names. */
#define SSE_FILTER_MAX 32
#define SSE_NAME_MAX 128
struct sse_filter {
    size_t n;
    char name[SSE_FILTER_MAX][SSE_NAME_MAX + 1];
};
/* Fills f from a comma-separated list of names (NULL: every collection).
 * 0, or WR_EINVAL (msg says why) for an empty list or name, a name
 * longer than SSE_NAME_MAX or with other than [A-Za-z0-9_-], more than
 * SSE_FILTER_MAX names. Duplicates are kept once. */
int sse_filter_parse(const char *list, struct sse_filter *f, char *msg, size_t cap);
/* Whether f lets the collection through. */
bool sse_filter_has(const struct sse_filter *f, const char *collection);

/* The collections the catalog serves, as its GET /api answers them
 * (`{"collections":[{"name":...},...]}`), kept by each loop for
 * SSE_KNOWN_TTL_S to answer an unknown collection 404. */
#define SSE_KNOWN_TTL_S 60
struct sse_known {
    char (*name)[SSE_NAME_MAX + 1]; /* Flawfinder: ignore - names checked to fit */
    size_t n;
    bool have;
    long long at_ms; /* when it was learned (monotonic) */
};
/* Replaces k's names with those of a GET /api answer. 0, or WR_EINVAL for
 * a body of another shape, WR_ENOMEM. */
int sse_known_parse(struct sse_known *k, const char *json, size_t len);
/* The first name of f that k does not know, or NULL when it knows all. */
const char *sse_known_missing(const struct sse_known *k, const struct sse_filter *f);
/* Frees k's names (k stays usable, empty). */
void sse_known_release(struct sse_known *k);

#endif
