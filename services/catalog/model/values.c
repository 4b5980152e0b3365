/* JSON values -> column values (see values.h): the type table and the date
 * rule, the one place writes and filters take them from. */
#include "model/values.h"

#include <stdio.h>
#include <string.h>

#define LIKE_DATE "is not a date (like 2009-01-01)"
#define LIKE_DATETIME "is not a date (like 2009-01-01T00:00:00)"

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* The time after a date at s[10..n): 'T' or ' ', "HH:MM", ":SS", ".digits"
 * (the fraction less its trailing zeros goes to *frac, *nfrac). */
static bool parse_time(const char *s, size_t n, int *h, int *mi, int *se, const char **frac,
                       size_t *nfrac)
{
    size_t i = 10;
    if ((s[i] != 'T' && s[i] != ' ') || n < i + 6 || !digits(s + i + 1, 2, h) || s[i + 3] != ':' ||
        !digits(s + i + 4, 2, mi))
        return false;
    i += 6;
    if (i < n && (s[i] != ':' || n < i + 3 || !digits(s + i + 1, 2, se)))
        return false;
    i += i < n ? 3 : 0;
    if (i < n) {
        int ignored;
        if (s[i] != '.' || n - i - 1 < 1 || n - i - 1 > 9 ||
            !digits(s + i + 1, n - i - 1, &ignored))
            return false;
        *frac = s + i + 1;
        *nfrac = n - i - 1;
        while (*nfrac > 0 && (*frac)[*nfrac - 1] == '0')
            (*nfrac)--;
    }
    return *h <= 23 && *mi <= 59 && *se <= 59;
}

bool value_norm_date(const char *s, size_t n, enum col_type type, char *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    const char *frac = "";
    size_t nfrac = 0;
    if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo))
        return false;
    if (n > 10 && !parse_time(s, n, &h, &mi, &se, &frac, &nfrac))
        return false;
    if (type == COL_DATE) {
        if (h != 0 || mi != 0 || se != 0 || nfrac != 0)
            return false;
        (void)snprintf(out, VALUE_SCRATCH, "%04d-%02d-%02d", y, mo, d);
    } else {
        (void)snprintf(out, VALUE_SCRATCH, "%04d-%02d-%02d %02d:%02d:%02d%s%.*s", y, mo, d, h, mi,
                       se, nfrac ? "." : "", (int)nfrac, frac);
    }
    return true;
}

/* A string for a column of type: text, or a date normalised into scratch. */
static const char *from_string(enum col_type type, const json_t *v, enum value_use use,
                               struct value *out, char *scratch)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    *out = (struct value){.kind = V_TEXT, .s = s, .n = n};
    if (type == COL_DATE || type == COL_DATETIME) {
        if (!value_norm_date(s, n, type, scratch))
            return type == COL_DATE ? LIKE_DATE : LIKE_DATETIME;
        *out = (struct value){.kind = V_TEXT, .s = scratch, .n = strlen(scratch)};
        return NULL;
    }
    if (use == VALUE_STORE && type == COL_INTEGER)
        return "must be an integer";
    if (use == VALUE_STORE && type == COL_REAL)
        return "must be a number";
    return NULL;
}

const char *value_from_json(enum col_type type, const json_t *v, enum value_use use,
                            struct value *out, char *scratch)
{
    bool store = use == VALUE_STORE;
    bool date = type == COL_DATE || type == COL_DATETIME;
    bool text = type == COL_TEXT;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return from_string(type, v, use, out, scratch);
    case JSON_NULL:
        *out = (struct value){.kind = V_NULL};
        return store ? NULL : "val must be a string, number or boolean";
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_INTEGER:
        *out = (struct value){.kind = V_INT,
                              .i = json_is_integer(v) ? json_integer_value(v) : json_is_true(v)};
        break;
    case JSON_REAL:
        *out = (struct value){.kind = V_REAL, .d = json_real_value(v)};
        if (store && type == COL_INTEGER)
            return "must be an integer";
        break;
    default:
        if (date)
            break;
        return store ? "must be a string, number, boolean or null"
                     : "val must be a string, number or boolean";
    }
    if (date)
        return "a date must be a string";
    return store && text ? "must be a string" : NULL;
}
