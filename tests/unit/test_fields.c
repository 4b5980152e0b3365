/* Unit tests for fields= (services/catalog/ops/fields.c) over the Chinook
 * fixture: what each entry shows, that it never shows what the config
 * hides, and the 400s that name the entry at fault. */
#include <check.h>
#include <string.h>

#include "chinook_fixture.h"
#include "model/schema.h"
#include "ops/fields.h"
#include "warren/cfg.h"
#include "run_suite.h"

static struct wr_cfg cfg;
static schema *sch;
static struct view v;
static struct wr_err err;

static void setup(void)
{
    struct wr_err e = {0};
    sch = fixture_schema("albums artists tracks genres media_types",
                         "Albums.EXCLUDE = 'Artists.artist_id'\n"
                         "Artists.INCLUDE = 'name, albums.title'\n",
                         &cfg, &e);
    ck_assert_msg(sch != NULL, "%s", e.msg);
    memset(&v, 0, sizeof(v));
}

static void teardown(void)
{
    view_release(&v);
    schema_free(sch);
    wr_cfg_release(&cfg);
}

static const struct collection *coll(const char *name)
{
    const struct collection *c = schema_find(sch, name);
    ck_assert_ptr_nonnull(c);
    return c;
}

static int parse(const char *c, const char *fields, int depth)
{
    view_release(&v);
    memset(&err, 0, sizeof(err));
    return view_parse(&v, sch, coll(c), fields, depth, &err);
}

/* The index of c's column with attribute attr. */
static size_t col(const char *c, const char *attr)
{
    const struct collection *x = coll(c);
    for (size_t i = 0; i < x->ncols; i++)
        if (strcmp(x->cols[i].attr, attr) == 0)
            return i;
    ck_abort_msg("no column %s.%s", c, attr);
    return 0;
}

static size_t rel(const char *c, const char *name)
{
    const struct relation *r = schema_relation(coll(c), name);
    ck_assert_ptr_nonnull(r);
    return (size_t)(r - coll(c)->rels);
}

static void assert_refused(const char *c, const char *fields, int depth, const char *names)
{
    ck_assert_msg(parse(c, fields, depth) == WR_EINVAL, "%s accepted", fields);
    ck_assert_msg(strstr(err.msg, "fields") != NULL && strstr(err.msg, names) != NULL,
                  "%s: \"%s\" does not name %s", fields, err.msg, names);
}

START_TEST(attributes_and_relations_shown)
{
    ck_assert_int_eq(parse("Albums", "title, Artists", 1), 0);
    ck_assert_ptr_eq(v.c, coll("Albums"));
    ck_assert(!v.top.hide_cols[col("Albums", "title")]);
    ck_assert(v.top.hide_cols[col("Albums", "album_id")]);
    ck_assert(!v.top.hide_rels[rel("Albums", "Artists")]);
    ck_assert(v.top.hide_rels[rel("Albums", "tracks")]);
    /* a whole relation keeps its config: Albums.EXCLUDE hides artist_id in it */
    const struct objects_shape *a = &v.top.sub[rel("Albums", "Artists")];
    ck_assert_ptr_eq(a->hide_cols, schema_relation(coll("Albums"), "Artists")->col_hidden);
    ck_assert_ptr_null(a->hide_rels);
}
END_TEST

START_TEST(dotted_entries_narrow_a_relation)
{
    ck_assert_int_eq(parse("Albums", "tracks.name,tracks.milliseconds", 1), 0);
    ck_assert(!v.top.hide_rels[rel("Albums", "tracks")]);
    ck_assert(v.top.hide_cols[col("Albums", "title")]);
    const struct objects_shape *t = &v.top.sub[rel("Albums", "tracks")];
    ck_assert(!t->hide_cols[col("Tracks", "name")]);
    ck_assert(!t->hide_cols[col("Tracks", "milliseconds")]);
    ck_assert(t->hide_cols[col("Tracks", "composer")]);
    ck_assert(t->hide_rels[rel("Tracks", "Genres")]);
    /* at depth 2, a relation of the relation's objects */
    ck_assert_int_eq(parse("Albums", "tracks.name,tracks.Genres", 2), 0);
    t = &v.top.sub[rel("Albums", "tracks")];
    ck_assert(!t->hide_rels[rel("Tracks", "Genres")]);
    ck_assert(t->hide_rels[rel("Tracks", "MediaTypes")]);
    /* order does not matter: the relation named whole is still narrowed */
    ck_assert_int_eq(parse("Albums", "tracks.name,tracks", 1), 0);
    ck_assert(v.top.sub[rel("Albums", "tracks")].hide_cols[col("Tracks", "composer")]);
}
END_TEST

/* Never wider than the config: hidden names are unknown names. */
START_TEST(hidden_and_unknown_refused)
{
    assert_refused("Albums", "title,nope", 1, "nope");
    assert_refused("Albums", "Artists.artist_id", 1, "Artists.artist_id"); /* dotted EXCLUDE */
    assert_refused("Artists", "artist_id", 1, "artist_id");                /* INCLUDE */
    assert_refused("Artists", "albums.album_id", 1, "albums.album_id");    /* dotted INCLUDE */
    /* INCLUDE's dotted entry narrows albums to its columns: no relations at depth 2 */
    assert_refused("Artists", "albums.Artists", 2, "albums.Artists");
    assert_refused("Albums", "AlbumId", 1, "AlbumId"); /* SQL names are not fields */
    assert_refused("Albums", "nope.title", 1, "nope");
    assert_refused("Albums", "tracks.nope", 1, "tracks.nope");
}
END_TEST

START_TEST(depth_limits_what_can_be_named)
{
    assert_refused("Albums", "Artists", 0, "depth 0");
    assert_refused("Albums", "tracks.name", 0, "depth 0");
    assert_refused("Albums", "tracks.Genres", 1, "depth 2");
    assert_refused("Albums", "tracks.Genres.name", 2, "one dot");
    ck_assert_int_eq(parse("Albums", "title,artist_id", 0), 0);
}
END_TEST

START_TEST(empty_lists_refused)
{
    assert_refused("Albums", "", 1, "names no field");
    assert_refused("Albums", " , ,", 1, "names no field");
    ck_assert_int_eq(parse("Albums", " title ,, artist_id ", 1), 0);
    ck_assert(!v.top.hide_cols[col("Albums", "artist_id")]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fields");
    TCase *tc = tcase_create("fields");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, attributes_and_relations_shown);
    tcase_add_test(tc, dotted_entries_narrow_a_relation);
    tcase_add_test(tc, hidden_and_unknown_refused);
    tcase_add_test(tc, depth_limits_what_can_be_named);
    tcase_add_test(tc, empty_lists_refused);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
