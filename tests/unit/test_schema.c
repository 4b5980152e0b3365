/* Unit tests for the schema model: the naming rules, declared types, and
 * schema_build over the Chinook fixture's tables (albums, artists,
 * employees with its self-reference, customers, playlist_track with its
 * composite key), with and without config. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "chinook_fixture.h"
#include "model/fts.h"
#include "model/schema.h"
#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* --- definitions: Chinook's tables (less media_types, genres, invoices,
 * invoice_items, so tracks keeps only its key into albums), plus tables
 * never served, and two keys from one table into another --- */

static struct schema_table_def chinook[FIXTURE_MAX_TABLES];
static size_t nchinook;
static struct schema_table_def league[FIXTURE_MAX_TABLES];
static size_t nleague;

/* --- fixture: a config per test, the schema, the error --- */

static struct wr_cfg cfg;
static schema *sch;
static struct wr_err err;

static void setup(void)
{
    nchinook = fixture_tables("albums artists employees customers playlists tracks playlist_track "
                              "sqlite_stat1 log",
                              chinook, FIXTURE_MAX_TABLES);
    nleague = fixture_tables("teams matches", league, FIXTURE_MAX_TABLES);
    memset(&cfg, 0, sizeof(cfg));
    sch = NULL;
    memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
}

static void load_cfg(const char *text)
{
    struct wr_buf problems;
    wr_buf_init(&problems, 1 << 16);
    int rc = wr_cfg_parse(&cfg, "test.cfg", text, strlen(text), NULL, &problems);
    ck_assert_msg(rc == 0, "config rejected: %s", problems.data ? problems.data : "");
    wr_buf_release(&problems);
}

/* Builds the schema of tables under text's config and asserts success. */
static void build_ok(const struct schema_table_def *tables, size_t n, const char *text)
{
    load_cfg(text);
    sch = schema_build(tables, n, &cfg, &err);
    ck_assert_msg(sch != NULL, "schema_build failed: %s", err.msg);
}

/* Builds under text's config, asserts WR_EINVAL and that the message has want. */
static void build_fails(const struct schema_table_def *tables, size_t n, const char *text,
                        const char *want)
{
    load_cfg(text);
    sch = schema_build(tables, n, &cfg, &err);
    ck_assert_ptr_null(sch);
    ck_assert_int_eq(err.code, WR_EINVAL);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"", err.msg, want);
}

static const struct collection *find(const char *name)
{
    const struct collection *c = schema_find(sch, name);
    ck_assert_msg(c != NULL, "no collection %s", name);
    return c;
}

/* The collection's field names joined by ' ' (fields, or flat when flat). */
static void assert_fields(const struct collection *c, bool flat, const char *want)
{
    char got[1024] = "";
    size_t n = flat ? c->nflat : c->nfields;
    const struct field *f = flat ? c->flat : c->fields;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(f[i].name);
        ck_assert_uint_lt(len + k + 2, sizeof(got));
        if (i > 0)
            got[len++] = ' ';
        memcpy(got + len, f[i].name, k + 1);
        len += k;
    }
    ck_assert_str_eq(got, want);
}

/* Asserts c has relation name, to_many as given, aimed at collection target,
 * with one key pair: local column (by SQL name) to remote column. */
static void assert_rel(const struct collection *c, const char *name, bool to_many,
                       const char *target, const char *local, const char *remote)
{
    const struct relation *r = schema_relation(c, name);
    ck_assert_msg(r != NULL, "%s has no relation %s", c->name, name);
    ck_assert_int_eq(r->to_many, to_many);
    const struct collection *t = schema_at(sch, r->target);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->name, target);
    ck_assert_uint_eq(r->nkeys, 1);
    ck_assert_str_eq(c->cols[r->local[0]].sql, local);
    ck_assert_str_eq(t->cols[r->remote[0]].sql, remote);
}

/* --- naming --- */

static void assert_name(char *(*fn)(const char *), const char *in, const char *want)
{
    char *got = fn(in);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(collection_names)
{
    assert_name(schema_collection_name, "invoice_items", "InvoiceItems");
    assert_name(schema_collection_name, "albums", "Albums");
    assert_name(schema_collection_name, "playlist_track", "PlaylistTrack");
    assert_name(schema_collection_name, "media_types", "MediaTypes");
    assert_name(schema_collection_name, "Albums", "Albums");
}
END_TEST

START_TEST(attr_names)
{
    assert_name(schema_attr_name, "AlbumId", "album_id");
    assert_name(schema_attr_name, "HTTPServer", "http_server");
    assert_name(schema_attr_name, "BillingPostalCode", "billing_postal_code");
    assert_name(schema_attr_name, "ReportsTo", "reports_to");
    assert_name(schema_attr_name, "Title", "title");
    assert_name(schema_attr_name, "ID", "id");
    assert_name(schema_attr_name, "already_snake", "already_snake");
    assert_name(schema_attr_name, "Address2Line", "address2_line");
}
END_TEST

START_TEST(col_types)
{
    ck_assert_int_eq(schema_col_type("INTEGER"), COL_INTEGER);
    ck_assert_int_eq(schema_col_type("integer"), COL_INTEGER);
    ck_assert_int_eq(schema_col_type("BIGINT"), COL_INTEGER);
    ck_assert_int_eq(schema_col_type("NVARCHAR(160)"), COL_TEXT);
    ck_assert_int_eq(schema_col_type("TEXT"), COL_TEXT);
    ck_assert_int_eq(schema_col_type("CLOB"), COL_TEXT);
    ck_assert_int_eq(schema_col_type("NUMERIC(10,2)"), COL_REAL);
    ck_assert_int_eq(schema_col_type("REAL"), COL_REAL);
    ck_assert_int_eq(schema_col_type("DOUBLE"), COL_REAL);
    ck_assert_int_eq(schema_col_type("DATETIME"), COL_DATETIME);
    ck_assert_int_eq(schema_col_type("TIMESTAMP"), COL_DATETIME);
    ck_assert_int_eq(schema_col_type("DATE"), COL_DATE);
    ck_assert_int_eq(schema_col_type("BLOB"), COL_BLOB);
    ck_assert_int_eq(schema_col_type(""), COL_ANY);
    ck_assert_int_eq(schema_col_type(NULL), COL_ANY);
}
END_TEST

/* --- schema_build over every table --- */

START_TEST(collections_of_chinook)
{
    build_ok(chinook, nchinook, "");
    /* sqlite_stat1 (internal) and log (no key) are skipped; table order kept. */
    static const char *const names[] = {"Albums",    "Artists", "Employees",    "Customers",
                                        "Playlists", "Tracks",  "PlaylistTrack"};
    ck_assert_uint_eq(schema_count(sch), N(names));
    for (size_t i = 0; i < N(names); i++) {
        ck_assert_str_eq(schema_at(sch, i)->name, names[i]);
        ck_assert_str_eq(schema_at(sch, i)->config_name, names[i]);
    }
    ck_assert_ptr_null(schema_at(sch, N(names)));
    ck_assert_ptr_null(schema_find(sch, "SqliteStat1"));
    ck_assert_ptr_null(schema_find(sch, "Log"));
    ck_assert_ptr_null(schema_find(sch, "albums"));
    ck_assert_str_eq(find("PlaylistTrack")->table, "playlist_track");
}
END_TEST

START_TEST(columns_of_albums)
{
    build_ok(chinook, nchinook, "");
    const struct collection *c = find("Albums");
    ck_assert_uint_eq(c->ncols, 3);
    ck_assert_str_eq(c->cols[0].sql, "AlbumId");
    ck_assert_str_eq(c->cols[0].attr, "album_id");
    ck_assert_int_eq(c->cols[0].type, COL_INTEGER);
    ck_assert_str_eq(c->cols[1].sql, "Title");
    ck_assert_str_eq(c->cols[1].attr, "title");
    ck_assert_int_eq(c->cols[1].type, COL_TEXT);
    ck_assert_str_eq(c->cols[2].attr, "artist_id");
    for (size_t i = 0; i < c->ncols; i++)
        ck_assert(!c->cols[i].hidden);
    ck_assert_uint_eq(c->npk, 1);
    ck_assert_uint_eq(c->pk[0], 0);
    ck_assert_int_eq(find("Tracks")->cols[8].type, COL_REAL); /* UnitPrice */
    ck_assert_int_eq(find("Employees")->cols[5].type, COL_DATETIME);
}
END_TEST

START_TEST(relations_both_directions)
{
    build_ok(chinook, nchinook, "");
    const struct collection *albums = find("Albums");
    ck_assert_uint_eq(albums->nrels, 2);
    assert_rel(albums, "Artists", false, "Artists", "ArtistId", "ArtistId");
    assert_rel(albums, "tracks", true, "Tracks", "AlbumId", "AlbumId");
    const struct collection *artists = find("Artists");
    ck_assert_uint_eq(artists->nrels, 1);
    assert_rel(artists, "albums", true, "Albums", "ArtistId", "ArtistId");
    const struct collection *customers = find("Customers");
    ck_assert_uint_eq(customers->nrels, 1);
    assert_rel(customers, "Employees", false, "Employees", "SupportRepId", "EmployeeId");
    assert_rel(find("Tracks"), "Albums", false, "Albums", "AlbumId", "AlbumId");
    ck_assert_ptr_null(schema_relation(albums, "artists"));
    ck_assert_ptr_null(schema_relation(albums, "Tracks"));
}
END_TEST

START_TEST(self_reference_named_by_its_key)
{
    build_ok(chinook, nchinook, "");
    const struct collection *e = find("Employees");
    ck_assert_uint_eq(e->nrels, 3);
    assert_rel(e, "Employees_reports_to", false, "Employees", "ReportsTo", "EmployeeId");
    assert_rel(e, "employees_reports_to", true, "Employees", "EmployeeId", "ReportsTo");
    assert_rel(e, "customers", true, "Customers", "EmployeeId", "SupportRepId");
    ck_assert_ptr_null(schema_relation(e, "Employees"));
    ck_assert_ptr_null(schema_relation(e, "employees"));
}
END_TEST

START_TEST(two_keys_into_one_table)
{
    build_ok(league, nleague, "");
    const struct collection *m = find("Matches");
    ck_assert_uint_eq(m->nrels, 2);
    assert_rel(m, "Teams_home_team_id", false, "Teams", "HomeTeamId", "TeamId");
    assert_rel(m, "Teams_away_team_id", false, "Teams", "AwayTeamId", "TeamId");
    const struct collection *t = find("Teams");
    ck_assert_uint_eq(t->nrels, 2);
    assert_rel(t, "matches_home_team_id", true, "Matches", "TeamId", "HomeTeamId");
    assert_rel(t, "matches_away_team_id", true, "Matches", "TeamId", "AwayTeamId");
}
END_TEST

START_TEST(composite_key_and_two_fks)
{
    build_ok(chinook, nchinook, "");
    const struct collection *pt = find("PlaylistTrack");
    ck_assert_uint_eq(pt->npk, 2);
    ck_assert_str_eq(pt->cols[pt->pk[0]].sql, "PlaylistId");
    ck_assert_str_eq(pt->cols[pt->pk[1]].sql, "TrackId");
    ck_assert_uint_eq(pt->nrels, 2);
    assert_rel(pt, "Tracks", false, "Tracks", "TrackId", "TrackId");
    assert_rel(pt, "Playlists", false, "Playlists", "PlaylistId", "PlaylistId");
    assert_rel(find("Playlists"), "playlist_track", true, "PlaylistTrack", "PlaylistId",
               "PlaylistId");
    assert_rel(find("Tracks"), "playlist_track", true, "PlaylistTrack", "TrackId", "TrackId");
    assert_fields(pt, false, "Playlists Tracks playlist_id track_id");
}
END_TEST

START_TEST(fields_sorted_uppercase_first)
{
    build_ok(chinook, nchinook, "");
    assert_fields(find("Albums"), false, "Artists album_id artist_id title tracks");
    assert_fields(find("Albums"), true, "album_id artist_id title");
    assert_fields(find("Artists"), false, "albums artist_id name");
    assert_fields(find("Employees"), false,
                  "Employees_reports_to address birth_date city country customers email "
                  "employee_id employees_reports_to fax first_name hire_date last_name phone "
                  "postal_code reports_to state title");
    assert_fields(find("Employees"), true,
                  "address birth_date city country email employee_id fax first_name hire_date "
                  "last_name phone postal_code reports_to state title");
    assert_fields(find("Customers"), false,
                  "Employees address city company country customer_id email fax first_name "
                  "last_name phone postal_code state support_rep_id");
    /* Every field points at what it names. */
    const struct collection *c = find("Albums");
    for (size_t i = 0; i < c->nfields; i++) {
        const struct field *f = &c->fields[i];
        const char *name = f->is_relation ? c->rels[f->index].name : c->cols[f->index].attr;
        ck_assert_str_eq(f->name, name);
    }
}
END_TEST

START_TEST(fk_without_target_column_uses_its_key)
{
    static const struct schema_fk_def fks[] = {{0, "artists", "ArtistId", NULL}};
    const struct schema_table_def *al = fixture_table("albums");
    const struct schema_table_def tables[] = {
        {"albums", al->cols, al->ncols, fks, N(fks), NULL},
        *fixture_table("artists"),
    };
    build_ok(tables, N(tables), "");
    assert_rel(find("Albums"), "Artists", false, "Artists", "ArtistId", "ArtistId");
    assert_rel(find("Artists"), "albums", true, "Albums", "ArtistId", "ArtistId");
}
END_TEST

START_TEST(fk_into_unknown_table_is_ignored)
{
    static const struct schema_fk_def fks[] = {{0, "nowhere", "ArtistId", "Id"}};
    const struct schema_table_def *al = fixture_table("albums");
    const struct schema_table_def tables[] = {
        {"albums", al->cols, al->ncols, fks, N(fks), NULL},
    };
    build_ok(tables, N(tables), "");
    ck_assert_uint_eq(find("Albums")->nrels, 0);
}
END_TEST

START_TEST(fk_naming_unknown_column_fails)
{
    static const struct schema_fk_def fks[] = {{0, "artists", "Nope", "ArtistId"}};
    const struct schema_table_def *al = fixture_table("albums");
    const struct schema_table_def tables[] = {
        {"albums", al->cols, al->ncols, fks, N(fks), NULL},
        *fixture_table("artists"),
    };
    build_fails(tables, N(tables), "", "unknown columns");
}
END_TEST

/* --- COLLECTIONS --- */

START_TEST(collections_filter_relations)
{
    build_ok(chinook, nchinook, "COLLECTIONS = 'Albums, Artists'\n");
    ck_assert_uint_eq(schema_count(sch), 2);
    ck_assert_str_eq(schema_at(sch, 0)->name, "Albums");
    ck_assert_str_eq(schema_at(sch, 1)->name, "Artists");
    ck_assert_ptr_null(schema_find(sch, "Tracks"));
    /* tracks is not served, so Albums has no relation to it. */
    const struct collection *albums = find("Albums");
    ck_assert_uint_eq(albums->nrels, 1);
    ck_assert_ptr_null(schema_relation(albums, "tracks"));
    assert_fields(albums, false, "Artists album_id artist_id title");
    assert_fields(find("Artists"), false, "albums artist_id name");
    /* Targets are indices into the filtered list. */
    ck_assert_uint_eq(schema_relation(albums, "Artists")->target, 1);
    ck_assert_uint_eq(schema_relation(find("Artists"), "albums")->target, 0);
}
END_TEST

START_TEST(collections_single_has_no_relations)
{
    build_ok(chinook, nchinook, "COLLECTIONS = 'Albums'\n");
    ck_assert_uint_eq(schema_count(sch), 1);
    ck_assert_uint_eq(find("Albums")->nrels, 0);
    assert_fields(find("Albums"), false, "album_id artist_id title");
}
END_TEST

START_TEST(config_for_unserved_table_is_accepted)
{
    build_ok(chinook, nchinook, "COLLECTIONS = 'Albums'\nArtists.EXCLUDE = 'name'\n");
    ck_assert_uint_eq(schema_count(sch), 1);
}
END_TEST

/* --- NAME, EXCLUDE, RENAME --- */

START_TEST(name_renames_collection)
{
    build_ok(chinook, nchinook, "Albums.NAME = 'Records'\n");
    ck_assert_ptr_null(schema_find(sch, "Albums"));
    const struct collection *c = find("Records");
    ck_assert_str_eq(c->config_name, "Albums");
    ck_assert_str_eq(c->table, "albums");
    /* The to-one relation into it takes the new name; the to-many out of
     * Artists is still named after the table. */
    assert_rel(find("Tracks"), "Records", false, "Records", "AlbumId", "AlbumId");
    ck_assert_ptr_null(schema_relation(find("Tracks"), "Albums"));
    assert_rel(find("Artists"), "albums", true, "Records", "ArtistId", "ArtistId");
}
END_TEST

START_TEST(exclude_hides_column)
{
    build_ok(chinook, nchinook, "COLLECTIONS = 'Albums, Artists'\nAlbums.EXCLUDE = 'title'\n");
    const struct collection *c = find("Albums");
    ck_assert(c->cols[1].hidden);
    ck_assert(!c->cols[0].hidden);
    ck_assert(!c->cols[2].hidden);
    ck_assert_uint_eq(c->ncols, 3); /* still selected, just not shown */
    assert_fields(c, false, "Artists album_id artist_id");
    assert_fields(c, true, "album_id artist_id");
    assert_fields(find("Artists"), true, "artist_id name");
}
END_TEST

START_TEST(exclude_list_of_columns)
{
    build_ok(chinook, nchinook, "Employees.EXCLUDE = 'birth_date, hire_date,title'\n");
    assert_fields(find("Employees"), true,
                  "address city country email employee_id fax first_name last_name phone "
                  "postal_code reports_to state");
}
END_TEST

START_TEST(rename_column)
{
    build_ok(chinook, nchinook, "Albums.RENAME = 'title:name'\n");
    const struct collection *c = find("Albums");
    ck_assert_str_eq(c->cols[1].attr, "name");
    ck_assert_str_eq(c->cols[1].sql, "Title");
    assert_fields(c, false, "Artists album_id artist_id name tracks");
    assert_fields(c, true, "album_id artist_id name");
}
END_TEST

START_TEST(rename_several_with_spaces)
{
    build_ok(chinook, nchinook, "Artists.RENAME = 'name:artist_name, artist_id: id '\n");
    assert_fields(find("Artists"), true, "artist_name id");
}
END_TEST

/* RENAME names a relation by its default name (this once failed: the
 * rename ran before the check, which then missed the old name). */
START_TEST(rename_relation)
{
    build_ok(chinook, nchinook, "Albums.RENAME = 'Artists:artist'\n");
    const struct collection *c = find("Albums");
    ck_assert_ptr_nonnull(schema_relation(c, "artist"));
    ck_assert_ptr_null(schema_relation(c, "Artists"));
    assert_fields(c, false, "album_id artist artist_id title tracks");
}
END_TEST

/* EXCLUDE hides relations as well as columns, as Flask-Restless's
 * exclude_columns does (this was once accepted and ignored). */
START_TEST(exclude_relation)
{
    build_ok(chinook, nchinook, "Albums.EXCLUDE = 'tracks'\n");
    assert_fields(find("Albums"), false, "Artists album_id artist_id title");
}
END_TEST

/* INCLUDE shows only what it lists: columns, relations, and a relation
 * named only by a dotted entry, restricted to that entry's columns. */
START_TEST(include_lists_the_fields)
{
    build_ok(chinook, nchinook, "Albums.INCLUDE = 'title, Artists.name'\n");
    const struct collection *c = find("Albums");
    assert_fields(c, false, "Artists title");
    assert_fields(c, true, "title");
    const struct relation *r = schema_relation(c, "Artists");
    ck_assert_ptr_nonnull(r->col_hidden);
    ck_assert(!schema_rel_col_visible(sch, r, 0)); /* artist_id */
    ck_assert(schema_rel_col_visible(sch, r, 1));  /* name */
    /* Artists itself is untouched */
    assert_fields(find("Artists"), true, "artist_id name");
    ck_assert_ptr_null(schema_relation(find("Artists"), "albums")->col_hidden);
}
END_TEST

START_TEST(include_relation_whole)
{
    build_ok(chinook, nchinook, "Albums.INCLUDE = 'album_id, Artists'\n");
    const struct collection *c = find("Albums");
    assert_fields(c, false, "Artists album_id");
    const struct relation *r = schema_relation(c, "Artists");
    ck_assert_ptr_null(r->col_hidden);
    ck_assert(schema_rel_col_visible(sch, r, 0));
    ck_assert(schema_rel_col_visible(sch, r, 1));
}
END_TEST

/* A dotted EXCLUDE hides a column inside one relation only; the relation's
 * column may be named by attribute or by SQL name. */
START_TEST(exclude_dotted_column)
{
    build_ok(chinook, nchinook, "Albums.EXCLUDE = 'Artists.Name, tracks.unit_price'\n");
    const struct collection *c = find("Albums");
    assert_fields(c, false, "Artists album_id artist_id title tracks");
    const struct relation *a = schema_relation(c, "Artists");
    ck_assert(schema_rel_col_visible(sch, a, 0));
    ck_assert(!schema_rel_col_visible(sch, a, 1));
    const struct relation *t = schema_relation(c, "tracks");
    ck_assert(!schema_rel_col_visible(sch, t, 8)); /* UnitPrice */
    ck_assert(schema_rel_col_visible(sch, t, 1));
    /* the target's own hidden columns stay hidden inside relations */
    schema_free(sch);
    wr_cfg_release(&cfg);
    build_ok(chinook, nchinook, "Artists.EXCLUDE = 'name'\n");
    ck_assert(!schema_rel_col_visible(sch, schema_relation(find("Albums"), "Artists"), 1));
}
END_TEST

START_TEST(depth_and_count_per_collection)
{
    build_ok(chinook, nchinook, "Albums.DEPTH = 0\nTracks.COUNT = 'none'\n");
    ck_assert_int_eq(find("Albums")->depth, 0);
    ck_assert_int_eq(find("Artists")->depth, 1);
    ck_assert(find("Tracks")->count_none);
    ck_assert(!find("Albums")->count_none);
}
END_TEST

START_TEST(methods_per_collection)
{
    build_ok(chinook, nchinook, "Albums.METHODS = 'get, Post,PATCH_MANY  delete'\n");
    const struct collection *a = find("Albums");
    ck_assert_uint_eq(a->methods, METHOD_GET | METHOD_POST | METHOD_PATCH_MANY | METHOD_DELETE);
    ck_assert(schema_allows(a, METHOD_PUT | METHOD_DELETE));
    ck_assert(!schema_allows(a, METHOD_PUT | METHOD_PATCH));
    ck_assert_uint_eq(find("Artists")->methods, METHOD_GET);
    ck_assert(schema_writable(sch));
    ck_assert_str_eq(schema_method_name(5), "PATCH_MANY");
}
END_TEST

START_TEST(methods_read_only_schema)
{
    build_ok(chinook, nchinook, "Albums.METHODS = 'GET'\n");
    ck_assert(!schema_writable(sch));
}
END_TEST

/* --- errors --- */

START_TEST(methods_unknown_word)
{
    build_fails(chinook, nchinook, "Albums.METHODS = 'GET, PSOT'\n",
                "collection Albums: METHODS has PSOT");
}
END_TEST

START_TEST(include_and_exclude_refused)
{
    build_fails(chinook, nchinook, "Albums.INCLUDE = 'title'\nAlbums.EXCLUDE = 'title'\n",
                "EXCLUDE or INCLUDE, not both");
}
END_TEST

START_TEST(dotted_unknown_names)
{
    build_fails(chinook, nchinook, "Albums.EXCLUDE = 'Artists.nope'\n", "Artists.nope");
    schema_free(sch);
    wr_cfg_release(&cfg);
    build_fails(chinook, nchinook, "Albums.INCLUDE = 'Nope.name'\n", "Nope.name");
    schema_free(sch);
    wr_cfg_release(&cfg);
    build_fails(chinook, nchinook, "Albums.INCLUDE = 'title.x'\n", "title.x");
}
END_TEST

START_TEST(collections_names_missing_table)
{
    build_fails(chinook, nchinook, "COLLECTIONS = 'Albums, Nope'\n", "Nope");
    ck_assert_ptr_null(strstr(err.msg, "Albums"));
}
END_TEST

START_TEST(collections_names_table_without_key)
{
    build_fails(chinook, nchinook, "COLLECTIONS = 'Log'\n", "Log");
}
END_TEST

START_TEST(rename_unknown_field)
{
    build_fails(chinook, nchinook, "Albums.RENAME = 'nope:x'\n", "nope");
}
END_TEST

START_TEST(exclude_unknown_field)
{
    build_fails(chinook, nchinook, "Albums.EXCLUDE = 'title, nope'\n", "nope");
    ck_assert_ptr_null(strstr(err.msg, "title"));
}
END_TEST

START_TEST(dotted_key_for_unknown_table)
{
    build_fails(chinook, nchinook, "Nope.NAME = 'X'\n", "Nope.NAME");
}
END_TEST

START_TEST(rename_creating_collision)
{
    build_fails(chinook, nchinook, "Albums.RENAME = 'title:artist_id'\n", "artist_id");
}
END_TEST

START_TEST(name_creating_collision)
{
    build_fails(chinook, nchinook, "Albums.NAME = 'Artists'\n", "Artists");
}
END_TEST

START_TEST(every_problem_reported)
{
    build_fails(chinook, nchinook,
                "Albums.EXCLUDE = 'zzz'\nArtists.RENAME = 'yyy:q'\nNope.NAME = 'X'\n", "zzz");
    ck_assert_ptr_nonnull(strstr(err.msg, "yyy"));
    ck_assert_ptr_nonnull(strstr(err.msg, "Nope.NAME"));
}
END_TEST

START_TEST(err_may_be_null)
{
    load_cfg("COLLECTIONS = 'Nope'\n");
    ck_assert_ptr_null(schema_build(chinook, nchinook, &cfg, NULL));
    schema_free(NULL);
}
END_TEST

/* --- full-text indexes (model/fts.h) --- */

START_TEST(fts_parse_reads_content_options)
{
    struct fts_def d;
    ck_assert(fts_parse("CREATE VIRTUAL TABLE t_fts USING fts5(Name, Composer, content='tracks', "
                        "content_rowid='TrackId')",
                        &d));
    ck_assert_str_eq(d.content, "tracks");
    ck_assert_str_eq(d.content_rowid, "TrackId");
    /* case, quotes of every kind, doubled quotes, options between columns,
     * a name holding "using" and commas inside quotes */
    ck_assert(fts_parse("create virtual table \"using, x\" using FTS5 ( a, tokenize = 'porter "
                        "ascii', b UNINDEXED , CONTENT = \"we\"\"ird\", content_rowid=[Id] )",
                        &d));
    ck_assert_str_eq(d.content, "we\"ird");
    ck_assert_str_eq(d.content_rowid, "Id");
    ck_assert(fts_parse("CREATE VIRTUAL TABLE f USING fts5(a, content=tracks)", &d));
    ck_assert_str_eq(d.content, "tracks");
    ck_assert_str_eq(d.content_rowid, "");
    ck_assert(!fts_parse("CREATE VIRTUAL TABLE f USING fts4(a, content='tracks')", &d));
    ck_assert(!fts_parse("CREATE TABLE f (a, content)", &d));
    ck_assert(!fts_parse("CREATE VIRTUAL TABLE f USING fts5(a, content='tracks'", &d));
    ck_assert(!fts_parse("CREATE VIRTUAL TABLE f USING fts5(a, content='tra", &d));
    ck_assert(!fts_parse(NULL, &d));
}
END_TEST

/* Which FTS5 tables cover a collection: external content over its table,
 * rowid its INTEGER key, every column one of its columns. */
START_TEST(fts_table_covers_its_content)
{
    static const struct schema_column_def cols[] = {{"Name", "", 0}, {"Composer", "", 0}};
    static const struct schema_column_def stray[] = {{"Name", "", 0}, {"Nope", "", 0}};
    struct {
        const struct schema_column_def *cols;
        const char *sql;
        bool covers;
    } cases[] = {
        {cols,
         "CREATE VIRTUAL TABLE i USING fts5(Name, Composer, content='TRACKS', "
         "content_rowid='trackid')",
         true},
        {cols, "CREATE VIRTUAL TABLE i USING fts5(Name, Composer, content='tracks')", false},
        {cols, "CREATE VIRTUAL TABLE i USING fts5(Name, Composer, content_rowid='TrackId')", false},
        {cols,
         "CREATE VIRTUAL TABLE i USING fts5(Name, Composer, content='tracks', "
         "content_rowid='AlbumId')",
         false},
        {cols,
         "CREATE VIRTUAL TABLE i USING fts5(Name, Composer, content='albums', "
         "content_rowid='TrackId')",
         false},
        {stray,
         "CREATE VIRTUAL TABLE i USING fts5(Name, Nope, content='tracks', content_rowid='TrackId')",
         false},
    };
    for (size_t i = 0; i < N(cases); i++) {
        /* tracks alone: its foreign keys lead nowhere here */
        const struct schema_table_def *tr = fixture_table("tracks");
        const struct schema_table_def nofk[] = {{tr->name, tr->cols, tr->ncols, NULL, 0, NULL},
                                                {"i", cases[i].cols, 2, NULL, 0, cases[i].sql}};
        build_ok(nofk, N(nofk), "");
        const struct collection *t = find("Tracks");
        ck_assert_msg((t->fts_table != NULL) == cases[i].covers, "case %zu", i);
        ck_assert_uint_eq(schema_count(sch), 1); /* the index is no collection */
        if (cases[i].covers) {
            ck_assert_str_eq(t->fts_table, "i");
            ck_assert(t->cols[1].fts && t->cols[5].fts && !t->cols[6].fts);
        }
        schema_free(sch);
        sch = NULL;
        wr_cfg_release(&cfg);
        memset(&cfg, 0, sizeof(cfg));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schema");
    TCase *names = tcase_create("names");
    tcase_add_test(names, collection_names);
    tcase_add_test(names, attr_names);
    tcase_add_test(names, col_types);
    suite_add_tcase(s, names);

    TCase *build = tcase_create("build");
    tcase_add_checked_fixture(build, setup, teardown);
    tcase_add_test(build, collections_of_chinook);
    tcase_add_test(build, columns_of_albums);
    tcase_add_test(build, relations_both_directions);
    tcase_add_test(build, self_reference_named_by_its_key);
    tcase_add_test(build, two_keys_into_one_table);
    tcase_add_test(build, composite_key_and_two_fks);
    tcase_add_test(build, fields_sorted_uppercase_first);
    tcase_add_test(build, fk_without_target_column_uses_its_key);
    tcase_add_test(build, fk_into_unknown_table_is_ignored);
    tcase_add_test(build, fk_naming_unknown_column_fails);
    suite_add_tcase(s, build);

    TCase *config = tcase_create("config");
    tcase_add_checked_fixture(config, setup, teardown);
    tcase_add_test(config, collections_filter_relations);
    tcase_add_test(config, methods_per_collection);
    tcase_add_test(config, methods_read_only_schema);
    tcase_add_test(config, methods_unknown_word);
    tcase_add_test(config, collections_single_has_no_relations);
    tcase_add_test(config, config_for_unserved_table_is_accepted);
    tcase_add_test(config, name_renames_collection);
    tcase_add_test(config, exclude_hides_column);
    tcase_add_test(config, exclude_list_of_columns);
    tcase_add_test(config, rename_column);
    tcase_add_test(config, rename_several_with_spaces);
    tcase_add_test(config, rename_relation);
    tcase_add_test(config, exclude_relation);
    tcase_add_test(config, include_lists_the_fields);
    tcase_add_test(config, include_relation_whole);
    tcase_add_test(config, exclude_dotted_column);
    tcase_add_test(config, depth_and_count_per_collection);
    suite_add_tcase(s, config);

    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, collections_names_missing_table);
    tcase_add_test(errors, collections_names_table_without_key);
    tcase_add_test(errors, rename_unknown_field);
    tcase_add_test(errors, exclude_unknown_field);
    tcase_add_test(errors, include_and_exclude_refused);
    tcase_add_test(errors, dotted_unknown_names);
    tcase_add_test(errors, dotted_key_for_unknown_table);
    tcase_add_test(errors, rename_creating_collision);
    tcase_add_test(errors, name_creating_collision);
    tcase_add_test(errors, every_problem_reported);
    tcase_add_test(errors, err_may_be_null);
    tcase_add_test(errors, fts_parse_reads_content_options);
    tcase_add_test(errors, fts_table_covers_its_content);
    suite_add_tcase(s, errors);

    return run_suite(s, true);
}
