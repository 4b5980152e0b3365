/* Unit tests for warren's command line (tools/cli/args.c, request.c): argv
 * read into options and a command, the request each command makes, and
 * every misuse named before anything is sent. */
#include <check.h>
#include <string.h>

#include "args.h"
#include "warren/err.h"
#include "run_suite.h"

static struct wr_buf problems;
static struct cli_args a;
static struct cli_request r;

static void setup(void)
{
    wr_buf_init(&problems, 1 << 16);
}

static void teardown(void)
{
    cli_request_release(&r);
    wr_buf_release(&problems);
}

#define ARGV(...) ((char *const[]){"warren", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *const[]){"warren", __VA_ARGS__}) / sizeof(char *)))
/* Parses and builds; 0 when both succeeded. */
#define RUN(...) run(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static int run(int argc, char *const *argv)
{
    wr_buf_reset(&problems);
    cli_request_release(&r);
    int rc = cli_args_parse(&a, argc, argv, &problems);
    if (rc == 0 && !a.help && !a.version)
        rc = cli_request_build(&r, &a, &problems);
    return rc;
}

static void says(const char *what)
{
    ck_assert_msg(problems.data != NULL && strstr(problems.data, what) != NULL,
                  "expected '%s' in: %s", what, problems.data ? problems.data : "(nothing)");
}

START_TEST(get_and_options_anywhere)
{
    ck_assert_int_eq(RUN("--json", "get", "Albums", "--depth=0", "1", "--timeout", "250"), 0);
    ck_assert_int_eq(a.cmd, CLI_GET);
    ck_assert(a.json);
    ck_assert_int_eq(a.timeout_ms, 250);
    ck_assert_str_eq(r.req.op, WR_OP_GET);
    ck_assert_str_eq(r.req.collection, "Albums");
    ck_assert_str_eq(r.req.key, "1");
    ck_assert(r.req.depth_given);
    ck_assert_int_eq(r.req.depth, 0);
    ck_assert_ptr_null(r.req.q);
    ck_assert_ptr_null(r.service);
    ck_assert(!r.wants_body);
    /* ids may start with '-'; "--" ends the options */
    ck_assert_int_eq(RUN("get", "Things", "-5"), 0);
    ck_assert_str_eq(r.req.key, "-5");
    ck_assert_int_eq(RUN("get", "--", "Things", "--odd"), 0);
    ck_assert_str_eq(r.req.key, "--odd");
    ck_assert_str_eq(a.config, "config.cfg");
    ck_assert(!a.config_given);
    ck_assert_int_eq(RUN("--config", "/etc/w.cfg", "--amqp-url=amqp://u:p@h/v", "--service", "cat2",
                         "collections"),
                     0);
    ck_assert_str_eq(a.config, "/etc/w.cfg");
    ck_assert(a.config_given);
    ck_assert_str_eq(a.amqp_url, "amqp://u:p@h/v");
    ck_assert_str_eq(a.service, "cat2");
    ck_assert_str_eq(r.req.op, WR_OP_COLLECTIONS);
    ck_assert_ptr_null(r.req.collection);
}
END_TEST

/* The brief's example: a filter, a descending order, a page. */
START_TEST(list_with_search)
{
    ck_assert_int_eq(RUN("list", "Albums", "--filter", "title like %Rock%", "--order", "-title",
                         "--page", "2", "--per-page", "20", "--count", "none"),
                     0);
    ck_assert_str_eq(r.req.op, WR_OP_LIST);
    ck_assert_str_eq(r.req.collection, "Albums");
    ck_assert_ptr_null(r.req.key);
    ck_assert_str_eq(r.req.q, "{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":"
                              "\"%Rock%\"}],\"order_by\":[{\"direction\":\"desc\",\"field\":"
                              "\"title\"}]}");
    ck_assert_int_eq(r.req.page, 2);
    ck_assert_int_eq(r.req.results_per_page, 20);
    ck_assert_str_eq(r.req.count, "none");
    ck_assert_int_eq(RUN("list", "Albums", "--q", "{\"filters\":[]}", "--after", ""), 0);
    ck_assert_str_eq(r.req.q, "{\"filters\":[]}");
    ck_assert_str_eq(r.req.after, "");
    ck_assert_int_eq(RUN("list", "Albums"), 0);
    ck_assert_ptr_null(r.req.q);
    ck_assert_int_eq(r.req.page, 0); /* not given: the worker's default */
}
END_TEST

START_TEST(other_commands)
{
    ck_assert_int_eq(RUN("eval", "Invoices", "sum:total", "--filter", "total > 10"), 0);
    ck_assert_str_eq(r.req.op, WR_OP_FUNCTIONS);
    ck_assert_str_eq(r.req.q, "{\"filters\":[{\"name\":\"total\",\"op\":\">\",\"val\":10}],"
                              "\"functions\":[{\"field\":\"total\",\"name\":\"sum\"}]}");
    ck_assert_int_eq(RUN("related", "Artists", "1", "albums", "--page", "2"), 0);
    ck_assert_str_eq(r.req.op, WR_OP_RELATED);
    ck_assert_str_eq(r.req.relation, "albums");
    ck_assert_ptr_null(r.req.related_id);
    ck_assert_int_eq(RUN("related", "Artists", "1", "albums", "4"), 0);
    ck_assert_str_eq(r.req.related_id, "4");
    ck_assert_int_eq(RUN("svc", "auditlog", "records", "0123456789abcdef0123456789abcdef"), 0);
    ck_assert_str_eq(r.service, "auditlog");
    ck_assert_str_eq(r.req.op, "records");
    ck_assert_str_eq(r.req.key, "0123456789abcdef0123456789abcdef");
    ck_assert_ptr_null(r.req.collection);
    ck_assert_int_eq(RUN("openapi"), 0);
    ck_assert_str_eq(r.req.op, WR_OP_OPENAPI);
}
END_TEST

/* Writes: the body from an argument or stdin; one object or many. */
START_TEST(writes)
{
    ck_assert_int_eq(RUN("post", "Albums", "{\"title\":\"x\"}"), 0);
    ck_assert_str_eq(r.req.op, WR_OP_CREATE);
    ck_assert(r.wants_body);
    ck_assert_str_eq(r.body_arg, "{\"title\":\"x\"}");
    ck_assert_ptr_null(r.req.key);
    ck_assert_int_eq(RUN("post", "Albums"), 0);
    ck_assert_ptr_null(r.body_arg); /* stdin */
    ck_assert_int_eq(RUN("post", "Albums", "-"), 0);
    ck_assert_str_eq(r.body_arg, "-");
    ck_assert_int_eq(
        RUN("patch", "Albums", "5", "{}", "--request-id", "0123456789abcdef0123456789abcdef"), 0);
    ck_assert_str_eq(r.req.op, WR_OP_UPDATE);
    ck_assert_str_eq(r.req.key, "5");
    ck_assert_str_eq(r.body_arg, "{}");
    ck_assert_str_eq(r.req.id, "0123456789abcdef0123456789abcdef");
    ck_assert_int_eq(RUN("patch", "Albums", "--filter", "artist_id == 1", "{\"x\":1}"), 0);
    ck_assert_ptr_null(r.req.key);
    ck_assert_str_eq(r.body_arg, "{\"x\":1}");
    ck_assert_ptr_nonnull(strstr(r.req.q, "artist_id"));
    ck_assert_int_eq(RUN("patch", "Albums", "--all"), 0);
    ck_assert_ptr_null(r.req.key);
    ck_assert_ptr_null(r.req.q);
    ck_assert_ptr_null(r.body_arg);
    ck_assert_int_eq(RUN("delete", "Albums", "5"), 0);
    ck_assert_str_eq(r.req.op, WR_OP_DELETE);
    ck_assert_str_eq(r.req.key, "5");
    ck_assert(!r.wants_body);
    ck_assert_int_eq(RUN("delete", "Playlists", "1", "tracks", "3402"), 0);
    ck_assert_str_eq(r.req.relation, "tracks");
    ck_assert_str_eq(r.req.related_id, "3402");
    ck_assert_int_eq(RUN("delete", "Albums", "--q", "{\"filters\":[]}"), 0);
    ck_assert_ptr_null(r.req.key);
    ck_assert_str_eq(r.req.q, "{\"filters\":[]}");
}
END_TEST

START_TEST(misuse_is_named)
{
    ck_assert_int_eq(RUN("get", "Albums", "1", "--nope"), WR_EINVAL);
    says("arguments: --nope: unknown argument");
    ck_assert_int_eq(RUN("frobnicate"), WR_EINVAL);
    says("arguments: frobnicate: unknown command");
    ck_assert_int_eq(RUN("--json"), WR_EINVAL);
    says("a command is needed");
    ck_assert_int_eq(RUN("get", "Albums", "1", "--json", "--table"), WR_EINVAL);
    says("--json or --table, not both");
    ck_assert_int_eq(RUN("get", "Albums", "1", "--page"), WR_EINVAL);
    says("arguments: --page: needs a value");
    ck_assert_int_eq(RUN("--json=yes", "get", "Albums", "1"), WR_EINVAL);
    says("arguments: --json=yes: takes no value");
    static char *const bad_pages[] = {"0",   "-1", "01",          "1.5",
                                      "abc", "",   "10000000000", "1000000001"};
    for (size_t i = 0; i < sizeof(bad_pages) / sizeof(bad_pages[0]); i++) {
        ck_assert_int_eq(RUN("list", "Albums", "--page", bad_pages[i]), WR_EINVAL);
        says("--page: an integer, 1 to 1000000000");
    }
    ck_assert_int_eq(RUN("list", "Albums", "--depth", "2"), WR_EINVAL);
    says("--depth: 0 or 1");
    ck_assert_int_eq(RUN("list", "Albums", "--count", "some"), WR_EINVAL);
    says("--count: exact or none");
    ck_assert_int_eq(RUN("list", "Albums", "--timeout", "0"), WR_EINVAL);
    says("--timeout: milliseconds");
    ck_assert_int_eq(RUN("get", "Albums", "1", "--request-id", "ABC"), WR_EINVAL);
    says("--request-id: 32 lowercase hex");
    /* every problem at once */
    ck_assert_int_eq(RUN("list", "Albums", "--page", "0", "--depth", "9", "--x"), WR_EINVAL);
    says("--page");
    says("--depth");
    says("--x: unknown");
}
END_TEST

START_TEST(wrong_shape_is_named)
{
    ck_assert_int_eq(RUN("get", "Albums"), WR_EINVAL);
    says("arguments: get takes COLLECTION ID");
    ck_assert_int_eq(RUN("get", "Albums", "1", "2"), WR_EINVAL);
    says("get takes COLLECTION ID");
    ck_assert_int_eq(RUN("list"), WR_EINVAL);
    says("list takes COLLECTION");
    ck_assert_int_eq(RUN("get", "Albums", "1", "--page", "2", "--filter", "a == 1"), WR_EINVAL);
    says("--page does not apply to get");
    says("--filter does not apply to get");
    ck_assert_int_eq(RUN("eval", "Invoices"), WR_EINVAL);
    says("eval takes COLLECTION NAME:FIELD");
    ck_assert_int_eq(RUN("eval", "Invoices", "sum"), WR_EINVAL);
    says("function 'sum': expected NAME:FIELD");
    ck_assert_int_eq(RUN("eval", "Invoices", "sum:total", "--q", "{}"), WR_EINVAL);
    says("--q replaces");
    ck_assert_int_eq(RUN("list", "Albums", "--q", "[1]"), WR_EINVAL);
    says("--q: one JSON object");
    ck_assert_int_eq(RUN("list", "Albums", "--q", "{\"a\":1,\"a\":2}"), WR_EINVAL);
    says("--q: one JSON object");
    ck_assert_int_eq(RUN("delete", "Albums"), WR_EINVAL);
    says("delete takes COLLECTION ID [RELATION RELATED_ID]");
    ck_assert_int_eq(RUN("delete", "Albums", "1", "tracks"), WR_EINVAL);
    says("delete takes COLLECTION ID [RELATION RELATED_ID]");
    ck_assert_int_eq(RUN("delete", "Albums", "1", "--all"), WR_EINVAL);
    says("delete takes COLLECTION alone");
    ck_assert_int_eq(RUN("patch", "Albums", "--all", "--filter", "a == 1"), WR_EINVAL);
    says("--all or --filter/--q, not both");
    ck_assert_int_eq(RUN("patch", "Albums"), WR_EINVAL);
    says("patch takes COLLECTION ID [BODY]");
    ck_assert_int_eq(RUN("svc", "Audit Log", "Records"), WR_EINVAL);
    says("SERVICE is a name");
    says("OP is a word");
    ck_assert_int_eq(RUN("svc", "auditlog"), WR_EINVAL);
    says("svc takes SERVICE OP [ID]");
    ck_assert_int_eq(RUN("collections", "Albums"), WR_EINVAL);
    says("collections takes no arguments");
}
END_TEST

/* --help and --version win over everything else, even bad arguments. */
START_TEST(help_and_version)
{
    ck_assert_int_eq(RUN("--help", "get"), 0);
    ck_assert(a.help);
    ck_assert_int_eq(RUN("-h"), 0);
    ck_assert(a.help);
    ck_assert_int_eq(RUN("--version"), 0);
    ck_assert(a.version);
}
END_TEST

START_TEST(body_checked)
{
    ck_assert_int_eq(cli_body_check("{\"a\":1}", 7, &problems), 0);
    ck_assert_int_eq(cli_body_check("{\"a\":1", 6, &problems), WR_EINVAL);
    says("body: ");
    ck_assert_int_eq(cli_body_check("[1]", 3, &problems), WR_EINVAL);
    says("body: not a JSON object");
    ck_assert_int_eq(cli_body_check("{\"a\":1,\"a\":2}", 13, &problems), WR_EINVAL);
    says("duplicate");
    ck_assert_int_eq(cli_body_check("{\"a\":\"\0\"}", 9, &problems), WR_EINVAL);
    says("body: holds a NUL byte");
    ck_assert_int_eq(cli_body_check("", 0, &problems), WR_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_args");
    TCase *tc = tcase_create("args");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, get_and_options_anywhere);
    tcase_add_test(tc, list_with_search);
    tcase_add_test(tc, other_commands);
    tcase_add_test(tc, writes);
    tcase_add_test(tc, misuse_is_named);
    tcase_add_test(tc, wrong_shape_is_named);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, body_checked);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
