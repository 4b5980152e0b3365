/* Unit tests for the SQL plan: the exact statement texts, identifier
 * quoting, the pagination arithmetic and the parsing of ids from URLs,
 * over tables of the Chinook fixture (and its text, composite and quoted
 * keys). */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "chinook_fixture.h"
#include "sql/count_sql.h"
#include "sql/plan.h"
#include "sql/write_sql.h"
#include "model/schema.h"
#include "model/value.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "warren/proto.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct wr_cfg cfg;
static schema *sch;
static plan *pl;

static void setup(void)
{
    struct wr_err err = {0};
    /* playlist_track's keys point at tables not built here: no relations */
    sch = fixture_schema("albums artists playlist_track codes labels we\"ird", "", &cfg, &err);
    ck_assert_msg(sch != NULL, "schema_build: %s", err.msg);
    pl = plan_new(sch);
    ck_assert_ptr_nonnull(pl);
}

static void teardown(void)
{
    plan_free(pl);
    schema_free(sch);
    wr_cfg_release(&cfg);
}

static const struct collection *find(const char *name)
{
    const struct collection *c = schema_find(sch, name);
    ck_assert_msg(c != NULL, "no collection %s", name);
    return c;
}

static const struct plan_coll *stmts(const char *name)
{
    const struct plan_coll *pc = plan_coll_at(pl, schema_index(sch, find(name)));
    ck_assert_ptr_nonnull(pc);
    return pc;
}

static size_t rel_index(const char *coll, const char *rel)
{
    const struct collection *c = schema_find(sch, coll);
    ck_assert_ptr_nonnull(c);
    const struct relation *r = schema_relation(c, rel);
    ck_assert_ptr_nonnull(r);
    return (size_t)(r - c->rels);
}

/* --- statements --- */

/* A capped count wraps the plan's count (a relation's too) and reads no
 * more rows than the bound it binds last. */
START_TEST(capped_counts)
{
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    ck_assert_int_eq(count_sql_capped(&b, stmts("Albums")->count), 0);
    ck_assert_str_eq(b.data, "SELECT COUNT(*) FROM (SELECT 1 FROM \"albums\" LIMIT ?)");
    wr_buf_reset(&b);
    size_t ri = rel_index("Artists", "albums");
    ck_assert_int_eq(count_sql_capped(&b, stmts("Artists")->rel_count[ri]), 0);
    ck_assert_str_eq(
        b.data, "SELECT COUNT(*) FROM (SELECT 1 FROM \"albums\" WHERE \"ArtistId\"=? LIMIT ?)");
    wr_buf_reset(&b);
    ck_assert_int_eq(count_sql_capped(&b, "SELECT \"AlbumId\" FROM \"albums\""), WR_EINVAL);
    wr_buf_release(&b);
}
END_TEST

/* An upsert sets what is not the key from the new row; a body of the key
 * alone changes nothing on a conflict. */
START_TEST(upsert_statement)
{
    const struct collection *c = find("Albums");
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    size_t cols[] = {0, 1, 2};
    write_sql_upsert(&b, c, cols, 3);
    ck_assert_str_eq(b.data, "INSERT INTO \"albums\" (\"AlbumId\",\"Title\",\"ArtistId\") VALUES "
                             "(?,?,?) ON CONFLICT (\"AlbumId\") DO UPDATE SET "
                             "\"Title\"=excluded.\"Title\",\"ArtistId\"=excluded.\"ArtistId\"");
    wr_buf_reset(&b);
    write_sql_upsert(&b, c, cols, 1);
    ck_assert_str_eq(b.data, "INSERT INTO \"albums\" (\"AlbumId\") VALUES (?) ON CONFLICT "
                             "(\"AlbumId\") DO NOTHING");
    wr_buf_reset(&b);
    const struct collection *labels = find("Labels"); /* Lang, Num: the key; Text */
    size_t lcols[] = {2, 1, 0};
    write_sql_upsert(&b, labels, lcols, 3);
    ck_assert_str_eq(b.data,
                     "INSERT INTO \"labels\" (\"Text\",\"Num\",\"Lang\") VALUES (?,?,?) "
                     "ON CONFLICT (\"Lang\",\"Num\") DO UPDATE SET \"Text\"=excluded.\"Text\"");
    wr_buf_release(&b);
}
END_TEST

START_TEST(albums_list_count_get)
{
    const struct plan_coll *pc = stmts("Albums");
    ck_assert_str_eq(pc->list, "SELECT \"AlbumId\",\"Title\",\"ArtistId\" FROM \"albums\" "
                               "ORDER BY \"AlbumId\" LIMIT ? OFFSET ?");
    ck_assert_str_eq(pc->count, "SELECT COUNT(*) FROM \"albums\"");
    ck_assert_str_eq(pc->get, "SELECT \"AlbumId\",\"Title\",\"ArtistId\" FROM \"albums\" "
                              "WHERE \"AlbumId\"=? ORDER BY \"AlbumId\"");
    /* a page-number read from a remembered key (ops/rows.c) */
    ck_assert_str_eq(pc->list_from, "SELECT \"AlbumId\",\"Title\",\"ArtistId\" FROM \"albums\" "
                                    "WHERE \"AlbumId\">=? ORDER BY \"AlbumId\" LIMIT ? OFFSET ?");
    ck_assert_str_eq(pc->list_after, "SELECT \"AlbumId\",\"Title\",\"ArtistId\" FROM \"albums\" "
                                     "WHERE \"AlbumId\">? ORDER BY \"AlbumId\" LIMIT ? OFFSET ?");
}
END_TEST

START_TEST(to_one_relation)
{
    const struct plan_coll *pc = stmts("Albums");
    size_t r = rel_index("Albums", "Artists");
    ck_assert_str_eq(pc->rel_all[r], "SELECT \"ArtistId\",\"Name\" FROM \"artists\" "
                                     "WHERE \"ArtistId\"=? ORDER BY \"ArtistId\"");
    ck_assert_str_eq(pc->rel_page[r], "SELECT \"ArtistId\",\"Name\" FROM \"artists\" "
                                      "WHERE \"ArtistId\"=? ORDER BY \"ArtistId\" "
                                      "LIMIT ? OFFSET ?");
    ck_assert_str_eq(pc->rel_count[r], "SELECT COUNT(*) FROM \"artists\" WHERE \"ArtistId\"=?");
}
END_TEST

START_TEST(to_many_relation)
{
    const struct plan_coll *pc = stmts("Artists");
    size_t r = rel_index("Artists", "albums");
    ck_assert_str_eq(pc->rel_all[r], "SELECT \"AlbumId\",\"Title\",\"ArtistId\" FROM \"albums\" "
                                     "WHERE \"ArtistId\"=? ORDER BY \"AlbumId\"");
    ck_assert_str_eq(pc->rel_page[r], "SELECT \"AlbumId\",\"Title\",\"ArtistId\" FROM \"albums\" "
                                      "WHERE \"ArtistId\"=? ORDER BY \"AlbumId\" "
                                      "LIMIT ? OFFSET ?");
    ck_assert_str_eq(pc->rel_count[r], "SELECT COUNT(*) FROM \"albums\" WHERE \"ArtistId\"=?");
    ck_assert_str_eq(pc->rel_after[r], "SELECT \"AlbumId\",\"Title\",\"ArtistId\" FROM \"albums\" "
                                       "WHERE \"ArtistId\"=? AND \"AlbumId\">? "
                                       "ORDER BY \"AlbumId\" LIMIT ? OFFSET ?");
}
END_TEST

START_TEST(composite_key_statements)
{
    const struct plan_coll *pc = stmts("PlaylistTrack");
    ck_assert_str_eq(pc->get, "SELECT \"PlaylistId\",\"TrackId\" FROM \"playlist_track\" "
                              "WHERE \"PlaylistId\"=? AND \"TrackId\"=? "
                              "ORDER BY \"PlaylistId\",\"TrackId\"");
    ck_assert_str_eq(pc->list, "SELECT \"PlaylistId\",\"TrackId\" FROM \"playlist_track\" "
                               "ORDER BY \"PlaylistId\",\"TrackId\" LIMIT ? OFFSET ?");
    ck_assert_str_eq(pc->list_from, "SELECT \"PlaylistId\",\"TrackId\" FROM \"playlist_track\" "
                                    "WHERE (\"PlaylistId\",\"TrackId\")>=(?,?) "
                                    "ORDER BY \"PlaylistId\",\"TrackId\" LIMIT ? OFFSET ?");
}
END_TEST

START_TEST(identifiers_quoted)
{
    const struct plan_coll *pc = stmts("We\"ird");
    ck_assert_str_eq(
        pc->list,
        "SELECT \"a\"\"b\",\"c\" FROM \"we\"\"ird\" ORDER BY \"a\"\"b\" LIMIT ? OFFSET ?");
    ck_assert_str_eq(pc->count, "SELECT COUNT(*) FROM \"we\"\"ird\"");
    ck_assert_str_eq(
        pc->get,
        "SELECT \"a\"\"b\",\"c\" FROM \"we\"\"ird\" WHERE \"a\"\"b\"=? ORDER BY \"a\"\"b\"");
}
END_TEST

START_TEST(out_of_range_collection)
{
    ck_assert_ptr_null(plan_coll_at(pl, schema_count(sch)));
    plan_free(NULL);
}
END_TEST

/* --- pages --- */

START_TEST(page_arithmetic)
{
    struct page pg;
    plan_page(&pg, 347, 1, 10);
    ck_assert_int_eq(pg.total_pages, 35);
    ck_assert_int_eq(pg.offset, 0);
    ck_assert_int_eq(pg.total, 347);
    ck_assert_int_eq(pg.page, 1);
    ck_assert_int_eq(pg.per_page, 10);
    plan_page(&pg, 347, 35, 10);
    ck_assert_int_eq(pg.total_pages, 35);
    ck_assert_int_eq(pg.offset, 340);
    plan_page(&pg, 340, 1, 10);
    ck_assert_int_eq(pg.total_pages, 34);
    plan_page(&pg, 341, 1, 10);
    ck_assert_int_eq(pg.total_pages, 35);
    plan_page(&pg, 1, 1, 10);
    ck_assert_int_eq(pg.total_pages, 1);
    plan_page(&pg, 347, 1, 1);
    ck_assert_int_eq(pg.total_pages, 347);
}
END_TEST

START_TEST(page_of_empty_list)
{
    struct page pg;
    plan_page(&pg, 0, 1, 10);
    ck_assert_int_eq(pg.total_pages, 0);
    ck_assert_int_eq(pg.offset, 0);
}
END_TEST

START_TEST(page_past_the_last)
{
    struct page pg;
    plan_page(&pg, 347, 36, 10);
    ck_assert_int_eq(pg.total_pages, 35);
    ck_assert_int_eq(pg.offset, 350);
    ck_assert_int_eq(pg.page, 36);
}
END_TEST

START_TEST(page_largest_values)
{
    /* The route, the envelope and the cursor allow page and
     * results_per_page up to WR_PAGE_MAX (10^9) each: their product, and
     * that plus a search's largest offset, fit in 64 bits. */
    struct page pg;
    plan_page(&pg, 347, WR_PAGE_MAX, WR_PAGE_MAX);
    ck_assert_int_eq(pg.offset, 999999999000000000LL);
    ck_assert_int_eq(pg.total_pages, 1);
    ck_assert_int_eq(pg.offset + WR_Q_COUNT_MAX, 1009007198254740991LL);
    plan_page(&pg, INT64_MAX, WR_PAGE_MAX, 1);
    ck_assert_int_eq(pg.total_pages, INT64_MAX);
    ck_assert_int_eq(pg.offset, WR_PAGE_MAX - 1);
    plan_page(&pg, INT64_MAX, 1, WR_PAGE_MAX);
    ck_assert_int_eq(pg.total_pages, INT64_MAX / WR_PAGE_MAX + 1);
}
END_TEST

/* --- keys --- */

static struct value key[SCHEMA_MAX_KEY_COLS];
static char scratch[64];

static bool parse(const char *coll, const char *text)
{
    memset(key, 0xa5, sizeof(key));
    const struct collection *c = schema_find(sch, coll);
    ck_assert_ptr_nonnull(c);
    return plan_parse_key(c, text, key, scratch, sizeof(scratch));
}

START_TEST(integer_keys)
{
    ck_assert(parse("Albums", "1"));
    ck_assert_int_eq(key[0].kind, V_INT);
    ck_assert_int_eq(key[0].i, 1);
    ck_assert(parse("Albums", "-3"));
    ck_assert_int_eq(key[0].kind, V_INT);
    ck_assert_int_eq(key[0].i, -3);
    ck_assert(parse("Albums", "0"));
    ck_assert_int_eq(key[0].i, 0);
    ck_assert(parse("Albums", "9223372036854775807"));
    ck_assert_int_eq(key[0].i, LLONG_MAX);
}
END_TEST

START_TEST(integer_keys_refused)
{
    static const char *const bad[] = {"abc",
                                      "1.5",
                                      "0x10",
                                      " 1",
                                      "1 ",
                                      "+5",
                                      "-",
                                      "1a",
                                      "99999999999999999999",
                                      "9223372036854775808",
                                      "1,2",
                                      "01",
                                      "-0",
                                      "-01",
                                      ""};
    for (size_t i = 0; i < N(bad); i++)
        ck_assert_msg(!parse("Albums", bad[i]), "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(composite_integer_key)
{
    ck_assert(parse("PlaylistTrack", "1,2"));
    ck_assert_int_eq(key[0].kind, V_INT);
    ck_assert_int_eq(key[0].i, 1);
    ck_assert_int_eq(key[1].kind, V_INT);
    ck_assert_int_eq(key[1].i, 2);
    ck_assert(parse("PlaylistTrack", "17,-4"));
    ck_assert_int_eq(key[0].i, 17);
    ck_assert_int_eq(key[1].i, -4);
}
END_TEST

START_TEST(composite_wrong_part_count)
{
    static const char *const bad[] = {"1", "1,2,3", "1,", ",2", ",", "", "1;2", "a,2"};
    for (size_t i = 0; i < N(bad); i++)
        ck_assert_msg(!parse("PlaylistTrack", bad[i]), "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(text_key)
{
    ck_assert(parse("Codes", "AC/DC"));
    ck_assert_int_eq(key[0].kind, V_TEXT);
    ck_assert_uint_eq(key[0].n, 5);
    ck_assert_str_eq(key[0].s, "AC/DC");
    /* Text keys are taken as they are, numbers included. */
    ck_assert(parse("Codes", "1.5"));
    ck_assert_int_eq(key[0].kind, V_TEXT);
    ck_assert_str_eq(key[0].s, "1.5");
}
END_TEST

START_TEST(composite_text_and_integer)
{
    ck_assert(parse("Labels", "en,42"));
    ck_assert_int_eq(key[0].kind, V_TEXT);
    ck_assert_uint_eq(key[0].n, 2);
    ck_assert_str_eq(key[0].s, "en");
    ck_assert_int_eq(key[1].kind, V_INT);
    ck_assert_int_eq(key[1].i, 42);
    ck_assert(!parse("Labels", "en,x"));
    ck_assert(!parse("Labels", "en"));
    ck_assert(!parse("Labels", "en,1,2"));
}
END_TEST

START_TEST(text_key_needs_room)
{
    const struct collection *c = schema_find(sch, "Codes");
    char small[4];
    ck_assert(plan_parse_key(c, "abc", key, small, sizeof(small)));
    ck_assert_str_eq(key[0].s, "abc");
    ck_assert(!plan_parse_key(c, "abcd", key, small, sizeof(small)));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plan");
    TCase *sql = tcase_create("sql");
    tcase_add_checked_fixture(sql, setup, teardown);
    tcase_add_test(sql, albums_list_count_get);
    tcase_add_test(sql, capped_counts);
    tcase_add_test(sql, upsert_statement);
    tcase_add_test(sql, to_one_relation);
    tcase_add_test(sql, to_many_relation);
    tcase_add_test(sql, composite_key_statements);
    tcase_add_test(sql, identifiers_quoted);
    tcase_add_test(sql, out_of_range_collection);
    suite_add_tcase(s, sql);

    TCase *pages = tcase_create("pages");
    tcase_add_test(pages, page_arithmetic);
    tcase_add_test(pages, page_of_empty_list);
    tcase_add_test(pages, page_past_the_last);
    tcase_add_test(pages, page_largest_values);
    suite_add_tcase(s, pages);

    TCase *keys = tcase_create("keys");
    tcase_add_checked_fixture(keys, setup, teardown);
    tcase_add_test(keys, integer_keys);
    tcase_add_test(keys, integer_keys_refused);
    tcase_add_test(keys, composite_integer_key);
    tcase_add_test(keys, composite_wrong_part_count);
    tcase_add_test(keys, text_key);
    tcase_add_test(keys, composite_text_and_integer);
    tcase_add_test(keys, text_key_needs_room);
    suite_add_tcase(s, keys);

    return run_suite(s, true);
}
