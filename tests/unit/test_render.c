/* Unit tests for rendering: values by column type, flat objects in sorted
 * order, the page envelope, the Link header, error bodies and URL path
 * segments, against the bytes Flask-Restless 0.17 writes. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sql/plan.h"
#include "chinook_fixture.h"
#include "ops/export_render.h"
#include "ops/render.h"
#include "warren/json.h"
#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct wr_buf out;

static void setup(void)
{
    wr_buf_init(&out, 1 << 16);
}

static void teardown(void)
{
    wr_buf_release(&out);
}

/* What has been written so far ("" before the first append). */
static const char *text(void)
{
    ck_assert_int_eq(wr_buf_error(&out), 0);
    return out.data != NULL ? out.data : "";
}

static const char *value(enum col_type type, struct value v)
{
    wr_buf_reset(&out);
    render_value(&out, type, &v);
    return text();
}

static struct value text_value(const char *s)
{
    return (struct value){.kind = V_TEXT, .s = s, .n = strlen(s)};
}

/* --- values --- */

START_TEST(datetime_iso)
{
    ck_assert_str_eq(value(COL_DATETIME, text_value("2009-01-01 00:00:00")),
                     "\"2009-01-01T00:00:00\"");
    ck_assert_str_eq(value(COL_DATETIME, text_value("1962-02-18 23:59:58")),
                     "\"1962-02-18T23:59:58\"");
}
END_TEST

START_TEST(datetime_fraction_six_digits)
{
    ck_assert_str_eq(value(COL_DATETIME, text_value("2009-01-01 00:00:00.5")),
                     "\"2009-01-01T00:00:00.500000\"");
    ck_assert_str_eq(value(COL_DATETIME, text_value("2009-01-01 00:00:00.123")),
                     "\"2009-01-01T00:00:00.123000\"");
    ck_assert_str_eq(value(COL_DATETIME, text_value("2009-01-01 00:00:00.123456")),
                     "\"2009-01-01T00:00:00.123456\"");
}
END_TEST

START_TEST(datetime_other_text_left_alone)
{
    static const char *const alone[] = {"not a date",
                                        "2009-01-01",
                                        "2009-01-01T00:00:00",
                                        "2009-01-01 00:00:00Z",
                                        "2009-01-01 00:00:00.1234567",
                                        ""};
    for (size_t i = 0; i < N(alone); i++) {
        char want[64];
        ck_assert_int_lt(snprintf(want, sizeof(want), "\"%s\"", alone[i]), (int)sizeof(want));
        ck_assert_str_eq(value(COL_DATETIME, text_value(alone[i])), want);
    }
    /* Only DATETIME columns are rewritten. */
    ck_assert_str_eq(value(COL_TEXT, text_value("2009-01-01 00:00:00")), "\"2009-01-01 00:00:00\"");
    ck_assert_str_eq(value(COL_DATE, text_value("2009-01-01")), "\"2009-01-01\"");
}
END_TEST

START_TEST(numbers)
{
    struct value one = {.kind = V_INT, .i = 1};
    ck_assert_str_eq(value(COL_REAL, one), "1.0");
    ck_assert_str_eq(value(COL_INTEGER, one), "1");
    ck_assert_str_eq(value(COL_ANY, one), "1");
    ck_assert_str_eq(value(COL_REAL, (struct value){.kind = V_INT, .i = -2}), "-2.0");
    ck_assert_str_eq(value(COL_REAL, (struct value){.kind = V_REAL, .d = 0.99}), "0.99");
    ck_assert_str_eq(value(COL_REAL, (struct value){.kind = V_REAL, .d = 1.99}), "1.99");
    ck_assert_str_eq(value(COL_ANY, (struct value){.kind = V_REAL, .d = 3.0}), "3.0");
    ck_assert_str_eq(value(COL_INTEGER, (struct value){.kind = V_INT, .i = -9000000000LL}),
                     "-9000000000");
}
END_TEST

START_TEST(nulls)
{
    static const enum col_type types[] = {COL_INTEGER, COL_REAL, COL_TEXT, COL_DATETIME,
                                          COL_DATE,    COL_BLOB, COL_ANY};
    for (size_t i = 0; i < N(types); i++)
        ck_assert_str_eq(value(types[i], (struct value){.kind = V_NULL}), "null");
}
END_TEST

START_TEST(text_escaped)
{
    ck_assert_str_eq(value(COL_TEXT, text_value("AC/DC")), "\"AC/DC\"");
    ck_assert_str_eq(value(COL_TEXT, text_value("say \"hi\"\n")), "\"say \\\"hi\\\"\\n\"");
    ck_assert_str_eq(value(COL_TEXT, text_value("caf\xc3\xa9")), "\"caf\\u00e9\"");
}
END_TEST

START_TEST(blobs_base64)
{
    struct value v = {.kind = V_BLOB};
    v.s = "abc", v.n = 3;
    ck_assert_str_eq(value(COL_BLOB, v), "\"YWJj\"");
    v.s = "ab", v.n = 2;
    ck_assert_str_eq(value(COL_BLOB, v), "\"YWI=\"");
    v.s = "a", v.n = 1;
    ck_assert_str_eq(value(COL_BLOB, v), "\"YQ==\"");
    v.s = "", v.n = 0;
    ck_assert_str_eq(value(COL_BLOB, v), "\"\"");
    v.s = "abcd", v.n = 4;
    ck_assert_str_eq(value(COL_BLOB, v), "\"YWJjZA==\"");
    v.s = "\xff\x00\xfe", v.n = 3;
    ck_assert_str_eq(value(COL_BLOB, v), "\"/wD+\"");
    /* A blob is a blob whatever the column says. */
    v.s = "abc", v.n = 3;
    ck_assert_str_eq(value(COL_ANY, v), "\"YWJj\"");
}
END_TEST

/* --- objects --- */

static struct wr_cfg cfg;
static schema *sch;

static const struct collection *build(const char *config, const char *name)
{
    struct wr_err err = {0};
    sch = fixture_schema("albums employees attachments", config, &cfg, &err);
    ck_assert_msg(sch != NULL, "schema_build: %s", err.msg);
    const struct collection *c = schema_find(sch, name);
    ck_assert_ptr_nonnull(c);
    return c;
}

static void teardown_schema(void)
{
    schema_free(sch);
    sch = NULL;
    wr_cfg_release(&cfg);
    wr_buf_release(&out);
}

START_TEST(flat_album_sorted)
{
    const struct collection *c = build("", "Albums");
    /* Values in table order: AlbumId, Title, ArtistId. */
    const struct value row[] = {{.kind = V_INT, .i = 1},
                                text_value("For Those About To Rock We Salute You"),
                                {.kind = V_INT, .i = 1}};
    render_flat(&out, c, row);
    /* The object in reference/album_1.json, without its relation. */
    ck_assert_str_eq(text(), "{\"album_id\":1,\"artist_id\":1,"
                             "\"title\":\"For Those About To Rock We Salute You\"}");
}
END_TEST

START_TEST(flat_skips_hidden)
{
    const struct collection *c = build("Albums.EXCLUDE = 'title'\n", "Albums");
    const struct value row[] = {
        {.kind = V_INT, .i = 2}, text_value("Balls to the Wall"), {.kind = V_INT, .i = 2}};
    render_flat(&out, c, row);
    ck_assert_str_eq(text(), "{\"album_id\":2,\"artist_id\":2}");
}
END_TEST

START_TEST(flat_types_by_column)
{
    const struct collection *c = build("", "Employees");
    /* EmployeeId, LastName, FirstName, Title, ReportsTo, BirthDate,
     * HireDate, then eight more NVARCHAR columns (NULL here) */
    struct value row[15] = {{.kind = V_INT, .i = 1},
                            text_value("Adams"),
                            text_value("Andrew"),
                            {.kind = V_NULL},
                            {.kind = V_NULL},
                            text_value("1962-02-18 00:00:00"),
                            text_value("2002-08-14 00:00:00")};
    for (size_t i = 7; i < 15; i++)
        row[i] = (struct value){.kind = V_NULL};
    render_flat(&out, c, row);
    ck_assert_str_eq(text(), "{\"address\":null,\"birth_date\":\"1962-02-18T00:00:00\","
                             "\"city\":null,\"country\":null,\"email\":null,\"employee_id\":1,"
                             "\"fax\":null,\"first_name\":\"Andrew\","
                             "\"hire_date\":\"2002-08-14T00:00:00\",\"last_name\":\"Adams\","
                             "\"phone\":null,\"postal_code\":null,\"reports_to\":null,"
                             "\"state\":null,\"title\":null}");
    teardown_schema();
    setup();
    c = build("", "Attachments");
    const struct value attachment[] = {
        {.kind = V_INT, .i = 3}, {.kind = V_INT, .i = 1}, {.kind = V_BLOB, .s = "ab", .n = 2}};
    render_flat(&out, c, attachment);
    ck_assert_str_eq(text(), "{\"attachment_id\":3,\"data\":\"YWI=\",\"unit_price\":1.0}");
}
END_TEST

/* --- pages and links --- */

START_TEST(page_envelope)
{
    struct page pg;
    plan_page(&pg, 347, 1, 10);
    render_page_head(&out, &pg);
    ck_assert_str_eq(text(), "{\"num_results\":347,\"objects\":[");
    wr_buf_reset(&out);
    render_page_tail(&out, &pg);
    ck_assert_str_eq(text(), "],\"page\":1,\"total_pages\":35}");
}
END_TEST

START_TEST(empty_page)
{
    struct page pg;
    plan_page(&pg, 0, 1, 10);
    render_page_head(&out, &pg);
    render_page_tail(&out, &pg);
    ck_assert_str_eq(text(), "{\"num_results\":0,\"objects\":[],\"page\":1,\"total_pages\":0}");
}
END_TEST

static const char *link_text(long long total, long page, long per_page)
{
    struct page pg;
    plan_page(&pg, total, page, per_page);
    wr_buf_reset(&out);
    render_link(&out, "http://h", "/api/Albums", &pg);
    return text();
}

START_TEST(link_first_page)
{
    ck_assert_str_eq(link_text(347, 1, 10),
                     "<http://h/api/Albums?page=2&results_per_page=10>; rel=\"next\", "
                     "<http://h/api/Albums?page=35&results_per_page=10>; rel=\"last\"");
}
END_TEST

#define L(page, per, rel)                                                                          \
    "<http://h/api/Albums?page=" #page "&results_per_page=" #per ">; rel=\"" rel "\""

START_TEST(link_middle_page)
{
    ck_assert_str_eq(link_text(347, 34, 10), L(1, 10, "first") ", " L(33, 10, "prev") ", " L(
                                                 35, 10, "next") ", " L(35, 10, "last"));
    ck_assert_str_eq(link_text(347, 2, 100), L(1, 100, "first") ", " L(1, 100, "prev") ", " L(
                                                 3, 100, "next") ", " L(4, 100, "last"));
}
END_TEST

START_TEST(link_last_page)
{
    ck_assert_str_eq(link_text(347, 35, 10),
                     L(1, 10, "first") ", " L(34, 10, "prev") ", " L(35, 10, "last"));
    /* past the end, prev goes back to the last page */
    ck_assert_str_eq(link_text(347, 40, 10),
                     L(1, 10, "first") ", " L(35, 10, "prev") ", " L(35, 10, "last"));
    ck_assert_str_eq(link_text(5, 1, 10), L(1, 10, "last"));
}
END_TEST

START_TEST(link_no_pages)
{
    ck_assert_str_eq(link_text(0, 1, 10), "");
    ck_assert_uint_eq(out.len, 0);
    ck_assert_str_eq(link_text(0, 3, 10), "");
}
END_TEST

START_TEST(link_without_base_url)
{
    struct page pg;
    plan_page(&pg, 20, 2, 10);
    render_link(&out, NULL, "/api/Albums", &pg);
    ck_assert_str_eq(text(), "</api/Albums?page=1&results_per_page=10>; rel=\"first\", "
                             "</api/Albums?page=1&results_per_page=10>; rel=\"prev\", "
                             "</api/Albums?page=2&results_per_page=10>; rel=\"last\"");
}
END_TEST

/* COUNT none: null counts; next while a row past the page was seen, no last. */
START_TEST(uncounted_page_and_links)
{
    struct page pg;
    plan_page(&pg, 0, 3, 10);
    pg.uncounted = true;
    render_page_head(&out, &pg);
    render_page_tail(&out, &pg);
    ck_assert_str_eq(text(),
                     "{\"num_results\":null,\"objects\":[],\"page\":3,\"total_pages\":null}");
    wr_buf_reset(&out);
    pg.more = true;
    render_link(&out, "http://h", "/api/Albums", &pg);
    ck_assert_str_eq(text(), L(1, 10, "first") ", " L(2, 10, "prev") ", " L(4, 10, "next"));
    wr_buf_reset(&out);
    pg.more = false;
    pg.page = 1;
    render_link(&out, "http://h", "/api/Albums", &pg);
    ck_assert_str_eq(text(), "");
}
END_TEST

/* An estimated or truncated count: flagged after num_results; its end is
 * not known, so next follows the row seen past the page, pages past
 * total_pages are real pages, and there is no last. */
START_TEST(estimated_and_truncated_pages)
{
    struct page pg;
    plan_page(&pg, 100, 3, 10);
    pg.estimated = true;
    render_page_head(&out, &pg);
    render_page_tail(&out, &pg);
    ck_assert_str_eq(text(), "{\"num_results\":100,\"num_results_estimated\":true,\"objects\":[],"
                             "\"page\":3,\"total_pages\":10}");
    wr_buf_reset(&out);
    pg.estimated = false;
    pg.truncated = true;
    render_page_head(&out, &pg);
    render_page_tail(&out, &pg);
    ck_assert_str_eq(text(), "{\"num_results\":100,\"num_results_truncated\":true,\"objects\":[],"
                             "\"page\":3,\"total_pages\":10}");
    wr_buf_reset(&out);
    pg.more = true;
    render_link(&out, "http://h", "/api/Albums", &pg);
    ck_assert_str_eq(text(), L(1, 10, "first") ", " L(2, 10, "prev") ", " L(4, 10, "next"));
    /* past total_pages: prev is the page before, not the last counted */
    plan_page(&pg, 100, 12, 10);
    pg.truncated = true;
    pg.more = false;
    wr_buf_reset(&out);
    render_link(&out, "http://h", "/api/Albums", &pg);
    ck_assert_str_eq(text(), L(1, 10, "first") ", " L(11, 10, "prev"));
    /* an estimate of none still pages what is there */
    plan_page(&pg, 0, 1, 10);
    pg.estimated = true;
    pg.more = true;
    wr_buf_reset(&out);
    render_link(&out, "http://h", "/api/Albums", &pg);
    ck_assert_str_eq(text(), L(2, 10, "next"));
}
END_TEST

/* A keyset page's next link carries the cursor; a path's own query stays. */
START_TEST(cursor_next_link)
{
    struct page pg;
    plan_page(&pg, 347, 2, 10);
    pg.next_after = "abc_-";
    render_link(&out, "http://h", "/api/Albums?q=%7B%7D", &pg);
    ck_assert_str_eq(
        text(), "<http://h/api/Albums?q=%7B%7D&page=1&results_per_page=10>; rel=\"first\", "
                "<http://h/api/Albums?q=%7B%7D&page=1&results_per_page=10>; rel=\"prev\", "
                "<http://h/api/Albums?q=%7B%7D&after=abc_-&results_per_page=10>; rel=\"next\", "
                "<http://h/api/Albums?q=%7B%7D&page=35&results_per_page=10>; rel=\"last\"");
}
END_TEST

/* --- errors and paths --- */

START_TEST(error_body)
{
    wr_json_error(&out, "not_found", "no such object");
    ck_assert_str_eq(text(), "{\"code\":\"not_found\",\"message\":\"no such object\"}");
    wr_buf_reset(&out);
    wr_json_error(&out, "bad_parameter", "page: \"x\"\tis\\bad");
    ck_assert_str_eq(text(),
                     "{\"code\":\"bad_parameter\",\"message\":\"page: \\\"x\\\"\\tis\\\\bad\"}");
}
END_TEST

static const char *segment(const char *s)
{
    wr_buf_reset(&out);
    render_path_segment(&out, s);
    return text();
}

START_TEST(path_segments)
{
    ck_assert_str_eq(segment("Albums"), "Albums");
    ck_assert_str_eq(segment("AZaz09-_.~"), "AZaz09-_.~");
    ck_assert_str_eq(segment("1,2"), "1,2");
    ck_assert_str_eq(segment("AC/DC"), "AC%2FDC");
    ck_assert_str_eq(segment("a b"), "a%20b");
    ck_assert_str_eq(segment("100%"), "100%25");
    ck_assert_str_eq(segment("?#&=+;:@"), "%3F%23%26%3D%2B%3B%3A%40");
    ck_assert_str_eq(segment("caf\xc3\xa9"), "caf%C3%A9");
    ck_assert_str_eq(segment("\x7f\x01"), "%7F%01");
    ck_assert_str_eq(segment(""), "");
}
END_TEST

START_TEST(path_segment_appends)
{
    wr_buf_puts(&out, "/api/");
    render_path_segment(&out, "My Albums");
    ck_assert_str_eq(text(), "/api/My%20Albums");
}
END_TEST

/* --- exports (export_render.h) --- */

static const char *csv_field(const char *s)
{
    wr_buf_reset(&out);
    export_csv_field(&out, s, strlen(s));
    return text();
}

/* RFC 4180: quoted when it holds a comma, a quote, CR or LF (quotes
 * doubled), and empty text quoted to tell it from NULL. */
START_TEST(csv_fields_quoted_by_rfc_4180)
{
    ck_assert_str_eq(csv_field("plain text"), "plain text");
    ck_assert_str_eq(csv_field("a,b"), "\"a,b\"");
    ck_assert_str_eq(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    ck_assert_str_eq(csv_field("\""), "\"\"\"\"");
    ck_assert_str_eq(csv_field("line\nbreak"), "\"line\nbreak\"");
    ck_assert_str_eq(csv_field("cr\rhere"), "\"cr\rhere\"");
    ck_assert_str_eq(csv_field(""), "\"\"");
}
END_TEST

/* A header row, then rows in table order: NULL empty, numbers as JSON
 * writes them, dates ISO 8601, CRLF; NDJSON as the flat object. */
START_TEST(csv_and_ndjson_rows)
{
    const struct collection *c = build("", "Employees");
    struct value row[15] = {
        {.kind = V_INT, .i = 1},          text_value("Adams"), text_value("Andrew, \"Andy\""),
        text_value("General Manager"),    {.kind = V_NULL},    text_value("1962-02-18 00:00:00"),
        text_value("2002-08-14 00:00:00")};
    for (size_t i = 7; i < 15; i++)
        row[i] = (struct value){.kind = V_NULL};
    export_csv_header(&out, c, NULL);
    static const char head[] = "employee_id,last_name,first_name,title,reports_to,birth_date,"
                               "hire_date,";
    ck_assert_msg(strncmp(text(), head, sizeof(head) - 1) == 0, "%s", text());
    ck_assert(strstr(text(), "\r\n") == text() + out.len - 2);
    wr_buf_reset(&out);
    export_row(&out, EXPORT_CSV, c, row, NULL);
    ck_assert_str_eq(text(), "1,Adams,\"Andrew, \"\"Andy\"\"\",General Manager,,"
                             "1962-02-18T00:00:00,2002-08-14T00:00:00,,,,,,,,\r\n");
    wr_buf_reset(&out);
    export_row(&out, EXPORT_NDJSON, c, row, NULL);
    ck_assert(strncmp(text(), "{\"address\":null,", 16) == 0);
    ck_assert_int_eq(text()[out.len - 1], '\n');
    ck_assert_ptr_eq(strchr(text(), '\n'), text() + out.len - 1); /* one line */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("render");
    TCase *values = tcase_create("values");
    tcase_add_checked_fixture(values, setup, teardown);
    tcase_add_test(values, datetime_iso);
    tcase_add_test(values, datetime_fraction_six_digits);
    tcase_add_test(values, datetime_other_text_left_alone);
    tcase_add_test(values, numbers);
    tcase_add_test(values, nulls);
    tcase_add_test(values, text_escaped);
    tcase_add_test(values, blobs_base64);
    suite_add_tcase(s, values);

    TCase *objects = tcase_create("objects");
    tcase_add_checked_fixture(objects, setup, teardown_schema);
    tcase_add_test(objects, flat_album_sorted);
    tcase_add_test(objects, flat_skips_hidden);
    tcase_add_test(objects, flat_types_by_column);
    tcase_add_test(objects, csv_and_ndjson_rows);
    suite_add_tcase(s, objects);

    TCase *pages = tcase_create("pages");
    tcase_add_checked_fixture(pages, setup, teardown);
    tcase_add_test(pages, page_envelope);
    tcase_add_test(pages, empty_page);
    tcase_add_test(pages, link_first_page);
    tcase_add_test(pages, link_middle_page);
    tcase_add_test(pages, link_last_page);
    tcase_add_test(pages, link_no_pages);
    tcase_add_test(pages, link_without_base_url);
    tcase_add_test(pages, uncounted_page_and_links);
    tcase_add_test(pages, cursor_next_link);
    tcase_add_test(pages, estimated_and_truncated_pages);
    suite_add_tcase(s, pages);

    TCase *misc = tcase_create("errors_and_paths");
    tcase_add_checked_fixture(misc, setup, teardown);
    tcase_add_test(misc, error_body);
    tcase_add_test(misc, path_segments);
    tcase_add_test(misc, path_segment_appends);
    tcase_add_test(misc, csv_fields_quoted_by_rfc_4180);
    suite_add_tcase(s, misc);

    return run_suite(s, true);
}
