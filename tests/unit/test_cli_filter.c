/* Unit tests for warren's filter syntax (tools/cli/filter.c): what a person
 * types after --filter, --order and eval becomes the exact q JSON, and
 * what cannot be a filter is named before any request. */
#include <check.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "warren/err.h"
#include "warren/json.h"
#include "run_suite.h"

static struct wr_buf problems;

static void setup(void)
{
    wr_buf_init(&problems, 1 << 16);
}

static void teardown(void)
{
    wr_buf_release(&problems);
}

/* The filter's canonical JSON text, or "" with the problem kept. */
static char text[4096];
static const char *filter(const char *in)
{
    json_t *f = cli_filter_parse(in, &problems);
    text[0] = '\0';
    if (f == NULL)
        return text;
    struct wr_buf b;
    wr_buf_init(&b, sizeof(text) - 1);
    wr_json_value(&b, f);
    ck_assert_int_eq(wr_buf_error(&b), 0);
    memcpy(text, b.data, b.len + 1);
    wr_buf_release(&b);
    json_decref(f);
    return text;
}

static void refused(const char *in, const char *why)
{
    wr_buf_reset(&problems);
    ck_assert_str_eq(filter(in), "");
    ck_assert_msg(problems.data != NULL && strstr(problems.data, why) != NULL,
                  "'%s': expected '%s' in: %s", in, why, problems.data ? problems.data : "");
    ck_assert_msg(strncmp(problems.data, "--filter '", 10) == 0, "%s", problems.data);
}

START_TEST(field_op_value)
{
    ck_assert_str_eq(filter("title like %Rock%"),
                     "{\"name\":\"title\",\"op\":\"like\",\"val\":\"%Rock%\"}");
    /* the value is the rest of the line, blanks inside kept, around dropped */
    ck_assert_str_eq(filter("  name == Rock And Roll  "),
                     "{\"name\":\"name\",\"op\":\"==\",\"val\":\"Rock And Roll\"}");
    ck_assert_str_eq(filter("billing_country ilike bra%"),
                     "{\"name\":\"billing_country\",\"op\":\"ilike\",\"val\":\"bra%\"}");
    ck_assert_str_eq(filter("Artists__name != AC/DC"),
                     "{\"name\":\"Artists__name\",\"op\":\"!=\",\"val\":\"AC/DC\"}");
}
END_TEST

/* Symbols need no blanks; word operators do. */
START_TEST(symbols_stick)
{
    ck_assert_str_eq(filter("total>10"), "{\"name\":\"total\",\"op\":\">\",\"val\":10}");
    ck_assert_str_eq(filter("total>=1.5"), "{\"name\":\"total\",\"op\":\">=\",\"val\":1.5}");
    ck_assert_str_eq(filter("total <= 3"), "{\"name\":\"total\",\"op\":\"<=\",\"val\":3}");
    ck_assert_str_eq(filter("a<b"), "{\"name\":\"a\",\"op\":\"<\",\"val\":\"b\"}");
    refused("titlelike x", "unknown operator 'x'");
    refused("title likex", "unknown operator 'likex'");
}
END_TEST

/* A value is JSON when the whole of it is one JSON value, else text. */
START_TEST(values_typed_by_json)
{
    ck_assert_str_eq(filter("album_id == 5"), "{\"name\":\"album_id\",\"op\":\"==\",\"val\":5}");
    ck_assert_str_eq(filter("album_id == -5"), "{\"name\":\"album_id\",\"op\":\"==\",\"val\":-5}");
    ck_assert_str_eq(filter("title == \"5\""), "{\"name\":\"title\",\"op\":\"==\",\"val\":\"5\"}");
    ck_assert_str_eq(filter("title == \" padded \""),
                     "{\"name\":\"title\",\"op\":\"==\",\"val\":\" padded \"}");
    ck_assert_str_eq(filter("title == 007"), "{\"name\":\"title\",\"op\":\"==\",\"val\":\"007\"}");
    ck_assert_str_eq(filter("x eq true"), "{\"name\":\"x\",\"op\":\"eq\",\"val\":true}");
    ck_assert_str_eq(filter("d > 2009-01-01"),
                     "{\"name\":\"d\",\"op\":\">\",\"val\":\"2009-01-01\"}");
    ck_assert_str_eq(filter("t == caf\xc3\xa9"),
                     "{\"name\":\"t\",\"op\":\"==\",\"val\":\"caf\\u00e9\"}");
    /* null stays null: the worker names it (is_null is the operator) */
    ck_assert_str_eq(filter("t == null"), "{\"name\":\"t\",\"op\":\"==\",\"val\":null}");
}
END_TEST

START_TEST(lists_for_in)
{
    ck_assert_str_eq(filter("genre_id in 1, 2,3"),
                     "{\"name\":\"genre_id\",\"op\":\"in\",\"val\":[1,2,3]}");
    ck_assert_str_eq(filter("country not_in Brazil,France"),
                     "{\"name\":\"country\",\"op\":\"not_in\",\"val\":[\"Brazil\",\"France\"]}");
    ck_assert_str_eq(filter("x in [\"a,b\", 2]"),
                     "{\"name\":\"x\",\"op\":\"in\",\"val\":[\"a,b\",2]}");
    ck_assert_str_eq(filter("x in 7"), "{\"name\":\"x\",\"op\":\"in\",\"val\":[7]}");
    refused("x in 1,,2", "in needs a JSON array or a comma-separated list");
    refused("x in [1,", "in needs a JSON array");
    refused("x in", "in needs a value");
}
END_TEST

START_TEST(unary_and_nested)
{
    ck_assert_str_eq(filter("composer is_null"), "{\"name\":\"composer\",\"op\":\"is_null\"}");
    ck_assert_str_eq(filter("composer is_not_null "),
                     "{\"name\":\"composer\",\"op\":\"is_not_null\"}");
    refused("composer is_null x", "is_null takes no value");
    ck_assert_str_eq(filter("tracks any name like %Love%"),
                     "{\"name\":\"tracks\",\"op\":\"any\",\"val\":{\"name\":\"name\",\"op\":"
                     "\"like\",\"val\":\"%Love%\"}}");
    ck_assert_str_eq(
        filter("Artists has name == AC/DC"),
        "{\"name\":\"Artists\",\"op\":\"has\",\"val\":{\"name\":\"name\",\"op\":\"==\","
        "\"val\":\"AC/DC\"}}");
    refused("tracks any", "any needs a value");
    refused("tracks any likes", "an operator follows the field");
    refused("tracks any name likes x", "unknown operator 'likes'");
    refused("a has a has a has a has a has a has a has a has a has a == 1", "nested too deeply");
}
END_TEST

/* Every spelling Flask-Restless takes is accepted; others are named. */
START_TEST(operator_spellings)
{
    static const char *const ops[] = {
        "==", "eq",  "equals", "equal_to", "!=",   "ne", "neq", "not_equal_to", "does_not_equal",
        ">",  "gt",  "<",      "lt",       ">=",   "ge", "gte", "geq",          "<=",
        "le", "lte", "leq",    "like",     "ilike"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        char in[64], want[128];
        (void)snprintf(in, sizeof(in), "a %s 1", ops[i]);
        (void)snprintf(want, sizeof(want), "{\"name\":\"a\",\"op\":\"%s\",\"val\":1}", ops[i]);
        ck_assert_str_eq(filter(in), want);
    }
    refused("a = 1", "unknown operator '='");
    refused("a contains 1", "unknown operator 'contains'");
    refused("== 1", "a field name comes first");
    refused("", "a field name comes first");
    refused("title", "an operator follows the field");
    refused("title ==", "== needs a value");
    refused("ti-tle == 1", "unknown operator '-tle'");
}
END_TEST

static const char *search(const char *const *f, size_t nf, const char *const *o, size_t no,
                          const char *const *fn, size_t nfn)
{
    struct cli_search s = {f, nf, o, no, fn, nfn};
    struct wr_buf b;
    wr_buf_init(&b, sizeof(text) - 1);
    text[0] = '\0';
    wr_buf_reset(&problems);
    if (cli_search_q(&s, &b, &problems) == 0 && b.len > 0)
        memcpy(text, b.data, b.len + 1);
    wr_buf_release(&b);
    return text;
}

/* Several filters are joined by and (Flask-Restless's filters list);
 * orders keep their order; functions come from eval's arguments. */
START_TEST(q_of_a_command)
{
    const char *const f[] = {"title like %Rock%", "artist_id < 100"};
    const char *const o[] = {"-title", "album_id,+artist_id"};
    ck_assert_str_eq(search(f, 2, o, 2, NULL, 0),
                     "{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":\"%Rock%\"},"
                     "{\"name\":\"artist_id\",\"op\":\"<\",\"val\":100}],\"order_by\":["
                     "{\"direction\":\"desc\",\"field\":\"title\"},{\"direction\":\"asc\","
                     "\"field\":\"album_id\"},{\"direction\":\"asc\",\"field\":\"artist_id\"}]}");
    const char *const fn[] = {"sum:total", "count:invoice_id"};
    const char *const f2[] = {"billing_country == Brazil"};
    ck_assert_str_eq(
        search(f2, 1, NULL, 0, fn, 2),
        "{\"filters\":[{\"name\":\"billing_country\",\"op\":\"==\",\"val\":"
        "\"Brazil\"}],\"functions\":[{\"field\":\"total\",\"name\":\"sum\"},{\"field\":"
        "\"invoice_id\",\"name\":\"count\"}]}");
    ck_assert_str_eq(search(NULL, 0, NULL, 0, NULL, 0), ""); /* no q at all */
    ck_assert_uint_eq(problems.len, 0);
}
END_TEST

/* Every bad part is named at once. */
START_TEST(q_problems_all_named)
{
    const char *const f[] = {"title likes x", "ok == 1", "== 2"};
    const char *const o[] = {"-", "a b", "fine"};
    const char *const fn[] = {"sum", "Sum:total", "sum:", "avg:x y"};
    struct cli_search s = {f, 3, o, 3, fn, 4};
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    ck_assert_int_eq(cli_search_q(&s, &b, &problems), WR_EINVAL);
    ck_assert_uint_eq(b.len, 0);
    const char *p = problems.data;
    ck_assert_ptr_nonnull(strstr(p, "--filter 'title likes x': unknown operator 'likes'"));
    ck_assert_ptr_nonnull(strstr(p, "--filter '== 2': a field name comes first"));
    ck_assert_ptr_nonnull(strstr(p, "--order '-': expected [-]FIELD"));
    ck_assert_ptr_nonnull(strstr(p, "--order 'a b': expected"));
    ck_assert_ptr_null(strstr(p, "'fine'"));
    ck_assert_ptr_nonnull(strstr(p, "function 'sum': expected NAME:FIELD"));
    ck_assert_ptr_nonnull(strstr(p, "function 'Sum:total'"));
    ck_assert_ptr_nonnull(strstr(p, "function 'sum:'"));
    ck_assert_ptr_nonnull(strstr(p, "function 'avg:x y'"));
    wr_buf_release(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_filter");
    TCase *tc = tcase_create("filter");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, field_op_value);
    tcase_add_test(tc, symbols_stick);
    tcase_add_test(tc, values_typed_by_json);
    tcase_add_test(tc, lists_for_in);
    tcase_add_test(tc, unary_and_nested);
    tcase_add_test(tc, operator_spellings);
    tcase_add_test(tc, q_of_a_command);
    tcase_add_test(tc, q_problems_all_named);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
