/* The strict JSON token reader (see json_read.h). */
#include "json_read.h"

#include <stdint.h>
#include <string.h>

#include "swar.h"
#include "warren/codec.h"

static int hex4(const char *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = wr_hex_value(p[i]);
        if (d < 0)
            return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

static char *utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* The escape after a backslash at r->p (past it); its bytes written to
 * r->out. A \u escape of a surrogate must be a high one followed by
 * \u and a low one. */
static int unescape(struct wr__jread *r)
{
    if (r->p >= r->end)
        return -1;
    char one = 0;
    switch (*r->p) {
    case '"':
    case '\\':
    case '/':
        one = *r->p;
        break;
    case 'b':
        one = '\b';
        break;
    case 'f':
        one = '\f';
        break;
    case 'n':
        one = '\n';
        break;
    case 'r':
        one = '\r';
        break;
    case 't':
        one = '\t';
        break;
    default:
        break;
    }
    if (one != 0) {
        *r->out++ = one;
        r->p++;
        return 0;
    }
    uint32_t cp, lo;
    if (*r->p != 'u' || r->end - r->p < 5 || hex4(r->p + 1, &cp) != 0)
        return -1;
    r->p += 5;
    if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
        return -1; /* NUL (no string here may hold one), or a lone low surrogate */
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) != 0 ||
            lo < 0xdc00 || lo > 0xdfff)
            return -1;
        r->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    r->out = utf8_put(r->out, cp);
    return 0;
}

/* Copies the plain bytes at r->p to r->out, 8 at a time, up to the first
 * byte that may end the run ('"', '\\', a control character, a byte >=
 * 0x80) or the last 7 bytes. A copy of 8 fits: the store never runs ahead
 * of the body. */
static void plain_run(struct wr__jread *r)
{
    while (r->end - r->p >= 8) {
        uint64_t x = wr__swar_load(r->p);
        wr__swar_store(r->out, x);
        uint64_t m = wr__swar_lt(x, 0x20) | wr__swar_eq(x, '"') | wr__swar_eq(x, '\\') |
                     wr__swar_ge(x, 0x80);
        size_t k = m == 0 ? 8 : wr__swar_first(m);
        r->out += k;
        r->p += k;
        if (k < 8)
            return;
    }
}

int wr__jread_str(struct wr__jread *r, const char **s, size_t *n)
{
    if (!wr__jread_take(r, '"'))
        return -1;
    char *start = r->out;
    bool high = false; /* a raw byte >= 0x80: UTF-8 to check */
    for (;;) {
        plain_run(r);
        if (r->p >= r->end)
            return -1; /* unterminated */
        unsigned char c = (unsigned char)*r->p++;
        if (c == '"')
            break;
        if (c == '\\') {
            if (unescape(r) != 0)
                return -1;
        } else if (c < 0x20) {
            return -1; /* a raw control character */
        } else {
            high = high || c >= 0x80;
            *r->out++ = (char)c;
        }
    }
    *n = (size_t)(r->out - start);
    *r->out++ = '\0';
    if (high && !wr_utf8_valid(start, *n))
        return -1;
    *s = start;
    return 0;
}

int wr__jread_int(struct wr__jread *r, long long lo, long long hi, long long *out)
{
    wr__jread_ws(r);
    bool neg = r->p < r->end && *r->p == '-';
    const char *d = r->p + neg;
    size_t n = 0;
    long long v = 0;
    while (d + n < r->end && d[n] >= '0' && d[n] <= '9' && n < WR__JREAD_DIGITS_MAX)
        v = v * 10 + (d[n++] - '0');
    const char *after = d + n;
    if (n == 0 || (d[0] == '0' && n > 1) ||
        (after < r->end && strchr(".eE0123456789", *after) != NULL && *after != '\0'))
        return -1;
    v = neg ? -v : v;
    if (v < lo || v > hi)
        return -1;
    r->p = after;
    *out = v;
    return 0;
}
