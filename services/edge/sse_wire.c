/* Server-Sent Events on the wire (see sse_wire.h): marks, Last-Event-ID,
 * an event's text, the collections filter. */
#include "sse_wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/err.h"

bool sse_mark_after(const struct sse_mark *a, const struct sse_mark *b)
{
    return a->pos > b->pos || (a->pos == b->pos && a->k > b->k);
}

/* n decimal digits at s, 1 to max of them, into *v; the count read, or 0. */
static size_t digits(const char *s, size_t max, long long *v)
{
    size_t n = 0;
    long long x = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        if (n == max)
            return 0;
        x = x * 10 + (s[n] - '0');
        n++;
    }
    *v = x;
    return n;
}

int sse_mark_parse(const char *s, struct sse_mark *out)
{
    long long pos = 0, k = SSE_WHOLE;
    size_t n = s != NULL ? digits(s, SSE_POS_DIGITS, &pos) : 0;
    if (n == 0)
        return WR_EINVAL;
    if (s[n] == ':') {
        size_t m = digits(s + n + 1, SSE_K_DIGITS, &k);
        if (m == 0)
            return WR_EINVAL;
        n += 1 + m;
    }
    if (s[n] != '\0')
        return WR_EINVAL;
    *out = (struct sse_mark){pos, k};
    return 0;
}

int sse_event_format(struct wr_buf *out, const char *op, const struct sse_mark *m, long long count,
                     const char *body, size_t len)
{
    wr_buf_printf(out, "event: %s\n", op);
    if (m->k + 1 >= count)
        wr_buf_printf(out, "id: %lld\n", m->pos);
    else
        wr_buf_printf(out, "id: %lld:%lld\n", m->pos, m->k);
    size_t i = 0;
    do {
        size_t n = 0;
        while (i + n < len && body[i + n] != '\n' && body[i + n] != '\r')
            n++;
        wr_buf_puts(out, "data: ");
        wr_buf_append(out, body + i, n);
        wr_buf_putc(out, '\n');
        i += n;
        if (i < len && body[i] == '\r')
            i++;
        if (i < len && body[i] == '\n')
            i++;
    } while (i < len);
    wr_buf_putc(out, '\n');
    return wr_buf_error(out);
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

int sse_filter_parse(const char *list, struct sse_filter *f, char *msg, size_t cap)
{
    f->n = 0;
    if (list == NULL)
        return 0;
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        bool ok = n > 0 && n <= SSE_NAME_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = name_char(p[i]);
        if (!ok) {
            (void)snprintf(msg, cap,
                           "collections: a comma-separated list of collection names (at most "
                           "%d characters each)",
                           SSE_NAME_MAX);
            return WR_EINVAL;
        }
        bool seen = false;
        for (size_t i = 0; i < f->n && !seen; i++)
            seen = strlen(f->name[i]) == n && memcmp(f->name[i], p, n) == 0;
        if (!seen && f->n == SSE_FILTER_MAX) {
            (void)snprintf(msg, cap, "collections: at most %d names", SSE_FILTER_MAX);
            return WR_EINVAL;
        }
        if (!seen) {
            memcpy(f->name[f->n], p, n);
            f->name[f->n][n] = '\0';
            f->n++;
        }
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

bool sse_filter_has(const struct sse_filter *f, const char *collection)
{
    if (f->n == 0)
        return true;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->name[i], collection) == 0)
            return true;
    return false;
}

int sse_known_parse(struct sse_known *k, const char *json, size_t len)
{
    json_t *j = json_loadb(json, len, 0, NULL);
    json_t *list = json_object_get(j, "collections");
    size_t n = json_array_size(list);
    int rc = json_is_array(list) ? 0 : WR_EINVAL;
    char(*names)[SSE_NAME_MAX + 1] = rc == 0 && n > 0 ? calloc(n, sizeof(*names)) : NULL;
    if (rc == 0 && n > 0 && names == NULL)
        rc = WR_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(list, i), "name"));
        if (name == NULL || strlen(name) > SSE_NAME_MAX)
            rc = WR_EINVAL;
        else
            (void)snprintf(names[i], sizeof(names[i]), "%s", name);
    }
    json_decref(j);
    if (rc != 0) {
        free(names);
        return rc;
    }
    sse_known_release(k);
    k->name = names;
    k->n = n;
    k->have = true;
    return 0;
}

const char *sse_known_missing(const struct sse_known *k, const struct sse_filter *f)
{
    for (size_t i = 0; i < f->n; i++) {
        bool found = false;
        for (size_t j = 0; j < k->n && !found; j++)
            found = strcmp(k->name[j], f->name[i]) == 0;
        if (!found)
            return f->name[i];
    }
    return NULL;
}

void sse_known_release(struct sse_known *k)
{
    free(k->name);
    k->name = NULL;
    k->n = 0;
    k->have = false;
}
