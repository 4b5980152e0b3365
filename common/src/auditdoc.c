/* The audit document (see auditdoc.h): members in sorted order, like every
 * JSON document warren writes. */
#include "warren/auditdoc.h"

#include <stdio.h>

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

void wr_audit_format(struct wr_buf *b, const struct wr_audit_rec *r, const char *worker)
{
    wr_buf_puts(b, "{\"_id\":");
    if (r->id != NULL && r->by_edge) {
        char id[160];
        (void)snprintf(id, sizeof(id), "%s/edge", r->id);
        wr_json_cstr(b, id);
    } else {
        str_or_null(b, r->id);
    }
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
        wr_buf_append(b, r->error, r->error_len);
    else
        wr_json_str(b, r->error, r->error_len);
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
    wr_buf_printf(b, "%lld", r->time_ms);
    wr_buf_puts(b, "\"}},\"trace_id\":");
    str_or_null(b, r->trace_id);
    wr_buf_puts(b, ",\"worker\":");
    str_or_null(b, worker);
    wr_buf_putc(b, '}');
}
