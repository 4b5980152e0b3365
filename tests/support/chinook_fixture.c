/* The tables of chinook_fixture.h. Chinook's are copied from
 * ../shared/data/chinook.db (PRAGMA table_info: name, declared type, key
 * position; PRAGMA foreign_key_list: id, table, from, to, in id order);
 * unit_query_sqlite fails when they drift apart. */
#include "chinook_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TABLE(name, cols, fks)                                                                     \
    {                                                                                              \
        name, cols, N(cols), fks, N(fks), NULL                                                     \
    }
#define TABLE_NOFK(name, cols)                                                                     \
    {                                                                                              \
        name, cols, N(cols), NULL, 0, NULL                                                         \
    }

/* --- Chinook --- */

static const struct schema_column_def albums_cols[] = {
    {"AlbumId", "INTEGER", 1}, {"Title", "NVARCHAR(160)", 0}, {"ArtistId", "INTEGER", 0}};
static const struct schema_fk_def albums_fks[] = {{0, "artists", "ArtistId", "ArtistId"}};

static const struct schema_column_def artists_cols[] = {{"ArtistId", "INTEGER", 1},
                                                        {"Name", "NVARCHAR(120)", 0}};

static const struct schema_column_def customers_cols[] = {
    {"CustomerId", "INTEGER", 1},      {"FirstName", "NVARCHAR(40)", 0},
    {"LastName", "NVARCHAR(20)", 0},   {"Company", "NVARCHAR(80)", 0},
    {"Address", "NVARCHAR(70)", 0},    {"City", "NVARCHAR(40)", 0},
    {"State", "NVARCHAR(40)", 0},      {"Country", "NVARCHAR(40)", 0},
    {"PostalCode", "NVARCHAR(10)", 0}, {"Phone", "NVARCHAR(24)", 0},
    {"Fax", "NVARCHAR(24)", 0},        {"Email", "NVARCHAR(60)", 0},
    {"SupportRepId", "INTEGER", 0}};
static const struct schema_fk_def customers_fks[] = {
    {0, "employees", "SupportRepId", "EmployeeId"}};

static const struct schema_column_def employees_cols[] = {
    {"EmployeeId", "INTEGER", 1},     {"LastName", "NVARCHAR(20)", 0},
    {"FirstName", "NVARCHAR(20)", 0}, {"Title", "NVARCHAR(30)", 0},
    {"ReportsTo", "INTEGER", 0},      {"BirthDate", "DATETIME", 0},
    {"HireDate", "DATETIME", 0},      {"Address", "NVARCHAR(70)", 0},
    {"City", "NVARCHAR(40)", 0},      {"State", "NVARCHAR(40)", 0},
    {"Country", "NVARCHAR(40)", 0},   {"PostalCode", "NVARCHAR(10)", 0},
    {"Phone", "NVARCHAR(24)", 0},     {"Fax", "NVARCHAR(24)", 0},
    {"Email", "NVARCHAR(60)", 0}};
static const struct schema_fk_def employees_fks[] = {{0, "employees", "ReportsTo", "EmployeeId"}};

static const struct schema_column_def genres_cols[] = {{"GenreId", "INTEGER", 1},
                                                       {"Name", "NVARCHAR(120)", 0}};

static const struct schema_column_def invoice_items_cols[] = {{"InvoiceLineId", "INTEGER", 1},
                                                              {"InvoiceId", "INTEGER", 0},
                                                              {"TrackId", "INTEGER", 0},
                                                              {"UnitPrice", "NUMERIC(10,2)", 0},
                                                              {"Quantity", "INTEGER", 0}};
static const struct schema_fk_def invoice_items_fks[] = {{0, "tracks", "TrackId", "TrackId"},
                                                         {1, "invoices", "InvoiceId", "InvoiceId"}};

static const struct schema_column_def invoices_cols[] = {
    {"InvoiceId", "INTEGER", 1},           {"CustomerId", "INTEGER", 0},
    {"InvoiceDate", "DATETIME", 0},        {"BillingAddress", "NVARCHAR(70)", 0},
    {"BillingCity", "NVARCHAR(40)", 0},    {"BillingState", "NVARCHAR(40)", 0},
    {"BillingCountry", "NVARCHAR(40)", 0}, {"BillingPostalCode", "NVARCHAR(10)", 0},
    {"Total", "NUMERIC(10,2)", 0}};
static const struct schema_fk_def invoices_fks[] = {{0, "customers", "CustomerId", "CustomerId"}};

static const struct schema_column_def media_types_cols[] = {{"MediaTypeId", "INTEGER", 1},
                                                            {"Name", "NVARCHAR(120)", 0}};

static const struct schema_column_def playlist_track_cols[] = {{"PlaylistId", "INTEGER", 1},
                                                               {"TrackId", "INTEGER", 2}};
static const struct schema_fk_def playlist_track_fks[] = {
    {0, "tracks", "TrackId", "TrackId"}, {1, "playlists", "PlaylistId", "PlaylistId"}};

static const struct schema_column_def playlists_cols[] = {{"PlaylistId", "INTEGER", 1},
                                                          {"Name", "NVARCHAR(120)", 0}};

static const struct schema_column_def tracks_cols[] = {
    {"TrackId", "INTEGER", 1},        {"Name", "NVARCHAR(200)", 0},
    {"AlbumId", "INTEGER", 0},        {"MediaTypeId", "INTEGER", 0},
    {"GenreId", "INTEGER", 0},        {"Composer", "NVARCHAR(220)", 0},
    {"Milliseconds", "INTEGER", 0},   {"Bytes", "INTEGER", 0},
    {"UnitPrice", "NUMERIC(10,2)", 0}};
static const struct schema_fk_def tracks_fks[] = {{0, "media_types", "MediaTypeId", "MediaTypeId"},
                                                  {1, "genres", "GenreId", "GenreId"},
                                                  {2, "albums", "AlbumId", "AlbumId"}};

/* --- not in Chinook --- */

/* A DATE column (Chinook has DATETIME only). */
static const struct schema_column_def releases_cols[] = {
    {"ReleaseId", "INTEGER", 1}, {"AlbumId", "INTEGER", 0}, {"Released", "DATE", 0}};
static const struct schema_fk_def releases_fks[] = {{0, "albums", "AlbumId", "AlbumId"}};

/* A text key, and a composite key of text then integer. */
static const struct schema_column_def codes_cols[] = {{"Code", "NVARCHAR(10)", 1},
                                                      {"Label", "TEXT", 0}};
static const struct schema_column_def labels_cols[] = {
    {"Lang", "TEXT", 1}, {"Num", "INTEGER", 2}, {"Text", "TEXT", 0}};

/* A BLOB column (Chinook has none). */
static const struct schema_column_def attachments_cols[] = {
    {"AttachmentId", "INTEGER", 1}, {"UnitPrice", "NUMERIC(10,2)", 0}, {"Data", "BLOB", 0}};

/* Identifiers with a double quote in them. */
static const struct schema_column_def weird_cols[] = {{"a\"b", "INTEGER", 1}, {"c", "TEXT", 0}};
static const struct schema_column_def odd_cols[] = {{"Id", "INTEGER", 1}, {"a\"b", "TEXT", 0}};

/* Two foreign keys from one table into another (not a self-reference). */
static const struct schema_column_def teams_cols[] = {{"TeamId", "INTEGER", 1},
                                                      {"Name", "TEXT", 0}};
static const struct schema_column_def matches_cols[] = {
    {"MatchId", "INTEGER", 1}, {"HomeTeamId", "INTEGER", 0}, {"AwayTeamId", "INTEGER", 0}};
static const struct schema_fk_def matches_fks[] = {{0, "teams", "HomeTeamId", "TeamId"},
                                                   {1, "teams", "AwayTeamId", "TeamId"}};

/* Never served: internal, and without a primary key. */
static const struct schema_column_def sqlite_stat_cols[] = {{"tbl", "", 1}, {"stat", "", 0}};
static const struct schema_column_def log_cols[] = {{"At", "DATETIME", 0}, {"Line", "TEXT", 0}};

/* Not in Chinook: an FTS5 index over tracks (model/fts.h), as the
 * integration tests create one in their copy. */
static const struct schema_column_def tracks_fts_cols[] = {{"Name", "", 0}, {"Composer", "", 0}};

static const struct schema_table_def all[] = {
    TABLE("albums", albums_cols, albums_fks),
    TABLE_NOFK("artists", artists_cols),
    TABLE("customers", customers_cols, customers_fks),
    TABLE("employees", employees_cols, employees_fks),
    TABLE_NOFK("genres", genres_cols),
    TABLE("invoice_items", invoice_items_cols, invoice_items_fks),
    TABLE("invoices", invoices_cols, invoices_fks),
    TABLE_NOFK("media_types", media_types_cols),
    TABLE("playlist_track", playlist_track_cols, playlist_track_fks),
    TABLE_NOFK("playlists", playlists_cols),
    TABLE("tracks", tracks_cols, tracks_fks),
    TABLE("releases", releases_cols, releases_fks),
    TABLE_NOFK("attachments", attachments_cols),
    TABLE_NOFK("codes", codes_cols),
    TABLE_NOFK("labels", labels_cols),
    TABLE_NOFK("we\"ird", weird_cols),
    TABLE_NOFK("odd\"t", odd_cols),
    TABLE_NOFK("teams", teams_cols),
    TABLE("matches", matches_cols, matches_fks),
    TABLE_NOFK("sqlite_stat1", sqlite_stat_cols),
    TABLE_NOFK("log", log_cols),
    {"tracks_fts", tracks_fts_cols, N(tracks_fts_cols), NULL, 0,
     "CREATE VIRTUAL TABLE tracks_fts USING fts5(Name, Composer, content='tracks', "
     "content_rowid='TrackId')"},
};

const struct schema_table_def *fixture_table(const char *name)
{
    for (size_t i = 0; i < N(all); i++)
        if (strcmp(all[i].name, name) == 0)
            return &all[i];
    return NULL;
}

size_t fixture_tables(const char *names, struct schema_table_def *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = names; *p != '\0';) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        if (len == 0)
            break;
        char name[64];
        const struct schema_table_def *t = NULL;
        if (len < sizeof(name)) {
            memcpy(name, p, len);
            name[len] = '\0';
            t = fixture_table(name);
        }
        if (t == NULL || n == cap) {
            (void)fprintf(stderr, "chinook_fixture: no table \"%.*s\" (or more than %zu)\n",
                          (int)len, p, cap);
            abort();
        }
        out[n++] = *t;
        p += len;
    }
    return n;
}

schema *fixture_schema(const char *names, const char *config, struct wr_cfg *cfg,
                       struct wr_err *err)
{
    struct schema_table_def tables[FIXTURE_MAX_TABLES];
    size_t n = fixture_tables(names, tables, FIXTURE_MAX_TABLES);
    memset(cfg, 0, sizeof(*cfg));
    struct wr_buf problems;
    wr_buf_init(&problems, (size_t)1 << 16);
    int rc = wr_cfg_parse(cfg, "test.cfg", config, strlen(config), NULL, &problems);
    if (rc != 0)
        (void)wr_err_set(err, WR_EINVAL, "config: %s", problems.data ? problems.data : "");
    wr_buf_release(&problems);
    return rc == 0 ? schema_build(tables, n, cfg, err) : NULL;
}
