/* The logger: one line per event on stderr,
 * `2026-11-24T22:58:08.123Z level service [request-id] message`.
 * Threads: wr_log may be called from any thread; each line is written with
 * one fprintf, so lines never interleave. wr_log_init only before threads. */
#ifndef WARREN_LOG_H
#define WARREN_LOG_H

#include <stdbool.h>

enum wr_log_level { WR_LOG_DEBUG, WR_LOG_INFO, WR_LOG_WARN, WR_LOG_ERROR };

/* Sets the service name and the lowest level written, by its name (the
 * config's LOG_LEVEL: "debug", "info", "warn", "error"; anything else, or
 * NULL, means "info"). Call once at start, before any thread. */
void wr_log_init(const char *service, const char *level);
/* Parses "debug", "info", "warn", "error"; returns false on anything else. */
bool wr_log_level_parse(const char *s, enum wr_log_level *out);

/* Writes one line. rid may be NULL when no request is involved. */
void wr_log(enum wr_log_level level, const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define wr_debug(rid, ...) wr_log(WR_LOG_DEBUG, rid, __VA_ARGS__)
#define wr_info(rid, ...) wr_log(WR_LOG_INFO, rid, __VA_ARGS__)
#define wr_warn(rid, ...) wr_log(WR_LOG_WARN, rid, __VA_ARGS__)
#define wr_error(rid, ...) wr_log(WR_LOG_ERROR, rid, __VA_ARGS__)

#endif
