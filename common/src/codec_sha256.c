/* SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), the codec module's
 * keyed hash (see codec.h): written here rather than linking a crypto
 * library for two functions. Straight-line code: no branch or table index
 * depends on the data, so timing tells nothing of a key or a message. */
#include <string.h>

#include "warren/codec.h"

static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One 64-byte block into the state (FIPS 180-4 section 6.2.2). */
static void compress(uint32_t h[8], const unsigned char *block)
{
    uint32_t w[64];
    for (size_t t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 =
            k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k256[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

void wr_sha256_init(struct wr_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof(iv));
    s->len = 0;
    s->used = 0;
}

void wr_sha256_update(struct wr_sha256 *s, const void *p, size_t n)
{
    const unsigned char *in = p;
    s->len += n;
    while (n > 0) {
        size_t take = WR_SHA256_BLOCK - s->used < n ? WR_SHA256_BLOCK - s->used : n;
        memcpy(s->block + s->used, in, take);
        s->used += take;
        in += take;
        n -= take;
        if (s->used == WR_SHA256_BLOCK) {
            compress(s->h, s->block);
            s->used = 0;
        }
    }
}

void wr_sha256_final(struct wr_sha256 *s, unsigned char out[WR_SHA256_LEN])
{
    uint64_t bits = s->len * 8;
    s->block[s->used++] = 0x80;
    if (s->used > WR_SHA256_BLOCK - 8) {
        memset(s->block + s->used, 0, WR_SHA256_BLOCK - s->used);
        compress(s->h, s->block);
        s->used = 0;
    }
    memset(s->block + s->used, 0, WR_SHA256_BLOCK - 8 - s->used);
    store_be32(s->block + 56, (uint32_t)(bits >> 32));
    store_be32(s->block + 60, (uint32_t)bits);
    compress(s->h, s->block);
    for (size_t i = 0; i < 8; i++)
        store_be32(out + 4 * i, s->h[i]);
    memset(s, 0, sizeof(*s)); /* no trace of the message (or a key) stays behind */
}

void wr_sha256(const void *p, size_t n, unsigned char out[WR_SHA256_LEN])
{
    struct wr_sha256 s;
    wr_sha256_init(&s);
    wr_sha256_update(&s, p, n);
    wr_sha256_final(&s, out);
}

void wr_hmac_key_init(struct wr_hmac_key *k, const void *key, size_t n)
{
    unsigned char block[WR_SHA256_BLOCK] = {0};
    if (n > WR_SHA256_BLOCK)
        wr_sha256(key, n, block); /* RFC 2104: a long key is hashed first */
    else if (n > 0)
        memcpy(block, key, n);
    unsigned char pad[WR_SHA256_BLOCK];
    for (size_t i = 0; i < WR_SHA256_BLOCK; i++)
        pad[i] = block[i] ^ 0x36;
    wr_sha256_init(&k->inner);
    wr_sha256_update(&k->inner, pad, sizeof(pad));
    for (size_t i = 0; i < WR_SHA256_BLOCK; i++)
        pad[i] = block[i] ^ 0x5c;
    wr_sha256_init(&k->outer);
    wr_sha256_update(&k->outer, pad, sizeof(pad));
    memset(block, 0, sizeof(block));
    memset(pad, 0, sizeof(pad));
}

void wr_hmac_start(const struct wr_hmac_key *k, struct wr_sha256 *s)
{
    *s = k->inner;
}

void wr_hmac_finish(const struct wr_hmac_key *k, struct wr_sha256 *s,
                    unsigned char out[WR_SHA256_LEN])
{
    unsigned char inner[WR_SHA256_LEN];
    wr_sha256_final(s, inner);
    *s = k->outer;
    wr_sha256_update(s, inner, sizeof(inner));
    wr_sha256_final(s, out);
}

void wr_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
                    unsigned char out[WR_SHA256_LEN])
{
    struct wr_hmac_key k;
    struct wr_sha256 s;
    wr_hmac_key_init(&k, key, keylen);
    wr_hmac_start(&k, &s);
    wr_sha256_update(&s, p, n);
    wr_hmac_finish(&k, &s, out);
    memset(&k, 0, sizeof(k));
}

bool wr_bytes_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= x[i] ^ y[i];
    return diff == 0;
}
