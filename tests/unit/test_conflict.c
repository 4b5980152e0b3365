/* Unit tests of a 409's words (services/catalog/ops/conflict.c) over the
 * Chinook fixture with hidden, renamed and unserved columns: SQLite's
 * table.Column names become Collection.attribute, and a message that would
 * name something a client may not see becomes the generic one. */
#include <check.h>
#include <string.h>

#include "chinook_fixture.h"
#include "model/schema.h"
#include "ops/conflict.h"
#include "warren/cfg.h"
#include "run_suite.h"

static struct wr_cfg cfg;
static schema *sch;

static void setup(void)
{
    struct wr_err err = {0};
    sch = fixture_schema("albums artists tracks",
                         "COLLECTIONS = 'Albums, Artists'\n"
                         "Albums.EXCLUDE = 'title'\n"
                         "Artists.RENAME = 'name:label'\n",
                         &cfg, &err);
    ck_assert_msg(sch != NULL, "%s", err.msg);
}

static void teardown(void)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
}

static const char *words(const char *msg)
{
    static char out[256];
    conflict_message(sch, msg, out, sizeof(out));
    return out;
}

START_TEST(visible_columns_get_the_api_names)
{
    ck_assert_str_eq(words("sqlite: inserting: UNIQUE constraint failed: albums.AlbumId"),
                     "UNIQUE constraint failed: Albums.album_id");
    ck_assert_str_eq(words("sqlite: updating: NOT NULL constraint failed: artists.Name"),
                     "NOT NULL constraint failed: Artists.label");
    ck_assert_str_eq(words("sqlite: x: UNIQUE constraint failed: albums.AlbumId, albums.ArtistId"),
                     "UNIQUE constraint failed: Albums.album_id, Albums.artist_id");
    ck_assert_str_eq(words("sqlite: deleting: FOREIGN KEY constraint failed"),
                     "FOREIGN KEY constraint failed");
}
END_TEST

START_TEST(hidden_or_unserved_names_are_never_told)
{
    /* Albums.EXCLUDE = 'title' */
    ck_assert_str_eq(words("sqlite: inserting: NOT NULL constraint failed: albums.Title"),
                     CONFLICT_GENERIC);
    ck_assert_str_eq(words("sqlite: x: UNIQUE constraint failed: albums.ArtistId, albums.Title"),
                     CONFLICT_GENERIC);
    /* tracks is not served (COLLECTIONS) */
    ck_assert_str_eq(words("sqlite: x: NOT NULL constraint failed: tracks.Name"), CONFLICT_GENERIC);
    /* a CHECK's text may quote its expression; a trigger's RAISE says anything */
    ck_assert_str_eq(words("sqlite: x: CHECK constraint failed: Title <> ''"), CONFLICT_GENERIC);
    ck_assert_str_eq(words("sqlite: x: the secret is Title"), CONFLICT_GENERIC);
    ck_assert_str_eq(words("sqlite: x: FOREIGN KEY constraint failed: albums.Title"),
                     CONFLICT_GENERIC);
    ck_assert_str_eq(words("sqlite: x: UNIQUE constraint failed: "), CONFLICT_GENERIC);
    ck_assert_str_eq(words("sqlite: x: UNIQUE constraint failed: nodot"), CONFLICT_GENERIC);
    ck_assert_str_eq(words(NULL), CONFLICT_GENERIC);
    /* too long for the caller's buffer: cut, never overrun */
    char small[8];
    conflict_message(sch, "sqlite: x: UNIQUE constraint failed: albums.AlbumId", small,
                     sizeof(small));
    ck_assert_uint_lt(strlen(small), sizeof(small));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conflict");
    TCase *tc = tcase_create("conflict");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, visible_columns_get_the_api_names);
    tcase_add_test(tc, hidden_or_unserved_names_are_never_told);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
