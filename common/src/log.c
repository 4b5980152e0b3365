/* The logger: one line per event on stderr, UTC timestamps, written with a
 * single fprintf so lines from concurrent processes do not interleave. */
#include "warren/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* The logger's settings are one of the two process-wide globals we allow. */
static struct {
    char service[32];
    enum wr_log_level min;
} log_state = {"warren", WR_LOG_INFO};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void wr_log_init(const char *service, const char *level)
{
    (void)snprintf(log_state.service, sizeof(log_state.service), "%s", service);
    log_state.min = WR_LOG_INFO;
    if (level != NULL)
        (void)wr_log_level_parse(level, &log_state.min);
}

bool wr_log_level_parse(const char *s, enum wr_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum wr_log_level)i;
            return true;
        }
    }
    return false;
}

void wr_log(enum wr_log_level level, const char *rid, const char *fmt, ...)
{
    if (level < log_state.min)
        return;
    struct timeval tv;
    (void)gettimeofday(&tv, NULL);
    struct tm tm;
    (void)gmtime_r(&tv.tv_sec, &tm);
    char when[32];
    (void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)fprintf(stderr, "%s.%03ldZ %s %s [%s] %s\n", when, (long)(tv.tv_usec / 1000),
                  level_names[level], log_state.service, rid ? rid : "-", msg);
}
