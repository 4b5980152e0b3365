/* Small byte codecs every part of warren shares, each written once: hex
 * digits, base64 (RFC 4648, standard and URL-safe alphabets), the FNV-1a
 * 64-bit hash, SHA-256 and HMAC-SHA-256 (codec_sha256.c), and UTF-8
 * decoding and validation (Unicode's table 3-7: no overlongs, surrogates,
 * or code points past U+10FFFF). Pure: no I/O, no allocation but through
 * the caller's buffer. Thread-safe. */
#ifndef WARREN_CODEC_H
#define WARREN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warren/buf.h"

/* "0123456789abcdef": hex digits as warren writes them (lower case). */
extern const char wr_hex_lower[16];

/* The value of hex digit c (either case), or -1 when c is not one. */
int wr_hex_value(char c);

/* Writes the n bytes at p as 2n lower-case hex digits and a NUL into out,
 * which holds at least 2n + 1 bytes. */
void wr_hex_encode(char *out, const void *p, size_t n);

/* Writes v in decimal and a NUL into out (21 bytes hold any uint64_t);
 * returns the digits' count. For the numbers of every request (status
 * codes, lengths), where snprintf costs a thousand instructions. */
size_t wr_decimal(char out[21], uint64_t v);
/* The same for a signed v, '-' first when negative (21 bytes hold any
 * int64_t too); returns the characters' count. */
size_t wr_decimal_signed(char out[21], int64_t v);

/* Percent-decodes (RFC 3986) the n bytes at s into out, which holds cap
 * bytes with the NUL; plus_space also turns '+' into ' ' (query strings).
 * False on a bad escape, a byte that decodes to NUL, or when out is too
 * small; out is then undefined. The decoded text is not checked further
 * (UTF-8, '/'): that is the caller's rule. */
bool wr_pct_decode(const char *s, size_t n, char *out, size_t cap, bool plus_space);

/* Appends base64 of the n bytes at p to b: with url, the URL-safe alphabet
 * ('-', '_') and no padding; otherwise the standard one ('+', '/') padded
 * with '='. Errors stay in b's sticky error. */
void wr_base64_append(struct wr_buf *b, const void *p, size_t n, bool url);

/* Decodes n characters of unpadded URL-safe base64 at s into out (cap
 * bytes); *len gets the byte count. False on a character outside the
 * alphabet, a length no encoder makes (n % 4 == 1), or out too small. */
bool wr_base64url_decode(const char *s, size_t n, unsigned char *out, size_t cap, size_t *len);

/* FNV-1a 64: start from WR_FNV1A64_INIT (or a seed) and feed bytes; the
 * result is the state to feed the next piece. Not a keyed or cryptographic
 * hash: use it for checksums and tables whose input nobody chooses to
 * collide, never where a client could profit from a collision. */
#define WR_FNV1A64_INIT 0xcbf29ce484222325ULL
uint64_t wr_fnv1a64(uint64_t h, const void *p, size_t n);

/* A 64-bit hash of n bytes, eight at a time (a multiply-rotate round per
 * word, a final mix): the same value on every platform and in every
 * release that keeps this comment, for ETags of replies of any size (a
 * fifth of FNV-1a's instructions on a page). Not keyed nor cryptographic,
 * like wr_fnv1a64. */
uint64_t wr_hash64(const void *p, size_t n);

/* SHA-256 (FIPS 180-4), incrementally: init, update any number of times,
 * final (which wipes the state). A plain struct the caller owns. */
#define WR_SHA256_LEN 32
#define WR_SHA256_BLOCK 64
struct wr_sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes fed so far */
    size_t used;  /* bytes waiting in block */
    unsigned char block[WR_SHA256_BLOCK];
};
void wr_sha256_init(struct wr_sha256 *s);
void wr_sha256_update(struct wr_sha256 *s, const void *p, size_t n);
void wr_sha256_final(struct wr_sha256 *s, unsigned char out[WR_SHA256_LEN]);
/* The digest of n bytes at p, in one call. */
void wr_sha256(const void *p, size_t n, unsigned char out[WR_SHA256_LEN]);

/* HMAC-SHA-256 (RFC 2104) under a key prepared once: wr_hmac_key_init
 * hashes the key's two padded blocks, so each message then costs only its
 * own blocks. A message: wr_hmac_start, wr_sha256_update (any number of
 * times), wr_hmac_finish. k holds key material: wipe it (memset) when done
 * with it. */
struct wr_hmac_key {
    struct wr_sha256 inner, outer;
};
void wr_hmac_key_init(struct wr_hmac_key *k, const void *key, size_t n);
void wr_hmac_start(const struct wr_hmac_key *k, struct wr_sha256 *s);
void wr_hmac_finish(const struct wr_hmac_key *k, struct wr_sha256 *s,
                    unsigned char out[WR_SHA256_LEN]);
/* HMAC-SHA-256 of n bytes at p under keylen bytes of key, in one call. */
void wr_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
                    unsigned char out[WR_SHA256_LEN]);

/* Whether n bytes at a and b are equal, in a time that depends on n alone
 * (for comparing MACs and keys a client may be guessing). */
bool wr_bytes_equal(const void *a, const void *b, size_t n);

/* The length (1-4) of the well-formed UTF-8 sequence at s (n > 0 bytes
 * left), its code point in *cp (may be NULL); 0 when the sequence is
 * malformed: a stray continuation byte, an invalid lead byte, an overlong
 * form, a surrogate, a code point past U+10FFFF, or a truncated sequence. */
size_t wr_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Whether s (NUL-terminated, may be NULL) is 1 to max bytes, each a
 * lowercase ASCII letter, a digit or extra: the shape of op and header
 * names on the wire. A loop, not strspn, which builds its table of
 * accepted bytes on every call (~300 instructions, several a request). */
bool wr_lower_word(const char *s, size_t max, char extra);

/* Whether the n bytes at s are well-formed UTF-8 (NUL counts as valid
 * here: callers that refuse it check for it themselves). */
bool wr_utf8_valid(const char *s, size_t n);

#endif
