/* The logger: one line per event on stderr, in one of two formats
 * (LOG_FORMAT). text, the default:
 *     2026-11-24T22:58:08.123Z info catalog [<request id>] message key=value
 * json, one object per line, members in this order:
 *     {"time":"2026-11-24T22:58:08.123Z","level":"info","service":"catalog",
 *      "worker":"host:pid","request_id":"...","trace_id":"...",
 *      "message":"...","fields":{"key":"value"}}
 * (request_id and trace_id null when unknown, fields {} when none).
 * No string can break a line: text escapes control characters, '\' and
 * bytes that are not UTF-8 (\n, \t, \\, \x1b, ...); json escapes as JSON
 * does (invalid UTF-8 becomes \ufffd). A message is cut at 1 KiB.
 * Threads: wr_log may be called from any thread; each line is written with
 * one write, so lines never interleave. wr_log_init and wr_log_format_set
 * only before threads start. */
#ifndef WARREN_LOG_H
#define WARREN_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"

enum wr_log_level { WR_LOG_DEBUG, WR_LOG_INFO, WR_LOG_WARN, WR_LOG_ERROR };

/* Sets the service name and the lowest level written, by its name (the
 * config's LOG_LEVEL: "debug", "info", "warn", "error"; anything else, or
 * NULL, means "info"), and the worker field (host:pid). Call once at
 * start, before any thread. */
void wr_log_init(const char *service, const char *level);
/* Parses "debug", "info", "warn", "error"; returns false on anything else. */
bool wr_log_level_parse(const char *s, enum wr_log_level *out);
/* Chooses the format by its name (the config's LOG_FORMAT): "text" or
 * "json". Returns false, changing nothing, on any other name. Before any
 * thread starts. */
bool wr_log_format_set(const char *name);

/* One extra member of a line: a string (str not NULL) or an integer. */
struct wr_log_field {
    const char *key; /* a word of [a-z0-9_] */
    const char *str;
    long long num;
};

/* Writes one line. rid may be NULL when no request is involved. */
void wr_log(enum wr_log_level level, const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with n fields (json: "fields"; text: key=value after the
 * message). */
void wr_logf(enum wr_log_level level, const char *rid, const struct wr_log_field *fields, size_t n,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The request this thread works for, until wr_log_scope_end: lines it logs
 * for rid, or with no request id, carry rid and trace_id (NULL: none).
 * Both strings are borrowed and must stay valid until the scope ends.
 * Scopes do not nest: a new one replaces the last. */
void wr_log_scope_begin(const char *rid, const char *trace_id);
void wr_log_scope_end(void);

#define wr_debug(rid, ...) wr_log(WR_LOG_DEBUG, rid, __VA_ARGS__)
#define wr_info(rid, ...) wr_log(WR_LOG_INFO, rid, __VA_ARGS__)
#define wr_warn(rid, ...) wr_log(WR_LOG_WARN, rid, __VA_ARGS__)
#define wr_error(rid, ...) wr_log(WR_LOG_ERROR, rid, __VA_ARGS__)

/* One line as wr_logf would write it, without the newline, appended to out
 * (tests, and the logger itself): when_ms is the epoch time in ms. */
void wr_log_format_line(struct wr_buf *out, bool json, long long when_ms, enum wr_log_level level,
                        const char *rid, const char *trace_id, const char *msg,
                        const struct wr_log_field *fields, size_t n);

#endif
