/* Rendering of rows and pages (see render.h). Objects are written field by
 * field in the order the schema sorted them, so no key is ever sorted here. */
#include "ops/render.h"

#include <stdbool.h>
#include <string.h>

#include "warren/codec.h"
#include "warren/json.h"

size_t render_iso_datetime(const char *s, size_t n, char iso[RENDER_ISO_MAX])
{
    if (n < 19 || s[10] != ' ' || s[4] != '-' || s[13] != ':' ||
        (n > 19 && (s[19] != '.' || n > 26)))
        return 0;
    memcpy(iso, s, n);
    iso[10] = 'T';
    size_t len = n;
    if (n > 19) {
        while (len < 26)
            iso[len++] = '0';
    }
    return len;
}

/* A DATETIME as Python's isoformat() has it (render_iso_datetime), or the
 * text it is. */
static void render_datetime(struct wr_buf *b, const char *s, size_t n)
{
    char iso[RENDER_ISO_MAX];
    size_t len = render_iso_datetime(s, n, iso);
    if (len == 0)
        wr_json_str(b, s, n);
    else
        wr_json_str(b, iso, len);
}

void render_value(struct wr_buf *b, enum col_type type, const struct value *v)
{
    switch (v->kind) {
    case V_NULL:
        wr_json_null(b);
        return;
    case V_INT:
        if (type == COL_REAL)
            wr_json_real(b, (double)v->i);
        else
            wr_json_int(b, v->i);
        return;
    case V_REAL:
        wr_json_real(b, v->d);
        return;
    case V_TEXT:
        if (type == COL_DATETIME)
            render_datetime(b, v->s, v->n);
        else
            wr_json_str(b, v->s, v->n);
        return;
    case V_BLOB:
        wr_buf_putc(b, '"');
        wr_base64_append(b, v->s, v->n, false);
        wr_buf_putc(b, '"');
        return;
    }
}

void render_flat(struct wr_buf *b, const struct collection *c, const struct value *row)
{
    render_flat_in(b, c, row, NULL);
}

void render_flat_in(struct wr_buf *b, const struct collection *c, const struct value *row,
                    const bool *hidden)
{
    wr_buf_putc(b, '{');
    bool first = true;
    for (size_t i = 0; i < c->nflat; i++) {
        const struct field *f = &c->flat[i];
        if (hidden != NULL && hidden[f->index])
            continue;
        if (!first)
            wr_buf_putc(b, ',');
        first = false;
        wr_json_key(b, f->name);
        render_value(b, c->cols[f->index].type, &row[f->index]);
    }
    wr_buf_putc(b, '}');
}

void render_page_head(struct wr_buf *b, const struct page *pg)
{
    wr_buf_puts(b, "{\"num_results\":");
    if (pg->uncounted)
        wr_json_null(b);
    else
        wr_json_int(b, pg->total);
    if (pg->estimated)
        wr_buf_puts(b, ",\"num_results_estimated\":true");
    if (pg->truncated)
        wr_buf_puts(b, ",\"num_results_truncated\":true");
    wr_buf_puts(b, ",\"objects\":[");
}

void render_page_tail(struct wr_buf *b, const struct page *pg)
{
    wr_buf_puts(b, "],\"page\":");
    wr_json_int(b, pg->page);
    wr_buf_puts(b, ",\"total_pages\":");
    if (pg->uncounted)
        wr_json_null(b);
    else
        wr_json_int(b, pg->total_pages);
    wr_buf_putc(b, '}');
}

void render_path_segment(struct wr_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~' || c == ',';
        if (plain) {
            wr_buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            wr_buf_append(b, esc, 3);
        }
    }
}

static void link_to(struct wr_buf *b, const char *base_url, const char *path, long long page,
                    long per_page, const char *rel)
{
    wr_buf_printf(b, "%s<%s%s%cpage=%lld&results_per_page=%ld>; rel=\"%s\"", b->len > 0 ? ", " : "",
                  base_url ? base_url : "", path, strchr(path, '?') ? '&' : '?', page, per_page,
                  rel);
}

void render_link(struct wr_buf *b, const char *base_url, const char *path, const struct page *pg)
{
    bool open = plan_page_open(pg); /* no known end: no rel="last" */
    if (!open && pg->total_pages == 0)
        return;
    if (pg->page > 1) {
        long long prev = pg->page - 1;
        if (!open && prev > pg->total_pages)
            prev = pg->total_pages; /* past the end: back to the last page */
        link_to(b, base_url, path, 1, pg->per_page, "first");
        if (pg->prev_before != NULL)
            wr_buf_printf(b, ", <%s%s%cbefore=%s&results_per_page=%ld>; rel=\"prev\"",
                          base_url ? base_url : "", path, strchr(path, '?') ? '&' : '?',
                          pg->prev_before, pg->per_page);
        else
            link_to(b, base_url, path, prev, pg->per_page, "prev");
    }
    bool next = open ? pg->more : pg->page < pg->total_pages;
    if (next && pg->next_after != NULL)
        wr_buf_printf(b, "%s<%s%s%cafter=%s&results_per_page=%ld>; rel=\"next\"",
                      b->len > 0 ? ", " : "", base_url ? base_url : "", path,
                      strchr(path, '?') ? '&' : '?', pg->next_after, pg->per_page);
    else if (next)
        link_to(b, base_url, path, pg->page + 1, pg->per_page, "next");
    if (!open)
        link_to(b, base_url, path, pg->total_pages, pg->per_page, "last");
}

void render_collection_url(struct wr_buf *b, const char *base_url, const char *name)
{
    wr_buf_puts(b, base_url ? base_url : "");
    wr_buf_puts(b, "/api/");
    render_path_segment(b, name);
}
