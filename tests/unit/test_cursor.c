/* Unit tests for keyset cursors (services/catalog/ops/cursor.c) over the
 * Chinook fixture's albums and artists (integer keys) and labels (a
 * composite key of text then integer): round trips, every edit refused,
 * NULLs and typed columns, BLOB keys, the secret. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chinook_fixture.h"
#include "model/schema.h"
#include "ops/cursor.h"
#include "warren/cfg.h"
#include "warren/codec.h"
#include "run_suite.h"

static struct wr_cfg cfg;
static schema *sch;
static struct wr_buf out;
static struct cursor_key ck;

static void setup(void)
{
    static const char secret[] = "unit-test-cursor-secret-0123456789abcdef";
    cursor_key_init(&ck, secret, sizeof(secret) - 1);
    wr_buf_init(&out, 1 << 20);
    struct wr_err err = {0};
    sch = fixture_schema("albums artists labels", "", &cfg, &err);
    ck_assert_msg(sch != NULL, "%s", err.msg);
}

static void teardown(void)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
    wr_buf_release(&out);
}

static const char *text(void)
{
    return out.data ? out.data : "";
}

START_TEST(cursor_round_trip)
{
    const struct collection *c = schema_find(sch, "Albums");
    struct value key[1] = {{.kind = V_INT, .i = 347}};
    static const size_t pk[] = {0};
    ck_assert_int_eq(cursor_encode(&out, &ck, c, NULL, 10, key, 1, 36), 0);
    for (const char *p = text(); *p; p++)
        ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    struct value back[2];
    long page = 0;
    char scratch[256];
    ck_assert(
        cursor_decode(text(), &ck, c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
    ck_assert_int_eq(back[0].kind, V_INT);
    ck_assert_int_eq(back[0].i, 347);
    ck_assert_int_eq(page, 36);

    /* text and composite keys */
    const struct collection *labels = schema_find(sch, "Labels");
    static const size_t both[] = {0, 1};
    struct value k2[2] = {{.kind = V_TEXT, .s = "a\"b\xc3\xa9", .n = 5}, {.kind = V_INT, .i = -2}};
    wr_buf_reset(&out);
    ck_assert_int_eq(cursor_encode(&out, &ck, labels, "{\"filters\":[]}", 5, k2, 2, 2), 0);
    ck_assert(cursor_decode(text(), &ck, labels, both, 2, "{\"filters\":[]}", 5, back, &page,
                            scratch, sizeof(scratch)));
    ck_assert_int_eq(back[0].kind, V_TEXT);
    ck_assert_str_eq(back[0].s, "a\"b\xc3\xa9");
    ck_assert_int_eq(back[1].i, -2);
}
END_TEST

/* Edited, cut, or used elsewhere: refused. */
START_TEST(cursor_tampering_refused)
{
    const struct collection *c = schema_find(sch, "Albums");
    static const size_t pk[] = {0};
    struct value key[1] = {{.kind = V_INT, .i = 20}};
    ck_assert_int_eq(cursor_encode(&out, &ck, c, "{}", 10, key, 1, 3), 0);
    char good[512], bad[512];
    ck_assert_uint_lt(out.len, sizeof(good));
    memcpy(good, out.data, out.len + 1);
    struct value back[1];
    long page;
    char scratch[64];
    ck_assert(cursor_decode(good, &ck, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    /* every single-character edit */
    size_t n = strlen(good), accepted = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, good, n + 1);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        accepted +=
            cursor_decode(bad, &ck, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch));
    }
    /* the last character may carry only padding bits */
    ck_assert_uint_le(accepted, 1);
    memcpy(bad, good, n + 1);
    bad[n / 2] = '\0';
    ck_assert(!cursor_decode(bad, &ck, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    ck_assert(!cursor_decode(good, &ck, c, pk, 1, "{\"filters\":[]}", 10, back, &page, scratch,
                             sizeof(scratch)));
    ck_assert(!cursor_decode(good, &ck, c, pk, 1, "{}", 20, back, &page, scratch, sizeof(scratch)));
    ck_assert(!cursor_decode(good, &ck, schema_find(sch, "Artists"), pk, 1, "{}", 10, back, &page,
                             scratch, sizeof(scratch)));
    ck_assert(!cursor_decode("", &ck, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    ck_assert(!cursor_decode("e30", &ck, c, pk, 1, "{}", 10, back, &page, scratch,
                             sizeof(scratch))); /* {} */
    ck_assert(
        !cursor_decode("a+/=", &ck, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    /* a well-formed document with a forged checksum */
    wr_buf_reset(&out);
    static const char forged[] = "{\"h\":\"00000000000000000000000000000000\",\"k\":[1],\"p\":2}";
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < sizeof(forged) - 1; i += 3) {
        unsigned v = (unsigned)(unsigned char)forged[i] << 16;
        size_t left = sizeof(forged) - 1 - i;
        if (left > 1)
            v |= (unsigned)(unsigned char)forged[i + 1] << 8;
        if (left > 2)
            v |= (unsigned char)forged[i + 2];
        for (size_t k = 0; k < (left > 2 ? 4 : left + 1); k++)
            wr_buf_putc(&out, abc[(v >> (18 - 6 * k)) & 63]);
    }
    ck_assert(
        !cursor_decode(text(), &ck, c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
}
END_TEST

/* An order_by keyset may hold NULLs and reals; each column is typed. */
START_TEST(cursor_nulls_and_columns)
{
    const struct collection *c = schema_find(sch, "Albums");
    static const size_t cols[] = {1, 2, 0}; /* title, artist_id, album_id */
    struct value key[3] = {{.kind = V_NULL}, {.kind = V_INT, .i = 5}, {.kind = V_INT, .i = 9}};
    ck_assert_int_eq(cursor_encode(&out, &ck, c, "{\"order_by\":[]}", 10, key, 3, 4), 0);
    struct value back[3];
    long page;
    char scratch[64];
    ck_assert(cursor_decode(text(), &ck, c, cols, 3, "{\"order_by\":[]}", 10, back, &page, scratch,
                            sizeof(scratch)));
    ck_assert_int_eq(back[0].kind, V_NULL);
    ck_assert_int_eq(back[1].i, 5);
    ck_assert_int_eq(page, 4);
    /* a text value where an INTEGER column is: refused */
    static const size_t swapped[] = {2, 1, 0};
    struct value k2[3] = {
        {.kind = V_TEXT, .s = "x", .n = 1}, {.kind = V_NULL}, {.kind = V_INT, .i = 1}};
    wr_buf_reset(&out);
    ck_assert_int_eq(cursor_encode(&out, &ck, c, NULL, 10, k2, 3, 2), 0);
    ck_assert(!cursor_decode(text(), &ck, c, swapped, 3, NULL, 10, back, &page, scratch,
                             sizeof(scratch)));
}
END_TEST

/* A cursor is a MAC under the secret: another secret's cursor is refused,
 * and so is one carrying the public checksum cursors had before (FNV-1a,
 * which anyone could compute for a key of their choosing). */
START_TEST(cursor_needs_the_secret)
{
    const struct collection *c = schema_find(sch, "Albums");
    static const size_t pk[] = {0};
    struct value key[1] = {{.kind = V_INT, .i = 20}};
    struct cursor_key other;
    cursor_key_init(&other, "another-deployment-secret-0123456789", 36);
    ck_assert_int_eq(cursor_encode(&out, &other, c, NULL, 10, key, 1, 3), 0);
    struct value back[1];
    long page;
    char scratch[64];
    ck_assert(
        !cursor_decode(text(), &ck, c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
    ck_assert(
        cursor_decode(text(), &other, c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
    /* the old format: h = FNV-1a 64 of name\0 q\0 k per_page\0 page */
    uint64_t h = wr_fnv1a64(WR_FNV1A64_INIT, "Albums", 7);
    h = wr_fnv1a64(h, "", 1);
    h = wr_fnv1a64(h, "[20]", 4);
    h = wr_fnv1a64(h,
                   "10\0"
                   "3",
                   4);
    char doc[128];
    (void)snprintf(doc, sizeof(doc), "{\"h\":\"%016" PRIx64 "\",\"k\":[20],\"p\":3}", h);
    wr_buf_reset(&out);
    wr_base64_append(&out, doc, strlen(doc), true);
    ck_assert(
        !cursor_decode(text(), &ck, c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
    /* cache tags differ by secret, never revealing it */
    char t1[17] = "0123456789abcdef", t2[17] = "0123456789abcdef";
    cursor_key_mix(&ck, t1);
    cursor_key_mix(&other, t2);
    ck_assert_str_ne(t1, t2);
    ck_assert_str_ne(t1, "0123456789abcdef");
    cursor_key_release(&other);
}
END_TEST

/* A backward cursor reads back as one, to page 1 too; a forward cursor is
 * no backward one, nor the other way round (their MACs differ). */
START_TEST(cursor_before_is_its_own_kind)
{
    const struct collection *c = schema_find(sch, "Albums");
    struct value key[1] = {{.kind = V_INT, .i = 11}};
    static const size_t pk[] = {0};
    struct value back[1];
    long page = 0;
    char scratch[256];
    ck_assert_int_eq(cursor_encode_before(&out, &ck, c, NULL, 10, key, 1, 1), 0);
    ck_assert(cursor_decode_before(text(), &ck, c, pk, 1, NULL, 10, back, &page, scratch,
                                   sizeof(scratch)));
    ck_assert_int_eq(back[0].i, 11);
    ck_assert_int_eq(page, 1);
    ck_assert(
        !cursor_decode(text(), &ck, c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
    wr_buf_reset(&out);
    ck_assert_int_eq(cursor_encode(&out, &ck, c, NULL, 10, key, 1, 2), 0);
    ck_assert(
        cursor_decode(text(), &ck, c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
    ck_assert(!cursor_decode_before(text(), &ck, c, pk, 1, NULL, 10, back, &page, scratch,
                                    sizeof(scratch)));
    /* another page size: refused */
    wr_buf_reset(&out);
    ck_assert_int_eq(cursor_encode_before(&out, &ck, c, NULL, 10, key, 1, 3), 0);
    ck_assert(!cursor_decode_before(text(), &ck, c, pk, 1, NULL, 11, back, &page, scratch,
                                    sizeof(scratch)));
}
END_TEST

START_TEST(cursor_blob_key_refused)
{
    struct value key[1] = {{.kind = V_BLOB, .s = "x", .n = 1}};
    ck_assert_int_eq(cursor_encode(&out, &ck, schema_find(sch, "Albums"), NULL, 10, key, 1, 2),
                     WR_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("cursor");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, cursor_round_trip);
    tcase_add_test(tc, cursor_tampering_refused);
    tcase_add_test(tc, cursor_nulls_and_columns);
    tcase_add_test(tc, cursor_needs_the_secret);
    tcase_add_test(tc, cursor_blob_key_refused);
    tcase_add_test(tc, cursor_before_is_its_own_kind);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
