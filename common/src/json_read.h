/* A strict one-pass reader of JSON text (RFC 8259) for the decoders that
 * know the shape they read: the request envelope (rpc.c) and a batch
 * (rpc_batch_dec.c). It reads one token at a time where the decoder says
 * which one it expects, instead of building a tree the decoder would then
 * walk: the envelope's jansson tree cost a worker a quarter of a request's
 * instructions (callgrind). Strings land unescaped and NUL-terminated in a
 * store the caller provides; the store never runs ahead of the text (an
 * escape is never shorter than what it stands for, and a closing quote
 * pays for the NUL), so text_len + 1 bytes always suffice. What it refuses
 * beyond the grammar: strings holding NUL or ill-formed UTF-8 (lone
 * surrogate escapes included), integers past WR__JREAD_DIGITS_MAX digits.
 * Private to libwarren. */
#ifndef WARREN_JSON_READ_H
#define WARREN_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

/* Digits an integer may have: more could pass a long long. */
#define WR__JREAD_DIGITS_MAX 18

struct wr__jread {
    const char *p, *end; /* the text not read yet */
    char *out;           /* the store's next free byte */
};

/* Skips white space. */
static inline void wr__jread_ws(struct wr__jread *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* Skips white space; whether the next byte is c (then taken). */
static inline bool wr__jread_take(struct wr__jread *r, char c)
{
    wr__jread_ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

/* A string after white space: its bytes, unescaped and NUL-terminated, in
 * the store at *s (length *n). -1 when there is none, or it holds NUL or
 * ill-formed UTF-8; r->p is then somewhere inside it. */
int wr__jread_str(struct wr__jread *r, const char **s, size_t *n);

/* An integer after white space (no fraction, no exponent, at most
 * WR__JREAD_DIGITS_MAX digits) from lo to hi. -1 otherwise, r->p unmoved. */
int wr__jread_int(struct wr__jread *r, long long lo, long long hi, long long *out);

#endif
