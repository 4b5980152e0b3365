/* Unit tests for the search parameter q: the exact SQL text and bound
 * values of every operator spelling, column against column, and/or/not,
 * has/any with a filter and with a value, relation__field, order_by with a
 * related field, group_by, functions and date normalisation; and every
 * error, each with the name it must mention. The schema is built from
 * the Chinook fixture (tests/support/chinook_fixture.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "chinook_fixture.h"
#include "sql/query.h"
#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "warren/proto.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SQL_CAP ((size_t)64 * 1024)
#define BINDS_CAP 64

/* Chinook's tables (tracks keeps only its key into albums here, customers
 * and invoices keep theirs), a DATE column (releases) and identifiers
 * with a double quote. */
static const char tables[] = "artists albums tracks customers invoices invoice_items "
                             "playlist_track releases odd\"t tracks_fts";

static const char config[] = "Tracks.EXCLUDE = 'bytes'\n"
                             "Customers.EXCLUDE = 'email, invoices'\n"
                             "Invoices.EXCLUDE = 'Customers.first_name'\n";

static const char albums_cols_sql[] = "SELECT t0.\"AlbumId\",t0.\"Title\",t0.\"ArtistId\" "
                                      "FROM \"albums\" AS t0";
static const char tracks_cols_sql[] =
    "SELECT t0.\"TrackId\",t0.\"Name\",t0.\"AlbumId\",t0.\"MediaTypeId\",t0.\"GenreId\","
    "t0.\"Composer\",t0.\"Milliseconds\",t0.\"Bytes\",t0.\"UnitPrice\" FROM \"tracks\" AS t0";

/* --- fixture --- */

static struct wr_cfg cfg;
static schema *sch;
static query *qry;
static struct wr_err err;
static struct wr_buf sql;
static struct value binds[BINDS_CAP];
static size_t nbinds;

static void setup(void)
{
    sch = fixture_schema(tables, config, &cfg, &err);
    ck_assert_msg(sch != NULL, "schema_build: %s", err.msg);
    qry = NULL;
    memset(&err, 0, sizeof(err));
    wr_buf_init(&sql, SQL_CAP);
    nbinds = 0;
}

static void teardown(void)
{
    query_free(qry);
    qry = NULL;
    wr_buf_release(&sql);
    schema_free(sch);
    wr_cfg_release(&cfg);
}

static const struct collection *coll(const char *name)
{
    const struct collection *c = schema_find(sch, name);
    ck_assert_msg(c != NULL, "no collection %s", name);
    return c;
}

/* Parses text for collection name under lim and asserts success. */
static query *parse_lim(const char *name, const char *text, const struct query_limits *lim)
{
    query_free(qry);
    qry = query_parse(sch, coll(name), text, strlen(text), lim, &err);
    ck_assert_msg(qry != NULL, "query_parse(%s) failed: %s", text, err.msg);
    return qry;
}

static query *parse(const char *name, const char *text)
{
    return parse_lim(name, text, NULL);
}

/* The binds as text: 1|0.99|'x'. */
static const char *binds_text(void)
{
    static char out[4096];
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nbinds; i++) {
        const struct value *v = &binds[i];
        const char *sep = i > 0 ? "|" : "";
        int n = 0;
        if (v->kind == V_INT)
            n = snprintf(out + len, sizeof(out) - len, "%s%lld", sep, v->i);
        else if (v->kind == V_REAL)
            n = snprintf(out + len, sizeof(out) - len, "%s%g", sep, v->d);
        else if (v->kind == V_TEXT)
            n = snprintf(out + len, sizeof(out) - len, "%s'%.*s'", sep, (int)v->n, v->s);
        else
            n = snprintf(out + len, sizeof(out) - len, "%s?", sep);
        ck_assert_int_gt(n, 0);
        len += (size_t)n;
        ck_assert_uint_lt(len, sizeof(out));
    }
    return out;
}

enum which { SELECT, COUNT };

static void assert_sql(enum which w, const char *want, const char *want_binds)
{
    wr_buf_reset(&sql);
    int rc = w == SELECT ? query_select_sql(qry, &sql, binds, &nbinds, BINDS_CAP)
                         : query_count_sql(qry, &sql, binds, &nbinds, BINDS_CAP);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(sql.data, want);
    ck_assert_str_eq(binds_text(), want_binds);
}

/* The SELECT of Albums with text's filters: albums_cols_sql + middle +
 * ORDER BY the key. */
static void albums_where(const char *text, const char *middle, const char *want_binds)
{
    char want[4096];
    snprintf(want, sizeof(want), "%s%s ORDER BY t0.\"AlbumId\"", albums_cols_sql, middle);
    parse("Albums", text);
    assert_sql(SELECT, want, want_binds);
}

/* text must fail to parse with code and a message holding want. */
static void fails_code(const char *name, const char *text, const struct query_limits *lim, int code,
                       const char *want)
{
    query_free(qry);
    memset(&err, 0, sizeof(err));
    qry = query_parse(sch, coll(name), text, strlen(text), lim, &err);
    ck_assert_msg(qry == NULL, "query_parse(%s) succeeded", text);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"", err.msg, want);
}

static void fails_lim(const char *name, const char *text, size_t len,
                      const struct query_limits *lim, const char *want)
{
    query_free(qry);
    memset(&err, 0, sizeof(err));
    qry = query_parse(sch, coll(name), text, len, lim, &err);
    ck_assert_msg(qry == NULL, "query_parse(%s) succeeded", text);
    ck_assert_int_eq(err.code, WR_EINVAL);
    ck_assert_msg(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"", err.msg, want);
}

static void fails(const char *name, const char *text, const char *want)
{
    fails_lim(name, text, strlen(text), NULL, want);
}

/* --- no filters --- */

START_TEST(empty_q)
{
    parse("Albums", "{}");
    assert_sql(SELECT,
               "SELECT t0.\"AlbumId\",t0.\"Title\",t0.\"ArtistId\" FROM \"albums\" AS t0 "
               "ORDER BY t0.\"AlbumId\"",
               "");
    assert_sql(COUNT, "SELECT COUNT(*) FROM \"albums\" AS t0", "");
    ck_assert(!query_single(qry));
    ck_assert_int_eq(query_limit(qry), -1);
    ck_assert_int_eq(query_offset(qry), 0);
    parse("Albums", "{\"filters\":[],\"order_by\":[],\"group_by\":[],\"functions\":[]}");
    assert_sql(COUNT, "SELECT COUNT(*) FROM \"albums\" AS t0", "");
}
END_TEST

START_TEST(limit_offset_single)
{
    parse("Albums", "{\"limit\":10,\"offset\":20,\"single\":true}");
    ck_assert(query_single(qry));
    ck_assert_int_eq(query_limit(qry), 10);
    ck_assert_int_eq(query_offset(qry), 20);
    parse("Albums", "{\"limit\":0,\"single\":false}");
    ck_assert(!query_single(qry));
    ck_assert_int_eq(query_limit(qry), 0);
    ck_assert_int_eq(query_offset(qry), 0);
}
END_TEST

/* limit and offset stop at WR_Q_COUNT_MAX (2^53 - 1): beyond, a search's
 * window (offset plus a page's offset) could overflow 64 bits. */
START_TEST(limit_offset_bounds)
{
    parse("Albums", "{\"limit\":9007199254740991,\"offset\":9007199254740991}");
    ck_assert_int_eq(query_limit(qry), WR_Q_COUNT_MAX);
    ck_assert_int_eq(query_offset(qry), WR_Q_COUNT_MAX);
    fails("Albums", "{\"offset\":9007199254740992}",
          "q: offset must be a whole number from 0 to 9007199254740991");
    fails("Albums", "{\"offset\":9223372036854775807}", "q: offset must be a whole number");
    fails("Albums", "{\"limit\":9223372036854775807}", "q: limit must be a whole number");
    fails("Albums", "{\"limit\":-1}", "q: limit must be a whole number");
    fails("Albums", "{\"offset\":1.5}", "q: offset must be a whole number");
    /* past int64: jansson refuses the number itself */
    fails("Albums", "{\"offset\":9223372036854775808}", "q:");
}
END_TEST

/* --- operators --- */

START_TEST(every_comparison_spelling)
{
    static const struct {
        const char *op, *sql;
    } cases[] = {
        {"==", "="},
        {"eq", "="},
        {"equals", "="},
        {"equal_to", "="},
        {"!=", "!="},
        {"ne", "!="},
        {"neq", "!="},
        {"not_equal_to", "!="},
        {"does_not_equal", "!="},
        {">", ">"},
        {"gt", ">"},
        {"<", "<"},
        {"lt", "<"},
        {">=", ">="},
        {"ge", ">="},
        {"gte", ">="},
        {"geq", ">="},
        {"<=", "<="},
        {"le", "<="},
        {"lte", "<="},
        {"leq", "<="},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char text[256], middle[256];
        snprintf(text, sizeof(text),
                 "{\"filters\":[{\"name\":\"artist_id\",\"op\":\"%s\",\"val\":7}]}", cases[i].op);
        snprintf(middle, sizeof(middle), " WHERE t0.\"ArtistId\" %s ?", cases[i].sql);
        albums_where(text, middle, "7");
    }
}
END_TEST

START_TEST(like_and_ilike)
{
    albums_where("{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":\"%Rock_\"}]}",
                 " WHERE t0.\"Title\" LIKE ?", "'%Rock_'");
    albums_where("{\"filters\":[{\"name\":\"title\",\"op\":\"ilike\",\"val\":\"%rock%\"}]}",
                 " WHERE lower(t0.\"Title\") LIKE lower(?)", "'%rock%'");
}
END_TEST

START_TEST(in_and_not_in)
{
    albums_where("{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":[1,2,3]}]}",
                 " WHERE t0.\"AlbumId\" IN (?,?,?)", "1|2|3");
    albums_where("{\"filters\":[{\"name\":\"title\",\"op\":\"not_in\",\"val\":[\"A\",\"B\"]}]}",
                 " WHERE t0.\"Title\" NOT IN (?,?)", "'A'|'B'");
    albums_where("{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":[4]}]}",
                 " WHERE t0.\"AlbumId\" IN (?)", "4");
}
END_TEST

START_TEST(null_tests)
{
    parse("Tracks", "{\"filters\":[{\"name\":\"composer\",\"op\":\"is_null\"},"
                    "{\"name\":\"album_id\",\"op\":\"is_not_null\",\"val\":null}]}");
    char want[1024];
    snprintf(want, sizeof(want),
             "%s WHERE t0.\"Composer\" IS NULL AND t0.\"AlbumId\" IS NOT NULL ORDER BY "
             "t0.\"TrackId\"",
             tracks_cols_sql);
    assert_sql(SELECT, want, "");
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM \"tracks\" AS t0 WHERE t0.\"Composer\" IS NULL AND "
               "t0.\"AlbumId\" IS NOT NULL",
               "");
}
END_TEST

START_TEST(value_kinds)
{
    parse("Tracks", "{\"filters\":[{\"name\":\"unit_price\",\"op\":\">\",\"val\":0.99},"
                    "{\"name\":\"milliseconds\",\"op\":\"<\",\"val\":-5},"
                    "{\"name\":\"name\",\"op\":\"==\",\"val\":\"x\\\"y\\u00e9\"},"
                    "{\"name\":\"album_id\",\"op\":\"==\",\"val\":true},"
                    "{\"name\":\"album_id\",\"op\":\"!=\",\"val\":false}]}");
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_count_sql(qry, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_uint_eq(nbinds, 5);
    ck_assert_int_eq(binds[0].kind, V_REAL);
    ck_assert_double_eq(binds[0].d, 0.99);
    ck_assert_int_eq(binds[1].kind, V_INT);
    ck_assert_int_eq(binds[1].i, -5);
    ck_assert_int_eq(binds[2].kind, V_TEXT);
    ck_assert_uint_eq(binds[2].n, 5);
    ck_assert_str_eq(binds[2].s, "x\"y\xc3\xa9");
    ck_assert_int_eq(binds[3].kind, V_INT);
    ck_assert_int_eq(binds[3].i, 1);
    ck_assert_int_eq(binds[4].kind, V_INT);
    ck_assert_int_eq(binds[4].i, 0);
}
END_TEST

START_TEST(column_against_column)
{
    parse("Invoices", "{\"filters\":[{\"name\":\"total\",\"op\":\">=\",\"field\":\"customer_id\"},"
                      "{\"name\":\"billing_city\",\"op\":\"ilike\",\"field\":\"billing_city\"}]}");
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM \"invoices\" AS t0 WHERE t0.\"Total\" >= t0.\"CustomerId\" "
               "AND lower(t0.\"BillingCity\") LIKE lower(t0.\"BillingCity\")",
               "");
}
END_TEST

START_TEST(or_and_not_nesting)
{
    albums_where(
        "{\"filters\":[{\"or\":[{\"name\":\"title\",\"op\":\"like\",\"val\":\"A%\"},"
        "{\"and\":[{\"name\":\"album_id\",\"op\":\">\",\"val\":10},"
        "{\"not\":{\"name\":\"artist_id\",\"op\":\"==\",\"val\":1}}]}]},"
        "{\"name\":\"artist_id\",\"op\":\"<\",\"val\":100}]}",
        " WHERE (t0.\"Title\" LIKE ? OR (t0.\"AlbumId\" > ? AND NOT (t0.\"ArtistId\" = ?)))"
        " AND t0.\"ArtistId\" < ?",
        "'A%'|10|1|100");
    albums_where("{\"filters\":[{\"not\":{\"or\":[{\"name\":\"album_id\",\"op\":\"==\",\"val\":1},"
                 "{\"name\":\"album_id\",\"op\":\"==\",\"val\":2}]}}]}",
                 " WHERE NOT (t0.\"AlbumId\" = ? OR t0.\"AlbumId\" = ?)", "1|2");
    albums_where("{\"filters\":[{\"not\":{\"not\":{\"name\":\"title\",\"op\":\"is_null\"}}}]}",
                 " WHERE NOT (NOT (t0.\"Title\" IS NULL))", "");
}
END_TEST

/* --- relations --- */

START_TEST(has_with_filter_and_with_value)
{
    albums_where("{\"filters\":[{\"name\":\"Artists\",\"op\":\"has\","
                 "\"val\":{\"name\":\"name\",\"op\":\"like\",\"val\":\"A%\"}}]}",
                 " WHERE EXISTS (SELECT 1 FROM \"artists\" AS t1 WHERE t1.\"ArtistId\" = "
                 "t0.\"ArtistId\" AND t1.\"Name\" LIKE ?)",
                 "'A%'");
    albums_where("{\"filters\":[{\"name\":\"Artists\",\"op\":\"has\",\"val\":1}]}",
                 " WHERE EXISTS (SELECT 1 FROM \"artists\" AS t1 WHERE t1.\"ArtistId\" = "
                 "t0.\"ArtistId\" AND t1.\"ArtistId\" = ?)",
                 "1");
}
END_TEST

START_TEST(any_with_filter_and_with_value)
{
    albums_where("{\"filters\":[{\"name\":\"tracks\",\"op\":\"any\","
                 "\"val\":{\"name\":\"milliseconds\",\"op\":\">\",\"val\":300000}}]}",
                 " WHERE EXISTS (SELECT 1 FROM \"tracks\" AS t1 WHERE t1.\"AlbumId\" = "
                 "t0.\"AlbumId\" AND t1.\"Milliseconds\" > ?)",
                 "300000");
    albums_where("{\"filters\":[{\"name\":\"tracks\",\"op\":\"any\",\"val\":5}]}",
                 " WHERE EXISTS (SELECT 1 FROM \"tracks\" AS t1 WHERE t1.\"AlbumId\" = "
                 "t0.\"AlbumId\" AND t1.\"TrackId\" = ?)",
                 "5");
    /* Flask-Restless's documented form: relation__field with any and a value. */
    albums_where("{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"any\",\"val\":\"Walk\"}]}",
                 " WHERE EXISTS (SELECT 1 FROM \"tracks\" AS t1 WHERE t1.\"AlbumId\" = "
                 "t0.\"AlbumId\" AND t1.\"Name\" = ?)",
                 "'Walk'");
}
END_TEST

START_TEST(relation_field_names)
{
    albums_where("{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"like\",\"val\":\"%love%\"},"
                 "{\"name\":\"Artists__name\",\"op\":\"==\",\"val\":\"AC/DC\"}]}",
                 " WHERE EXISTS (SELECT 1 FROM \"tracks\" AS t1 WHERE t1.\"AlbumId\" = "
                 "t0.\"AlbumId\" AND t1.\"Name\" LIKE ?) AND EXISTS (SELECT 1 FROM \"artists\" "
                 "AS t2 WHERE t2.\"ArtistId\" = t0.\"ArtistId\" AND t2.\"Name\" = ?)",
                 "'%love%'|'AC/DC'");
    /* Against a field of the collection the filter was written for. */
    albums_where("{\"filters\":[{\"name\":\"Artists__name\",\"op\":\"==\",\"field\":\"title\"}]}",
                 " WHERE EXISTS (SELECT 1 FROM \"artists\" AS t1 WHERE t1.\"ArtistId\" = "
                 "t0.\"ArtistId\" AND t1.\"Name\" = t0.\"Title\")",
                 "");
    albums_where("{\"filters\":[{\"name\":\"tracks__composer\",\"op\":\"is_null\"}]}",
                 " WHERE EXISTS (SELECT 1 FROM \"tracks\" AS t1 WHERE t1.\"AlbumId\" = "
                 "t0.\"AlbumId\" AND t1.\"Composer\" IS NULL)",
                 "");
}
END_TEST

START_TEST(relations_nest_with_fresh_aliases)
{
    parse("Artists", "{\"filters\":[{\"name\":\"albums\",\"op\":\"any\",\"val\":"
                     "{\"name\":\"tracks\",\"op\":\"any\",\"val\":"
                     "{\"or\":[{\"name\":\"name\",\"op\":\"==\",\"val\":\"x\"},"
                     "{\"name\":\"Albums__title\",\"op\":\"==\",\"field\":\"name\"}]}}},"
                     "{\"name\":\"albums__title\",\"op\":\"in\",\"val\":[\"a\",\"b\"]}]}");
    assert_sql(
        COUNT,
        "SELECT COUNT(*) FROM \"artists\" AS t0 WHERE EXISTS (SELECT 1 FROM \"albums\" AS t1 "
        "WHERE t1.\"ArtistId\" = t0.\"ArtistId\" AND EXISTS (SELECT 1 FROM \"tracks\" AS t2 "
        "WHERE t2.\"AlbumId\" = t1.\"AlbumId\" AND (t2.\"Name\" = ? OR EXISTS (SELECT 1 "
        "FROM \"albums\" AS t3 WHERE t3.\"AlbumId\" = t2.\"AlbumId\" AND t3.\"Title\" = "
        "t2.\"Name\")))) AND EXISTS (SELECT 1 FROM \"albums\" AS t4 WHERE t4.\"ArtistId\" "
        "= t0.\"ArtistId\" AND t4.\"Title\" IN (?,?))",
        "'x'|'a'|'b'");
}
END_TEST

/* --- order_by, group_by --- */

START_TEST(order_by_several_with_related_field)
{
    parse("Tracks", "{\"order_by\":[{\"field\":\"Albums__title\",\"direction\":\"desc\"},"
                    "{\"field\":\"name\"},{\"field\":\"milliseconds\",\"direction\":\"asc\"},"
                    "{\"field\":\"Albums__album_id\"}],"
                    "\"filters\":[{\"name\":\"Albums__title\",\"op\":\"like\",\"val\":\"B%\"}]}");
    char want[2048];
    snprintf(want, sizeof(want),
             "%s LEFT JOIN \"albums\" AS t1 ON t1.\"AlbumId\" = t0.\"AlbumId\" WHERE EXISTS "
             "(SELECT 1 FROM \"albums\" AS t2 WHERE t2.\"AlbumId\" = t0.\"AlbumId\" AND "
             "t2.\"Title\" LIKE ?) ORDER BY t1.\"Title\" DESC,t0.\"Name\" ASC,"
             "t0.\"Milliseconds\" ASC,t1.\"AlbumId\" ASC,t0.\"TrackId\"",
             tracks_cols_sql);
    assert_sql(SELECT, want, "'B%'");
    /* The count needs no join. */
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM \"tracks\" AS t0 WHERE EXISTS (SELECT 1 FROM \"albums\" AS t1 "
               "WHERE t1.\"AlbumId\" = t0.\"AlbumId\" AND t1.\"Title\" LIKE ?)",
               "'B%'");
}
END_TEST

START_TEST(order_by_key_not_repeated)
{
    parse("Albums", "{\"order_by\":[{\"field\":\"album_id\",\"direction\":\"desc\"}]}");
    assert_sql(SELECT,
               "SELECT t0.\"AlbumId\",t0.\"Title\",t0.\"ArtistId\" FROM \"albums\" AS t0 "
               "ORDER BY t0.\"AlbumId\" DESC",
               "");
}
END_TEST

START_TEST(group_by_counts_groups)
{
    parse("Albums", "{\"group_by\":[{\"field\":\"artist_id\"}],"
                    "\"filters\":[{\"name\":\"album_id\",\"op\":\">\",\"val\":3}],"
                    "\"order_by\":[{\"field\":\"title\"}]}");
    assert_sql(SELECT,
               "SELECT t0.\"AlbumId\",t0.\"Title\",t0.\"ArtistId\" FROM \"albums\" AS t0 WHERE "
               "t0.\"AlbumId\" > ? GROUP BY t0.\"ArtistId\" ORDER BY t0.\"Title\" ASC,"
               "t0.\"ArtistId\"",
               "3");
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM (SELECT 1 FROM \"albums\" AS t0 WHERE t0.\"AlbumId\" > ? "
               "GROUP BY t0.\"ArtistId\")",
               "3");
}
END_TEST

/* --- dates --- */

START_TEST(dates_normalised)
{
    static const char *const same[] = {"2009-01-01", "2009-01-01T00:00:00", "2009-01-01 00:00:00",
                                       "2009-01-01T00:00", "2009-01-01T00:00:00.000000"};
    for (size_t i = 0; i < N(same); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"filters\":[{\"name\":\"invoice_date\",\"op\":\"==\",\"val\":\"%s\"}]}",
                 same[i]);
        parse("Invoices", text);
        assert_sql(COUNT, "SELECT COUNT(*) FROM \"invoices\" AS t0 WHERE t0.\"InvoiceDate\" = ?",
                   "'2009-01-01 00:00:00'");
    }
    parse("Invoices", "{\"filters\":[{\"name\":\"invoice_date\",\"op\":\"in\","
                      "\"val\":[\"2012-02-29T23:59:59.250\",\"2010-03-04 05:06\"]},"
                      "{\"name\":\"invoice_date\",\"op\":\"like\",\"val\":\"2009-01%\"}]}");
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM \"invoices\" AS t0 WHERE t0.\"InvoiceDate\" IN (?,?) AND "
               "t0.\"InvoiceDate\" LIKE ?",
               "'2012-02-29 23:59:59.25'|'2010-03-04 05:06:00'|'2009-01%'");
    /* A DATE column keeps the date only; through a relation as well. */
    parse("Albums", "{\"filters\":[{\"name\":\"releases__released\",\"op\":\">=\","
                    "\"val\":\"1999-12-31T00:00:00\"}]}");
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM \"albums\" AS t0 WHERE EXISTS (SELECT 1 FROM \"releases\" AS "
               "t1 WHERE t1.\"AlbumId\" = t0.\"AlbumId\" AND t1.\"Released\" >= ?)",
               "'1999-12-31'");
}
END_TEST

START_TEST(dates_refused)
{
    static const char *const bad[] = {
        "2009-02-29",    "2009-13-01",           "2009-1-01",
        "yesterday",     "2009-01-01T24:00:00",  "2009-01-01T10:00:00Z",
        "2009-01-01T10", "2009-01-01T10:00:00.", ""};
    for (size_t i = 0; i < N(bad); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"filters\":[{\"name\":\"invoice_date\",\"op\":\"<\",\"val\":\"%s\"}]}", bad[i]);
        fails("Invoices", text, "is not a date");
    }
    fails("Invoices", "{\"filters\":[{\"name\":\"invoice_date\",\"op\":\"<\",\"val\":20090101}]}",
          "\"invoice_date\": a date must be a string");
    fails("Releases",
          "{\"filters\":[{\"name\":\"released\",\"op\":\"==\",\"val\":\"2009-01-01T10:00\"}]}",
          "(like 2009-01-01)");
}
END_TEST

/* --- functions, quoting, caps --- */

START_TEST(functions_sql)
{
    parse("Invoices",
          "{\"functions\":[{\"name\":\"sum\",\"field\":\"total\"},"
          "{\"name\":\"count\",\"field\":\"invoice_id\"},"
          "{\"name\":\"avg\",\"field\":\"total\"},{\"name\":\"min\",\"field\":\"total\"},"
          "{\"name\":\"max\",\"field\":\"invoice_date\"}],"
          "\"filters\":[{\"name\":\"billing_city\",\"op\":\"==\",\"val\":\"Oslo\"}],"
          "\"order_by\":[{\"field\":\"total\"}]}");
    const char *names[8];
    size_t nnames = 99;
    ck_assert_int_eq(query_functions_sql(qry, &sql, binds, &nbinds, BINDS_CAP, names, &nnames, 8),
                     0);
    ck_assert_str_eq(sql.data, "SELECT sum(t0.\"Total\"),count(t0.\"InvoiceId\"),avg(t0.\"Total\"),"
                               "min(t0.\"Total\"),max(t0.\"InvoiceDate\") FROM \"invoices\" AS t0 "
                               "WHERE t0.\"BillingCity\" = ?");
    ck_assert_str_eq(binds_text(), "'Oslo'");
    ck_assert_uint_eq(nnames, 5);
    ck_assert_str_eq(names[0], "sum__total");
    ck_assert_str_eq(names[1], "count__invoice_id");
    ck_assert_str_eq(names[4], "max__invoice_date");
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_functions_sql(qry, &sql, binds, &nbinds, BINDS_CAP, names, &nnames, 4),
                     WR_ETOOBIG);
    parse("Invoices", "{}");
    ck_assert_int_eq(query_functions_sql(qry, &sql, binds, &nbinds, BINDS_CAP, names, &nnames, 8),
                     WR_EINVAL);
    ck_assert_uint_eq(nnames, 0);
}
END_TEST

START_TEST(identifiers_come_from_the_schema)
{
    parse("Odd\"t", "{\"filters\":[{\"name\":\"a\\\"b\",\"op\":\"==\","
                    "\"val\":\"'; DROP TABLE albums; --\"}]}");
    assert_sql(SELECT,
               "SELECT t0.\"Id\",t0.\"a\"\"b\" FROM \"odd\"\"t\" AS t0 WHERE t0.\"a\"\"b\" = ? "
               "ORDER BY t0.\"Id\"",
               "''; DROP TABLE albums; --'");
    fails("Albums", "{\"filters\":[{\"name\":\"title\\\" OR 1=1 --\",\"op\":\"==\",\"val\":1}]}",
          "unknown field \"title\" OR 1=1 --\" in Albums");
}
END_TEST

START_TEST(binds_over_cap)
{
    parse("Albums", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":[1,2,3]}]}");
    ck_assert_int_eq(query_select_sql(qry, &sql, binds, &nbinds, 2), WR_ETOOBIG);
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_count_sql(qry, &sql, binds, &nbinds, 3), 0);
    ck_assert_uint_eq(nbinds, 3);
    struct wr_buf tiny;
    wr_buf_init(&tiny, 16);
    ck_assert_int_eq(query_count_sql(qry, &tiny, binds, &nbinds, 3), WR_ETOOBIG);
    wr_buf_release(&tiny);
}
END_TEST

/* --- limits --- */

/* {"filters":[ depth nested "not"s around one filter ]}. */
static void nested_nots(char *out, size_t cap, int depth)
{
    size_t len = 0;
    len += (size_t)snprintf(out + len, cap - len, "{\"filters\":[");
    for (int i = 1; i < depth; i++)
        len += (size_t)snprintf(out + len, cap - len, "{\"not\":");
    len += (size_t)snprintf(out + len, cap - len, "{\"name\":\"title\",\"op\":\"is_null\"}");
    for (int i = 1; i < depth; i++)
        len += (size_t)snprintf(out + len, cap - len, "}");
    snprintf(out + len, cap - len, "]}");
}

START_TEST(depth_limit)
{
    char text[2048];
    nested_nots(text, sizeof(text), 16);
    parse("Albums", text);
    nested_nots(text, sizeof(text), 17);
    fails("Albums", text, "nested deeper than the limit max_depth (16)");
    struct query_limits lim = {.max_depth = 2};
    nested_nots(text, sizeof(text), 2);
    parse_lim("Albums", text, &lim);
    nested_nots(text, sizeof(text), 3);
    fails_lim("Albums", text, strlen(text), &lim, "max_depth (2)");
    /* A filter as the val of has / any is one level deeper. */
    parse_lim("Albums",
              "{\"filters\":[{\"name\":\"tracks\",\"op\":\"any\",\"val\":"
              "{\"name\":\"name\",\"op\":\"==\",\"val\":\"x\"}}]}",
              &lim);
    static const char deep[] = "{\"filters\":[{\"name\":\"tracks\",\"op\":\"any\",\"val\":"
                               "{\"not\":{\"name\":\"name\",\"op\":\"==\",\"val\":\"x\"}}}]}";
    fails_lim("Albums", deep, strlen(deep), &lim, "max_depth (2)");
}
END_TEST

/* Albums' filter with depth relation filters: tracks any -> Albums has
 * -> ..., the innermost a column filter. */
static void nested_relations(char *out, size_t cap, int depth)
{
    size_t n = (size_t)snprintf(out, cap, "{\"filters\":[");
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(out + n, cap - n, "{\"name\":\"%s\",\"op\":\"%s\",\"val\":",
                              i % 2 == 0 ? "tracks" : "Albums", i % 2 == 0 ? "any" : "has");
    n += (size_t)snprintf(out + n, cap - n, "{\"name\":\"%s\",\"op\":\"is_null\"}",
                          depth % 2 == 1 ? "name" : "title");
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(out + n, cap - n, "}");
    (void)snprintf(out + n, cap - n, "]}");
}

/* has / any / relation__field are correlated subqueries: their nesting
 * and their number are cost limits (WR_ETOOBIG, not WR_EINVAL). */
START_TEST(relation_limits)
{
    char text[4096];
    nested_relations(text, sizeof(text), 4);
    parse("Albums", text);
    nested_relations(text, sizeof(text), 5);
    fails_code("Albums", text, NULL, WR_ETOOBIG,
               "nested deeper than the limit SEARCH_MAX_RELATION_DEPTH (4)");
    nested_relations(text, sizeof(text), 9);
    fails_code("Albums", text, NULL, WR_ETOOBIG, "SEARCH_MAX_RELATION_DEPTH (4)");
    struct query_limits lim = {.max_rel_depth = 1, .max_subqueries = 3};
    nested_relations(text, sizeof(text), 1);
    parse_lim("Albums", text, &lim);
    nested_relations(text, sizeof(text), 2);
    fails_code("Albums", text, &lim, WR_ETOOBIG, "SEARCH_MAX_RELATION_DEPTH (1)");
    /* relation__field is one subquery, at its own depth; or / not add none */
    static const char three[] =
        "{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"==\",\"val\":\"a\"},"
        "{\"or\":[{\"name\":\"tracks__name\",\"op\":\"==\",\"val\":\"b\"},"
        "{\"not\":{\"name\":\"Artists__name\",\"op\":\"==\",\"val\":\"c\"}}]}]}";
    parse_lim("Albums", three, &lim);
    static const char four[] =
        "{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"==\",\"val\":\"a\"},"
        "{\"or\":[{\"name\":\"tracks__name\",\"op\":\"==\",\"val\":\"b\"},"
        "{\"not\":{\"name\":\"Artists__name\",\"op\":\"==\",\"val\":\"c\"}}]},"
        "{\"name\":\"Artists\",\"op\":\"has\",\"val\":1}]}";
    fails_code("Albums", four, &lim, WR_ETOOBIG,
               "more relation filters (has, any, relation__field) than the limit "
               "SEARCH_MAX_SUBQUERIES (3)");
    /* the default is 16 */
    size_t n = (size_t)snprintf(text, sizeof(text), "{\"filters\":[");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "%s{\"name\":\"tracks__name\",\"op\":\"==\",\"val\":\"x\"}",
                              i ? "," : "");
    (void)snprintf(text + n, sizeof(text) - n, "]}");
    fails_code("Albums", text, NULL, WR_ETOOBIG, "SEARCH_MAX_SUBQUERIES (16)");
}
END_TEST

START_TEST(in_list_limit)
{
    struct query_limits lim = {.max_in = 3};
    parse_lim("Albums", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":[1,2,3]}]}",
              &lim);
    static const char four[] =
        "{\"filters\":[{\"name\":\"album_id\",\"op\":\"not_in\",\"val\":[1,2,3,4]}]}";
    fails_lim("Albums", four, strlen(four), &lim,
              "\"album_id\": not_in list of 4 values is over the limit max_in (3)");
    /* The default is 500. */
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof(text),
                                  "{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":[0");
    for (int i = 1; i < 501; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, ",%d", i);
    snprintf(text + len, sizeof(text) - len, "]}]}");
    fails("Albums", text, "max_in (500)");
}
END_TEST

START_TEST(filter_count_limit)
{
    struct query_limits lim = {.max_filters = 3};
    parse_lim("Albums",
              "{\"filters\":[{\"or\":[{\"name\":\"title\",\"op\":\"is_null\"},"
              "{\"name\":\"title\",\"op\":\"is_null\"}]}]}",
              &lim);
    static const char four[] = "{\"filters\":[{\"or\":[{\"name\":\"title\",\"op\":\"is_null\"},"
                               "{\"name\":\"title\",\"op\":\"is_null\"}]},"
                               "{\"name\":\"title\",\"op\":\"is_null\"}]}";
    fails_lim("Albums", four, strlen(four), &lim, "more filters than the limit max_filters (3)");
    static const char orders[] = "{\"order_by\":[{\"field\":\"title\"},{\"field\":\"title\"},"
                                 "{\"field\":\"title\"},{\"field\":\"title\"}]}";
    fails_lim("Albums", orders, strlen(orders), &lim,
              "order_by has more entries than the limit max_filters (3)");
}
END_TEST

/* --- errors --- */

START_TEST(malformed_json)
{
    fails("Albums", "{\"filters\":[}", "q: invalid JSON");
    fails("Albums", "", "q: invalid JSON");
    fails("Albums", "{} {}", "q: invalid JSON");
    fails("Albums", "[]", "q: must be a JSON object");
    fails("Albums", "\"x\"", "q: invalid JSON");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":\"\xff\"}]}",
          "q: invalid JSON");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":\"a\\u0000b\"}]}",
          "q: invalid JSON");
    static const char nul[] = "{\"limit\":1}\0";
    fails_lim("Albums", nul, sizeof(nul) - 1, NULL, "q: contains a NUL byte");
}
END_TEST

START_TEST(duplicate_keys)
{
    fails("Albums", "{\"limit\":1,\"limit\":2}", "duplicate object key");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"name\":\"album_id\",\"op\":\"is_null\"}]}",
          "duplicate object key");
}
END_TEST

START_TEST(unknown_members)
{
    fails("Albums", "{\"filter\":[]}", "q: unknown member \"filter\"");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":1,\"value\":2}]}",
          "unknown member \"value\" in a filter");
    fails("Albums", "{\"order_by\":[{\"field\":\"title\",\"dir\":\"asc\"}]}",
          "unknown member \"dir\" in order_by");
    fails("Albums", "{\"group_by\":[{\"field\":\"title\",\"x\":1}]}",
          "unknown member \"x\" in group_by");
    fails("Albums", "{\"functions\":[{\"name\":\"count\",\"field\":\"title\",\"as\":\"n\"}]}",
          "unknown member \"as\" in functions");
    fails("Albums",
          "{\"filters\":[{\"not\":{\"name\":\"title\",\"op\":\"is_null\"},\"op\":\"x\"}]}",
          "a filter with \"not\" may have no other member");
}
END_TEST

START_TEST(unknown_operator)
{
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"~=\",\"val\":1}]}",
          "unknown operator \"~=\" on \"title\"");
    /* Flask-Restless's documentation spells it so; its code does not. */
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"equals_to\",\"val\":1}]}",
          "unknown operator \"equals_to\"");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"desc\"}]}",
          "unknown operator \"desc\"");
}
END_TEST

START_TEST(unknown_and_hidden_fields)
{
    fails("Albums", "{\"filters\":[{\"name\":\"nope\",\"op\":\"==\",\"val\":1}]}",
          "unknown field \"nope\" in Albums");
    fails("Tracks", "{\"filters\":[{\"name\":\"bytes\",\"op\":\">\",\"val\":1}]}",
          "unknown field \"bytes\" in Tracks");
    fails("Tracks", "{\"filters\":[{\"name\":\"name\",\"op\":\">\",\"field\":\"bytes\"}]}",
          "unknown field \"bytes\" in Tracks");
    fails("Albums", "{\"filters\":[{\"name\":\"tracks__bytes\",\"op\":\">\",\"val\":1}]}",
          "unknown field \"tracks__bytes\" in Albums");
    fails("Customers", "{\"filters\":[{\"name\":\"email\",\"op\":\"is_null\"}]}",
          "unknown field \"email\" in Customers");
    fails("Customers", "{\"filters\":[{\"name\":\"invoices\",\"op\":\"any\",\"val\":1}]}",
          "unknown field \"invoices\" in Customers");
    fails("Albums",
          "{\"filters\":[{\"name\":\"Artists\",\"op\":\"has\","
          "\"val\":{\"name\":\"title\",\"op\":\"is_null\"}}]}",
          "unknown field \"title\" in Artists");
    fails("Albums", "{\"order_by\":[{\"field\":\"Artists__nope\"}]}",
          "unknown field \"Artists__nope\" in Albums");
    fails("Albums", "{\"order_by\":[{\"field\":\"Artists\"}]}", "unknown field \"Artists\"");
    fails("Albums", "{\"group_by\":[{\"field\":\"Artists__name\"}]}",
          "unknown field \"Artists__name\"");
    fails("Albums", "{\"functions\":[{\"name\":\"sum\",\"field\":\"nope\"}]}",
          "unknown field \"nope\"");
    fails("Albums", "{\"functions\":[{\"name\":\"median\",\"field\":\"title\"}]}",
          "unknown function \"median\"");
    fails("Tracks", "{\"functions\":[{\"name\":\"sum\",\"field\":\"bytes\"}]}",
          "unknown field \"bytes\"");
    /* a column a dotted EXCLUDE hides inside a relation, by every way in */
    fails("Invoices",
          "{\"filters\":[{\"name\":\"Customers__first_name\",\"op\":\"==\",\"val\":1}]}",
          "unknown field \"Customers__first_name\" in Invoices");
    fails("Invoices", "{\"order_by\":[{\"field\":\"Customers__first_name\"}]}",
          "unknown field \"Customers__first_name\"");
    fails("Invoices",
          "{\"filters\":[{\"name\":\"Customers\",\"op\":\"has\","
          "\"val\":{\"name\":\"first_name\",\"op\":\"is_null\"}}]}",
          "unknown field \"first_name\" in Customers");
    fails("Invoices",
          "{\"filters\":[{\"name\":\"Customers\",\"op\":\"has\","
          "\"val\":{\"or\":[{\"name\":\"first_name\",\"op\":\"is_null\"}]}}]}",
          "unknown field \"first_name\" in Customers");
}
END_TEST

/* The other columns of that relation stay searchable, and the collection
 * that hides nothing of its own keeps all of them. */
START_TEST(dotted_exclude_leaves_the_rest)
{
    (void)parse("Invoices", "{\"filters\":[{\"name\":\"Customers__customer_id\",\"op\":\"==\","
                            "\"val\":1}]}");
    (void)parse("Invoices", "{\"filters\":[{\"name\":\"Customers\",\"op\":\"has\","
                            "\"val\":{\"name\":\"customer_id\",\"op\":\"==\",\"val\":1}}]}");
    (void)parse("Customers",
                "{\"filters\":[{\"name\":\"first_name\",\"op\":\"==\",\"val\":\"x\"}]}");
}
END_TEST

/* A keyset page: the filters, then the key after the cursor's. */
/* Backward: the same comparisons and order with every direction flipped. */
START_TEST(keyset_before_sql)
{
    (void)parse("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":\"A%\"}]}");
    struct value at[1] = {{.kind = V_INT, .i = 42}};
    ck_assert_int_eq(query_select_before_sql(qry, at, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_str_eq(sql.data,
                     "SELECT t0.\"AlbumId\",t0.\"Title\",t0.\"ArtistId\" FROM \"albums\" AS t0 "
                     "WHERE t0.\"Title\" LIKE ? AND (t0.\"AlbumId\") < (?) ORDER BY "
                     "t0.\"AlbumId\" DESC");
    (void)parse("Albums", "{\"order_by\":[{\"field\":\"title\",\"direction\":\"desc\"}]}");
    struct value tk[2] = {{.kind = V_TEXT, .s = "M", .n = 1}, {.kind = V_INT, .i = 7}};
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_select_before_sql(qry, tk, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_str_eq(sql.data,
                     "SELECT t0.\"AlbumId\",t0.\"Title\",t0.\"ArtistId\" FROM \"albums\" AS t0 "
                     "WHERE (((t0.\"Title\" > ?)) OR (t0.\"Title\" IS ? "
                     "AND (t0.\"AlbumId\" < ? OR t0.\"AlbumId\" IS NULL))) ORDER BY t0.\"Title\" "
                     "ASC,t0.\"AlbumId\" DESC");
    /* NULL in the cursor, descending: before it, every non-NULL */
    tk[0] = (struct value){.kind = V_NULL};
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_select_before_sql(qry, tk, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_ptr_nonnull(strstr(sql.data, "WHERE ((t0.\"Title\" IS NOT NULL) OR"));
}
END_TEST

START_TEST(keyset_sql)
{
    (void)parse("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":\"A%\"}]}");
    ck_assert(query_keyset_ok(qry));
    struct value after[1] = {{.kind = V_INT, .i = 42}};
    ck_assert_int_eq(query_select_after_sql(qry, after, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_str_eq(sql.data,
                     "SELECT t0.\"AlbumId\",t0.\"Title\",t0.\"ArtistId\" FROM \"albums\" AS t0 "
                     "WHERE t0.\"Title\" LIKE ? AND (t0.\"AlbumId\") > (?) ORDER BY "
                     "t0.\"AlbumId\"");
    ck_assert_uint_eq(nbinds, 2);
    ck_assert_int_eq(binds[1].i, 42);
    (void)parse("PlaylistTrack", "{}");
    struct value two[2] = {{.kind = V_INT, .i = 1}, {.kind = V_INT, .i = 3402}};
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_select_after_sql(qry, two, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_ptr_nonnull(
        strstr(sql.data, " WHERE (t0.\"PlaylistId\",t0.\"TrackId\") > (?,?) ORDER BY"));
    /* an order_by of own columns: NULL-aware comparisons, then the key */
    (void)parse("Albums", "{\"order_by\":[{\"field\":\"title\",\"direction\":\"desc\"}]}");
    ck_assert(query_keyset_ok(qry));
    size_t cols[QUERY_KEYSET_MAX];
    bool desc[QUERY_KEYSET_MAX];
    ck_assert_uint_eq(query_keyset_cols(qry, cols, desc, QUERY_KEYSET_MAX), 2);
    ck_assert_uint_eq(cols[0], 1);
    ck_assert(desc[0]);
    ck_assert_uint_eq(cols[1], 0);
    ck_assert(!desc[1]);
    struct value tk[2] = {{.kind = V_TEXT, .s = "M", .n = 1}, {.kind = V_INT, .i = 7}};
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_select_after_sql(qry, tk, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_str_eq(sql.data,
                     "SELECT t0.\"AlbumId\",t0.\"Title\",t0.\"ArtistId\" FROM \"albums\" AS t0 "
                     "WHERE (((t0.\"Title\" < ? OR t0.\"Title\" IS NULL)) OR (t0.\"Title\" IS ? "
                     "AND (t0.\"AlbumId\" > ?))) ORDER BY t0.\"Title\" DESC,t0.\"AlbumId\"");
    ck_assert_uint_eq(nbinds, 3);
    /* NULL in the cursor: ascending, what follows is not NULL; descending, nothing */
    tk[0] = (struct value){.kind = V_NULL};
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_select_after_sql(qry, tk, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_ptr_nonnull(
        strstr(sql.data, "WHERE ((0) OR (t0.\"Title\" IS ? AND (t0.\"AlbumId\" > ?)))"));
    (void)parse("Albums", "{\"order_by\":[{\"field\":\"title\"}]}");
    wr_buf_reset(&sql);
    ck_assert_int_eq(query_select_after_sql(qry, tk, &sql, binds, &nbinds, BINDS_CAP), 0);
    ck_assert_ptr_nonnull(strstr(sql.data, "WHERE ((t0.\"Title\" IS NOT NULL) OR"));
    (void)parse("Albums", "{\"order_by\":[{\"field\":\"Artists__name\"}]}");
    ck_assert(!query_keyset_ok(qry));
    (void)parse("Albums", "{\"limit\":5}");
    ck_assert(!query_keyset_ok(qry));
}
END_TEST

START_TEST(null_value_with_comparison)
{
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":null}]}",
          "\"title\": == needs a val; to compare with null use is_null or is_not_null");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"neq\"}]}",
          "use is_null or is_not_null");
    fails("Albums", "{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"like\",\"val\":null}]}",
          "\"tracks__name\": like needs a val");
}
END_TEST

START_TEST(operator_misuse)
{
    fails("Albums", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":[]}]}",
          "in needs a non-empty array");
    fails("Albums", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":3}]}",
          "in needs a non-empty array");
    fails("Albums", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":[1,null]}]}",
          "in list may not hold null");
    fails("Albums", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"in\",\"val\":[[1]]}]}",
          "val must be a string, number or boolean");
    fails("Albums", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"==\",\"val\":{\"a\":1}}]}",
          "val must be a string, number or boolean");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":true}]}",
          "like and ilike take a string or a number");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"in\",\"field\":\"title\"}]}",
          "in cannot compare with a field");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"field\":3}]}",
          "field must be a string");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"has\",\"val\":1}]}",
          "\"title\": has needs a relation");
    fails("Albums", "{\"filters\":[{\"name\":\"tracks\",\"op\":\"has\",\"val\":1}]}",
          "has is for to-one relations; use any");
    fails("Albums", "{\"filters\":[{\"name\":\"Artists\",\"op\":\"any\",\"val\":1}]}",
          "any is for to-many relations; use has");
    fails("Albums", "{\"filters\":[{\"name\":\"Artists\",\"op\":\"==\",\"val\":1}]}",
          "a relation takes has or any, not ==");
    fails("Albums", "{\"filters\":[{\"name\":\"Artists\",\"op\":\"has\"}]}", "has needs a val");
    fails("Albums", "{\"filters\":[{\"name\":\"Artists\",\"op\":\"has\",\"field\":\"title\"}]}",
          "has takes val, not field");
    fails("Albums",
          "{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"any\","
          "\"val\":{\"name\":\"name\",\"op\":\"is_null\"}}]}",
          "a filter as val goes with the relation's name");
    fails("Tracks", "{\"filters\":[{\"name\":\"playlist_track\",\"op\":\"any\",\"val\":1}]}",
          "PlaylistTrack has a composite key");
    fails("Albums", "{\"filters\":[{\"or\":[]}]}", "\"or\" needs a non-empty array of filters");
    fails("Albums", "{\"filters\":[{\"and\":{}}]}", "\"and\" needs a non-empty array");
    fails("Albums", "{\"filters\":[{\"not\":[]}]}", "a filter must be an object");
    fails("Albums", "{\"filters\":[{\"op\":\"is_null\"}]}", "needs \"name\" and \"op\"");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":5}]}", "needs \"name\" and \"op\"");
    fails("Albums", "{\"filters\":[3]}", "a filter must be an object");
    fails("Albums", "{\"filters\":{}}", "filters must be an array");
}
END_TEST

START_TEST(order_by_errors)
{
    fails("Albums", "{\"order_by\":[{\"field\":\"tracks__name\"}]}",
          "order_by \"tracks__name\": cannot order by a to-many relation's field");
    fails("Albums", "{\"order_by\":[{\"field\":\"title\",\"direction\":\"up\"}]}",
          "direction must be \"asc\" or \"desc\"");
    fails("Albums", "{\"order_by\":[{\"direction\":\"asc\"}]}", "needs a \"field\" string");
    fails("Albums", "{\"order_by\":[\"title\"]}", "each entry of order_by must be an object");
    fails("Albums", "{\"order_by\":{\"field\":\"title\"}}", "order_by must be an array");
}
END_TEST

START_TEST(counts_and_flags_errors)
{
    fails("Albums", "{\"limit\":-1}", "q: limit must be a whole number");
    fails("Albums", "{\"limit\":1.5}", "limit must be a whole number");

    fails("Albums", "{\"offset\":\"3\"}", "offset must be a whole number");
    fails("Albums", "{\"offset\":-10}", "offset must be a whole number");
}
END_TEST

/* What Flask-Restless 0.17 accepts is accepted, read as it reads it. */
START_TEST(flask_restless_leniency)
{
    /* val and field: the field (val ignored, null or not) */
    albums_where("{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":null,"
                 "\"field\":\"title\"}]}",
                 " WHERE t0.\"Title\" = t0.\"Title\"", "");
    albums_where("{\"filters\":[{\"name\":\"album_id\",\"op\":\"<\",\"val\":3,"
                 "\"field\":\"artist_id\"}]}",
                 " WHERE t0.\"AlbumId\" < t0.\"ArtistId\"", "");
    /* a field null or "": none, the val counts */
    albums_where("{\"filters\":[{\"name\":\"album_id\",\"op\":\"<\",\"val\":3,"
                 "\"field\":null}]}",
                 " WHERE t0.\"AlbumId\" < ?", "3");
    albums_where("{\"filters\":[{\"name\":\"album_id\",\"op\":\"<\",\"val\":3,"
                 "\"field\":\"\"}]}",
                 " WHERE t0.\"AlbumId\" < ?", "3");
    /* is_null ignores a val */
    albums_where("{\"filters\":[{\"name\":\"title\",\"op\":\"is_null\",\"val\":\"x\"}]}",
                 " WHERE t0.\"Title\" IS NULL", "");
    /* like with a number */
    albums_where("{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":5}]}",
                 " WHERE t0.\"Title\" LIKE ?", "5");
    /* limit and offset null: absent; single: Python's truth */
    parse("Albums", "{\"limit\":null,\"offset\":null,\"single\":1}");
    ck_assert_int_eq(query_limit(qry), -1);
    ck_assert_int_eq(query_offset(qry), 0);
    ck_assert(query_single(qry));
    static const char *const falsy[] = {"0", "0.0", "\"\"", "[]", "{}", "null", "false"};
    for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
        char text[64];
        (void)snprintf(text, sizeof(text), "{\"single\":%s}", falsy[i]);
        parse("Albums", text);
        ck_assert_msg(!query_single(qry), "%s", text);
    }
    static const char *const truthy[] = {"2", "0.5", "\"no\"", "[0]", "{\"a\":0}", "true"};
    for (size_t i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
        char text[64];
        (void)snprintf(text, sizeof(text), "{\"single\":%s}", truthy[i]);
        parse("Albums", text);
        ck_assert_msg(query_single(qry), "%s", text);
    }
}
END_TEST

START_TEST(long_names_clipped)
{
    char text[1024], name[301];
    memset(name, 'x', 300);
    name[300] = '\0';
    snprintf(text, sizeof(text), "{\"filters\":[{\"name\":\"%s\",\"op\":\"==\",\"val\":1}]}", name);
    fails("Albums", text, "unknown field \"xxxxxxxx");
    ck_assert_uint_lt(strlen(err.msg), 200);
}
END_TEST

/* --- full text (match) --- */

START_TEST(match_column_and_every_column)
{
    const char *sel_end = " ORDER BY t0.\"TrackId\"";
    char want[4096];
    parse("Tracks",
          "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"rock OR roll\"}]}");
    snprintf(want, sizeof(want),
             "%s WHERE t0.\"TrackId\" IN (SELECT rowid FROM \"tracks_fts\" WHERE "
             "\"tracks_fts\".\"Name\" MATCH ?)%s",
             tracks_cols_sql, sel_end);
    assert_sql(SELECT, want, "'rock OR roll'");
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM \"tracks\" AS t0 WHERE t0.\"TrackId\" IN (SELECT rowid FROM "
               "\"tracks_fts\" WHERE \"tracks_fts\".\"Name\" MATCH ?)",
               "'rock OR roll'");
    ck_assert_str_eq(query_match_val(qry), "rock OR roll");
    /* "*": the FTS5 table's own hidden column searches every indexed one */
    parse("Tracks", "{\"filters\":[{\"name\":\"*\",\"op\":\"match\",\"val\":\"bach\"}]}");
    snprintf(want, sizeof(want),
             "%s WHERE t0.\"TrackId\" IN (SELECT rowid FROM \"tracks_fts\" WHERE "
             "\"tracks_fts\".\"tracks_fts\" MATCH ?)%s",
             tracks_cols_sql, sel_end);
    assert_sql(SELECT, want, "'bach'");
    /* through a relation: Albums has no index, its tracks have */
    parse("Albums",
          "{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"match\",\"val\":\"love\"}]}");
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM \"albums\" AS t0 WHERE EXISTS (SELECT 1 FROM \"tracks\" AS t1 "
               "WHERE t1.\"AlbumId\" = t0.\"AlbumId\" AND t1.\"TrackId\" IN (SELECT rowid FROM "
               "\"tracks_fts\" WHERE \"tracks_fts\".\"Name\" MATCH ?))",
               "'love'");
    /* two: the message cannot name one */
    parse("Tracks", "{\"filters\":[{\"or\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"a\"},"
                    "{\"name\":\"composer\",\"op\":\"match\",\"val\":\"b\"}]}]}");
    ck_assert_ptr_null(query_match_val(qry));
}
END_TEST

START_TEST(match_rank_joins_the_index)
{
    char want[4096];
    parse("Tracks", "{\"filters\":[{\"name\":\"milliseconds\",\"op\":\">\",\"val\":1},"
                    "{\"name\":\"name\",\"op\":\"match\",\"val\":\"rock\"}],"
                    "\"order_by\":[{\"field\":\"_rank\"}]}");
    snprintf(want, sizeof(want),
             "%s JOIN \"tracks_fts\" AS tr ON tr.rowid = t0.\"TrackId\" WHERE "
             "t0.\"Milliseconds\" > ? AND tr.\"Name\" MATCH ? ORDER BY tr.rank ASC,t0.\"TrackId\"",
             tracks_cols_sql);
    assert_sql(SELECT, want, "1|'rock'");
    /* the count needs no rank: no join */
    assert_sql(COUNT,
               "SELECT COUNT(*) FROM \"tracks\" AS t0 WHERE t0.\"Milliseconds\" > ? AND "
               "t0.\"TrackId\" IN (SELECT rowid FROM \"tracks_fts\" WHERE \"tracks_fts\".\"Name\" "
               "MATCH ?)",
               "1|'rock'");
    ck_assert(!query_keyset_ok(qry));
    parse("Tracks", "{\"filters\":[{\"name\":\"*\",\"op\":\"match\",\"val\":\"x\"}],"
                    "\"order_by\":[{\"field\":\"_rank\",\"direction\":\"desc\"},"
                    "{\"field\":\"name\"}]}");
    snprintf(want, sizeof(want),
             "%s JOIN \"tracks_fts\" AS tr ON tr.rowid = t0.\"TrackId\" WHERE "
             "tr.\"tracks_fts\" MATCH ? ORDER BY tr.rank DESC,t0.\"Name\" ASC,t0.\"TrackId\"",
             tracks_cols_sql);
    assert_sql(SELECT, want, "'x'");
}
END_TEST

START_TEST(match_errors)
{
    fails("Tracks", "{\"filters\":[{\"name\":\"milliseconds\",\"op\":\"match\",\"val\":\"1\"}]}",
          "full-text index does not cover milliseconds");
    fails("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"match\",\"val\":\"x\"}]}",
          "Albums has none");
    fails("Albums", "{\"filters\":[{\"name\":\"*\",\"op\":\"match\",\"val\":\"x\"}]}",
          "Albums has none");
    fails("Tracks", "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"\"}]}",
          "match needs a val");
    fails("Tracks", "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":3}]}",
          "match needs a val");
    fails("Tracks", "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"field\":\"composer\"}]}",
          "match takes val, not field");
    fails("Tracks", "{\"filters\":[{\"name\":\"Albums\",\"op\":\"match\",\"val\":\"x\"}]}",
          "a relation takes has or any, not match");
    fails("Tracks", "{\"order_by\":[{\"field\":\"_rank\"}]}",
          "order_by \"_rank\" needs a match filter on Tracks at the top level");
    /* a match under or is no top-level one */
    fails("Tracks",
          "{\"filters\":[{\"or\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"a\"}]}],"
          "\"order_by\":[{\"field\":\"_rank\"}]}",
          "needs a match filter");
    fails("Tracks",
          "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"a\"}],"
          "\"order_by\":[{\"field\":\"_rank\"},{\"field\":\"_rank\"}]}",
          "may be given once");
}
END_TEST

/* "*" would let FTS5's column filters (`composer: x`) search a hidden
 * column: refused when one is hidden; the visible one may still be named. */
START_TEST(match_every_column_refused_when_one_is_hidden)
{
    struct wr_cfg cfg2;
    struct wr_err err2 = {0};
    schema *s2 =
        fixture_schema("albums tracks tracks_fts", "Tracks.EXCLUDE = 'composer'\n", &cfg2, &err2);
    ck_assert_msg(s2 != NULL, "%s", err2.msg);
    const struct collection *t = schema_find(s2, "Tracks");
    const char *all = "{\"filters\":[{\"name\":\"*\",\"op\":\"match\",\"val\":\"x\"}]}";
    ck_assert_ptr_null(query_parse(s2, t, all, strlen(all), NULL, &err2));
    ck_assert_ptr_nonnull(strstr(err2.msg, "would search hidden ones"));
    const char *hidden = "{\"filters\":[{\"name\":\"composer\",\"op\":\"match\",\"val\":\"x\"}]}";
    ck_assert_ptr_null(query_parse(s2, t, hidden, strlen(hidden), NULL, &err2));
    ck_assert_ptr_nonnull(strstr(err2.msg, "unknown field"));
    const char *one = "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"x\"}]}";
    query *q2 = query_parse(s2, t, one, strlen(one), NULL, &err2);
    ck_assert_ptr_nonnull(q2);
    query_free(q2);
    schema_free(s2);
    wr_cfg_release(&cfg2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("query");
    TCase *sqlt = tcase_create("sql");
    tcase_add_checked_fixture(sqlt, setup, teardown);
    tcase_add_test(sqlt, match_column_and_every_column);
    tcase_add_test(sqlt, flask_restless_leniency);
    tcase_add_test(sqlt, match_rank_joins_the_index);
    tcase_add_test(sqlt, empty_q);
    tcase_add_test(sqlt, limit_offset_single);
    tcase_add_test(sqlt, limit_offset_bounds);
    tcase_add_test(sqlt, every_comparison_spelling);
    tcase_add_test(sqlt, like_and_ilike);
    tcase_add_test(sqlt, in_and_not_in);
    tcase_add_test(sqlt, null_tests);
    tcase_add_test(sqlt, value_kinds);
    tcase_add_test(sqlt, column_against_column);
    tcase_add_test(sqlt, or_and_not_nesting);
    tcase_add_test(sqlt, has_with_filter_and_with_value);
    tcase_add_test(sqlt, any_with_filter_and_with_value);
    tcase_add_test(sqlt, relation_field_names);
    tcase_add_test(sqlt, relations_nest_with_fresh_aliases);
    tcase_add_test(sqlt, order_by_several_with_related_field);
    tcase_add_test(sqlt, order_by_key_not_repeated);
    tcase_add_test(sqlt, group_by_counts_groups);
    tcase_add_test(sqlt, dates_normalised);
    tcase_add_test(sqlt, dates_refused);
    tcase_add_test(sqlt, functions_sql);
    tcase_add_test(sqlt, identifiers_come_from_the_schema);
    tcase_add_test(sqlt, binds_over_cap);
    suite_add_tcase(s, sqlt);

    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_add_test(limits, depth_limit);
    tcase_add_test(limits, relation_limits);
    tcase_add_test(limits, in_list_limit);
    tcase_add_test(limits, filter_count_limit);
    suite_add_tcase(s, limits);

    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, malformed_json);
    tcase_add_test(errors, duplicate_keys);
    tcase_add_test(errors, unknown_members);
    tcase_add_test(errors, unknown_operator);
    tcase_add_test(errors, unknown_and_hidden_fields);
    tcase_add_test(errors, dotted_exclude_leaves_the_rest);
    tcase_add_test(errors, keyset_sql);
    tcase_add_test(errors, keyset_before_sql);
    tcase_add_test(errors, null_value_with_comparison);
    tcase_add_test(errors, operator_misuse);
    tcase_add_test(errors, order_by_errors);
    tcase_add_test(errors, counts_and_flags_errors);
    tcase_add_test(errors, long_names_clipped);
    tcase_add_test(errors, match_errors);
    tcase_add_test(errors, match_every_column_refused_when_one_is_hidden);
    suite_add_tcase(s, errors);

    return run_suite(s, true);
}
