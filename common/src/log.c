/* The logger (see log.h): a line is built in memory, escaped so that no
 * string can split it or forge another, and written with one write(2), so
 * lines from concurrent threads and processes do not interleave. */
#include "warren/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "warren/codec.h"
#include "warren/json.h"

#define MSG_MAX 1024
#define LINE_MAX_BYTES 16384

/* The logger's settings are one of the two process-wide globals we allow. */
static struct {
    char service[32];
    char worker[300]; /* host:pid */
    enum wr_log_level min;
    bool json;
} log_state = {"warren", "", WR_LOG_INFO, false};

/* The request this thread is working for (wr_log_scope_begin). cppcheck
 * does not follow members through a _Thread_local object, hence the
 * suppressions: vlog reads both. */
static _Thread_local struct {
    // cppcheck-suppress unusedStructMember ; read by vlog
    const char *rid;
    // cppcheck-suppress unusedStructMember ; read by vlog
    const char *trace_id;
} scope;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void wr_log_init(const char *service, const char *level)
{
    (void)snprintf(log_state.service, sizeof(log_state.service), "%s", service);
    char host[256] = "unknown";
    (void)gethostname(host, sizeof(host) - 1);
    (void)snprintf(log_state.worker, sizeof(log_state.worker), "%s:%ld", host, (long)getpid());
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

bool wr_log_format_set(const char *name)
{
    if (name == NULL || (strcmp(name, "text") != 0 && strcmp(name, "json") != 0))
        return false;
    log_state.json = strcmp(name, "json") == 0;
    return true;
}

void wr_log_scope_begin(const char *rid, const char *trace_id)
{
    scope.rid = rid;
    scope.trace_id = trace_id;
}

void wr_log_scope_end(void)
{
    scope.rid = NULL;
    scope.trace_id = NULL;
}

/* Text: printable ASCII and well-formed UTF-8 as they are (C1 controls
 * aside); '\', control characters, DEL and every other byte escaped, so a
 * line is one line and shows what was sent. quote also escapes '"'. */
static void text_escaped(struct wr_buf *b, const char *s, bool quote)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t len = p[i] < 0x80 ? 1 : wr_utf8_decode(p + i, n - i, &cp);
        if (len == 1)
            cp = p[i];
        bool control = cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
        if (len == 0 || control) {
            for (size_t k = 0; k < (len ? len : 1); k++) {
                unsigned char c = p[i + k];
                if (c == '\n')
                    wr_buf_puts(b, "\\n");
                else if (c == '\r')
                    wr_buf_puts(b, "\\r");
                else if (c == '\t')
                    wr_buf_puts(b, "\\t");
                else
                    wr_buf_printf(b, "\\x%02x", c);
            }
            i += len ? len : 1;
            continue;
        }
        if (p[i] == '\\' || (quote && p[i] == '"'))
            wr_buf_putc(b, '\\');
        wr_buf_append(b, p + i, len);
        i += len;
    }
}

/* A field's value in text: quoted when it holds a space, '=' or '"', so
 * key=value pairs stay apart. */
static void text_value(struct wr_buf *b, const struct wr_log_field *f)
{
    if (f->str == NULL) {
        wr_buf_printf(b, "%lld", f->num);
        return;
    }
    bool quote = f->str[0] == '\0' || strpbrk(f->str, " =\"") != NULL;
    if (quote)
        wr_buf_putc(b, '"');
    text_escaped(b, f->str, quote);
    if (quote)
        wr_buf_putc(b, '"');
}

static void json_str_or_null(struct wr_buf *b, const char *s)
{
    if (s != NULL)
        wr_json_cstr(b, s);
    else
        wr_json_null(b);
}

void wr_log_format_line(struct wr_buf *b, bool json, long long when_ms, enum wr_log_level level,
                        const char *rid, const char *trace_id, const char *msg,
                        const struct wr_log_field *fields, size_t n)
{
    time_t secs = (time_t)(when_ms / 1000);
    struct tm tm;
    (void)gmtime_r(&secs, &tm);
    char when[40];
    size_t w = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(when + w, sizeof(when) - w, ".%03lldZ", when_ms % 1000);
    const char *lv = level_names[level];
    if (!json) {
        wr_buf_printf(b, "%s %s %s [", when, lv, log_state.service);
        text_escaped(b, rid != NULL ? rid : "-", false);
        wr_buf_puts(b, "] ");
        text_escaped(b, msg, false);
        if (trace_id != NULL) {
            wr_buf_puts(b, " trace_id=");
            text_escaped(b, trace_id, false);
        }
        for (size_t i = 0; i < n; i++) {
            wr_buf_putc(b, ' ');
            text_escaped(b, fields[i].key, false);
            wr_buf_putc(b, '=');
            text_value(b, &fields[i]);
        }
        return;
    }
    wr_buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\",\"service\":", when, lv);
    wr_json_cstr(b, log_state.service);
    wr_buf_puts(b, ",\"worker\":");
    wr_json_cstr(b, log_state.worker);
    wr_buf_puts(b, ",\"request_id\":");
    json_str_or_null(b, rid);
    wr_buf_puts(b, ",\"trace_id\":");
    json_str_or_null(b, trace_id);
    wr_buf_puts(b, ",\"message\":");
    wr_json_cstr(b, msg);
    wr_buf_puts(b, ",\"fields\":{");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            wr_buf_putc(b, ',');
        wr_json_cstr(b, fields[i].key);
        wr_buf_putc(b, ':');
        if (fields[i].str != NULL)
            wr_json_cstr(b, fields[i].str);
        else
            wr_json_int(b, fields[i].num);
    }
    wr_buf_puts(b, "}}");
}

static void vlog(enum wr_log_level level, const char *rid, const struct wr_log_field *fields,
                 size_t n, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void vlog(enum wr_log_level level, const char *rid, const struct wr_log_field *fields,
                 size_t n, const char *fmt, va_list ap)
{
    if (level < log_state.min)
        return;
    const char *trace_id = NULL;
    if (rid == NULL)
        rid = scope.rid;
    if (rid != NULL && scope.rid != NULL && strcmp(rid, scope.rid) == 0)
        trace_id = scope.trace_id;
    struct timeval tv;
    (void)gettimeofday(&tv, NULL);
    char msg[MSG_MAX];
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    struct wr_buf line;
    wr_buf_init(&line, LINE_MAX_BYTES);
    wr_log_format_line(&line, log_state.json, (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000,
                       level, rid, trace_id, msg, fields, n);
    wr_buf_putc(&line, '\n');
    if (wr_buf_error(&line) == 0) {
        /* stderr is unbuffered: one fwrite is one write(2) */
        (void)fwrite(line.data, 1, line.len, stderr);
    } else {
        static const char lost[] = "log line lost: out of memory or too long\n";
        (void)fwrite(lost, 1, sizeof(lost) - 1, stderr);
    }
    wr_buf_release(&line);
}

void wr_log(enum wr_log_level level, const char *rid, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, rid, NULL, 0, fmt, ap);
    va_end(ap);
}

void wr_logf(enum wr_log_level level, const char *rid, const struct wr_log_field *fields, size_t n,
             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, rid, fields, n, fmt, ap);
    va_end(ap);
}
