/* Unit tests for the one rule from JSON values to column values
 * (services/catalog/model/values.c): the type table under both uses, the
 * date rule (shape, calendar, normalisation), and that writes and search
 * filters, which both take it, accept and refuse the same dates. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chinook_fixture.h"
#include "model/schema.h"
#include "model/values.h"
#include "ops/write_body.h"
#include "sql/query.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* value_from_json of the JSON text js for type under use: its why (NULL
 * when accepted), the value in *out (text from js is gone by then: only a
 * date in scratch may be read). */
static const char *convert(enum col_type type, const char *js, enum value_use use,
                           struct value *out, char *scratch)
{
    json_t *v = json_loads(js, JSON_DECODE_ANY, NULL);
    ck_assert_msg(v != NULL, "bad JSON in the test: %s", js);
    const char *why = value_from_json(type, v, use, out, scratch);
    json_decref(v);
    return why;
}

static void accepts(enum col_type type, const char *js, enum value_use use, enum value_kind kind)
{
    struct value v;
    char scratch[VALUE_SCRATCH];
    const char *why = convert(type, js, use, &v, scratch);
    ck_assert_msg(why == NULL, "%s (type %d, use %d) refused: %s", js, type, use, why);
    ck_assert_int_eq(v.kind, kind);
}

static void refuses(enum col_type type, const char *js, enum value_use use, const char *want)
{
    struct value v;
    char scratch[VALUE_SCRATCH];
    const char *why = convert(type, js, use, &v, scratch);
    ck_assert_msg(why != NULL, "%s (type %d, use %d) accepted", js, type, use);
    ck_assert_str_eq(why, want);
}

/* --- the type table --- */

START_TEST(store_is_strict)
{
    accepts(COL_INTEGER, "7", VALUE_STORE, V_INT);
    accepts(COL_INTEGER, "true", VALUE_STORE, V_INT);
    accepts(COL_INTEGER, "null", VALUE_STORE, V_NULL);
    refuses(COL_INTEGER, "7.5", VALUE_STORE, "must be an integer");
    refuses(COL_INTEGER, "\"7\"", VALUE_STORE, "must be an integer");
    accepts(COL_REAL, "7", VALUE_STORE, V_INT);
    accepts(COL_REAL, "0.99", VALUE_STORE, V_REAL);
    refuses(COL_REAL, "\"0.99\"", VALUE_STORE, "must be a number");
    accepts(COL_TEXT, "\"x\"", VALUE_STORE, V_TEXT);
    accepts(COL_TEXT, "null", VALUE_STORE, V_NULL);
    refuses(COL_TEXT, "1", VALUE_STORE, "must be a string");
    refuses(COL_TEXT, "1.5", VALUE_STORE, "must be a string");
    refuses(COL_TEXT, "false", VALUE_STORE, "must be a string");
    accepts(COL_BLOB, "\"x\"", VALUE_STORE, V_TEXT);
    accepts(COL_BLOB, "1.5", VALUE_STORE, V_REAL);
    accepts(COL_ANY, "3", VALUE_STORE, V_INT);
    refuses(COL_ANY, "[1]", VALUE_STORE, "must be a string, number, boolean or null");
    refuses(COL_TEXT, "{\"a\":1}", VALUE_STORE, "must be a string, number, boolean or null");
    accepts(COL_DATETIME, "null", VALUE_STORE, V_NULL);
    refuses(COL_DATETIME, "20090101", VALUE_STORE, "a date must be a string");
    refuses(COL_DATE, "true", VALUE_STORE, "a date must be a string");
}
END_TEST

/* A filter compares any scalar with any column (SQLite applies the
 * column's affinity), but a date column takes dates only. */
START_TEST(compare_takes_scalars)
{
    accepts(COL_INTEGER, "\"7\"", VALUE_COMPARE, V_TEXT);
    accepts(COL_INTEGER, "7.5", VALUE_COMPARE, V_REAL);
    accepts(COL_TEXT, "5", VALUE_COMPARE, V_INT);
    accepts(COL_TEXT, "true", VALUE_COMPARE, V_INT);
    accepts(COL_REAL, "\"x\"", VALUE_COMPARE, V_TEXT);
    refuses(COL_INTEGER, "null", VALUE_COMPARE, "val must be a string, number or boolean");
    refuses(COL_INTEGER, "[1]", VALUE_COMPARE, "val must be a string, number or boolean");
    refuses(COL_DATETIME, "20090101", VALUE_COMPARE, "a date must be a string");
    refuses(COL_DATETIME, "[\"2009-01-01\"]", VALUE_COMPARE, "a date must be a string");
}
END_TEST

/* --- dates --- */

static void date_is(enum col_type type, const char *in, const char *want)
{
    char out[VALUE_SCRATCH];
    ck_assert_msg(value_norm_date(in, strlen(in), type, out), "%s refused", in);
    ck_assert_str_eq(out, want);
    /* and through value_from_json, under both uses, into scratch */
    char js[128];
    (void)snprintf(js, sizeof(js), "\"%s\"", in);
    for (int use = VALUE_STORE; use <= VALUE_COMPARE; use++) {
        struct value v;
        char scratch[VALUE_SCRATCH];
        ck_assert_ptr_null(convert(type, js, (enum value_use)use, &v, scratch));
        ck_assert_int_eq(v.kind, V_TEXT);
        ck_assert_ptr_eq(v.s, scratch);
        ck_assert_uint_eq(v.n, strlen(want));
        ck_assert_str_eq(v.s, want);
    }
}

START_TEST(dates_normalised_as_stored)
{
    date_is(COL_DATETIME, "2009-01-01", "2009-01-01 00:00:00");
    date_is(COL_DATETIME, "2009-01-01T00:00:00", "2009-01-01 00:00:00");
    date_is(COL_DATETIME, "2009-01-01 10:20", "2009-01-01 10:20:00");
    date_is(COL_DATETIME, "2012-02-29T23:59:59.250", "2012-02-29 23:59:59.25");
    date_is(COL_DATETIME, "2009-01-01T00:00:00.000000", "2009-01-01 00:00:00");
    date_is(COL_DATETIME, "2009-01-01T00:00:00.123456789", "2009-01-01 00:00:00.123456789");
    date_is(COL_DATE, "2009-01-01", "2009-01-01");
    date_is(COL_DATE, "1999-12-31T00:00:00", "1999-12-31");
    date_is(COL_DATE, "2000-02-29", "2000-02-29"); /* 2000 is a leap year (by 400) */
    date_is(COL_DATETIME, "2008-02-29T12:00:00", "2008-02-29 12:00:00");
}
END_TEST

static const char *const bad_dates[] = {
    "2009-02-30",
    "2009-13-01",
    "2009-02-28T25:00:00",
    "2009-02-29",
    "1900-02-29",
    "2009-00-10",
    "2009-04-31",
    "2009-01-00",
    "2009-1-01",
    "yesterday",
    "2009-01-01T24:00:00",
    "2009-01-01T10:60",
    "2009-01-01T10:00:60",
    "2009-01-01T10:00:00Z",
    "2009-01-01T10",
    "2009-01-01T10:00:00.",
    "2009-01-01T10:00:00.1234567890",
    "2009-01-01X10:00",
    "",
};

START_TEST(dates_refused)
{
    for (size_t i = 0; i < N(bad_dates); i++) {
        char js[128];
        (void)snprintf(js, sizeof(js), "\"%s\"", bad_dates[i]);
        for (int use = VALUE_STORE; use <= VALUE_COMPARE; use++) {
            refuses(COL_DATETIME, js, (enum value_use)use,
                    "is not a date (like 2009-01-01T00:00:00)");
            refuses(COL_DATE, js, (enum value_use)use, "is not a date (like 2009-01-01)");
        }
    }
    /* a DATE's time must be midnight */
    refuses(COL_DATE, "\"2009-01-01T10:00\"", VALUE_STORE, "is not a date (like 2009-01-01)");
    refuses(COL_DATE, "\"2009-01-01T00:00:00.5\"", VALUE_COMPARE,
            "is not a date (like 2009-01-01)");
}
END_TEST

/* --- writes and filters agree --- */

static struct wr_cfg cfg;
static schema *sch;

static void setup(void)
{
    struct schema_table_def tables[FIXTURE_MAX_TABLES];
    size_t n = fixture_tables(FIXTURE_CHINOOK " releases", tables, N(tables));
    memset(&cfg, 0, sizeof(cfg));
    struct wr_buf problems;
    wr_buf_init(&problems, 4096);
    ck_assert_int_eq(wr_cfg_parse(&cfg, "test.cfg", "", 0, NULL, &problems), 0);
    wr_buf_release(&problems);
    struct wr_err err = {0};
    sch = schema_build(tables, n, &cfg, &err);
    ck_assert_msg(sch != NULL, "schema_build: %s", err.msg);
}

static void teardown(void)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
}

/* Whether a filter attr == date on coll parses; the message in msg. */
static bool filter_takes(const char *coll, const char *attr, const char *date, char *msg,
                         size_t cap)
{
    char q[256];
    (void)snprintf(q, sizeof(q), "{\"filters\":[{\"name\":\"%s\",\"op\":\"==\",\"val\":\"%s\"}]}",
                   attr, date);
    struct wr_err err = {0};
    query *qr = query_parse(sch, schema_find(sch, coll), q, strlen(q), NULL, &err);
    (void)snprintf(msg, cap, "%s", err.msg);
    query_free(qr);
    return qr != NULL;
}

/* Whether a write body {attr: date} for coll passes validation; what
 * validation_errors says of attr in why. */
static bool body_takes(const char *coll, const char *attr, const char *date, char *why, size_t cap)
{
    char body[256];
    (void)snprintf(body, sizeof(body), "{\"%s\":\"%s\"}", attr, date);
    struct assignment *a = calloc(1, sizeof(*a));
    ck_assert_ptr_nonnull(a);
    struct wr_answer out;
    wr_answer_init(&out, (size_t)1 << 16);
    int rc = write_body_parse(schema_find(sch, coll), body, true, a, &out);
    why[0] = '\0';
    if (rc != 0) {
        ck_assert_int_eq(out.status, 400);
        json_t *j = json_loadb(out.body.data, out.body.len, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "validation_failed");
        const char *w =
            json_string_value(json_object_get(json_object_get(j, "validation_errors"), attr));
        ck_assert_ptr_nonnull(w);
        (void)snprintf(why, cap, "%s", w);
        json_decref(j);
    } else {
        /* the value bound is the date as SQLite stores it */
        ck_assert_uint_eq(a->n, 1);
        ck_assert_int_eq(a->values[0].kind, V_TEXT);
        ck_assert_ptr_eq(a->values[0].s, a->scratch[0]);
    }
    wr_answer_release(&out);
    write_body_release(a);
    free(a);
    return rc == 0;
}

/* The same dates through both paths: a write and a filter accept and
 * refuse alike (a write once took "2009-02-30", which a filter refused). */
START_TEST(writes_and_filters_agree)
{
    static const char *const good[] = {"2008-02-29", "2009-02-28T23:59:59", "2000-02-29",
                                       "2009-12-31 00:00"};
    char why[640], msg[640];
    for (size_t i = 0; i < N(good); i++) {
        ck_assert_msg(body_takes("Invoices", "invoice_date", good[i], why, sizeof(why)), "%s: %s",
                      good[i], why);
        ck_assert_msg(filter_takes("Invoices", "invoice_date", good[i], msg, sizeof(msg)), "%s: %s",
                      good[i], msg);
    }
    for (size_t i = 0; i < N(bad_dates); i++) {
        ck_assert_msg(!body_takes("Invoices", "invoice_date", bad_dates[i], why, sizeof(why)),
                      "a write took %s", bad_dates[i]);
        ck_assert_str_eq(why, "is not a date (like 2009-01-01T00:00:00)");
        ck_assert(!filter_takes("Invoices", "invoice_date", bad_dates[i], msg, sizeof(msg)));
        ck_assert(!body_takes("Releases", "released", bad_dates[i], why, sizeof(why)));
        ck_assert_str_eq(why, "is not a date (like 2009-01-01)");
        ck_assert(!filter_takes("Releases", "released", bad_dates[i], msg, sizeof(msg)));
    }
    /* a DATE takes midnight only, in both */
    ck_assert(!body_takes("Releases", "released", "2009-01-01T10:00", why, sizeof(why)));
    ck_assert(!filter_takes("Releases", "released", "2009-01-01T10:00", msg, sizeof(msg)));
    ck_assert(body_takes("Releases", "released", "2009-01-01T00:00", why, sizeof(why)));
    ck_assert(filter_takes("Releases", "released", "2009-01-01T00:00", msg, sizeof(msg)));
}
END_TEST

START_TEST(filter_refuses_what_the_rule_refuses)
{
    static const char *const good[] = {"2008-02-29", "2009-02-28T23:59:59", "2009-12-31 00:00"};
    char msg[640];
    for (size_t i = 0; i < N(good); i++)
        ck_assert_msg(filter_takes("Invoices", "invoice_date", good[i], msg, sizeof(msg)), "%s: %s",
                      good[i], msg);
    for (size_t i = 0; i < N(bad_dates); i++) {
        ck_assert(!filter_takes("Invoices", "invoice_date", bad_dates[i], msg, sizeof(msg)));
        char want[128];
        (void)snprintf(want, sizeof(want), "\"%s\" is not a date (like 2009-01-01T00:00:00)",
                       bad_dates[i]);
        ck_assert_msg(strstr(msg, want) != NULL, "%s lacks %s", msg, want);
        ck_assert(!filter_takes("Releases", "released", bad_dates[i], msg, sizeof(msg)));
        ck_assert_ptr_nonnull(strstr(msg, "is not a date (like 2009-01-01)"));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("values");
    TCase *rule = tcase_create("rule");
    tcase_add_test(rule, store_is_strict);
    tcase_add_test(rule, compare_takes_scalars);
    tcase_add_test(rule, dates_normalised_as_stored);
    tcase_add_test(rule, dates_refused);
    suite_add_tcase(s, rule);
    TCase *both = tcase_create("writes_and_filters");
    tcase_add_checked_fixture(both, setup, teardown);
    tcase_add_test(both, filter_refuses_what_the_rule_refuses);
    tcase_add_test(both, writes_and_filters_agree);
    suite_add_tcase(s, both);
    return run_suite(s, true);
}
