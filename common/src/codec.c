/* Hex, base64, FNV-1a and UTF-8 (see codec.h): each rule once, for the
 * edge, the workers and the client library alike. */
#include "warren/codec.h"

#include <string.h>

#include "swar.h"

const char wr_hex_lower[16] = "0123456789abcdef";

int wr_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool wr_lower_word(const char *s, size_t max, char extra)
{
    size_t n = 0;
    for (; s != NULL && s[n] != '\0'; n++) {
        char c = s[n];
        if (n == max || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == extra))
            return false;
    }
    return n > 0;
}

bool wr_pct_decode(const char *s, size_t n, char *out, size_t cap, bool plus_space)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3 || wr_hex_value(s[i + 1]) < 0 || wr_hex_value(s[i + 2]) < 0)
                return false;
            c = (char)(wr_hex_value(s[i + 1]) * 16 + wr_hex_value(s[i + 2]));
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0' || j + 1 >= cap)
            return false;
        out[j++] = c;
    }
    out[j] = '\0';
    return true;
}

void wr_hex_encode(char *out, const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = wr_hex_lower[u[i] >> 4];
        out[2 * i + 1] = wr_hex_lower[u[i] & 15];
    }
    out[2 * n] = '\0';
}

/* "00" to "99": two digits per division (a page renders ~25 numbers a
 * request, ids and counts, through here). */
static const char two_digits[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                    "31323334353637383940414243444546474849505152535455565758596061"
                                    "62636465666768697071727374757677787980818283848586878889909192"
                                    "93949596979899";

size_t wr_decimal(char out[21], uint64_t v)
{
    size_t n = 1; /* the digits v has, written from the last one back */
    for (uint64_t t = v; t >= 10; t /= 10)
        n++;
    char *p = out + n;
    *p = '\0';
    for (; v >= 100; v /= 100) {
        p -= 2;
        memcpy(p, two_digits + 2 * (v % 100), 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, two_digits + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return n;
}

size_t wr_decimal_signed(char out[21], int64_t v)
{
    if (v >= 0)
        return wr_decimal(out, (uint64_t)v);
    /* negated in unsigned arithmetic, so INT64_MIN does not overflow; at
     * most 19 digits, so '-', they and the NUL fit */
    char digits[21];
    size_t n = wr_decimal(digits, 0 - (uint64_t)v);
    out[0] = '-';
    memcpy(out + 1, digits, n + 1);
    return n + 1;
}

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void wr_base64_append(struct wr_buf *b, const void *p, size_t n, bool url)
{
    const unsigned char *u = p;
    const char *abc = url ? b64_url : b64_std;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)u[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)u[i + 1] << 8;
        if (i + 2 < n)
            v |= u[i + 2];
        char out[4] = {abc[(v >> 18) & 63], abc[(v >> 12) & 63], abc[(v >> 6) & 63], abc[v & 63]};
        /* A short last group: the URL form drops what padding would fill. */
        size_t keep = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        if (!url)
            for (size_t k = keep; k < 4; k++)
                out[k] = '=';
        wr_buf_append(b, out, url ? keep : 4);
    }
}

static int b64url_value(char c)
{
    const char *p = c != '\0' ? strchr(b64_url, c) : NULL;
    return p != NULL ? (int)(p - b64_url) : -1;
}

bool wr_base64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *len)
{
    size_t j = 0;
    if (n % 4 == 1)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        unsigned v = 0;
        size_t k = 0;
        for (; k < 4 && i + k < n; k++) {
            int d = b64url_value(s[i + k]);
            if (d < 0)
                return false;
            v |= (unsigned)d << (18 - 6 * k);
        }
        for (size_t b = 0; b + 1 < k; b++) {
            if (j >= cap)
                return false;
            out[j++] = (unsigned char)(v >> (16 - 8 * b));
        }
    }
    *len = j;
    return true;
}

uint64_t wr_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++) {
        h ^= u[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The 8 bytes at p as a little-endian number, on any platform. */
static uint64_t load_le64(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

static uint64_t rotl64(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

/* The round is after xxHash64's (its primes, xor for its add); the final
 * mix is MurmurHash3's (Stafford's variant 13). */
#define HASH_P1 0x9e3779b185ebca87ULL
#define HASH_P2 0xc2b2ae3d27d4eb4fULL

uint64_t wr_hash64(const void *p, size_t n)
{
    const unsigned char *u = p;
    uint64_t h = HASH_P1 ^ (uint64_t)n;
    for (; n >= 8; u += 8, n -= 8)
        h = rotl64(h ^ load_le64(u) * HASH_P2, 31) * HASH_P1;
    for (; n > 0; u++, n--)
        h = rotl64(h ^ *u * HASH_P2, 23) * HASH_P1;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ h >> 31;
}

size_t wr_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        if (cp != NULL)
            *cp = c;
        return 1;
    }
    size_t len;
    /* The second byte's range after E0, ED, F0 and F4 is what excludes
     * overlongs, surrogates and code points past U+10FFFF. */
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    uint32_t v = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (cp != NULL)
        *cp = v;
    return len;
}

bool wr_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (n - i >= 8 && wr__swar_ge(wr__swar_load(u + i), 0x80) == 0) {
            i += 8; /* ASCII, most text: 8 bytes at a time */
            continue;
        }
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = wr_utf8_decode(u + i, n - i, NULL);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}
