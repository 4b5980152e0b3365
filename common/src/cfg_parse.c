/* The configuration parser (see cfg.h, wr_cfg_parse): the table's defaults,
 * then the file's text, then the WARREN_* entries of an environment array,
 * into struct wr_cfg. Pure: text and an array in, a struct out, no I/O.
 * It collects every problem instead of stopping at the first, and never
 * echoes a string value: some (AMQP_URL, API_KEYS) carry passwords. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "warren/analyzer.h"
#include "warren/err.h"

#define ENV_PREFIX "WARREN_"

void wr__put_printable(struct wr_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n && i < 80; i++)
        (void)wr_buf_putc(b, (char)(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?'));
    if (n > 80)
        (void)wr_buf_puts(b, "...");
}

void wr__problem(struct wr__parser *p, const char *fmt, ...)
{
    p->count++;
    struct wr_buf *b = p->problems;
    if (b == NULL)
        return;
    if (p->line > 0)
        (void)wr_buf_printf(b, "%s:%zu: ", p->where, p->line);
    else
        (void)wr_buf_printf(b, "%s: ", p->where);
    if (p->subj != NULL) {
        wr__put_printable(b, p->subj, p->subj_len);
        (void)wr_buf_puts(b, ": ");
    }
    va_list ap;
    va_start(ap, fmt);
    (void)wr_buf_vprintf(b, fmt, ap);
    va_end(ap);
    (void)wr_buf_putc(b, '\n');
}

static void out_of_memory(struct wr__parser *p)
{
    if (!p->nomem)
        wr__problem(p, "out of memory");
    p->nomem = true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static bool is_choice(const char *const *choices, const char *s, size_t n)
{
    for (; *choices != NULL; choices++)
        if (wr__equals(s, n, *choices))
            return true;
    return false;
}

static void bad_choice(struct wr__parser *p, const char *const *choices)
{
    struct wr_buf list;
    wr_buf_init(&list, 256);
    for (size_t i = 0; choices[i] != NULL; i++)
        (void)wr_buf_printf(&list, "%s%s", i > 0 ? ", " : "", choices[i]);
    wr__problem(p, "expected one of %s", list.data != NULL ? list.data : "");
    wr_buf_release(&list);
}

/* The copy is stored through the key table's field offset, which gcc's
 * analyzer loses track of; wr_cfg_release frees it. */
WR_ANALYZER_LEAK_FALSE_BEGIN
static void set_str(struct wr__parser *p, const struct wr__key *k, const char *s, size_t n)
{
    if (k->choices != NULL && !is_choice(k->choices, s, n)) {
        bad_choice(p, k->choices);
        return;
    }
    char *copy = dup_n(s, n);
    if (copy == NULL) {
        out_of_memory(p);
        return;
    }
    char **field = wr__key_slot(p->cfg, k);
    free(*field);
    *field = copy;
}
WR_ANALYZER_LEAK_FALSE_END

static void set_int(struct wr__parser *p, const struct wr__key *k, long v)
{
    if (v < k->min || v > k->max) {
        wr__problem(p, "%ld is out of range %ld..%ld", v, k->min, k->max);
        return;
    }
    long *field = wr__key_slot(p->cfg, k);
    *field = v;
}

static void set_bool(struct wr__parser *p, const struct wr__key *k, bool v)
{
    bool *field = wr__key_slot(p->cfg, k);
    *field = v;
}

static void set_parsed_int(struct wr__parser *p, const struct wr__key *k, const char *s, size_t n)
{
    long v = 0;
    int rc = wr__parse_long(s, n, &v);
    if (rc == WR_EINVAL)
        wr__problem(p, "expected an integer");
    else if (rc != 0)
        wr__problem(p, "integer is out of range %ld..%ld", k->min, k->max);
    else
        set_int(p, k, v);
}

/* An environment value (or a table default): raw text, no quotes. Booleans
 * also take the spellings other tools write into environments. */
static void apply_raw(struct wr__parser *p, const struct wr__key *k, const char *text)
{
    size_t n = strlen(text);
    if (k->type == WR__T_STR)
        set_str(p, k, text, n);
    else if (k->type == WR__T_INT)
        set_parsed_int(p, k, text, n);
    else if (wr__equals(text, n, "True") || wr__equals(text, n, "true") || wr__equals(text, n, "1"))
        set_bool(p, k, true);
    else if (wr__equals(text, n, "False") || wr__equals(text, n, "false") ||
             wr__equals(text, n, "0"))
        set_bool(p, k, false);
    else
        wr__problem(p, "expected True, False, true, false, 1 or 0");
}

/* The table is stored in p->cfg, which gcc's analyzer loses track of (it
 * reports the realloc'd table leaked on return); wr_cfg_release frees it. */
WR_ANALYZER_LEAK_FALSE_BEGIN
static int grow_colls(struct wr__parser *p)
{
    size_t cap = p->colls_cap ? p->colls_cap * 2 : 8;
    if (cap > SIZE_MAX / sizeof(struct wr_cfg_coll))
        return WR_ENOMEM;
    struct wr_cfg_coll *c = realloc(p->cfg->colls, cap * sizeof(*c));
    if (c == NULL)
        return WR_ENOMEM;
    p->cfg->colls = c;
    p->colls_cap = cap;
    return 0;
}

static void add_coll(struct wr__parser *p, const char *coll, size_t coll_len, const char *setting,
                     size_t setting_len, const char *value, size_t value_len)
{
    struct wr_cfg *cfg = p->cfg;
    if (cfg->ncolls == p->colls_cap && grow_colls(p) != 0) {
        out_of_memory(p);
        return;
    }
    struct wr_cfg_coll c = {dup_n(coll, coll_len), dup_n(setting, setting_len),
                            dup_n(value, value_len)};
    if (c.collection == NULL || c.setting == NULL || c.value == NULL) {
        free(c.collection);
        free(c.setting);
        free(c.value);
        out_of_memory(p);
        return;
    }
    cfg->colls[cfg->ncolls++] = c;
}
WR_ANALYZER_LEAK_FALSE_END

/* Checks the two halves of a dotted key; returns false after a problem. */
static bool coll_key_ok(struct wr__parser *p, const char *coll, size_t coll_len,
                        const char *setting, size_t setting_len)
{
    if (!wr__is_ident(coll, coll_len)) {
        wr__problem(p, "the collection must be an identifier");
        return false;
    }
    if (wr__coll_setting_known(setting, setting_len))
        return true;
    wr__problem(
        p, "unknown setting (expected NAME, EXCLUDE, INCLUDE, RENAME, METHODS, DEPTH or COUNT)");
    return false;
}

/* The settings with a closed set of values: DEPTH 0 or 1, COUNT exact,
 * none or estimated. False after a problem. */
static bool coll_value_ok(struct wr__parser *p, const char *setting, size_t setting_len,
                          const char *value, size_t value_len)
{
    if (wr__equals(setting, setting_len, "DEPTH") && !wr__equals(value, value_len, "0") &&
        !wr__equals(value, value_len, "1")) {
        wr__problem(p, "expected 0 or 1");
        return false;
    }
    if (wr__equals(setting, setting_len, "COUNT") && !wr__equals(value, value_len, "exact") &&
        !wr__equals(value, value_len, "none") && !wr__equals(value, value_len, "estimated")) {
        wr__problem(p, "expected 'exact', 'none' or 'estimated'");
        return false;
    }
    return true;
}

/* The value after `=`: one literal, then only a comment. Returns false after
 * reporting a problem. */
static bool scan_value(struct wr__parser *p, const char *s, const char *end, struct wr__lit *lit)
{
    int rc = wr__lit_scan(&s, end, lit);
    if (rc == 0) {
        s = wr__skip_space(s, end);
        if (s < end && *s != '#') {
            lit->why = "unexpected text after the value";
            rc = WR_EINVAL;
        }
    }
    if (rc == WR_EINVAL)
        wr__problem(p, "%s", lit->why);
    else if (rc != 0)
        out_of_memory(p);
    return rc == 0;
}

static void apply_lit(struct wr__parser *p, const struct wr__key *k, const struct wr__lit *lit)
{
    if (k->type == WR__T_STR && lit->kind != WR__LIT_STR)
        wr__problem(p, "expected a quoted string");
    else if (k->type == WR__T_STR)
        set_str(p, k, lit->str.data, lit->str.len);
    else if (k->type == WR__T_INT && lit->kind != WR__LIT_INT)
        wr__problem(p, "expected an integer");
    else if (k->type == WR__T_INT && lit->overflow)
        wr__problem(p, "integer is out of range %ld..%ld", k->min, k->max);
    else if (k->type == WR__T_INT)
        set_int(p, k, lit->num);
    else if (lit->kind != WR__LIT_BOOL)
        wr__problem(p, "expected True or False");
    else
        set_bool(p, k, lit->truth);
}

static void file_key(struct wr__parser *p, const char *name, size_t n, const char *s,
                     const char *end)
{
    const struct wr__key *k = wr__key_find(name, n);
    if (k == NULL) {
        wr__problem(p, "unknown key %.*s", (int)n, name);
        return;
    }
    struct wr__lit lit = {.kind = WR__LIT_OTHER};
    wr_buf_init(&lit.str, (size_t)(end - s));
    p->subj = name;
    p->subj_len = n;
    if (scan_value(p, s, end, &lit))
        apply_lit(p, k, &lit);
    p->subj = NULL;
    wr_buf_release(&lit.str);
}

static void file_coll(struct wr__parser *p, const char *name, size_t n, const char *s,
                      const char *end)
{
    const char *dot = memchr(name, '.', n);
    size_t coll_len = (size_t)(dot - name);
    struct wr__lit lit = {.kind = WR__LIT_OTHER};
    wr_buf_init(&lit.str, (size_t)(end - s));
    p->subj = name;
    p->subj_len = n;
    const char *setting = dot + 1;
    size_t setting_len = n - coll_len - 1;
    if (coll_key_ok(p, name, coll_len, setting, setting_len) && scan_value(p, s, end, &lit)) {
        /* DEPTH may be written as a number: Albums.DEPTH = 0 */
        if (lit.kind == WR__LIT_INT && wr__equals(setting, setting_len, "DEPTH") && !lit.overflow &&
            (lit.num == 0 || lit.num == 1))
            add_coll(p, name, coll_len, setting, setting_len, lit.num ? "1" : "0", 1);
        else if (lit.kind != WR__LIT_STR)
            wr__problem(p, "expected a quoted string");
        else if (coll_value_ok(p, setting, setting_len, lit.str.data, lit.str.len))
            add_coll(p, name, coll_len, setting, setting_len, lit.str.data, lit.str.len);
    }
    p->subj = NULL;
    wr_buf_release(&lit.str);
}

static void parse_line(struct wr__parser *p, const char *s, const char *end)
{
    s = wr__skip_space(s, end);
    if (s == end || *s == '#')
        return;
    const char *name = s;
    while (s < end && (wr__is_ident_char(*s) || *s == '.'))
        s++;
    size_t n = (size_t)(s - name);
    s = wr__skip_space(s, end);
    if (n == 0 || s == end || *s != '=') {
        wr__problem(p, "expected KEY = value");
        return;
    }
    s = wr__skip_space(s + 1, end);
    if (memchr(name, '.', n) != NULL)
        file_coll(p, name, n, s, end);
    else
        file_key(p, name, n, s, end);
}

static void parse_text(struct wr__parser *p, const char *text, size_t len)
{
    if (len == 0)
        return;
    const char *s = text;
    const char *end = text + len;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3; /* a UTF-8 byte order mark, which Python skips too */
    for (p->line = 1; s < end; p->line++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *eol = nl != NULL ? nl : end;
        parse_line(p, s, eol);
        s = nl != NULL ? nl + 1 : end;
    }
    p->line = 0;
}

/* The last "__" splits a dotted key: settings never contain one, while a
 * collection name may end in an underscore. */
static const char *last_double_underscore(const char *s, size_t n)
{
    for (size_t i = n; i >= 2; i--)
        if (s[i - 2] == '_' && s[i - 1] == '_')
            return s + i - 2;
    return NULL;
}

/* name is the variable less its WARREN_ prefix; p->subj the whole variable. */
static void env_entry(struct wr__parser *p, const char *name, size_t n, const char *value)
{
    const char *sep = last_double_underscore(name, n);
    if (sep != NULL) {
        size_t coll_len = (size_t)(sep - name);
        const char *setting = sep + 2;
        size_t setting_len = n - coll_len - 2;
        if (coll_key_ok(p, name, coll_len, setting, setting_len) &&
            coll_value_ok(p, setting, setting_len, value, strlen(value)))
            add_coll(p, name, coll_len, setting, setting_len, value, strlen(value));
        return;
    }
    const struct wr__key *k = wr__key_find(name, n);
    if (k == NULL)
        wr__problem(p, "unknown key");
    else
        apply_raw(p, k, value);
}

static void parse_env(struct wr__parser *p, char *const *env)
{
    const size_t prefix = strlen(ENV_PREFIX);
    p->where = "environment";
    for (; *env != NULL; env++) {
        const char *e = *env;
        if (strncmp(e, ENV_PREFIX, prefix) != 0)
            continue;
        const char *eq = strchr(e, '=');
        p->subj = e;
        p->subj_len = eq != NULL ? (size_t)(eq - e) : strlen(e);
        if (eq == NULL)
            wr__problem(p, "no '=' in the environment entry");
        else
            env_entry(p, e + prefix, (size_t)(eq - e) - prefix, eq + 1);
    }
    p->subj = NULL;
}

static void apply_defaults(struct wr__parser *p)
{
    p->where = "default";
    for (size_t i = 0; i < wr__nkeys; i++) {
        p->subj = wr__keys[i].name;
        p->subj_len = strlen(wr__keys[i].name);
        apply_raw(p, &wr__keys[i], wr__keys[i].def);
    }
    p->subj = NULL;
}

int wr_cfg_parse(struct wr_cfg *cfg, const char *origin, const char *text, size_t len,
                 char *const *env, struct wr_buf *problems)
{
    *cfg = (struct wr_cfg){0};
    struct wr__parser p = {.cfg = cfg, .problems = problems};
    apply_defaults(&p);
    p.where = origin != NULL ? origin : "config";
    parse_text(&p, text, len);
    if (env != NULL)
        parse_env(&p, env);
    if (p.count == 0)
        wr__check(&p);
    if (p.count == 0)
        return 0;
    wr_cfg_release(cfg);
    return p.nomem ? WR_ENOMEM : WR_EINVAL;
}
