/* The command line's search syntax (see filter.h): filters, orders and
 * functions as a person types them, turned into the JSON of a `q`. The
 * worker checks names and operators again; this file only refuses what
 * cannot be a filter at all, so that a typo is named before any request. */
#include "filter.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "warren/err.h"
#include "warren/json.h"

#define NESTING_MAX 8 /* has/any inside has/any */
#define BLANKS " \t"

/* Flask-Restless's operators (proto/README.md, README "Searches"): the
 * symbols first, two-character ones before their one-character prefixes. */
static const char *const symbol_ops[] = {"==", "!=", ">=", "<=", ">", "<", NULL};
static const char *const word_ops[] = {
    "eq",  "equals", "equal_to", "ne",  "neq",    "not_equal_to", "does_not_equal",
    "gt",  "lt",     "ge",       "gte", "geq",    "le",           "lte",
    "leq", "like",   "ilike",    "in",  "not_in", "is_null",      "is_not_null",
    "has", "any",    NULL};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_op(const char *const *list, const char *s, size_t n)
{
    for (; *list != NULL; list++)
        if (strlen(*list) == n && strncmp(*list, s, n) == 0)
            return true;
    return false;
}

/* n bytes at s without the blanks around them. */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && strchr(BLANKS, (*s)[0]) != NULL) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && strchr(BLANKS, (*s)[*n - 1]) != NULL)
        (*n)--;
}

/* A value as typed: one JSON value when the text is one (a number, true,
 * false, null, a quoted string, an array, an object), else the text itself
 * as a string. */
static json_t *literal(const char *s, size_t n)
{
    json_t *v = n > 0 ? json_loadb(s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL) : NULL;
    return v != NULL ? v : json_stringn(s, n);
}

/* in / not_in: a JSON array, or items separated by commas, each a literal. */
static json_t *list_value(const char *s, size_t n)
{
    if (n > 0 && s[0] == '[') {
        json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_array(v))
            return v;
        json_decref(v);
        return NULL;
    }
    json_t *list = json_array();
    const char *end = s + n;
    while (list != NULL && s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *item = s;
        size_t len = (size_t)((comma != NULL ? comma : end) - s);
        trim(&item, &len);
        if (len == 0 || json_array_append_new(list, literal(item, len)) != 0) {
            json_decref(list);
            return NULL;
        }
        s = (comma != NULL ? comma : end) + 1;
    }
    return list;
}

/* Reports a problem with the whole filter as the user typed it. */
static json_t *refuse(struct wr_buf *problems, const char *whole, const char *what)
{
    (void)wr_buf_printf(problems, "--filter '%s': %s\n", whole, what);
    return NULL;
}

static json_t *parse(const char *s, size_t n, int depth, const char *whole,
                     struct wr_buf *problems);

/* The value of op into *val: none (is_null, is_not_null: *val stays
 * NULL), a list, a nested filter, or a literal. 0, or -1 after a problem. */
static int value_of(const char *op, const char *s, size_t n, int depth, const char *whole,
                    json_t **val, struct wr_buf *problems)
{
    char what[96];
    *val = NULL;
    if (strcmp(op, "is_null") == 0 || strcmp(op, "is_not_null") == 0) {
        if (n == 0)
            return 0;
        (void)snprintf(what, sizeof(what), "%s takes no value", op);
        (void)refuse(problems, whole, what);
        return -1;
    }
    if (n == 0) {
        (void)snprintf(what, sizeof(what), "%s needs a value", op);
        (void)refuse(problems, whole, what);
        return -1;
    }
    if (strcmp(op, "has") == 0 || strcmp(op, "any") == 0)
        *val = parse(s, n, depth + 1, whole, problems);
    else if (strcmp(op, "in") == 0 || strcmp(op, "not_in") == 0)
        *val = list_value(s, n);
    else
        *val = literal(s, n);
    if (*val == NULL && strcmp(op, "has") != 0 && strcmp(op, "any") != 0) {
        (void)snprintf(what, sizeof(what), "%s needs a JSON array or a comma-separated list", op);
        (void)refuse(problems, whole, what);
    }
    return *val != NULL ? 0 : -1;
}

/* The operator at p (before end): true with its length in *oplen, or false
 * after a problem. sep tells whether blanks separate it from the field. */
static bool operator_at(const char *p, const char *end, bool sep, size_t *oplen, const char *whole,
                        struct wr_buf *problems)
{
    for (const char *const *o = symbol_ops; *o != NULL; o++)
        if ((size_t)(end - p) >= strlen(*o) && strncmp(p, *o, strlen(*o)) == 0) {
            *oplen = strlen(*o);
            return true;
        }
    size_t n = 0;
    while (p + n < end && strchr(BLANKS, p[n]) == NULL)
        n++;
    if (n == 0) {
        (void)refuse(problems, whole, "an operator follows the field");
        return false;
    }
    if (!sep || !is_op(word_ops, p, n)) {
        char what[96];
        (void)snprintf(what, sizeof(what), "unknown operator '%.*s' (warren.1, FILTERS)",
                       (int)(n > 32 ? 32 : n), p);
        (void)refuse(problems, whole, what);
        return false;
    }
    *oplen = n;
    return true;
}

static json_t *parse(const char *s, size_t n, int depth, const char *whole, struct wr_buf *problems)
{
    if (depth > NESTING_MAX)
        return refuse(problems, whole, "has/any nested too deeply");
    trim(&s, &n);
    size_t field = 0;
    while (field < n && name_char(s[field]))
        field++;
    if (field == 0)
        return refuse(problems, whole, "a field name comes first");
    const char *p = s + field, *end = s + n;
    while (p < end && strchr(BLANKS, *p) != NULL)
        p++;
    size_t oplen = 0;
    if (!operator_at(p, end, p > s + field, &oplen, whole, problems))
        return NULL;
    char op[16];
    (void)snprintf(op, sizeof(op), "%.*s", (int)oplen, p);
    const char *v = p + oplen;
    size_t vlen = (size_t)(end - v);
    trim(&v, &vlen);
    json_t *val = NULL;
    if (value_of(op, v, vlen, depth, whole, &val, problems) != 0)
        return NULL;
    json_t *f = json_pack("{s:s%,s:s}", "name", s, field, "op", op);
    if (f != NULL && val != NULL && json_object_set(f, "val", val) != 0) {
        json_decref(f);
        f = NULL;
    }
    json_decref(val);
    if (f == NULL)
        (void)wr_buf_puts(problems, "out of memory\n");
    return f;
}

json_t *cli_filter_parse(const char *text, struct wr_buf *problems)
{
    return parse(text, strlen(text), 0, text, problems);
}

int cli_order_parse(const char *text, json_t *order_by, struct wr_buf *problems)
{
    const char *s = text, *end = text + strlen(text);
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *item = s;
        size_t n = (size_t)((comma != NULL ? comma : end) - s);
        trim(&item, &n);
        const char *direction = "asc";
        if (n > 0 && (item[0] == '-' || item[0] == '+')) {
            direction = item[0] == '-' ? "desc" : "asc";
            item++;
            n--;
        }
        size_t i = 0;
        while (i < n && name_char(item[i]))
            i++;
        if (n == 0 || i != n) {
            (void)wr_buf_printf(problems,
                                "--order '%s': expected [-]FIELD[,[-]FIELD...] (- for "
                                "descending)\n",
                                text);
            return WR_EINVAL;
        }
        json_t *o = json_pack("{s:s%,s:s}", "field", item, n, "direction", direction);
        if (o == NULL || json_array_append_new(order_by, o) != 0)
            return WR_ENOMEM;
        s = (comma != NULL ? comma : end) + 1;
    }
    return 0;
}

int cli_function_parse(const char *text, json_t *functions, struct wr_buf *problems)
{
    const char *colon = strchr(text, ':');
    size_t name = colon != NULL ? (size_t)(colon - text) : 0;
    bool ok = name > 0 && colon[1] != '\0';
    for (size_t i = 0; ok && i < name; i++)
        ok = text[i] >= 'a' && text[i] <= 'z';
    for (const char *p = ok ? colon + 1 : ""; ok && *p != '\0'; p++)
        ok = name_char(*p);
    if (!ok) {
        (void)wr_buf_printf(problems,
                            "function '%s': expected NAME:FIELD, e.g. sum:total (count, sum, avg, "
                            "min, max)\n",
                            text);
        return WR_EINVAL;
    }
    json_t *f = json_pack("{s:s%,s:s}", "name", text, name, "field", colon + 1);
    if (f == NULL || json_array_append_new(functions, f) != 0)
        return WR_ENOMEM;
    return 0;
}

int cli_search_q(const struct cli_search *s, struct wr_buf *out, struct wr_buf *problems)
{
    if (s->nfilters == 0 && s->norders == 0 && s->nfunctions == 0)
        return 0;
    json_t *q = json_object(), *filters = json_array(), *order_by = json_array(),
           *functions = json_array();
    int rc = q && filters && order_by && functions ? 0 : WR_ENOMEM;
    for (size_t i = 0; i < s->nfilters && rc != WR_ENOMEM; i++) {
        json_t *f = cli_filter_parse(s->filters[i], problems);
        if (f == NULL || json_array_append_new(filters, f) != 0)
            rc = WR_EINVAL;
    }
    for (size_t i = 0; i < s->norders && rc != WR_ENOMEM; i++)
        if (cli_order_parse(s->orders[i], order_by, problems) != 0)
            rc = WR_EINVAL;
    for (size_t i = 0; i < s->nfunctions && rc != WR_ENOMEM; i++)
        if (cli_function_parse(s->functions[i], functions, problems) != 0)
            rc = WR_EINVAL;
    if (rc == 0 && json_array_size(filters) > 0)
        rc = json_object_set(q, "filters", filters) == 0 ? 0 : WR_ENOMEM;
    if (rc == 0 && json_array_size(functions) > 0)
        rc = json_object_set(q, "functions", functions) == 0 ? 0 : WR_ENOMEM;
    if (rc == 0 && json_array_size(order_by) > 0)
        rc = json_object_set(q, "order_by", order_by) == 0 ? 0 : WR_ENOMEM;
    if (rc == 0) {
        wr_json_value(out, q);
        rc = wr_buf_error(out);
    }
    json_decref(q);
    json_decref(filters);
    json_decref(order_by);
    json_decref(functions);
    return rc;
}
