/* Unit tests for keyset cursors (services/catalog/ops/cursor.c) over the
 * Chinook fixture's albums and artists (integer keys) and labels (a
 * composite key of text then integer): round trips, every edit refused,
 * NULLs and typed columns, BLOB keys. */
#include <check.h>
#include <string.h>

#include "chinook_fixture.h"
#include "model/schema.h"
#include "ops/cursor.h"
#include "warren/cfg.h"
#include "run_suite.h"

static struct wr_cfg cfg;
static schema *sch;
static struct wr_buf out;

static void setup(void)
{
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
    ck_assert_int_eq(cursor_encode(&out, c, NULL, 10, key, 1, 36), 0);
    for (const char *p = text(); *p; p++)
        ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    struct value back[2];
    long page = 0;
    char scratch[256];
    ck_assert(cursor_decode(text(), c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
    ck_assert_int_eq(back[0].kind, V_INT);
    ck_assert_int_eq(back[0].i, 347);
    ck_assert_int_eq(page, 36);

    /* text and composite keys */
    const struct collection *labels = schema_find(sch, "Labels");
    static const size_t both[] = {0, 1};
    struct value k2[2] = {{.kind = V_TEXT, .s = "a\"b\xc3\xa9", .n = 5}, {.kind = V_INT, .i = -2}};
    wr_buf_reset(&out);
    ck_assert_int_eq(cursor_encode(&out, labels, "{\"filters\":[]}", 5, k2, 2, 2), 0);
    ck_assert(cursor_decode(text(), labels, both, 2, "{\"filters\":[]}", 5, back, &page, scratch,
                            sizeof(scratch)));
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
    ck_assert_int_eq(cursor_encode(&out, c, "{}", 10, key, 1, 3), 0);
    char good[512], bad[512];
    ck_assert_uint_lt(out.len, sizeof(good));
    memcpy(good, out.data, out.len + 1);
    struct value back[1];
    long page;
    char scratch[64];
    ck_assert(cursor_decode(good, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    /* every single-character edit */
    size_t n = strlen(good), accepted = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, good, n + 1);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        accepted += cursor_decode(bad, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch));
    }
    /* the last character may carry only padding bits */
    ck_assert_uint_le(accepted, 1);
    memcpy(bad, good, n + 1);
    bad[n / 2] = '\0';
    ck_assert(!cursor_decode(bad, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    ck_assert(!cursor_decode(good, c, pk, 1, "{\"filters\":[]}", 10, back, &page, scratch,
                             sizeof(scratch)));
    ck_assert(!cursor_decode(good, c, pk, 1, "{}", 20, back, &page, scratch, sizeof(scratch)));
    ck_assert(!cursor_decode(good, schema_find(sch, "Artists"), pk, 1, "{}", 10, back, &page,
                             scratch, sizeof(scratch)));
    ck_assert(!cursor_decode("", c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    ck_assert(
        !cursor_decode("e30", c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch))); /* {} */
    ck_assert(!cursor_decode("a+/=", c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    /* a well-formed document with a forged checksum */
    wr_buf_reset(&out);
    static const char forged[] = "{\"h\":\"0000000000000000\",\"k\":[1],\"p\":2}";
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
    ck_assert(!cursor_decode(text(), c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
}
END_TEST

/* An order_by keyset may hold NULLs and reals; each column is typed. */
START_TEST(cursor_nulls_and_columns)
{
    const struct collection *c = schema_find(sch, "Albums");
    static const size_t cols[] = {1, 2, 0}; /* title, artist_id, album_id */
    struct value key[3] = {{.kind = V_NULL}, {.kind = V_INT, .i = 5}, {.kind = V_INT, .i = 9}};
    ck_assert_int_eq(cursor_encode(&out, c, "{\"order_by\":[]}", 10, key, 3, 4), 0);
    struct value back[3];
    long page;
    char scratch[64];
    ck_assert(cursor_decode(text(), c, cols, 3, "{\"order_by\":[]}", 10, back, &page, scratch,
                            sizeof(scratch)));
    ck_assert_int_eq(back[0].kind, V_NULL);
    ck_assert_int_eq(back[1].i, 5);
    ck_assert_int_eq(page, 4);
    /* a text value where an INTEGER column is: refused */
    static const size_t swapped[] = {2, 1, 0};
    struct value k2[3] = {
        {.kind = V_TEXT, .s = "x", .n = 1}, {.kind = V_NULL}, {.kind = V_INT, .i = 1}};
    wr_buf_reset(&out);
    ck_assert_int_eq(cursor_encode(&out, c, NULL, 10, k2, 3, 2), 0);
    ck_assert(
        !cursor_decode(text(), c, swapped, 3, NULL, 10, back, &page, scratch, sizeof(scratch)));
}
END_TEST

START_TEST(cursor_blob_key_refused)
{
    struct value key[1] = {{.kind = V_BLOB, .s = "x", .n = 1}};
    ck_assert_int_eq(cursor_encode(&out, schema_find(sch, "Albums"), NULL, 10, key, 1, 2),
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
    tcase_add_test(tc, cursor_blob_key_refused);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
