/* W3C Trace Context (https://www.w3.org/TR/trace-context/, level 1): the
 * traceparent and tracestate values a request carries from the HTTP client
 * through the edge and the broker to the worker, checked strictly, and new
 * trace and span ids where a request brings none. warren records the trace
 * id (audit records, log lines) and passes the context on; it exports no
 * spans itself. Pure but for the random ids; thread-safe. */
#ifndef WARREN_TRACE_H
#define WARREN_TRACE_H

#include <stdbool.h>

#define WR_TRACE_ID_LEN 32    /* lowercase hex */
#define WR_SPAN_ID_LEN 16     /* lowercase hex: traceparent's parent-id */
#define WR_TRACEPARENT_LEN 55 /* "00-" trace id "-" span id "-" flags */
#define WR_TRACESTATE_MAX 512 /* longer tracestate values are dropped */
#define WR_TRACESTATE_MEMBERS 32

/* A request's trace context. */
struct wr_trace {
    char trace_id[WR_TRACE_ID_LEN + 1];
    char span_id[WR_SPAN_ID_LEN + 1];       /* the span the next hop's parent-id names */
    unsigned flags;                         /* the sampled bit (0 or 1); others are dropped */
    char tracestate[WR_TRACESTATE_MAX + 1]; /* "" when none */
};

/* Whether s is a traceparent the specification accepts: version (two
 * lowercase hex digits, not "ff"), trace id (32, not all zero), parent id
 * (16, not all zero) and flags (2), separated by '-'; exactly 55
 * characters for version 00; for a later version at least 55, and a '-'
 * after them when longer. On success *out gets the trace id, the parent id
 * (as span_id) and the sampled flag; tracestate is left alone. */
bool wr_traceparent_parse(const char *s, struct wr_trace *out);
/* Whether s is a tracestate list the specification accepts: at most 32
 * members `key=value` separated by commas and optional spaces or tabs
 * (empty members allowed); a key is 1 to 256 of a-z 0-9 _ - * and /
 * starting with a letter, or tenant@system (1 to 241 starting with a
 * letter or digit, @, 1 to 14 starting with a letter); no key twice;
 * values of 1 to 256 characters of 0x20-0x7e but ',' and '=', not ending
 * in a space; and at most WR_TRACESTATE_MAX bytes (warren's cap). */
bool wr_tracestate_valid(const char *s);

/* A new trace: random trace and span ids, flags 0, no tracestate. */
void wr_trace_new(struct wr_trace *t);
/* A new random span id in the same trace (this hop's span). */
void wr_trace_new_span(struct wr_trace *t);

/* What a receiver does with the headers it got (either may be NULL): a
 * valid traceparent continues its trace (its tracestate kept when valid,
 * dropped otherwise); anything else starts a new trace, ignoring
 * tracestate as the specification asks. Either way t->span_id is then a
 * new span of this hop. Returns true when the trace was continued. */
bool wr_trace_accept(struct wr_trace *t, const char *traceparent, const char *tracestate);

/* t as a version 00 traceparent: "00-<trace id>-<span id>-<flags>" and a
 * NUL. */
void wr_traceparent_format(const struct wr_trace *t, char out[WR_TRACEPARENT_LEN + 1]);

#endif
