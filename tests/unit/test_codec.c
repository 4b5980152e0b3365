/* Unit tests of the shared codecs: hex, decimal, base64 (both alphabets, every tail
 * length, decode errors), FNV-1a 64 (published test vectors), SHA-256
 * (FIPS 180-4's examples) and HMAC-SHA-256 (RFC 4231's test cases) and
 * UTF-8 (each class of malformed sequence). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_suite.h"
#include "warren/codec.h"

START_TEST(hex)
{
    char out[9];
    wr_hex_encode(out, "\x00\x7f\xab\xff", 4);
    ck_assert_str_eq(out, "007fabff");
    ck_assert_int_eq(wr_hex_value('0'), 0);
    ck_assert_int_eq(wr_hex_value('a'), 10);
    ck_assert_int_eq(wr_hex_value('F'), 15);
    ck_assert_int_eq(wr_hex_value('g'), -1);
    ck_assert_int_eq(wr_hex_value('\0'), -1);
}
END_TEST

/* RFC 4648 section 10's vectors, in both alphabets. */
/* Percent-decoding: RFC 3986 escapes in either case, '+' only in query
 * strings, and every way to refuse (a bad escape, an escaped NUL, no room). */
START_TEST(decimal)
{
    char out[21];
    ck_assert_uint_eq(wr_decimal(out, 0), 1);
    ck_assert_str_eq(out, "0");
    ck_assert_uint_eq(wr_decimal(out, 404), 3);
    ck_assert_str_eq(out, "404");
    ck_assert_uint_eq(wr_decimal(out, 1000000), 7);
    ck_assert_str_eq(out, "1000000");
    ck_assert_uint_eq(wr_decimal(out, UINT64_MAX), 20);
    ck_assert_str_eq(out, "18446744073709551615");
    ck_assert_uint_eq(wr_decimal_signed(out, -7), 2);
    ck_assert_str_eq(out, "-7");
    ck_assert_uint_eq(wr_decimal_signed(out, 200), 3);
    ck_assert_str_eq(out, "200");
    ck_assert_uint_eq(wr_decimal_signed(out, INT64_MIN), 20);
    ck_assert_str_eq(out, "-9223372036854775808");
    /* every length, at each power of ten and either side of it */
    for (uint64_t p = 1;; p *= 10) {
        const uint64_t vs[3] = {p - 1, p, p + 1};
        for (int i = 0; i < 3; i++) {
            char want[32];
            int n = snprintf(want, sizeof(want), "%llu", (unsigned long long)vs[i]);
            ck_assert_uint_eq(wr_decimal(out, vs[i]), (size_t)n);
            ck_assert_str_eq(out, want);
        }
        if (p > UINT64_MAX / 10)
            break;
    }
    for (uint64_t v = 0; v < 100000; v += 7) {
        char want[32];
        (void)snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
        (void)wr_decimal(out, v);
        ck_assert_str_eq(out, want);
    }
}
END_TEST

START_TEST(pct_decode)
{
    char out[16];
    ck_assert(wr_pct_decode("a%20b%2Fc%2f", 12, out, sizeof(out), false));
    ck_assert_str_eq(out, "a b/c/");
    ck_assert(wr_pct_decode("a+b", 3, out, sizeof(out), false));
    ck_assert_str_eq(out, "a+b");
    ck_assert(wr_pct_decode("a+b", 3, out, sizeof(out), true));
    ck_assert_str_eq(out, "a b");
    ck_assert(wr_pct_decode("%C3%A9x", 6, out, sizeof(out), false)); /* n ends the input */
    ck_assert_str_eq(out, "\xc3\xa9");
    ck_assert(!wr_pct_decode("%2", 2, out, sizeof(out), false));
    ck_assert(!wr_pct_decode("%zz", 3, out, sizeof(out), false));
    ck_assert(!wr_pct_decode("a%00", 4, out, sizeof(out), false));
    ck_assert(wr_pct_decode("abc", 3, out, 4, false));
    ck_assert(!wr_pct_decode("abcd", 4, out, 4, false)); /* no room for the NUL */
    ck_assert(wr_pct_decode("", 0, out, 1, false));
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(base64_vectors)
{
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        struct wr_buf b;
        wr_buf_init(&b, 64);
        wr_base64_append(&b, in[i], strlen(in[i]), false);
        ck_assert_str_eq(b.len ? b.data : "", std[i]);
        wr_buf_reset(&b);
        wr_base64_append(&b, in[i], strlen(in[i]), true);
        ck_assert_str_eq(b.len ? b.data : "", url[i]);
        unsigned char back[16];
        size_t n = 99;
        ck_assert(wr_base64url_decode(url[i], strlen(url[i]), back, sizeof(back), &n));
        ck_assert_uint_eq(n, strlen(in[i]));
        ck_assert(memcmp(back, in[i], n) == 0);
        wr_buf_release(&b);
    }
}
END_TEST

START_TEST(base64_alphabets)
{
    struct wr_buf b;
    wr_buf_init(&b, 64);
    wr_base64_append(&b, "\xfb\xff", 2, false);
    ck_assert_str_eq(b.data, "+/8=");
    wr_buf_reset(&b);
    wr_base64_append(&b, "\xfb\xff", 2, true);
    ck_assert_str_eq(b.data, "-_8");
    wr_buf_release(&b);
}
END_TEST

START_TEST(base64url_refuses)
{
    unsigned char out[8];
    size_t n = 0;
    ck_assert(!wr_base64url_decode("Zm9vY", 5, out, sizeof(out), &n)); /* n % 4 == 1 */
    ck_assert(!wr_base64url_decode("Zm+v", 4, out, sizeof(out), &n));  /* standard alphabet */
    ck_assert(!wr_base64url_decode("Zg==", 4, out, sizeof(out), &n));  /* padding */
    ck_assert(!wr_base64url_decode("Zm9vYmFy", 8, out, 5, &n));        /* too small */
    ck_assert(wr_base64url_decode("Zm9vYmFy", 8, out, 6, &n));
}
END_TEST

/* The FNV reference's vectors for FNV-1a 64. */
START_TEST(fnv1a64)
{
    ck_assert_uint_eq(wr_fnv1a64(WR_FNV1A64_INIT, "", 0), 0xcbf29ce484222325ULL);
    ck_assert_uint_eq(wr_fnv1a64(WR_FNV1A64_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
    ck_assert_uint_eq(wr_fnv1a64(WR_FNV1A64_INIT, "foobar", 6), 0x85944171f73967e8ULL);
    /* Fed in pieces, the same as at once. */
    ck_assert_uint_eq(wr_fnv1a64(wr_fnv1a64(WR_FNV1A64_INIT, "foo", 3), "bar", 3),
                      0x85944171f73967e8ULL);
}
END_TEST

/* wr_hash64's values are ETags clients keep: pinned, so a change is seen.
 * And it behaves as a hash: every prefix of a text (each length crossing
 * the 8-byte words differently) hashes apart, and one bit flipped anywhere
 * changes many bits of the hash. */
START_TEST(hash64)
{
    ck_assert_uint_eq(wr_hash64("", 0), 0xc83e221c6c03c5f6ULL);
    ck_assert_uint_eq(wr_hash64("a", 1), 0x23fe141a0ec18498ULL);
    ck_assert_uint_eq(wr_hash64("foobar", 6), 0x677739b95473c0d6ULL);
    ck_assert_uint_eq(wr_hash64("The quick brown fox jumps over the lazy dog", 43),
                      0x9cb6cde834dc4119ULL);
    static const char text[] = "{\"num_results\":347,\"objects\":[{\"AlbumId\":1}],\"page\":1}";
    uint64_t seen[sizeof(text)];
    for (size_t n = 0; n < sizeof(text); n++) {
        seen[n] = wr_hash64(text, n);
        for (size_t k = 0; k < n; k++)
            ck_assert_msg(seen[k] != seen[n], "lengths %zu and %zu collide", k, n);
    }
    char flipped[sizeof(text)];
    for (size_t bit = 0; bit < 8 * (sizeof(text) - 1); bit++) {
        memcpy(flipped, text, sizeof(text));
        flipped[bit / 8] = (char)(flipped[bit / 8] ^ (1 << (bit % 8)));
        uint64_t d = wr_hash64(flipped, sizeof(text) - 1) ^ seen[sizeof(text) - 1];
        ck_assert_msg(__builtin_popcountll(d) >= 12, "bit %zu changes %d bits", bit,
                      __builtin_popcountll(d));
    }
}
END_TEST

static const char *hex_of(const unsigned char *d, size_t n)
{
    static char out[2 * WR_SHA256_LEN + 1];
    wr_hex_encode(out, d, n);
    return out;
}

/* FIPS 180-4's examples (and the NIST long-message one): one block, two
 * blocks, a million bytes fed in uneven pieces, and the empty message. */
START_TEST(sha256_vectors)
{
    unsigned char d[WR_SHA256_LEN];
    wr_sha256("abc", 3, d);
    ck_assert_str_eq(hex_of(d, sizeof(d)),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    wr_sha256("", 0, d);
    ck_assert_str_eq(hex_of(d, sizeof(d)),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    wr_sha256(two, strlen(two), d);
    ck_assert_str_eq(hex_of(d, sizeof(d)),
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char a[1000];
    memset(a, 'a', sizeof(a));
    struct wr_sha256 s;
    wr_sha256_init(&s);
    for (size_t left = 1000000, piece = 1; left > 0; piece = piece % 983 + 13) {
        size_t n = piece < left ? piece : left;
        wr_sha256_update(&s, a, n);
        left -= n;
    }
    wr_sha256_final(&s, d);
    ck_assert_str_eq(hex_of(d, sizeof(d)),
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* 55, 56 and 64 bytes: where the length does or does not fit the last block */
    static const char *const tails[][2] = {
        {"55", "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {"56", "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {"64", "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"}};
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        wr_sha256(a, (size_t)strtoul(tails[i][0], NULL, 10), d);
        ck_assert_str_eq(hex_of(d, sizeof(d)), tails[i][1]);
    }
}
END_TEST

/* RFC 4231 section 4: test cases 1-4, 5 (truncated to 128 bits), 6 and 7
 * (keys longer than a block). */
START_TEST(hmac_sha256_vectors)
{
    unsigned char k0b[20], kaa[131], k25[25], k0c[20], daa[50], dcd[50];
    memset(k0b, 0x0b, sizeof(k0b));
    memset(kaa, 0xaa, sizeof(kaa));
    memset(k0c, 0x0c, sizeof(k0c));
    memset(daa, 0xdd, sizeof(daa));
    memset(dcd, 0xcd, sizeof(dcd));
    for (size_t i = 0; i < sizeof(k25); i++)
        k25[i] = (unsigned char)(i + 1);
    static const char long_data[] =
        "This is a test using a larger than block-size key and a larger than block-size data. "
        "The key needs to be hashed before being used by the HMAC algorithm.";
    const struct {
        const void *key;
        size_t keylen;
        const void *data;
        size_t len;
        const char *want;
    } cases[] = {
        {k0b, 20, "Hi There", 8,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", 4, "what do ya want for nothing?", 28,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {kaa, 20, daa, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {k25, 25, dcd, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {k0c, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b"},
        {kaa, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {kaa, 131, long_data, strlen(long_data),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char d[WR_SHA256_LEN];
        wr_hmac_sha256(cases[i].key, cases[i].keylen, cases[i].data, cases[i].len, d);
        size_t want = strlen(cases[i].want) / 2;
        ck_assert_msg(strcmp(hex_of(d, want), cases[i].want) == 0, "case %zu: %s", i + 1,
                      hex_of(d, want));
        /* the prepared key, the message in two pieces: the same MAC */
        struct wr_hmac_key k;
        struct wr_sha256 s;
        wr_hmac_key_init(&k, cases[i].key, cases[i].keylen);
        wr_hmac_start(&k, &s);
        wr_sha256_update(&s, cases[i].data, cases[i].len / 2);
        wr_sha256_update(&s, (const char *)cases[i].data + cases[i].len / 2,
                         cases[i].len - cases[i].len / 2);
        wr_hmac_finish(&k, &s, d);
        ck_assert_str_eq(hex_of(d, want), cases[i].want);
    }
    ck_assert(wr_bytes_equal("abc", "abc", 3));
    ck_assert(!wr_bytes_equal("abc", "abd", 3));
    ck_assert(wr_bytes_equal("x", "y", 0));
}
END_TEST

/* Op and header names: lowercase letters, digits and one extra byte. */
START_TEST(lower_word)
{
    ck_assert(wr_lower_word("x-request-id", 64, '-'));
    ck_assert(wr_lower_word("a1", 2, '-'));
    ck_assert(!wr_lower_word("a12", 2, '-')); /* one past max */
    ck_assert(!wr_lower_word("", 8, '-'));
    ck_assert(!wr_lower_word(NULL, 8, '-'));
    ck_assert(!wr_lower_word("X-Id", 8, '-'));
    ck_assert(!wr_lower_word("x_id", 8, '-'));
    ck_assert(wr_lower_word("x_id", 8, '_'));
    ck_assert(!wr_lower_word("x id", 8, ' ' + 1));
    ck_assert(!wr_lower_word("x\xc3\xa9", 8, '-'));
}
END_TEST

START_TEST(utf8)
{
    uint32_t cp = 0;
    ck_assert_uint_eq(wr_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
    ck_assert_uint_eq(cp, 'A');
    ck_assert_uint_eq(wr_utf8_decode((const unsigned char *)"\xC3\xA9", 2, &cp), 2);
    ck_assert_uint_eq(cp, 0xE9);
    ck_assert_uint_eq(wr_utf8_decode((const unsigned char *)"\xF0\x9F\x98\x80", 4, &cp), 4);
    ck_assert_uint_eq(cp, 0x1F600);
    ck_assert(wr_utf8_valid("a\xC3\xA9\xF0\x9F\x98\x80", 7));
    ck_assert(wr_utf8_valid("", 0));
    ck_assert(!wr_utf8_valid("\xC3", 1));             /* truncated */
    ck_assert(!wr_utf8_valid("\x80", 1));             /* stray continuation */
    ck_assert(!wr_utf8_valid("\xC0\xAF", 2));         /* invalid lead (overlong '/') */
    ck_assert(!wr_utf8_valid("\xE0\x80\x80", 3));     /* overlong */
    ck_assert(!wr_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    ck_assert(!wr_utf8_valid("\xF4\x90\x80\x80", 4)); /* past U+10FFFF */
    ck_assert(!wr_utf8_valid("\xE2\x28\xA1", 3));     /* bad continuation */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec");
    TCase *t = tcase_create("codec");
    tcase_add_test(t, hex);
    tcase_add_test(t, decimal);
    tcase_add_test(t, pct_decode);
    tcase_add_test(t, base64_vectors);
    tcase_add_test(t, base64_alphabets);
    tcase_add_test(t, base64url_refuses);
    tcase_add_test(t, fnv1a64);
    tcase_add_test(t, hash64);
    tcase_add_test(t, sha256_vectors);
    tcase_add_test(t, hmac_sha256_vectors);
    tcase_add_test(t, lower_word);
    tcase_add_test(t, utf8);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
