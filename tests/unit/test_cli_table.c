/* Unit tests for what warren prints (tools/cli/table.c, output.c): the
 * exact table and name/value layouts, cells a terminal cannot be tricked
 * by, the raw bytes, the error lines and the exit status by class. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "table.h"
#include "warren/err.h"
#include "run_suite.h"

static struct wr_buf out, err;

static void setup(void)
{
    wr_buf_init(&out, 1 << 20);
    wr_buf_init(&err, 1 << 16);
}

static void teardown(void)
{
    wr_buf_release(&out);
    wr_buf_release(&err);
}

static const char *render(const char *body)
{
    wr_buf_reset(&out);
    ck_assert_int_eq(cli_table_render(body, strlen(body), &out), 0);
    return out.data;
}

START_TEST(page_as_table)
{
    ck_assert_str_eq(
        render(
            "{\"num_results\":347,\"objects\":[{\"Artists\":{\"artist_id\":1,\"name\":\"AC/DC\"},"
            "\"album_id\":1,\"title\":\"For Those About To "
            "Rock\",\"tracks\":[{\"a\":1},{\"a\":2}]},"
            "{\"Artists\":null,\"album_id\":10,\"title\":\"Audioslave\",\"tracks\":[]}],"
            "\"page\":1,\"total_pages\":35}\n"),
        /* the Artists column (a null to-one) comes before the members of the
           row after it: columns keep the rows' order */
        "Artists  Artists.artist_id  Artists.name  album_id  title                    tracks\n"
        "-------  -----------------  ------------  --------  -----------------------  ------\n"
        "                         1  AC/DC                1  For Those About To Rock  [2]\n"
        "null                                            10  Audioslave               []\n"
        "num_results: 347\n"
        "page: 1\n"
        "total_pages: 35\n");
}
END_TEST

/* Numbers right, text left; a column of numbers and nulls is numeric. */
START_TEST(alignment_by_type)
{
    ck_assert_str_eq(
        render("{\"objects\":[{\"n\":1.5,\"s\":\"a\"},{\"n\":null,\"s\":\"long text\"},"
               "{\"n\":-20,\"s\":7}]}"),
        "   n  s\n"
        "----  ---------\n"
        " 1.5  a\n"
        "null  long text\n"
        " -20  7\n");
    ck_assert_str_eq(render("{\"objects\":[]}"), "(no objects)\n");
    ck_assert_str_eq(
        render("{\"collections\":[{\"methods\":[\"GET\",\"POST\"],\"name\":\"Albums\"}]}"),
        "methods    name\n"
        "---------  ------\n"
        "GET, POST  Albums\n");
}
END_TEST

START_TEST(object_as_lines)
{
    ck_assert_str_eq(render("{\"Artists\":{\"artist_id\":1,\"name\":\"AC/DC\"},\"album_id\":1,"
                            "\"tracks\":[{\"a\":1}],\"x\":{},\"y\":true}\n"),
                     "Artists.artist_id  1\n"
                     "Artists.name       AC/DC\n"
                     "album_id           1\n"
                     "tracks             [1]\n"
                     "x                  {}\n"
                     "y                  true\n");
    ck_assert_str_eq(render("{\"count__invoice_id\":412,\"sum__total\":2328.6}"),
                     "count__invoice_id  412\n"
                     "sum__total         2328.6\n");
    ck_assert_str_eq(render("null\n"), "null\n");
    ck_assert_str_eq(render("{}"), "{}\n");
}
END_TEST

/* A value cannot drive the terminal: controls are escaped, C1 too; long
 * cells are cut at CLI_CELL_MAX characters (not bytes). */
START_TEST(cells_are_safe)
{
    ck_assert_str_eq(render("{\"s\":\"a\\u001b[31mred\\nb\\tc\\u0085d\\u007f\"}"),
                     "s  a\\u001b[31mred\\nb\\tc\\u0085d\\u007f\n");
    char body[512], want[512];
    char long_text[200];
    for (int i = 0; i < 70; i++)
        memcpy(long_text + 2 * i, "\xc3\xa9", 2); /* é, 2 bytes, 1 column */
    long_text[140] = '\0';
    (void)snprintf(body, sizeof(body), "{\"objects\":[{\"t\":\"%s\"}]}", long_text);
    long_text[2 * (CLI_CELL_MAX - 1)] = '\0';
    (void)snprintf(want, sizeof(want), "%s\xe2\x80\xa6\n", long_text);
    const char *t = render(body);
    const char *last = strrchr(t, '\n');
    while (last > t && last[-1] != '\n')
        last--;
    ck_assert_str_eq(last, want);
    ck_assert_uint_eq(cli_text_width(last, strlen(last) - 1), CLI_CELL_MAX);
}
END_TEST

START_TEST(not_json_is_refused)
{
    ck_assert_int_eq(cli_table_render("<html>", 6, &out), WR_EINVAL);
    ck_assert_uint_eq(out.len, 0);
}
END_TEST

START_TEST(exit_codes_by_class)
{
    ck_assert_int_eq(cli_exit_code(200), 0);
    ck_assert_int_eq(cli_exit_code(201), 0);
    ck_assert_int_eq(cli_exit_code(204), 0);
    ck_assert_int_eq(cli_exit_code(400), 4);
    ck_assert_int_eq(cli_exit_code(404), 4);
    ck_assert_int_eq(cli_exit_code(409), 4);
    ck_assert_int_eq(cli_exit_code(500), 5);
    ck_assert_int_eq(cli_exit_code(503), 5);
    ck_assert_int_eq(cli_exit_code(504), 5);
    ck_assert_int_eq(cli_exit_code(304), 1);
    ck_assert_int_eq(cli_exit_code(0), 1);
}
END_TEST

static int show(int status, const char *body, const char *link, bool table)
{
    wr_buf_reset(&out);
    wr_buf_reset(&err);
    struct cli_reply r = {status, body, strlen(body), link};
    return cli_output(&r, table, &out, &err);
}

/* Raw mode: the bytes as they came, whatever the status; errors also get
 * one line on stderr. */
START_TEST(raw_bytes)
{
    const char *body = "{\"b\":1,\"a\":0.98999999999999999}\n";
    ck_assert_int_eq(show(200, body, "</api/x?page=2>; rel=\"next\"", false), 0);
    ck_assert_str_eq(out.data, body);
    ck_assert_uint_eq(err.len, 0);
    const char *e = "{\"code\":\"not_found\",\"message\":\"no such object\"}\n";
    ck_assert_int_eq(show(404, e, NULL, false), 4);
    ck_assert_str_eq(out.data, e);
    ck_assert_str_eq(err.data, "warren: 404 not_found: no such object\n");
    ck_assert_int_eq(show(204, "", NULL, false), 0);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_int_eq(show(502, "oops", NULL, false), 5);
    ck_assert_str_eq(out.data, "oops");
    ck_assert_str_eq(err.data, "warren: 502\n");
}
END_TEST

START_TEST(table_mode)
{
    ck_assert_int_eq(show(200, "{\"objects\":[{\"a\":1}],\"page\":2}",
                          "</api/A?page=1&results_per_page=1>; rel=\"first\", "
                          "</api/A?page=3&results_per_page=1>; rel=\"next\"",
                          true),
                     0);
    ck_assert_str_eq(out.data, "a\n-\n1\npage: 2\nnext: --page 3\n");
    ck_assert_int_eq(show(200, "{\"objects\":[]}",
                          "</api/A?after=eyJoIjoiMSJ9&results_per_page=10>; rel=\"next\"", true),
                     0);
    ck_assert_str_eq(out.data, "(no objects)\nnext: --after eyJoIjoiMSJ9\n");
    /* an error: the line on stderr, nothing on stdout */
    ck_assert_int_eq(show(400,
                          "{\"code\":\"validation_failed\",\"message\":\"the body is not valid\","
                          "\"validation_errors\":{\"nope\":\"is not an attribute\",\"t\":\"x\"}}\n",
                          NULL, true),
                     4);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_str_eq(err.data, "warren: 400 validation_failed: the body is not valid\n"
                               "  nope  is not an attribute\n"
                               "  t     x\n");
    /* a body that is not JSON is shown as it is */
    ck_assert_int_eq(show(200, "plain", NULL, true), 0);
    ck_assert_str_eq(out.data, "plain");
}
END_TEST

START_TEST(next_hint)
{
    struct wr_buf b;
    wr_buf_init(&b, 256);
    ck_assert(!cli_next_hint(NULL, &b));
    ck_assert(!cli_next_hint("</api/A?page=1>; rel=\"last\"", &b));
    ck_assert(!cli_next_hint("</api/A>; rel=\"next\"", &b));
    ck_assert(cli_next_hint("<http://h/api/A?q=%7B%7D&page=12&results_per_page=5>; rel=\"next\", "
                            "</api/A?page=20>; rel=\"last\"",
                            &b));
    ck_assert_str_eq(b.data, "next: --page 12\n");
    wr_buf_release(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_table");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, page_as_table);
    tcase_add_test(tc, alignment_by_type);
    tcase_add_test(tc, object_as_lines);
    tcase_add_test(tc, cells_are_safe);
    tcase_add_test(tc, not_json_is_refused);
    tcase_add_test(tc, exit_codes_by_class);
    tcase_add_test(tc, raw_bytes);
    tcase_add_test(tc, table_mode);
    tcase_add_test(tc, next_hint);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
