/* Canonical JSON writers (see json.h): the exact bytes of Python's
 * json.dumps(obj, sort_keys=True, separators=(",", ":")), so that clients of
 * the Flask-Restless service we replace see no difference. Strings are
 * escaped to ASCII, reals use Python's shortest round-trip repr. */
#include "warren/json.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swar.h"
#include "warren/codec.h"
#include "warren/err.h"

/* Object keys beyond this many are sorted in a heap array instead of on the stack. */
#define WR_JSON_STACK_KEYS 16

/* Input bytes escaped on the stack before one append: the most a byte
 * becomes is 6 (\u00xx, \ufffd), and a UTF-8 sequence may run 3 past. */
#define STR_CHUNK 256
#define STR_CHUNK_OUT (6 * STR_CHUNK + 24)

/* Bytes that go out as they are; everything else needs an escape or decoding. */
static bool is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The bytes of x that are not plain, as wr__swar_* flags. */
static uint64_t not_plain(uint64_t x)
{
    return wr__swar_lt(x, 0x20) | wr__swar_eq(x, '"') | wr__swar_eq(x, '\\') | wr__swar_ge(x, 0x7f);
}

/* Writes \uxxxx for one UTF-16 code unit at o; returns the end. */
static char *put_u16(char *o, unsigned u)
{
    o[0] = '\\';
    o[1] = 'u';
    for (int i = 0; i < 4; i++)
        o[2 + i] = wr_hex_lower[(u >> (12 - 4 * i)) & 0xf];
    return o + 6;
}

/* Writes a code point as Python's ensure_ascii does: one \u escape, or a
 * surrogate pair above the Basic Multilingual Plane. */
static char *put_codepoint(char *o, uint32_t cp)
{
    if (cp < 0x10000)
        return put_u16(o, cp);
    cp -= 0x10000;
    o = put_u16(o, 0xd800 | (cp >> 10));
    return put_u16(o, 0xdc00 | (cp & 0x3ff));
}

/* JSON's short escapes: the letter after the backslash, by byte. */
static const char short_escape[0x80] = {['"'] = '"',  ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r',
                                        ['\t'] = 't', ['\b'] = 'b',  ['\f'] = 'f'};

/* Writes an ASCII byte that is not plain: a short escape where JSON has
 * one, else \u00xx. */
static char *put_ascii_escape(char *o, unsigned char c)
{
    if (short_escape[c] == '\0')
        return put_u16(o, c);
    o[0] = '\\';
    o[1] = short_escape[c];
    return o + 2;
}

/* Escapes the bytes of p (n in all) from *i until at least end into o (of
 * STR_CHUNK_OUT bytes when end - *i <= STR_CHUNK); returns o's end. Plain
 * runs go 8 bytes at a time; a UTF-8 sequence is never split. */
static char *escape_chunk(const unsigned char *p, size_t n, size_t *i, size_t end, char *o)
{
    while (*i < end) {
        if (end - *i >= 8) {
            uint64_t x = wr__swar_load(p + *i), m = not_plain(x);
            size_t k = m == 0 ? 8 : wr__swar_first(m);
            wr__swar_store(o, x);
            o += k;
            *i += k;
            if (k == 8)
                continue;
        }
        unsigned char c = p[*i];
        if (is_plain(c)) {
            *o++ = (char)c;
            (*i)++;
        } else if (c < 0x80) {
            o = put_ascii_escape(o, c);
            (*i)++;
        } else {
            uint32_t cp = 0;
            size_t len = wr_utf8_decode(p + *i, n - *i, &cp);
            /* An invalid byte costs one U+FFFD and decoding resumes at the
             * next byte, so a truncated sequence yields one U+FFFD per byte. */
            o = put_codepoint(o, len > 0 ? cp : 0xfffd);
            *i += len > 0 ? len : 1;
        }
    }
    return o;
}

/* The plain bytes that start the n bytes at p, copied to o (which has
 * room for n): their count. Eight at a time, the last few by one load that
 * overlaps bytes checked already, so no store passes o + n; bytes past the
 * count may be written too (the caller's next write covers them). */
static size_t copy_plain(const unsigned char *p, size_t n, char *o)
{
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t x = wr__swar_load(p + i), m = not_plain(x);
        wr__swar_store(o + i, x);
        if (m != 0)
            return i + wr__swar_first(m);
    }
    if (i == n)
        return n;
    if (n >= 8) {
        /* the last 8 bytes, overlapping those checked already */
        uint64_t x = wr__swar_load(p + n - 8), m = not_plain(x);
        wr__swar_store(o + n - 8, x);
        return m == 0 ? n : n - 8 + wr__swar_first(m);
    }
    while (i < n && is_plain(p[i])) {
        o[i] = (char)p[i];
        i++;
    }
    return i;
}

/* Escapes the n bytes at p from i on, then the closing quote: into the
 * buffer when it has room for a chunk's worst case, else through a chunk
 * on the stack (near max, where the worst case would not fit but the
 * escaped text may). */
static void put_escaped(struct wr_buf *b, const unsigned char *p, size_t n, size_t i)
{
    while (i < n) {
        size_t end = n - i > STR_CHUNK ? i + STR_CHUNK : n;
        char *room = wr__buf_room(b, STR_CHUNK_OUT);
        if (room != NULL) {
            char *o = escape_chunk(p, n, &i, end, room);
            b->len += (size_t)(o - room);
            b->data[b->len] = '\0';
            continue;
        }
        char out[STR_CHUNK_OUT];
        char *o = escape_chunk(p, n, &i, end, out);
        wr_buf_append(b, out, (size_t)(o - out));
    }
}

/* A JSON string of the n bytes at s, and after it the byte after (none
 * when NUL). Most strings are short keys and values with nothing to
 * escape: those go straight into the buffer, in one reservation. */
static void put_str(struct wr_buf *b, const char *s, size_t n, char after)
{
    const unsigned char *p = (const unsigned char *)s;
    /* the quotes and after: n + 3 */
    char *o = n <= SIZE_MAX - 16 ? wr__buf_room(b, n + 3) : NULL;
    size_t i = 0;
    if (o != NULL) {
        o[0] = '"';
        i = copy_plain(p, n, o + 1);
        if (i == n) {
            o[n + 1] = '"';
            o[n + 2] = after;
            b->len += n + 2 + (after != '\0');
            b->data[b->len] = '\0';
            return;
        }
        b->len += 1 + i;
        b->data[b->len] = '\0';
    } else {
        wr_buf_putc(b, '"');
    }
    put_escaped(b, p, n, i);
    wr_buf_putc(b, '"');
    if (after != '\0')
        wr_buf_putc(b, after);
}

void wr_json_str(struct wr_buf *b, const char *s, size_t n)
{
    put_str(b, s, n, '\0');
}

void wr_json_cstr(struct wr_buf *b, const char *s)
{
    put_str(b, s, strlen(s), '\0');
}

void wr_json_key(struct wr_buf *b, const char *key)
{
    put_str(b, key, strlen(key), ':');
}

void wr_json_int(struct wr_buf *b, int64_t v)
{
    /* straight into the buffer when it has room for any int64_t (20
     * characters and the NUL wr_decimal_signed writes), else through one
     * append, which keeps the sticky error right near the cap */
    char *o = wr__buf_room(b, 20);
    if (o != NULL) {
        b->len += wr_decimal_signed(o, v);
        return;
    }
    char out[21];
    wr_buf_append(b, out, wr_decimal_signed(out, v));
}

void wr_json_null(struct wr_buf *b)
{
    wr_buf_append(b, "null", 4);
}

void wr_json_bool(struct wr_buf *b, int v)
{
    if (v)
        wr_buf_append(b, "true", 4);
    else
        wr_buf_append(b, "false", 5);
}

/* Rounds v (finite, >= 0) to prec significant digits: v ~= d.ddd x 10^exp.
 * Returns the number of digits (prec). */
static size_t rounded_digits(double v, int prec, char digits[18], int *exp)
{
    char text[32];
    (void)snprintf(text, sizeof text, "%.*e", prec - 1, v);
    /* text is "d[.ddd]e[+-]xx": take the digits, then the exponent. A finite
     * v always gives that form; the bounds keep any other text harmless. */
    size_t n = 0;
    const char *p = text;
    for (; *p != 'e' && *p != '\0'; p++) {
        if (*p != '.' && n < 17)
            digits[n++] = *p;
    }
    *exp = *p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0;
    return n;
}

/* Whether the decimal d.ddd x 10^exp reads back as v. */
static bool reads_back(const char *digits, size_t n, int exp, double v)
{
    char text[40];
    if (n == 0)
        return false;
    text[0] = digits[0];
    text[1] = '.';
    memcpy(text + 2, digits + 1, n - 1);
    (void)snprintf(text + n + 1, sizeof text - n - 1, "e%d", exp);
    return strtod(text, NULL) == v;
}

/* Adds one in the last of the n digits; 9.99 becomes 1.00 one decade up. */
static void next_decimal_up(char *digits, size_t n, int *exp)
{
    size_t i = n;
    while (i > 0 && digits[i - 1] == '9')
        digits[--i] = '0';
    if (i > 0) {
        digits[i - 1]++;
        return;
    }
    digits[0] = '1';
    ++*exp;
}

/* A normal power of two has half as much room below it as above it before
 * the neighbouring double, so the nearest decimal of some length may miss
 * while the next one up still reads back. */
static bool is_lopsided(double v)
{
    int e;
    return v > DBL_MIN && frexp(v, &e) == 0.5;
}

/* The shortest digits of v (finite, >= 0) when v is m x 10^-k for an
 * integer m < 10^15 and k <= 6, as prices, durations and most stored reals
 * are; 0 otherwise. Any two decimals of at most 15 significant digits
 * (DBL_DIG) that read back as one double are the same number, so the
 * first k that fits gives the shortest digits, and the only ones: what
 * shortest_digits finds, without its printf and strtod round trips (a
 * third of a list page's rendering). m / 10^k is one correctly rounded
 * division, so it equals v exactly when the decimal reads back as v. */
static size_t short_decimal_digits(double v, char digits[18], int *exp)
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    if (!(v < 1e9))
        return 0;
    for (int k = 0; k < (int)(sizeof pow10 / sizeof pow10[0]); k++) {
        double m = nearbyint(v * pow10[k]);
        if (m / pow10[k] != v)
            continue;
        char all[21];
        size_t len = wr_decimal(all, (uint64_t)m); /* m < 10^15: at most 15 digits */
        memcpy(digits, all, len);
        *exp = m == 0 ? 0 : (int)len - 1 - k;
        while (len > 1 && digits[len - 1] == '0')
            len--;
        return len;
    }
    return 0;
}

/* The shortest decimal digits that read back as v (finite, >= 0), nearest
 * to v among those, as David Gay's dtoa (Python's repr) picks them. glibc's
 * printf and strtod round correctly, so for each length the %e text is the
 * nearest candidate; only around powers of two can the next one up be the
 * shortest instead. Returns the number of digits, trailing zeros dropped. */
static size_t shortest_digits(double v, char digits[18], int *exp)
{
    bool lopsided = is_lopsided(v);
    size_t n = 17;
    for (int prec = 1; prec <= 17; prec++) {
        n = rounded_digits(v, prec, digits, exp);
        if (reads_back(digits, n, *exp, v))
            break;
        if (lopsided) {
            int up_exp = *exp;
            char up[18];
            memcpy(up, digits, n);
            next_decimal_up(up, n, &up_exp);
            if (reads_back(up, n, up_exp, v)) {
                memcpy(digits, up, n);
                *exp = up_exp;
                break;
            }
        }
    }
    /* 17 digits always read back, so the loop ends with n digits that do. */
    while (n > 1 && digits[n - 1] == '0')
        n--;
    return n;
}

static void put_zeros(struct wr_buf *b, int count)
{
    for (int i = 0; i < count; i++)
        wr_buf_putc(b, '0');
}

/* Python's repr in scientific form: 1e+16, 1.5e-07 (two exponent digits at least). */
static void put_scientific(struct wr_buf *b, const char *digits, size_t n, int exp)
{
    wr_buf_putc(b, digits[0]);
    if (n > 1) {
        wr_buf_putc(b, '.');
        wr_buf_append(b, digits + 1, n - 1);
    }
    wr_buf_putc(b, 'e');
    wr_buf_putc(b, exp < 0 ? '-' : '+');
    int mag = exp < 0 ? -exp : exp;
    if (mag < 10)
        wr_buf_putc(b, '0');
    wr_json_int(b, mag);
}

/* Python's repr in positional form, which always shows a fraction: 100.0, 0.001. */
static void put_positional(struct wr_buf *b, const char *digits, size_t n, int exp)
{
    if (exp < 0) {
        wr_buf_append(b, "0.", 2);
        put_zeros(b, -exp - 1);
        wr_buf_append(b, digits, n);
        return;
    }
    size_t whole = (size_t)exp + 1;
    if (n <= whole) {
        wr_buf_append(b, digits, n);
        put_zeros(b, (int)(whole - n));
        wr_buf_append(b, ".0", 2);
        return;
    }
    wr_buf_append(b, digits, whole);
    wr_buf_putc(b, '.');
    wr_buf_append(b, digits + whole, n - whole);
}

void wr_json_real(struct wr_buf *b, double v)
{
    /* Python would write NaN or Infinity, which is not JSON; we write null. */
    if (!isfinite(v)) {
        wr_json_null(b);
        return;
    }
    if (signbit(v))
        wr_buf_putc(b, '-');
    char digits[18];
    int exp = 0;
    size_t n = short_decimal_digits(fabs(v), digits, &exp);
    if (n == 0)
        n = shortest_digits(fabs(v), digits, &exp);
    /* repr's switch: positional for exponents -4..15, as float_repr_style 'short'. */
    if (exp >= -4 && exp < 16)
        put_positional(b, digits, n, exp);
    else
        put_scientific(b, digits, n, exp);
}

int wr_json_key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key as jansson stores it; the length keeps any embedded NUL. */
struct key_ref {
    const char *key;
    size_t len;
    json_t *value;
};

/* Byte order over (key, len), which is wr_json_key_cmp's order for keys
 * without NUL and code point order for every valid UTF-8 key. */
static int key_ref_cmp(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static void put_object(struct wr_buf *b, const json_t *obj)
{
    struct key_ref stack_keys[WR_JSON_STACK_KEYS];
    struct key_ref *keys = stack_keys;
    size_t count = json_object_size(obj);
    if (count > WR_JSON_STACK_KEYS) {
        keys = malloc(count * sizeof *keys);
        if (keys == NULL) {
            /* buf.h has no setter; the sticky error is its public field. */
            if (b->err == 0)
                b->err = WR_ENOMEM;
            return;
        }
    }
    size_t n = 0;
    const char *key;
    size_t len;
    json_t *value;
    /* json_object_keylen_foreach does not take a const object, but only reads it. */
    json_object_keylen_foreach((json_t *)obj, key, len, value) {
        keys[n++] = (struct key_ref){.key = key, .len = len, .value = value};
    }
    qsort(keys, n, sizeof *keys, key_ref_cmp);
    wr_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            wr_buf_putc(b, ',');
        put_str(b, keys[i].key, keys[i].len, ':');
        wr_json_value(b, keys[i].value);
    }
    wr_buf_putc(b, '}');
    if (keys != stack_keys)
        free(keys);
}

static void put_array(struct wr_buf *b, const json_t *arr)
{
    size_t n = json_array_size(arr);
    wr_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            wr_buf_putc(b, ',');
        wr_json_value(b, json_array_get(arr, i));
    }
    wr_buf_putc(b, ']');
}

void wr_json_value(struct wr_buf *b, const json_t *v)
{
    /* Deep documents fail fast once the buffer has failed. */
    if (wr_buf_error(b) != 0)
        return;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(b, v);
        break;
    case JSON_ARRAY:
        put_array(b, v);
        break;
    case JSON_STRING:
        wr_json_str(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        wr_json_int(b, json_integer_value(v));
        break;
    case JSON_REAL:
        wr_json_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        wr_json_bool(b, 1);
        break;
    case JSON_FALSE:
        wr_json_bool(b, 0);
        break;
    case JSON_NULL:
        wr_json_null(b);
        break;
    }
}

void wr_json_error(struct wr_buf *b, const char *code, const char *message)
{
    wr_buf_puts(b, "{\"code\":");
    wr_json_cstr(b, code);
    wr_buf_puts(b, ",\"message\":");
    wr_json_cstr(b, message);
    wr_buf_putc(b, '}');
}
