/* wr_json_value_len (warren/json_scan.h): the length of the JSON value a
 * text starts with, white space inside it kept and after it not counted;
 * 0 for what is not JSON by RFC 8259 or is refused beyond it (ill-formed
 * UTF-8, a lone surrogate escape, nesting past WR_JSON_DEPTH_MAX). Long
 * strings cross the scanner's 8-byte steps at every offset. */
#include <check.h>
#include <string.h>

#include "run_suite.h"
#include "warren/json_scan.h"

static size_t len_of(const char *s)
{
    return wr_json_value_len(s, strlen(s));
}

START_TEST(values_and_their_ends)
{
    static const struct {
        const char *text;
        size_t len;
    } cases[] = {
        {"0", 1},
        {"-0", 2},
        {"-12.5e+3", 8},
        {"1E-7", 4},
        {"3.25", 4},
        {"true", 4},
        {"false", 5},
        {"null", 4},
        {"\"\"", 2},
        {"\"caf\xc3\xa9 \\u00e9 \\ud83c\\udfb5 \\\"\\\\\\/\\b\\f\\n\\r\\t\"", 44},
        {"\"a\\u0000b\"", 10}, /* an escaped NUL is JSON (the text holds no NUL) */
        {"[]", 2},
        {"{}", 2},
        {"[ 1 , [ ] , { } ]", 17},
        {"{ \"a\" : [1, {\"b\": null}] , \"c\":\"d\" }", 36},
        {"{\"a\":1,\"a\":2}", 13}, /* duplicate keys are not looked for */
        {"1 ", 1},                 /* what follows a value is not counted */
        {"[1]\n", 3},
        {"{}{}", 2},
        {"12,", 2},
        {"truex", 4},
        {"01", 1}, /* a number ends before a second digit after 0 */
        {"0x10", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(len_of(cases[i].text) == cases[i].len, "%zu: %s: %zu", i, cases[i].text,
                      len_of(cases[i].text));
}
END_TEST

START_TEST(not_values)
{
    static const char *const bad[] = {
        "",
        " 1",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "NaN",
        "tru",
        "nul",
        "\"",
        "\"abc",
        "\"a\nb\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u00g0\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\xc3(\"",
        "\"\xed\xa0\x80\"",
        "[",
        "[1",
        "[1,]",
        "[,1]",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\" 1}",
        "{1:2}",
        "{\"a\":1,}",
        "[1 2]",
        "]",
        "{\"a\":1]",
        "[1}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(len_of(bad[i]) == 0, "accepted %zu: %s", i, bad[i]);
}
END_TEST

/* n arrays inside each other, around a 1. */
static size_t nested(char *buf, int n)
{
    memset(buf, '[', (size_t)n);
    buf[n] = '1';
    memset(buf + n + 1, ']', (size_t)n);
    return (size_t)(2 * n + 1);
}

START_TEST(nesting_is_bounded)
{
    static char buf[2 * (WR_JSON_DEPTH_MAX + 1) + 1];
    size_t n = nested(buf, WR_JSON_DEPTH_MAX);
    ck_assert_uint_eq(wr_json_value_len(buf, n), n);
    n = nested(buf, WR_JSON_DEPTH_MAX + 1);
    ck_assert_uint_eq(wr_json_value_len(buf, n), 0);
    /* objects and arrays mixed, past 64 levels */
    static char mix[512];
    size_t k = 0;
    for (int i = 0; i < 100; i++) {
        const char *open = i % 2 ? "[" : "{\"k\":";
        memcpy(mix + k, open, strlen(open));
        k += strlen(open);
    }
    mix[k++] = '0';
    for (int i = 99; i >= 0; i--)
        mix[k++] = i % 2 ? ']' : '}';
    ck_assert_uint_eq(wr_json_value_len(mix, k), k);
    mix[k - 60] = mix[k - 60] == ']' ? '}' : ']'; /* one closer of the wrong kind */
    ck_assert_uint_eq(wr_json_value_len(mix, k), 0);
}
END_TEST

/* A string's special bytes at every offset of the 8-byte steps, and a
 * text cut anywhere is no value. */
START_TEST(strings_at_every_offset)
{
    for (size_t at = 0; at < 24; at++) {
        char s[40];
        memset(s, 'a', sizeof(s));
        s[0] = '"';
        s[1 + at] = '\\';
        s[2 + at] = '"';
        s[30] = '"';
        ck_assert_uint_eq(wr_json_value_len(s, 31), 31);
        s[2 + at] = '\x01'; /* a raw control character after the backslash */
        ck_assert_uint_eq(wr_json_value_len(s, 31), 0);
        s[1 + at] = '\x1f'; /* a raw control character alone */
        s[2 + at] = 'a';
        ck_assert_uint_eq(wr_json_value_len(s, 31), 0);
        s[1 + at] = '\xc3'; /* UTF-8 cut short */
        ck_assert_uint_eq(wr_json_value_len(s, 31), 0);
        s[2 + at] = '\xa9';
        ck_assert_uint_eq(wr_json_value_len(s, 31), 31);
        for (size_t cut = 0; cut < 31; cut++)
            ck_assert_uint_eq(wr_json_value_len(s, cut), 0);
    }
}
END_TEST

/* A body a batch may carry as JSON: one value, white space around it
 * allowed, nothing else. */
START_TEST(one_value_with_white_space_around)
{
    static const char *const yes[] = {"{}", "{}\n", " \r\n[1]\t ", "\"a\"", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(wr_json_is_one_value(yes[i], strlen(yes[i])), "refused %s", yes[i]);
    static const char *const no[] = {"", " \n", "{} x", "{}{}", "1 2", "a,b\n", "[1,]"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!wr_json_is_one_value(no[i], strlen(no[i])), "took %s", no[i]);
    ck_assert(!wr_json_is_one_value(NULL, 0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_scan");
    TCase *tc = tcase_create("json_scan");
    tcase_add_test(tc, values_and_their_ends);
    tcase_add_test(tc, not_values);
    tcase_add_test(tc, nesting_is_bounded);
    tcase_add_test(tc, strings_at_every_offset);
    tcase_add_test(tc, one_value_with_white_space_around);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
