/* Reads an FTS5 table's CREATE VIRTUAL TABLE text (see fts.h): the
 * arguments inside `fts5(...)`, split at commas outside quotes, and the
 * values of its content and content_rowid options. */
#include "model/fts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether s starts with word (ASCII case ignored); *s moves past it. */
static bool take_word(const char **s, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(*s, word, n) != 0)
        return false;
    *s += n;
    return true;
}

static const char *skip_space(const char *s)
{
    while (*s != '\0' && isspace((unsigned char)*s))
        s++;
    return s;
}

/* The end of the quoted token at s ('...', "...", `...` with the quote
 * doubled inside, or [...]), just past its closing quote; NULL when it
 * does not close. */
static const char *quoted_end(const char *s)
{
    char close = *s;
    if (close == '[')
        close = ']';
    for (const char *p = s + 1; *p != '\0'; p++) {
        if (*p != close)
            continue;
        if (close != ']' && p[1] == close) {
            p++;
            continue;
        }
        return p + 1;
    }
    return NULL;
}

/* The value of `key = value` from [s, end) into out (cap bytes), its
 * quotes taken off; false when it does not fit or is not one token. */
static bool unquote(const char *s, const char *end, char *out, size_t cap)
{
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    size_t n = 0;
    if (s < end && strchr("'\"`[", *s) != NULL) {
        char close = *s;
        if (close == '[')
            close = ']';
        if (quoted_end(s) != end)
            return false;
        for (const char *p = s + 1; p < end - 1; p++) {
            if (n + 1 >= cap)
                return false;
            out[n++] = *p;
            if (*p == close && close != ']')
                p++; /* a doubled quote is one */
        }
    } else {
        for (const char *p = s; p < end; p++) {
            if (n + 1 >= cap || isspace((unsigned char)*p))
                return false;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return true;
}

/* Whether [k, kend) is word, ASCII case ignored. */
static bool key_is(const char *k, const char *kend, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(kend - k) == n && strncasecmp(k, word, n) == 0;
}

/* One argument [s, end): a column, or an option `key = value`. */
static bool argument(const char *s, const char *end, struct fts_def *out)
{
    s = skip_space(s);
    const char *eq = NULL;
    for (const char *p = s; p < end && eq == NULL; p++)
        if (*p == '=')
            eq = p;
    if (eq == NULL)
        return true; /* a column */
    const char *k = s, *kend = eq;
    while (kend > k && isspace((unsigned char)kend[-1]))
        kend--;
    const char *v = skip_space(eq + 1);
    if (key_is(k, kend, "content"))
        return unquote(v, end, out->content, sizeof(out->content));
    if (key_is(k, kend, "content_rowid"))
        return unquote(v, end, out->content_rowid, sizeof(out->content_rowid));
    return true; /* tokenize, prefix, detail, ...: not ours */
}

bool fts_parse(const char *sql, struct fts_def *out)
{
    *out = (struct fts_def){0};
    if (sql == NULL)
        return false;
    const char *s = skip_space(sql);
    if (!take_word(&s, "CREATE") || !isspace((unsigned char)*s))
        return false;
    s = skip_space(s);
    if (!take_word(&s, "VIRTUAL") || !isspace((unsigned char)*s))
        return false;
    /* the table's name may be quoted and hold the word USING: find USING
     * after it */
    const char *p = s;
    for (;;) {
        p = skip_space(p);
        if (*p == '\0')
            return false;
        if (strchr("'\"`[", *p) != NULL) {
            p = quoted_end(p);
            if (p == NULL)
                return false;
            continue;
        }
        const char *w = p;
        if (take_word(&w, "USING") && isspace((unsigned char)*w)) {
            p = w;
            break;
        }
        while (*p != '\0' && !isspace((unsigned char)*p) && strchr("'\"`[", *p) == NULL)
            p++;
    }
    p = skip_space(p);
    if (!take_word(&p, "fts5"))
        return false;
    p = skip_space(p);
    if (*p != '(')
        return false;
    const char *arg = ++p;
    while (*p != ')') {
        if (*p == '\0')
            return false;
        if (strchr("'\"`[", *p) != NULL) {
            p = quoted_end(p);
            if (p == NULL)
                return false;
            continue;
        }
        if (*p == ',') {
            if (!argument(arg, p, out))
                return false;
            arg = p + 1;
        }
        p++;
    }
    return argument(arg, p, out);
}

/* The column of c whose SQL name is name (ASCII case ignored, as SQLite
 * compares identifiers), or c->ncols. */
static size_t sql_column(const struct collection *c, const char *name)
{
    size_t i = 0;
    while (i < c->ncols && strcasecmp(c->cols[i].sql, name) != 0)
        i++;
    return i;
}

int fts_cover(struct collection *c, const struct schema_table_def *t)
{
    struct fts_def d;
    if (c->fts_table != NULL || !fts_parse(t->sql, &d) || strcasecmp(d.content, c->table) != 0 ||
        c->npk != 1 || c->cols[c->pk[0]].type != COL_INTEGER ||
        strcasecmp(d.content_rowid, c->cols[c->pk[0]].sql) != 0 || t->ncols == 0)
        return 0;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].name == NULL || sql_column(c, t->cols[i].name) == c->ncols)
            return 0;
    c->fts_table = strdup(t->name);
    if (c->fts_table == NULL)
        return WR_ENOMEM;
    for (size_t i = 0; i < t->ncols; i++)
        c->cols[sql_column(c, t->cols[i].name)].fts = true;
    return 0;
}
