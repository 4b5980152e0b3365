/* The JSON value scanner (see warren/json_scan.h): one pass, no values
 * built, the nesting kept as a flag a level (object or array) in an
 * array, so that no input can make it recurse. A page body is mostly short strings and the
 * punctuation between them, so the cost is per token: the states are one
 * function's labels (a call per token cost twice the instructions,
 * callgrind), and strings are skipped sixteen bytes at a time (SSE2, on
 * every x86-64; elsewhere eight, swar.h) to the next byte that may end a
 * plain run. */
#include "warren/json_scan.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "swar.h"
#include "warren/codec.h"

#if defined(__SSE2__)
#include <emmintrin.h>

/* The bytes of the 16 at p that may end a plain run, as a bit each (bit
 * i: byte i): '"', '\\', and, as signed bytes below 0x20, both the control
 * characters and every byte from 0x80. */
static inline unsigned not_plain16(const unsigned char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i stop =
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
    stop = _mm_or_si128(stop, _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(stop);
}
#endif

typedef const unsigned char *pos;

/* Past the white space at p. Compact JSON has none: one test then. */
static inline pos skip_ws(pos p, pos end)
{
    while (p < end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* The four hex digits at p as *v; p has four bytes. */
static bool hex4(pos p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = wr_hex_value((char)p[i]);
        if (d < 0)
            return false;
        *v = *v << 4 | (unsigned)d;
    }
    return true;
}

/* \u and four hex digits at p, as *cp; the end, or NULL. */
static pos u_escape(pos p, pos end, unsigned *cp)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, cp))
        return NULL;
    return p + 6;
}

/* The escape at p (its backslash); its end, or NULL. A surrogate must come
 * as a high one followed by a low one: alone, readers disagree about it. */
static pos skip_escape(pos p, pos end)
{
    if (end - p >= 2 && p[1] != 'u')
        return p[1] != '\0' && strchr("\"\\/bfnrt", p[1]) != NULL ? p + 2 : NULL;
    unsigned hi, lo;
    p = u_escape(p, end, &hi);
    if (p == NULL || (hi >= 0xdc00 && hi <= 0xdfff))
        return NULL;
    if (hi < 0xd800 || hi > 0xdbff)
        return p;
    p = u_escape(p, end, &lo);
    return p != NULL && lo >= 0xdc00 && lo <= 0xdfff ? p : NULL;
}

/* The bytes of x that may end a plain run: '"', '\\', below 0x20, from
 * 0x80 (one subtraction flags both ends of the range). */
static uint64_t not_plain(uint64_t x)
{
    return ((x - WR__SWAR_ONES * 0x20) | x | wr__swar_eq(x, '"') | wr__swar_eq(x, '\\')) &
           WR__SWAR_HIGHS;
}

/* Past the plain bytes at p, a block at a time: at the first byte that
 * may end the run, or among the last few (fewer than a block), which the
 * caller reads one at a time. */
static inline pos skip_plain(pos p, pos end)
{
#if defined(__SSE2__)
    for (; end - p >= 16; p += 16) {
        unsigned m = not_plain16(p);
        if (m != 0)
            return p + __builtin_ctz(m);
    }
#endif
    for (; end - p >= 8; p += 8) {
        uint64_t m = not_plain(wr__swar_load(p));
        if (m != 0)
            return p + wr__swar_first(m);
    }
    return p;
}

/* The string after the opening quote at p: past its closing quote, or
 * NULL. Inlined: most strings are a key of a few bytes. */
static inline __attribute__((always_inline)) pos skip_string(pos p, pos end)
{
    pos start = p;
    bool high = false; /* a byte >= 0x80: UTF-8 to check */
    for (;;) {
        p = skip_plain(p, end);
        /* the byte that ended the plain run: most often the closing quote */
        if (p >= end)
            return NULL;
        unsigned char c = *p;
        if (c == '"')
            break;
        if (c == '\\') {
            p = skip_escape(p, end);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (c < 0x20)
            return NULL;
        high = high || c >= 0x80;
        p++;
    }
    if (high && !wr_utf8_valid((const char *)start, (size_t)(p - start)))
        return NULL;
    return p + 1;
}

static pos skip_digits(pos p, pos end)
{
    while (p < end && (unsigned)(*p - '0') < 10u)
        p++;
    return p;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at p: its end, or NULL. */
static pos skip_number(pos p, pos end)
{
    p += p < end && *p == '-';
    if (p >= end)
        return NULL;
    if (*p == '0')
        p++;
    else if ((unsigned)(*p - '1') < 9u)
        p = skip_digits(p + 1, end);
    else
        return NULL;
    /* most numbers are integers: one test for what else may follow */
    if (p >= end || (*p != '.' && (*p | 0x20) != 'e'))
        return p;
    if (*p == '.') {
        pos d = p + 1;
        p = skip_digits(d, end);
        if (p == d)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        p += p < end && (*p == '+' || *p == '-');
        pos d = p;
        p = skip_digits(d, end);
        if (p == d)
            return NULL;
    }
    return p;
}

/* A scalar at p (not an array or object): its end, or NULL. */
static pos skip_scalar(pos p, pos end)
{
    size_t left = (size_t)(end - p);
    switch (*p) {
    case '"':
        return skip_string(p + 1, end);
    case 't':
        return left >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return left >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return left >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return skip_number(p, end);
    }
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

size_t wr_json_value_len(const char *text, size_t n)
{
    pos p = (pos)text, end = p + n;
    bool object[WR_JSON_DEPTH_MAX]; /* whether each open level is an object */
    int depth = 0;
    bool in_obj = false; /* object[depth - 1], kept at hand */
    /* White space is rare (compact JSON has none): each state tests for
     * what it expects first and skips white space only when the byte is
     * one of them or a control character (which skip_ws stops at). */
value: /* a value starts at p (after white space when not at the top) */
    if (p >= end)
        return 0;
    if (*p == '"') {
        p = skip_string(p + 1, end);
        if (p == NULL)
            return 0;
        goto after;
    }
    if (*p == '{' || *p == '[') {
        if (depth == WR_JSON_DEPTH_MAX)
            return 0;
        in_obj = *p == '{';
        object[depth++] = in_obj;
        p++;
        if (p < end && *p <= ' ')
            p = skip_ws(p, end);
        if (p < end && *p == (in_obj ? '}' : ']')) {
            p++;
            goto closed;
        }
        if (in_obj)
            goto key;
        goto value;
    }
    if (depth > 0 && is_ws(*p)) {
        p = skip_ws(p, end);
        goto value;
    }
    p = skip_scalar(p, end);
    if (p == NULL)
        return 0;
after: /* a value ended at p */
    if (depth == 0)
        return (size_t)(p - (pos)text);
    if (p < end && *p <= ' ')
        p = skip_ws(p, end);
    if (p >= end)
        return 0;
    if (*p == ',') {
        p++;
        if (in_obj)
            goto key;
        goto value;
    }
    if (*p != (in_obj ? '}' : ']'))
        return 0;
    p++;
closed: /* the innermost level closed before p */
    depth--;
    in_obj = depth > 0 && object[depth - 1];
    goto after;
key: /* an object's key starts at p, or white space before it */
    if (p < end && *p <= ' ')
        p = skip_ws(p, end);
    if (p >= end || *p != '"')
        return 0;
    p = skip_string(p + 1, end);
    if (p == NULL)
        return 0;
    if (p < end && *p <= ' ')
        p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return 0;
    p++;
    goto value;
}

/* The white space at the n bytes at s: its length. */
static size_t ws_len(const char *s, size_t n)
{
    return (size_t)((const char *)skip_ws((pos)s, (pos)s + n) - s);
}

bool wr_json_is_one_value(const char *s, size_t n)
{
    if (s == NULL)
        return false;
    size_t lead = ws_len(s, n);
    size_t v = wr_json_value_len(s + lead, n - lead);
    return v > 0 && lead + v + ws_len(s + lead + v, n - lead - v) == n;
}
