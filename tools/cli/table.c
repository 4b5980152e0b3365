/* Reply bodies as aligned text (see table.h). A page is laid out in two
 * passes over its rows: the columns (every flattened member name, in the
 * order first seen), then the cells, so a member that only some rows have
 * still gets its column. */
#include "table.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "warren/err.h"
#include "warren/json.h"

#define FLATTEN_MAX 4                /* nested objects flattened this deep */
#define NAME_MAX_BYTES ((size_t)512) /* a flattened name */
#define TEXT_MAX ((size_t)16 << 20)  /* one value's text */
#define ELLIPSIS "\xe2\x80\xa6"

size_t cli_text_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            w++;
    return w;
}

void cli_put_text(struct wr_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            (void)wr_buf_puts(b, "\\n");
        else if (c == '\t')
            (void)wr_buf_puts(b, "\\t");
        else if (c == '\r')
            (void)wr_buf_puts(b, "\\r");
        else if (c < 0x20 || c == 0x7f)
            (void)wr_buf_printf(b, "\\u%04x", c);
        else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                 (unsigned char)s[i + 1] <= 0x9f)
            (void)wr_buf_printf(b, "\\u%04x", (unsigned char)s[++i]);
        else
            (void)wr_buf_putc(b, (char)c);
    }
}

static bool scalar(const json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

/* One value as a cell or a name/value line shows it. */
static void put_value(struct wr_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        cli_put_text(b, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        (void)wr_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        wr_json_real(b, json_real_value(v));
    } else if (json_is_true(v) || json_is_false(v)) {
        (void)wr_buf_puts(b, json_is_true(v) ? "true" : "false");
    } else if (json_is_null(v)) {
        (void)wr_buf_puts(b, "null");
    } else if (json_is_object(v)) {
        (void)wr_buf_puts(b, json_object_size(v) == 0 ? "{}" : "{" ELLIPSIS "}");
    } else {
        bool flat = true;
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            flat = flat && scalar(e);
        }
        if (json_array_size(v) == 0) {
            (void)wr_buf_puts(b, "[]");
            return;
        }
        if (!flat) {
            (void)wr_buf_printf(b, "[%zu]", json_array_size(v));
            return;
        }
        json_array_foreach(v, i, e) {
            if (i > 0)
                (void)wr_buf_puts(b, ", ");
            put_value(b, e);
        }
    }
}

/* Calls fn for every member of obj, nested objects flattened into dotted
 * names (name holds the prefix so far). */
typedef int (*visit_fn)(void *ctx, const char *name, const json_t *v);

static int flatten(const json_t *obj, struct wr_buf *name, int depth, visit_fn fn, void *ctx)
{
    size_t at = name->len;
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)obj, key, v) {
        name->len = at;
        if (at > 0)
            (void)wr_buf_putc(name, '.');
        cli_put_text(name, key, strlen(key));
        if (wr_buf_error(name) != 0)
            return wr_buf_error(name);
        if (json_is_object(v) && json_object_size(v) > 0 && depth < FLATTEN_MAX)
            rc = flatten(v, name, depth + 1, fn, ctx);
        else
            rc = fn(ctx, name->data != NULL ? name->data : "", v);
        if (rc != 0)
            return rc;
    }
    name->len = at;
    if (name->data != NULL)
        name->data[at] = '\0';
    return 0;
}

struct cell {
    char *text; /* NULL: the row lacks the member */
    size_t len, width;
    bool number;
};

struct grid {
    struct wr_buf pool; /* the column names, each NUL-terminated */
    size_t *offs;       /* where each column's name starts in pool */
    size_t ncols, cap;
    long last;          /* the column of the row's previous member; -1 first */
    struct cell *cells; /* nrows x ncols, once the columns are known */
    size_t row;         /* the row being filled */
};

static const char *column_name(const struct grid *g, size_t i)
{
    return g->pool.data + g->offs[i];
}

static long column_of(const struct grid *g, const char *name)
{
    for (size_t i = 0; i < g->ncols; i++)
        if (strcmp(column_name(g, i), name) == 0)
            return (long)i;
    return -1;
}

/* A member only later rows have gets its column after the column of the
 * member before it in that row, so columns keep the rows' order. */
static int add_column(void *ctx, const char *name, const json_t *v)
{
    struct grid *g = ctx;
    (void)v;
    long at = column_of(g, name);
    if (at >= 0) {
        g->last = at;
        return 0;
    }
    if (g->ncols == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        size_t *offs = realloc(g->offs, cap * sizeof(*offs));
        if (offs == NULL)
            return WR_ENOMEM;
        g->offs = offs;
        g->cap = cap;
    }
    size_t off = g->pool.len;
    if (wr_buf_append(&g->pool, name, strlen(name) + 1) != 0)
        return wr_buf_error(&g->pool);
    size_t pos = (size_t)(g->last + 1);
    memmove(&g->offs[pos + 1], &g->offs[pos], (g->ncols - pos) * sizeof(*g->offs));
    g->offs[pos] = off;
    g->ncols++;
    g->last = (long)pos;
    return 0;
}

/* A cell's text, cut to CLI_CELL_MAX characters. */
static int fill_cell(void *ctx, const char *name, const json_t *v)
{
    struct grid *g = ctx;
    struct cell *c = &g->cells[g->row * g->ncols + (size_t)column_of(g, name)];
    struct wr_buf b;
    wr_buf_init(&b, TEXT_MAX);
    put_value(&b, v);
    if (b.data != NULL && cli_text_width(b.data, b.len) > CLI_CELL_MAX) {
        size_t cut = 0, w = 0;
        while (cut < b.len && (w < CLI_CELL_MAX - 1 || ((unsigned char)b.data[cut] & 0xc0) == 0x80))
            w += ((unsigned char)b.data[cut++] & 0xc0) != 0x80;
        b.len = cut;
        (void)wr_buf_puts(&b, ELLIPSIS);
    }
    free(c->text);
    c->number = json_is_number(v);
    c->text = wr_buf_detach(&b, &c->len);
    c->width = c->text != NULL ? cli_text_width(c->text, c->len) : 0;
    wr_buf_release(&b);
    return c->text != NULL ? 0 : WR_ENOMEM;
}

static void pad(struct wr_buf *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)wr_buf_putc(out, ' ');
}

static void put_row(struct wr_buf *out, const struct grid *g, const size_t *widths,
                    const bool *right, size_t row, bool header)
{
    for (size_t c = 0; c < g->ncols; c++) {
        const struct cell *cell = header ? NULL : &g->cells[row * g->ncols + c];
        const char *text = header ? column_name(g, c) : (cell->text ? cell->text : "");
        size_t w = header ? cli_text_width(text, strlen(text)) : (cell->text ? cell->width : 0);
        bool last = c + 1 == g->ncols;
        if (c > 0)
            (void)wr_buf_puts(out, "  ");
        if (right[c])
            pad(out, widths[c] - w);
        (void)wr_buf_puts(out, text);
        if (!right[c] && !last)
            pad(out, widths[c] - w);
    }
    (void)wr_buf_putc(out, '\n');
}

static void put_grid(struct wr_buf *out, const struct grid *g, size_t nrows, size_t *widths,
                     bool *right)
{
    for (size_t c = 0; c < g->ncols; c++) {
        widths[c] = cli_text_width(column_name(g, c), strlen(column_name(g, c)));
        bool any = false, all = true;
        for (size_t r = 0; r < nrows; r++) {
            const struct cell *cell = &g->cells[r * g->ncols + c];
            if (cell->width > widths[c])
                widths[c] = cell->width;
            bool null = cell->text == NULL || strcmp(cell->text, "null") == 0;
            any = any || cell->number;
            all = all && (cell->number || null);
        }
        right[c] = any && all;
    }
    put_row(out, g, widths, right, 0, true);
    for (size_t c = 0; c < g->ncols; c++) {
        if (c > 0)
            (void)wr_buf_puts(out, "  ");
        for (size_t i = 0; i < widths[c]; i++)
            (void)wr_buf_putc(out, '-');
    }
    (void)wr_buf_putc(out, '\n');
    for (size_t r = 0; r < nrows; r++)
        put_row(out, g, widths, right, r, false);
}

/* rows: an array of objects, as a table. */
static int put_rows(struct wr_buf *out, const json_t *rows)
{
    size_t nrows = json_array_size(rows);
    if (nrows == 0)
        return wr_buf_puts(out, "(no objects)\n");
    struct grid g = {0};
    wr_buf_init(&g.pool, NAME_MAX_BYTES * 64);
    struct wr_buf name;
    wr_buf_init(&name, NAME_MAX_BYTES);
    int rc = 0;
    for (size_t r = 0; r < nrows && rc == 0; r++) {
        g.last = -1;
        rc = flatten(json_array_get(rows, r), &name, 0, add_column, &g);
    }
    size_t *widths = NULL;
    bool *right = NULL;
    if (rc == 0 && g.ncols > 0) {
        g.cells = calloc(nrows * g.ncols, sizeof(*g.cells));
        widths = calloc(g.ncols, sizeof(*widths));
        right = calloc(g.ncols, sizeof(*right));
        rc = g.cells && widths && right ? 0 : WR_ENOMEM;
    }
    for (g.row = 0; g.row < nrows && rc == 0 && g.ncols > 0; g.row++)
        rc = flatten(json_array_get(rows, g.row), &name, 0, fill_cell, &g);
    if (rc == 0 && g.ncols > 0)
        put_grid(out, &g, nrows, widths, right);
    for (size_t i = 0; g.cells != NULL && i < nrows * g.ncols; i++)
        free(g.cells[i].text);
    wr_buf_release(&g.pool);
    free(g.offs);
    free(g.cells);
    free(widths);
    free(right);
    wr_buf_release(&name);
    return rc != 0 ? rc : wr_buf_error(out);
}

/* Name/value lines: first the widest name, then the lines. */
struct lines {
    struct wr_buf *out;
    size_t width; /* names are padded to this */
    bool measure; /* the first pass only measures */
};

static int put_line(void *ctx, const char *name, const json_t *v)
{
    struct lines *l = ctx;
    size_t w = cli_text_width(name, strlen(name));
    if (l->measure) {
        l->width = w > l->width ? w : l->width;
        return 0;
    }
    (void)wr_buf_puts(l->out, name);
    pad(l->out, l->width - w + 2);
    put_value(l->out, v);
    return wr_buf_putc(l->out, '\n');
}

static int put_object(struct wr_buf *out, const json_t *obj)
{
    if (json_object_size(obj) == 0)
        return wr_buf_puts(out, "{}\n");
    struct lines l = {.out = out, .measure = true};
    struct wr_buf name;
    wr_buf_init(&name, NAME_MAX_BYTES);
    int rc = flatten(obj, &name, 0, put_line, &l);
    l.measure = false;
    if (rc == 0)
        rc = flatten(obj, &name, 0, put_line, &l);
    wr_buf_release(&name);
    return rc;
}

/* A page-like object: its rows, then its other members as `name: value`. */
static int put_page(struct wr_buf *out, const json_t *obj, const char *rows_key)
{
    int rc = put_rows(out, json_object_get(obj, rows_key));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (rc != 0 || strcmp(key, rows_key) == 0)
            continue;
        cli_put_text(out, key, strlen(key));
        (void)wr_buf_puts(out, ": ");
        put_value(out, v);
        rc = wr_buf_putc(out, '\n');
    }
    return rc;
}

/* "objects" or "collections" when obj has such an array of objects. */
static const char *rows_member(const json_t *obj)
{
    static const char *const keys[] = {"objects", "collections"};
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const json_t *a = json_object_get(obj, keys[k]);
        bool rows = json_is_array(a);
        size_t i;
        const json_t *e;
        json_array_foreach(a, i, e) {
            rows = rows && json_is_object(e);
        }
        if (rows)
            return keys[k];
    }
    return NULL;
}

int cli_table_render(const char *body, size_t len, struct wr_buf *out)
{
    json_t *v = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    if (v == NULL)
        return WR_EINVAL;
    int rc;
    const char *rows = json_is_object(v) ? rows_member(v) : NULL;
    if (rows != NULL) {
        rc = put_page(out, v, rows);
    } else if (json_is_object(v)) {
        rc = put_object(out, v);
    } else {
        put_value(out, v);
        rc = wr_buf_putc(out, '\n');
    }
    json_decref(v);
    return rc != 0 ? rc : wr_buf_error(out);
}
