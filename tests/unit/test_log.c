/* The logger's two formats: a hostile string (line breaks, quotes, escape
 * sequences, backslashes, invalid UTF-8) never splits a line or forges a
 * field, in text or in JSON; JSON lines are valid JSON with every member;
 * a request's scope adds its id and trace id to lines logged meanwhile. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run_suite.h"
#include "warren/log.h"

#define HOSTILE "a\nb\r\tc \x1b[31mred\\ \"q\" \xff\xfe caf\xc3\xa9 \xc2\x9b end"
#define WHEN 1700000000123LL /* 2023-11-14T22:13:20.123Z */

static char *line(bool json, const char *rid, const char *trace, const char *msg,
                  const struct wr_log_field *f, size_t n)
{
    struct wr_buf b;
    wr_buf_init(&b, 1 << 16);
    wr_log_format_line(&b, json, WHEN, WR_LOG_WARN, rid, trace, msg, f, n);
    ck_assert_int_eq(wr_buf_error(&b), 0);
    return wr_buf_detach(&b, NULL);
}

static void one_printable_line(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        ck_assert_msg(*p >= 0x20 && *p != 0x7f, "raw control byte 0x%02x in '%s'", *p, s);
}

START_TEST(text_escapes_what_could_break_a_line)
{
    wr_log_init("svc", "debug");
    struct wr_log_field f[] = {{.key = "who", .str = "x y=\"z\"\n"}, {.key = "n", .num = -3}};
    char *s = line(false, "r\nid", "0af7651916cd43dd8448eb211c80319c", HOSTILE, f, 2);
    one_printable_line(s);
    ck_assert_str_eq(s, "2023-11-14T22:13:20.123Z warn svc [r\\nid] "
                        "a\\nb\\r\\tc \\x1b[31mred\\\\ \"q\" \\xff\\xfe caf\xc3\xa9 \\xc2\\x9b end"
                        " trace_id=0af7651916cd43dd8448eb211c80319c"
                        " who=\"x y=\\\"z\\\"\\n\" n=-3");
    free(s);
    s = line(false, NULL, NULL, "plain", NULL, 0);
    ck_assert_str_eq(s, "2023-11-14T22:13:20.123Z warn svc [-] plain");
    free(s);
}
END_TEST

START_TEST(json_is_one_valid_object)
{
    wr_log_init("svc", "info");
    struct wr_log_field f[] = {{.key = "op", .str = "get\n"}, {.key = "status", .num = 404}};
    char *s = line(true, "0123456789abcdef0123456789abcdef", "0af7651916cd43dd8448eb211c80319c",
                   HOSTILE, f, 2);
    one_printable_line(s);
    static const char head[] = "{\"time\":\"2023-11-14T22:13:20.123Z\",\"level\":\"warn\","
                               "\"service\":\"svc\",\"worker\":\"";
    ck_assert(strncmp(s, head, sizeof(head) - 1) == 0); /* members in the documented order */
    json_error_t err;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &err);
    ck_assert_msg(j != NULL, "%s: %s", err.text, s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "level")), "warn");
    ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")),
                     "0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(json_string_value(json_object_get(j, "trace_id")),
                     "0af7651916cd43dd8448eb211c80319c");
    char worker[300];
    char host[256] = "unknown";
    (void)gethostname(host, sizeof(host) - 1);
    (void)snprintf(worker, sizeof(worker), "%s:%ld", host, (long)getpid());
    ck_assert_str_eq(json_string_value(json_object_get(j, "worker")), worker);
    /* the message as sent, but each invalid byte as U+FFFD */
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
                     "a\nb\r\tc \x1b[31mred\\ \"q\" \xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9 "
                     "\xc2\x9b end");
    json_t *fields = json_object_get(j, "fields");
    ck_assert_str_eq(json_string_value(json_object_get(fields, "op")), "get\n");
    ck_assert_int_eq(json_integer_value(json_object_get(fields, "status")), 404);
    ck_assert_uint_eq(json_object_size(j), 8);
    json_decref(j);
    free(s);
    s = line(true, NULL, NULL, "m", NULL, 0);
    j = json_loads(s, 0, &err);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_is_null(json_object_get(j, "request_id")));
    ck_assert(json_is_null(json_object_get(j, "trace_id")));
    ck_assert_uint_eq(json_object_size(json_object_get(j, "fields")), 0);
    json_decref(j);
    free(s);
}
END_TEST

START_TEST(format_names)
{
    ck_assert(wr_log_format_set("json"));
    ck_assert(wr_log_format_set("text"));
    ck_assert(!wr_log_format_set("xml"));
    ck_assert(!wr_log_format_set(NULL));
}
END_TEST

/* What wr_log writes to stderr while f runs. */
static char *captured(void (*f)(void))
{
    char path[] = "/tmp/test_log_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    int saved = dup(2);
    ck_assert_int_ge(dup2(fd, 2), 0);
    f();
    (void)dup2(saved, 2);
    (void)close(saved);
    char *out = calloc(1, 65536);
    ck_assert_int_ge(pread(fd, out, 65535, 0), 0);
    (void)close(fd);
    (void)unlink(path);
    return out;
}

static void scoped_lines(void)
{
    wr_log_scope_begin("0123456789abcdef0123456789abcdef", "0af7651916cd43dd8448eb211c80319c");
    wr_info(NULL, "no id given");
    wr_info("0123456789abcdef0123456789abcdef", "its own id");
    wr_info("ffffffffffffffffffffffffffffffff", "another request");
    wr_debug(NULL, "below the level");
    wr_log_scope_end();
    wr_info(NULL, "after the scope");
}

START_TEST(scope_marks_lines_of_a_request)
{
    wr_log_init("svc", "info");
    ck_assert(wr_log_format_set("text"));
    char *out = captured(scoped_lines);
    ck_assert_ptr_nonnull(strstr(out, "[0123456789abcdef0123456789abcdef] no id given "
                                      "trace_id=0af7651916cd43dd8448eb211c80319c\n"));
    ck_assert_ptr_nonnull(strstr(out, "[0123456789abcdef0123456789abcdef] its own id "
                                      "trace_id=0af7651916cd43dd8448eb211c80319c\n"));
    ck_assert_ptr_nonnull(strstr(out, "[ffffffffffffffffffffffffffffffff] another request\n"));
    ck_assert_ptr_nonnull(strstr(out, "[-] after the scope\n"));
    ck_assert_ptr_null(strstr(out, "below the level"));
    free(out);
    ck_assert(wr_log_format_set("json"));
    out = captured(scoped_lines);
    /* four lines, each a JSON object; the first two carry the trace */
    static const bool traced[] = {true, true, false, false};
    int lines = 0;
    for (char *p = out, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1, lines++) {
        ck_assert_int_lt(lines, 4);
        json_error_t err;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &err);
        ck_assert_ptr_nonnull(j);
        ck_assert(json_is_string(json_object_get(j, "trace_id")) == traced[lines]);
        json_decref(j);
    }
    ck_assert_int_eq(lines, 4);
    free(out);
    ck_assert(wr_log_format_set("text"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, text_escapes_what_could_break_a_line);
    tcase_add_test(tc, json_is_one_valid_object);
    tcase_add_test(tc, format_names);
    tcase_add_test(tc, scope_marks_lines_of_a_request);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
