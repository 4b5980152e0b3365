/* The audit document (see auditdoc.h): members in sorted order, like every
 * JSON document warren writes. */
#include "warren/auditdoc.h"

#include <jansson.h>

#include "warren/json.h"

static void str_or_null(struct wr_buf *b, const char *s)
{
    if (s == NULL)
        wr_json_null(b);
    else
        wr_json_cstr(b, s);
}

static void count_or_null(struct wr_buf *b, long v)
{
    if (v > 0)
        wr_json_int(b, v);
    else
        wr_json_null(b);
}

/* The first n bytes of s at most, less a UTF-8 sequence cut in two. */
static size_t cut(const char *s, size_t len, size_t n)
{
    if (len <= n)
        return len;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* The string member name of object o (cut to WR_AUDIT_ERROR_MAX), or null. */
static void member_or_null(struct wr_buf *b, const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);
    if (json_is_string(v))
        wr_json_str(b, json_string_value(v),
                    cut(json_string_value(v), json_string_length(v), WR_AUDIT_ERROR_MAX));
    else
        wr_json_null(b);
}

/* An error body as data: its text a string, its code and message copied
 * (values, never names, so a client's member names cannot become keys).
 * A body a client made long (a validation error per member of a 1 MiB
 * body) is cut: bytes says how long it was. */
static void error_doc(struct wr_buf *b, const char *text, size_t len)
{
    json_t *j = json_loadb(text, len, 0, NULL);
    wr_buf_puts(b, "{\"body\":");
    wr_json_str(b, text, cut(text, len, WR_AUDIT_ERROR_MAX));
    wr_buf_printf(b, ",\"bytes\":%zu,\"code\":", len);
    member_or_null(b, j, "code");
    wr_buf_puts(b, ",\"message\":");
    member_or_null(b, j, "message");
    wr_buf_putc(b, '}');
    json_decref(j);
}

void wr_audit_format(struct wr_buf *b, const struct wr_audit_rec *r, const char *worker)
{
    wr_buf_puts(b, "{\"_id\":");
    str_or_null(b, r->audit_id);
    wr_buf_puts(b, ",\"cache\":");
    str_or_null(b, r->cache);
    wr_buf_puts(b, ",\"collection\":");
    str_or_null(b, r->collection);
    if (r->detail != NULL) {
        wr_buf_puts(b, ",\"detail\":");
        wr_buf_append(b, r->detail, r->detail_len);
    }
    wr_buf_puts(b, ",\"duration_ms\":");
    wr_json_real(b, r->duration_ms);
    wr_buf_puts(b, ",\"error\":");
    if (r->error == NULL)
        wr_json_null(b);
    else if (r->error_is_json)
        error_doc(b, r->error, r->error_len);
    else
        wr_json_str(b, r->error, cut(r->error, r->error_len, WR_AUDIT_ERROR_MAX));
    wr_buf_puts(b, ",\"id\":");
    str_or_null(b, r->key);
    wr_buf_puts(b, ",\"op\":");
    str_or_null(b, r->op);
    wr_buf_puts(b, ",\"params\":{\"page\":");
    count_or_null(b, r->page);
    wr_buf_puts(b, ",\"relation\":");
    str_or_null(b, r->relation);
    wr_buf_puts(b, ",\"results_per_page\":");
    count_or_null(b, r->per_page);
    wr_buf_puts(b, "},\"principal\":");
    str_or_null(b, r->principal);
    wr_buf_puts(b, ",\"request_id\":");
    str_or_null(b, r->id);
    wr_buf_puts(b, ",\"rows\":");
    if (r->rows >= 0)
        wr_json_int(b, r->rows);
    else
        wr_json_null(b);
    wr_buf_puts(b, ",\"status\":");
    if (r->status > 0)
        wr_json_int(b, r->status);
    else
        wr_json_null(b);
    /* MongoDB Extended JSON: stored as a BSON date. */
    wr_buf_puts(b, ",\"time\":{\"$date\":{\"$numberLong\":\"");
    wr_json_int(b, r->time_ms); /* the digits alone, as %lld, without printf's two passes */
    wr_buf_puts(b, "\"}},\"trace_id\":");
    str_or_null(b, r->trace_id);
    wr_buf_puts(b, ",\"worker\":");
    str_or_null(b, worker);
    wr_buf_putc(b, '}');
}
