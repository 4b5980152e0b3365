/* Unit tests of the shared codecs: hex, base64 (both alphabets, every tail
 * length, decode errors), FNV-1a 64 (published test vectors) and UTF-8
 * (each class of malformed sequence). */
#include <check.h>
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
    tcase_add_test(t, base64_vectors);
    tcase_add_test(t, base64_alphabets);
    tcase_add_test(t, base64url_refuses);
    tcase_add_test(t, fnv1a64);
    tcase_add_test(t, utf8);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
