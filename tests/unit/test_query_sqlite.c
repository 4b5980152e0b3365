/* Runs the SQL that query.c builds against a copy of the Chinook database,
 * opened read-only, and checks the rows each search finds against counts
 * taken independently with the sqlite3 shell (the query that gave each
 * figure is quoted beside it). Shows the statements are valid SQLite, that
 * values bind as intended, and that dates compare as stored. The schema is
 * introspected by the catalog's SQLite adapter, and the unit tests'
 * Chinook fixture is checked against it. */
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chinook_fixture.h"
#include "sql/query.h"
#include "store/store.h"
#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "run_suite.h"

#define BINDS_CAP 1024

static char dir[] = "/tmp/warren-query-XXXXXX";
static char copy[sizeof(dir) + 16];

/* --- per test: the copy opened read-only, introspected by the store --- */

static sqlite3 *db;
static store *adapter; /* the catalog's SQLite adapter, for its introspection */
static schema *sch;
static struct wr_cfg cfg;
static const struct schema_table_def *tables;
static size_t ntables;

static sqlite3_stmt *prepare(const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    ck_assert_msg(rc == SQLITE_OK, "prepare %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static void setup(void)
{
    int rc = sqlite3_open_v2(copy, &db, SQLITE_OPEN_READONLY, NULL);
    ck_assert_msg(rc == SQLITE_OK, "open %s: %s", copy, sqlite3_errstr(rc));
    char uri[sizeof(copy) + 16];
    (void)snprintf(uri, sizeof(uri), "sqlite:///%s", copy);
    struct wr_err err = {0};
    adapter = store_open(uri, &err);
    ck_assert_msg(adapter != NULL, "store_open %s: %s", uri, err.msg);
    ck_assert_msg(store_introspect(adapter, &tables, &ntables, &err) == 0, "%s", err.msg);
    memset(&cfg, 0, sizeof(cfg));
    struct wr_buf problems;
    wr_buf_init(&problems, 4096);
    ck_assert_int_eq(wr_cfg_parse(&cfg, "test.cfg", "", 0, NULL, &problems), 0);
    wr_buf_release(&problems);
    sch = schema_build(tables, ntables, &cfg, &err);
    ck_assert_msg(sch != NULL, "schema_build: %s", err.msg);
}

static void teardown(void)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
    store_free(adapter);
    sqlite3_close(db);
}

/* --- running a search --- */

static query *parse(const char *coll, const char *q)
{
    const struct collection *c = schema_find(sch, coll);
    ck_assert_msg(c != NULL, "no collection %s", coll);
    struct wr_err err = {0};
    query *qr = query_parse(sch, c, q, strlen(q), NULL, &err);
    ck_assert_msg(qr != NULL, "query_parse(%s): %s", q, err.msg);
    return qr;
}

static sqlite3_stmt *bound(const char *sql, const struct value *binds, size_t n)
{
    sqlite3_stmt *st = prepare(sql);
    for (size_t i = 0; i < n; i++) {
        const struct value *v = &binds[i];
        int col = (int)i + 1, rc = SQLITE_OK;
        if (v->kind == V_INT)
            rc = sqlite3_bind_int64(st, col, v->i);
        else if (v->kind == V_REAL)
            rc = sqlite3_bind_double(st, col, v->d);
        else if (v->kind == V_TEXT)
            rc = sqlite3_bind_text(st, col, v->s, (int)v->n, SQLITE_STATIC);
        else
            rc = sqlite3_bind_null(st, col);
        ck_assert_int_eq(rc, SQLITE_OK);
    }
    return st;
}

/* The count the search's COUNT statement gives. */
static long long count_of(const char *coll, const char *q)
{
    query *qr = parse(coll, q);
    struct wr_buf sql;
    struct value binds[BINDS_CAP];
    size_t n = 0;
    wr_buf_init(&sql, 1 << 20);
    ck_assert_int_eq(query_count_sql(qr, &sql, binds, &n, BINDS_CAP), 0);
    sqlite3_stmt *st = bound(sql.data, binds, n);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long count = sqlite3_column_int64(st, 0);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    wr_buf_release(&sql);
    query_free(qr);
    return count;
}

/* The rows the SELECT gives with " LIMIT ? OFFSET ?" appended, as the
 * catalog will run it; the first column of the first few into ids. */
static long long rows_of(const char *coll, const char *q, long long *ids, size_t nids)
{
    query *qr = parse(coll, q);
    struct wr_buf sql;
    struct value binds[BINDS_CAP];
    size_t n = 0;
    wr_buf_init(&sql, 1 << 20);
    ck_assert_int_eq(query_select_sql(qr, &sql, binds, &n, BINDS_CAP - 2), 0);
    wr_buf_puts(&sql, " LIMIT ? OFFSET ?");
    binds[n++] = (struct value){.kind = V_INT, .i = query_limit(qr)};
    binds[n++] = (struct value){.kind = V_INT, .i = query_offset(qr)};
    sqlite3_stmt *st = bound(sql.data, binds, n);
    long long rows = 0;
    int rc = sqlite3_step(st);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
        ck_assert_int_eq(sqlite3_column_count(st), (int)schema_find(sch, coll)->ncols);
        if ((size_t)rows < nids)
            ids[rows] = sqlite3_column_int64(st, 0);
        rows++;
    }
    ck_assert_msg(rc == SQLITE_DONE, "%s: %s", sql.data, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    wr_buf_release(&sql);
    query_free(qr);
    return rows;
}

/* Both statements find want rows. */
static void finds(const char *coll, const char *q, long long want)
{
    ck_assert_int_eq(count_of(coll, q), want);
    ck_assert_int_eq(rows_of(coll, q, NULL, 0), want);
}

/* --- the searches --- */

START_TEST(like_and_ilike)
{
    /* SELECT count(*) FROM albums WHERE Title LIKE '%Rock%'  -> 7 */
    finds("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":\"%Rock%\"}]}", 7);
    /* SQLite's LIKE ignores ASCII case: the same 7. */
    finds("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":\"%rock%\"}]}", 7);
    finds("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"ilike\",\"val\":\"%ROCK%\"}]}", 7);
}
END_TEST

START_TEST(numbers_int_and_real)
{
    /* SELECT count(*) FROM tracks WHERE Milliseconds > 300000 AND UnitPrice = 0.99  -> 857 */
    finds("Tracks",
          "{\"filters\":[{\"name\":\"milliseconds\",\"op\":\"gt\",\"val\":300000},"
          "{\"name\":\"unit_price\",\"op\":\"eq\",\"val\":0.99}]}",
          857);
}
END_TEST

START_TEST(dates_match_stored_text)
{
    /* SELECT count(*) FROM invoices WHERE InvoiceDate = '2009-01-01 00:00:00'  -> 1 */
    static const char *const forms[] = {"2009-01-01", "2009-01-01T00:00:00", "2009-01-01 00:00:00"};
    for (size_t i = 0; i < 3; i++) {
        char q[200];
        snprintf(q, sizeof(q),
                 "{\"filters\":[{\"name\":\"invoice_date\",\"op\":\"==\",\"val\":\"%s\"}]}",
                 forms[i]);
        finds("Invoices", q, 1);
    }
    /* ... WHERE InvoiceDate >= '2010-01-01 00:00:00' AND InvoiceDate < '2011-01-01 00:00:00'
     * -> 83 */
    finds("Invoices",
          "{\"filters\":[{\"name\":\"invoice_date\",\"op\":\">=\",\"val\":\"2010-01-01T00:00:00\"},"
          "{\"name\":\"invoice_date\",\"op\":\"<\",\"val\":\"2011-01-01\"}]}",
          83);
    /* SELECT count(*) FROM employees WHERE HireDate >= '2003-01-01 00:00:00'  -> 5 */
    finds("Employees",
          "{\"filters\":[{\"name\":\"hire_date\",\"op\":\"geq\",\"val\":\"2003-01-01\"}]}", 5);
}
END_TEST

START_TEST(has_and_any)
{
    /* SELECT count(*) FROM artists WHERE ArtistId IN
     *   (SELECT ArtistId FROM albums WHERE Title LIKE 'A%')  -> 25 */
    finds("Artists",
          "{\"filters\":[{\"name\":\"albums\",\"op\":\"any\","
          "\"val\":{\"name\":\"title\",\"op\":\"like\",\"val\":\"A%\"}}]}",
          25);
    /* SELECT count(*) FROM albums WHERE ArtistId IN
     *   (SELECT ArtistId FROM artists WHERE Name = 'AC/DC')  -> 2 */
    finds("Albums",
          "{\"filters\":[{\"name\":\"Artists\",\"op\":\"has\","
          "\"val\":{\"name\":\"name\",\"op\":\"==\",\"val\":\"AC/DC\"}}]}",
          2);
    /* SELECT count(*) FROM albums WHERE ArtistId = 1  -> 2 */
    finds("Albums", "{\"filters\":[{\"name\":\"Artists\",\"op\":\"has\",\"val\":1}]}", 2);
    /* SELECT count(*) FROM albums WHERE AlbumId IN (SELECT AlbumId FROM tracks
     *   WHERE TrackId = 1)  -> 1 */
    finds("Albums", "{\"filters\":[{\"name\":\"tracks\",\"op\":\"any\",\"val\":1}]}", 1);
}
END_TEST

START_TEST(relation_fields)
{
    /* SELECT count(*) FROM albums WHERE AlbumId IN
     *   (SELECT AlbumId FROM tracks WHERE Name LIKE '%love%')  -> 72 */
    finds("Albums",
          "{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"like\",\"val\":\"%love%\"}]}", 72);
    /* SELECT count(*) FROM tracks WHERE AlbumId IN
     *   (SELECT AlbumId FROM albums WHERE Title = 'Let There Be Rock')  -> 8 */
    finds(
        "Tracks",
        "{\"filters\":[{\"name\":\"Albums__title\",\"op\":\"==\",\"val\":\"Let There Be Rock\"}]}",
        8);
}
END_TEST

START_TEST(nested_relations_and_self_reference)
{
    /* SELECT count(*) FROM artists a WHERE EXISTS (SELECT 1 FROM albums al WHERE
     *   al.ArtistId = a.ArtistId AND EXISTS (SELECT 1 FROM tracks t WHERE
     *   t.AlbumId = al.AlbumId AND t.Milliseconds > 1000000))  -> 9 */
    finds("Artists",
          "{\"filters\":[{\"name\":\"albums\",\"op\":\"any\",\"val\":{\"name\":\"tracks\","
          "\"op\":\"any\",\"val\":{\"name\":\"milliseconds\",\"op\":\">\",\"val\":1000000}}}]}",
          9);
    /* SELECT count(*) FROM invoices i WHERE EXISTS (SELECT 1 FROM invoice_items ii
     *   WHERE ii.InvoiceId = i.InvoiceId AND EXISTS (SELECT 1 FROM tracks t WHERE
     *   t.TrackId = ii.TrackId AND t.Composer LIKE '%Jagger%'))  -> 5 */
    finds("Invoices",
          "{\"filters\":[{\"name\":\"invoice_items\",\"op\":\"any\",\"val\":"
          "{\"name\":\"Tracks__composer\",\"op\":\"like\",\"val\":\"%Jagger%\"}}]}",
          5);
    /* SELECT count(*) FROM employees e WHERE EXISTS (SELECT 1 FROM employees r
     *   WHERE r.ReportsTo = e.EmployeeId AND r.Title LIKE '%Sales%')  -> 2 */
    finds("Employees",
          "{\"filters\":[{\"name\":\"employees_reports_to\",\"op\":\"any\","
          "\"val\":{\"name\":\"title\",\"op\":\"like\",\"val\":\"%Sales%\"}}]}",
          2);
}
END_TEST

START_TEST(or_not_in_null)
{
    /* SELECT count(*) FROM tracks WHERE (GenreId IN (1,2) OR Composer IS NULL)
     *   AND NOT (Milliseconds < 200000)  -> 1776 */
    finds("Tracks",
          "{\"filters\":[{\"or\":[{\"name\":\"genre_id\",\"op\":\"in\",\"val\":[1,2]},"
          "{\"name\":\"composer\",\"op\":\"is_null\"}]},"
          "{\"not\":{\"name\":\"milliseconds\",\"op\":\"lt\",\"val\":200000}}]}",
          1776);
    /* SELECT count(*) FROM customers WHERE Country NOT IN ('USA','Canada','Brazil')  -> 33 */
    finds("Customers",
          "{\"filters\":[{\"name\":\"country\",\"op\":\"not_in\","
          "\"val\":[\"USA\",\"Canada\",\"Brazil\"]}]}",
          33);
    /* SELECT count(*) FROM customers WHERE State IS NULL  -> 29 */
    finds("Customers", "{\"filters\":[{\"name\":\"state\",\"op\":\"is_null\"}]}", 29);
}
END_TEST

START_TEST(column_against_column)
{
    /* SELECT count(*) FROM employees WHERE EmployeeId > ReportsTo  -> 7 */
    finds("Employees",
          "{\"filters\":[{\"name\":\"employee_id\",\"op\":\">\",\"field\":\"reports_to\"}]}", 7);
}
END_TEST

START_TEST(group_by_groups)
{
    /* SELECT count(DISTINCT ArtistId) FROM albums  -> 204 */
    finds("Albums", "{\"group_by\":[{\"field\":\"artist_id\"}]}", 204);
    /* SELECT count(DISTINCT ArtistId) FROM albums WHERE AlbumId > 100  -> 158 */
    finds("Albums",
          "{\"group_by\":[{\"field\":\"artist_id\"}],"
          "\"filters\":[{\"name\":\"album_id\",\"op\":\">\",\"val\":100}]}",
          158);
}
END_TEST

START_TEST(order_by_related_field_and_limit)
{
    /* SELECT t.TrackId FROM tracks t LEFT JOIN albums a ON a.AlbumId = t.AlbumId
     *   ORDER BY a.Title DESC, t.Name ASC, t.TrackId LIMIT 3  -> 2568, 2570, 2571 */
    long long ids[3] = {0};
    ck_assert_int_eq(rows_of("Tracks",
                             "{\"order_by\":[{\"field\":\"Albums__title\",\"direction\":\"desc\"},"
                             "{\"field\":\"name\"}],\"limit\":3}",
                             ids, 3),
                     3);
    ck_assert_int_eq(ids[0], 2568);
    ck_assert_int_eq(ids[1], 2570);
    ck_assert_int_eq(ids[2], 2571);
    /* The order's join does not change the count: 3503 tracks. */
    ck_assert_int_eq(rows_of("Tracks", "{\"order_by\":[{\"field\":\"Albums__title\"}]}", NULL, 0),
                     3503);
    ck_assert_int_eq(rows_of("Tracks", "{\"limit\":5,\"offset\":3500}", ids, 3), 3);
}
END_TEST

START_TEST(functions)
{
    /* SELECT sum(Total), count(InvoiceId), max(InvoiceDate), min(Total) FROM invoices
     *   WHERE BillingCountry = 'USA'  -> 523.06|91|2013-12-05 00:00:00|0.99 */
    query *qr = parse(
        "Invoices", "{\"functions\":[{\"name\":\"sum\",\"field\":\"total\"},"
                    "{\"name\":\"count\",\"field\":\"invoice_id\"},"
                    "{\"name\":\"max\",\"field\":\"invoice_date\"},"
                    "{\"name\":\"min\",\"field\":\"total\"}],"
                    "\"filters\":[{\"name\":\"billing_country\",\"op\":\"==\",\"val\":\"USA\"}]}");
    struct wr_buf sql;
    struct value binds[8];
    const char *names[4];
    size_t n = 0, nnames = 0;
    wr_buf_init(&sql, 1 << 16);
    ck_assert_int_eq(query_functions_sql(qr, &sql, binds, &n, 8, names, &nnames, 4), 0);
    ck_assert_uint_eq(nnames, 4);
    sqlite3_stmt *st = bound(sql.data, binds, n);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_count(st), 4);
    ck_assert(fabs(sqlite3_column_double(st, 0) - 523.06) < 1e-6);
    ck_assert_int_eq(sqlite3_column_int64(st, 1), 91);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 2), "2013-12-05 00:00:00");
    ck_assert(fabs(sqlite3_column_double(st, 3) - 0.99) < 1e-9);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    wr_buf_release(&sql);
    query_free(qr);
}
END_TEST

/* The unit tests' Chinook fixture is Chinook: every table of it as the
 * database describes it (columns, declared types, key positions, foreign
 * keys in order), and no other table the catalog would serve. */
START_TEST(fixture_is_chinook)
{
    struct schema_table_def fix[FIXTURE_MAX_TABLES];
    size_t nfix = fixture_tables(FIXTURE_CHINOOK, fix, FIXTURE_MAX_TABLES);
    size_t served = 0;
    for (size_t i = 0; i < ntables; i++) /* less the FTS5 index copy_database adds */
        served +=
            strncmp(tables[i].name, "sqlite_", 7) != 0 && strcmp(tables[i].name, "tracks_fts") != 0;
    ck_assert_uint_eq(served, nfix);
    for (size_t i = 0; i < nfix; i++) {
        const struct schema_table_def *f = &fix[i], *t = NULL;
        for (size_t j = 0; j < ntables && t == NULL; j++)
            t = strcmp(tables[j].name, f->name) == 0 ? &tables[j] : NULL;
        ck_assert_msg(t != NULL, "%s is not in the database", f->name);
        ck_assert_uint_eq(t->ncols, f->ncols);
        for (size_t k = 0; k < f->ncols; k++) {
            ck_assert_str_eq(t->cols[k].name, f->cols[k].name);
            ck_assert_str_eq(t->cols[k].decltype, f->cols[k].decltype);
            ck_assert_int_eq(t->cols[k].pk, f->cols[k].pk);
        }
        ck_assert_uint_eq(t->nfks, f->nfks);
        for (size_t k = 0; k < f->nfks; k++) {
            ck_assert_int_eq(t->fks[k].id, f->fks[k].id);
            ck_assert_str_eq(t->fks[k].table, f->fks[k].table);
            ck_assert_str_eq(t->fks[k].from, f->fks[k].from);
            ck_assert_str_eq(t->fks[k].to, f->fks[k].to);
        }
    }
}
END_TEST

/* --- full text: the index copy_database adds over tracks --- */

/* A count straight from the index, as a user would ask sqlite3. */
static long long direct_count(const char *sql, const char *match)
{
    sqlite3_stmt *st = prepare(sql);
    ck_assert_int_eq(sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

START_TEST(full_text_match)
{
    /* introspection: the FTS5 table covers Tracks; its shadow tables
     * (tracks_fts_data, ...) are no collections */
    const struct collection *t = schema_find(sch, "Tracks");
    ck_assert_str_eq(t->fts_table, "tracks_fts");
    ck_assert(t->cols[1].fts && t->cols[5].fts && !t->cols[0].fts);
    for (size_t i = 0; i < schema_count(sch); i++)
        ck_assert_ptr_null(strstr(schema_at(sch, i)->table, "fts"));
    long long want =
        direct_count("SELECT count(*) FROM tracks_fts WHERE Name MATCH ?", "rock OR roll");
    ck_assert_int_gt(want, 10);
    finds("Tracks", "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"rock OR roll\"}]}",
          want);
    want = direct_count("SELECT count(*) FROM tracks_fts WHERE tracks_fts MATCH ?", "bach");
    ck_assert_int_gt(want, 0);
    finds("Tracks", "{\"filters\":[{\"name\":\"*\",\"op\":\"match\",\"val\":\"bach\"}]}", want);
    /* with another filter, through a relation */
    want = direct_count("SELECT count(DISTINCT t.AlbumId) FROM tracks AS t JOIN tracks_fts AS f ON "
                        "f.rowid = t.TrackId WHERE f.Name MATCH ?",
                        "love");
    finds("Albums", "{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"match\",\"val\":\"love\"}]}",
          want);
    /* ranked: the same order as the index's own */
    long long ids[5], top[5];
    ck_assert_int_eq(
        rows_of("Tracks",
                "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"rock OR roll\"}],"
                "\"order_by\":[{\"field\":\"_rank\"}],\"limit\":5}",
                ids, 5),
        5);
    sqlite3_stmt *st = prepare("SELECT rowid FROM tracks_fts WHERE Name MATCH 'rock OR roll' "
                               "ORDER BY rank, rowid LIMIT 5");
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        top[i] = sqlite3_column_int64(st, 0);
        ck_assert_int_eq(ids[i], top[i]);
    }
    sqlite3_finalize(st);
}
END_TEST

static int no_row(void *arg, const struct value *row, size_t ncols)
{
    (void)arg;
    (void)row;
    (void)ncols;
    return 0;
}

/* What FTS5 cannot read fails at the first step: the adapter calls it the
 * request's fault (WR_EINVAL, SQLite's reason in err), never WR_EIO. */
START_TEST(malformed_match_is_einval)
{
    static const char *const bad[] = {"rock AND", "\"unterminated", "nosuch: x", "NEAR(a b, x)"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"%s\"}]}",
                 bad[i][0] == '"' ? "\\\"unterminated" : bad[i]);
        query *qr = parse("Tracks", text);
        struct wr_buf sql;
        struct value binds[BINDS_CAP];
        size_t n = 0;
        wr_buf_init(&sql, 1 << 20);
        ck_assert_int_eq(query_count_sql(qr, &sql, binds, &n, BINDS_CAP), 0);
        struct wr_err err = {0};
        ck_assert_int_eq(store_begin(adapter, &err), 0);
        ck_assert_int_eq(store_query(adapter, sql.data, binds, n, no_row, NULL, &err), WR_EINVAL);
        store_end(adapter);
        ck_assert_msg(err.msg[0] != '\0', "no reason for %s", bad[i]);
        wr_buf_release(&sql);
        query_free(qr);
    }
}
END_TEST

/* An FTS5 index over the copy's tracks, as a deployment would add one
 * (model/fts.h): external content, keyed by TrackId, filled by 'rebuild'. */
static int add_full_text(void)
{
    sqlite3 *w = NULL;
    int rc = sqlite3_open(copy, &w);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(w,
                          "CREATE VIRTUAL TABLE tracks_fts USING fts5(Name, Composer, "
                          "content='tracks', content_rowid='TrackId');"
                          "INSERT INTO tracks_fts(tracks_fts) VALUES('rebuild');",
                          NULL, NULL, NULL);
    sqlite3_close(w);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Copies the database so that nothing here can touch the shared one. */
static int copy_database(void)
{
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(copy, sizeof(copy), "%s/chinook.db", dir);
    FILE *in = fopen(WARREN_CHINOOK, "rb");
    FILE *out = fopen(copy, "wb");
    int rc = in && out ? 0 : -1;
    static char buf[65536];
    for (size_t n = rc == 0 ? fread(buf, 1, sizeof(buf), in) : 0; n > 0;
         n = rc == 0 ? fread(buf, 1, sizeof(buf), in) : 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in && ferror(in))
        rc = -1;
    if (in)
        (void)fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc == 0 ? add_full_text() : rc;
}

/* The step budget (store_set_budget) cuts a statement with WR_ETOOBIG and
 * says so (store_over_budget); it covers the statements after it was set,
 * is lifted by 0, and the deadline stays WR_ETIMEDOUT. */
START_TEST(step_budget)
{
    static const char sql[] =
        "SELECT COUNT(*) FROM tracks a, tracks b WHERE a.Milliseconds + b.Milliseconds < 0";
    struct wr_err err = {0};
    long long n = -1;
    ck_assert_int_eq(store_begin(adapter, &err), 0);
    store_set_budget(adapter, 100000); /* the join needs millions */
    ck_assert(!store_over_budget(adapter));
    ck_assert_int_eq(store_count(adapter, sql, NULL, 0, &n, &err), WR_ETOOBIG);
    ck_assert(store_over_budget(adapter));
    store_end(adapter);
    /* a small statement within a fresh budget passes */
    store_set_budget(adapter, 100000);
    ck_assert(!store_over_budget(adapter));
    ck_assert_int_eq(store_begin(adapter, &err), 0);
    ck_assert_int_eq(store_count(adapter, "SELECT COUNT(*) FROM albums", NULL, 0, &n, &err), 0);
    ck_assert_int_eq(n, 347);
    /* the budget spans statements: 40 full scans of tracks do not fit */
    int rc = 0;
    for (int i = 0; i < 40 && rc == 0; i++)
        rc = store_count(adapter, "SELECT COUNT(*) FROM tracks WHERE Milliseconds > 0", NULL, 0, &n,
                         &err);
    ck_assert_int_eq(rc, WR_ETOOBIG);
    store_end(adapter);
    /* no budget: the scans run; a deadline passed is still a timeout */
    store_set_budget(adapter, 0);
    ck_assert_int_eq(store_begin(adapter, &err), 0);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(store_count(adapter, "SELECT COUNT(*) FROM tracks WHERE Milliseconds > 0",
                                     NULL, 0, &n, &err),
                         0);
    store_set_deadline(adapter, 1); /* long past */
    ck_assert_int_eq(store_count(adapter, sql, NULL, 0, &n, &err), WR_ETIMEDOUT);
    ck_assert(!store_over_budget(adapter));
    store_set_deadline(adapter, 0);
    store_end(adapter);
}
END_TEST

int main(void)
{
    if (copy_database() != 0) {
        fprintf(stderr, "cannot copy %s to %s\n", WARREN_CHINOOK, dir);
        return 1;
    }
    Suite *s = suite_create("query_sqlite");
    TCase *tc = tcase_create("chinook");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, like_and_ilike);
    tcase_add_test(tc, numbers_int_and_real);
    tcase_add_test(tc, dates_match_stored_text);
    tcase_add_test(tc, has_and_any);
    tcase_add_test(tc, relation_fields);
    tcase_add_test(tc, nested_relations_and_self_reference);
    tcase_add_test(tc, or_not_in_null);
    tcase_add_test(tc, column_against_column);
    tcase_add_test(tc, group_by_groups);
    tcase_add_test(tc, order_by_related_field_and_limit);
    tcase_add_test(tc, functions);
    tcase_add_test(tc, fixture_is_chinook);
    tcase_add_test(tc, full_text_match);
    tcase_add_test(tc, malformed_match_is_einval);
    tcase_add_test(tc, step_budget);
    suite_add_tcase(s, tc);
    int rc = run_suite(s, true);
    (void)unlink(copy);
    (void)rmdir(dir);
    return rc;
}
