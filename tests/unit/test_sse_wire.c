/* Unit tests for the edge's Server-Sent Events on the wire (sse_wire.h):
 * Last-Event-ID in its two forms and nothing else, an event's text (its
 * id by place in the transaction, a data line per line of the body), the
 * collections filter, and the list of collections GET /api gives. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "run_suite.h"
#include "sse_wire.h"
#include "warren/err.h"

START_TEST(last_event_id_forms)
{
    struct sse_mark m;
    ck_assert_int_eq(sse_mark_parse("42", &m), 0);
    ck_assert(m.pos == 42 && m.k == SSE_WHOLE);
    ck_assert_int_eq(sse_mark_parse("42:3", &m), 0);
    ck_assert(m.pos == 42 && m.k == 3);
    ck_assert_int_eq(sse_mark_parse("999999999999999999", &m), 0); /* 18 digits */
    const char *bad[] = {"",   "-1",  "+1",   "1:", ":1",  "1:2:3",        " 1",
                         "1 ", "0x1", "1:-1", "a",  "1.5", "1:1234567890", "1234567890123456789",
                         NULL};
    for (size_t i = 0; bad[i] != NULL; i++)
        ck_assert_msg(sse_mark_parse(bad[i], &m) == WR_EINVAL, "taken: '%s'", bad[i]);
    ck_assert_int_eq(sse_mark_parse(NULL, &m), WR_EINVAL);
}
END_TEST

START_TEST(marks_order)
{
    struct sse_mark a = {5, 0}, b = {5, 1}, whole = {5, SSE_WHOLE}, next = {6, 0};
    ck_assert(sse_mark_after(&b, &a));
    ck_assert(!sse_mark_after(&a, &b));
    ck_assert(!sse_mark_after(&a, &a));
    ck_assert(!sse_mark_after(&b, &whole)); /* "5" has every event of 5 */
    ck_assert(sse_mark_after(&next, &whole));
}
END_TEST

static void text_of(const char *op, long long pos, long long k, long long count, const char *body,
                    const char *want)
{
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    struct sse_mark m = {pos, k};
    ck_assert_int_eq(sse_event_format(&b, op, &m, count, body, strlen(body)), 0);
    wr_buf_putc(&b, '\0');
    ck_assert_str_eq(b.data, want);
    wr_buf_release(&b);
}

START_TEST(event_text)
{
    text_of("created", 7, 0, 1, "{\"a\":1}", "event: created\nid: 7\ndata: {\"a\":1}\n\n");
    text_of("updated", 7, 0, 3, "{}", "event: updated\nid: 7:0\ndata: {}\n\n");
    text_of("updated", 7, 1, 3, "{}", "event: updated\nid: 7:1\ndata: {}\n\n");
    text_of("deleted", 7, 2, 3, "{}", "event: deleted\nid: 7\ndata: {}\n\n");
    /* a line break in a body must not end the event */
    text_of("updated", 8, 0, 1, "{\n\"a\":1\r\n}",
            "event: updated\nid: 8\ndata: {\ndata: \"a\":1\ndata: }\n\n");
}
END_TEST

START_TEST(filter_lists)
{
    struct sse_filter f;
    char msg[160];
    ck_assert_int_eq(sse_filter_parse(NULL, &f, msg, sizeof(msg)), 0);
    ck_assert(sse_filter_has(&f, "Anything"));
    ck_assert_int_eq(sse_filter_parse("Albums,Artists,Albums", &f, msg, sizeof(msg)), 0);
    ck_assert_uint_eq(f.n, 2);
    ck_assert(sse_filter_has(&f, "Albums") && sse_filter_has(&f, "Artists"));
    ck_assert(!sse_filter_has(&f, "Tracks") && !sse_filter_has(&f, "albums"));
    const char *bad[] = {"", ",", "Albums,", ",Albums", "Al bums", "Al/bums", "A,,B", NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        msg[0] = '\0';
        ck_assert_msg(sse_filter_parse(bad[i], &f, msg, sizeof(msg)) == WR_EINVAL, "'%s'", bad[i]);
        ck_assert(strstr(msg, "collections") != NULL);
    }
    char many[SSE_FILTER_MAX * 4 + 8];
    size_t n = 0;
    for (int i = 0; i <= SSE_FILTER_MAX; i++) /* one name too many */
        n += (size_t)snprintf(many + n, sizeof(many) - n, "%sc%d", i ? "," : "", i);
    ck_assert_int_eq(sse_filter_parse(many, &f, msg, sizeof(msg)), WR_EINVAL);
    char longname[SSE_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_int_eq(sse_filter_parse(longname, &f, msg, sizeof(msg)), WR_EINVAL);
}
END_TEST

START_TEST(known_collections)
{
    struct sse_known k = {0};
    const char *doc = "{\"collections\":[{\"methods\":[\"GET\"],\"name\":\"Albums\",\"url\":\"u\"},"
                      "{\"name\":\"Artists\"}]}";
    ck_assert_int_eq(sse_known_parse(&k, doc, strlen(doc)), 0);
    ck_assert(k.have);
    struct sse_filter f;
    char msg[160];
    ck_assert_int_eq(sse_filter_parse("Artists,Albums", &f, msg, sizeof(msg)), 0);
    ck_assert_ptr_null(sse_known_missing(&k, &f));
    ck_assert_int_eq(sse_filter_parse("Artists,Nope", &f, msg, sizeof(msg)), 0);
    ck_assert_str_eq(sse_known_missing(&k, &f), "Nope");
    /* another shape leaves what was known */
    ck_assert_int_eq(sse_known_parse(&k, "{\"x\":1}", 7), WR_EINVAL);
    ck_assert_int_eq(sse_known_parse(&k, "[1]", 3), WR_EINVAL);
    ck_assert_int_eq(sse_known_parse(&k, "{\"collections\":[{\"name\":1}]}", 28), WR_EINVAL);
    ck_assert_uint_eq(k.n, 2);
    sse_known_release(&k);
    ck_assert(!k.have);
    sse_known_release(&k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sse_wire");
    TCase *tc = tcase_create("sse_wire");
    tcase_add_test(tc, last_event_id_forms);
    tcase_add_test(tc, marks_order);
    tcase_add_test(tc, event_text);
    tcase_add_test(tc, filter_lists);
    tcase_add_test(tc, known_collections);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
