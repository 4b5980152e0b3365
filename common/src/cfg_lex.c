/* The config file's lexer (see cfg_int.h): character classes, decimal
 * integers, and the Python literals a value may be (quoted strings with
 * Python's escapes, integers, True and False). Pure: no I/O. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "warren/codec.h"
#include "warren/err.h"

bool wr__is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f';
}

const char *wr__skip_space(const char *s, const char *end)
{
    while (s < end && wr__is_space(*s))
        s++;
    return s;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool wr__is_ident_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || is_digit(c);
}

bool wr__is_ident(const char *s, size_t n)
{
    if (n == 0 || is_digit(s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!wr__is_ident_char(s[i]))
            return false;
    return true;
}

bool wr__equals(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

int wr__parse_long(const char *s, size_t n, long *out)
{
    size_t sign = n > 0 && (s[0] == '+' || s[0] == '-');
    if (n == sign)
        return WR_EINVAL;
    for (size_t i = sign; i < n; i++)
        if (!is_digit(s[i]))
            return WR_EINVAL;
    char tmp[32]; /* strtol needs a NUL; more digits than this cannot fit */
    if (n >= sizeof(tmp))
        return WR_ETOOBIG;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol(tmp, &end, 10);
    if (errno == ERANGE)
        return WR_ETOOBIG;
    if (errno != 0 || end != tmp + n)
        return WR_EINVAL;
    *out = v;
    return 0;
}

/* Python's \xHH is the code point U+00HH, which the Python app would encode
 * as UTF-8; do the same so both read one file alike. */
static int put_code_point(struct wr__lit *lit, unsigned cp)
{
    if (cp == 0) {
        lit->why = "NUL characters are not allowed";
        return WR_EINVAL;
    }
    if (cp < 0x80)
        return wr_buf_putc(&lit->str, (char)cp);
    (void)wr_buf_putc(&lit->str, (char)(0xc0 | (cp >> 6)));
    return wr_buf_putc(&lit->str, (char)(0x80 | (cp & 0x3f)));
}

/* *pp is just past a backslash inside a string. */
static int scan_escape(const char **pp, const char *end, struct wr__lit *lit)
{
    const char *s = *pp;
    char c = '\0';
    if (s < end)
        c = *s++;
    *pp = s;
    switch (c) {
    case '\\':
    case '\'':
    case '"':
        return wr_buf_putc(&lit->str, c);
    case 'n':
        return wr_buf_putc(&lit->str, '\n');
    case 't':
        return wr_buf_putc(&lit->str, '\t');
    case 'r':
        return wr_buf_putc(&lit->str, '\r');
    case 'x':
        break;
    default:
        lit->why = "unsupported escape sequence";
        return WR_EINVAL;
    }
    int hi = end - s >= 2 ? wr_hex_value(s[0]) : -1;
    int lo = end - s >= 2 ? wr_hex_value(s[1]) : -1;
    if (hi < 0 || lo < 0) {
        lit->why = "\\x needs two hex digits";
        return WR_EINVAL;
    }
    *pp = s + 2;
    return put_code_point(lit, (unsigned)(hi * 16 + lo));
}

static int scan_string(const char **pp, const char *end, struct wr__lit *lit)
{
    const char *s = *pp;
    char quote = *s++;
    lit->kind = WR__LIT_STR;
    while (s < end && *s != quote) {
        char c = *s++;
        int rc = 0;
        if (c == '\\')
            rc = scan_escape(&s, end, lit);
        else if (c != '\0')
            rc = wr_buf_putc(&lit->str, c);
        else
            rc = put_code_point(lit, 0); /* says why NUL is refused */
        if (rc != 0)
            return rc == WR_EINVAL ? rc : WR_ENOMEM;
    }
    if (s == end) {
        lit->why = "unterminated string";
        return WR_EINVAL;
    }
    *pp = s + 1;
    return 0;
}

/* Python rejects "007"; so do we, rather than guess octal or decimal. */
static bool leading_zero(const char *s, size_t n)
{
    size_t i = n > 0 && (s[0] == '+' || s[0] == '-');
    if (i >= n || s[i] != '0')
        return false;
    for (; i < n; i++)
        if (s[i] != '0')
            return true;
    return false;
}

int wr__lit_scan(const char **pp, const char *end, struct wr__lit *lit)
{
    const char *s = *pp;
    if (s < end && (*s == '\'' || *s == '"'))
        return scan_string(pp, end, lit);
    const char *t = s;
    while (t < end && !wr__is_space(*t) && *t != '#')
        t++;
    *pp = t;
    size_t n = (size_t)(t - s);
    if (n == 0) {
        lit->why = "missing value";
        return WR_EINVAL;
    }
    if (wr__equals(s, n, "True") || wr__equals(s, n, "False")) {
        lit->kind = WR__LIT_BOOL;
        lit->truth = n == 4;
        return 0;
    }
    int rc = wr__parse_long(s, n, &lit->num);
    if (rc == WR_EINVAL)
        return 0; /* WR__LIT_OTHER */
    if (leading_zero(s, n)) {
        lit->why = "leading zeros are not allowed in integers";
        return WR_EINVAL;
    }
    lit->kind = WR__LIT_INT;
    lit->overflow = rc != 0;
    return 0;
}
