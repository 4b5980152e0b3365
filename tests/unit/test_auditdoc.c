/* The audit document: the edge's records are named apart from the
 * worker's, both carry the request id, and a worker spools only documents
 * that are one line of JSON object with a string _id. */
#include <check.h>
#include <string.h>

#include "audit.h"
#include "run_suite.h"
#include "warren/auditdoc.h"

static void format(struct wr_buf *b, bool by_edge)
{
    struct wr_audit_rec r = {.id = "0123456789abcdef0123456789abcdef",
                             .by_edge = by_edge,
                             .time_ms = 1700000000000LL,
                             .op = "list",
                             .status = 400,
                             .rows = -1,
                             .error = "{\"code\":\"bad_parameter\"}",
                             .error_len = 24,
                             .error_is_json = true,
                             .trace_id = by_edge ? "0af7651916cd43dd8448eb211c80319c" : NULL};
    wr_buf_init(b, 4096);
    wr_audit_format(b, &r, "edge:h:1");
    ck_assert_int_eq(wr_buf_error(b), 0);
    wr_buf_putc(b, '\0');
    b->len--;
}

START_TEST(edge_record_named_apart)
{
    struct wr_buf b;
    format(&b, true);
    ck_assert_ptr_nonnull(strstr(b.data, "{\"_id\":\"0123456789abcdef0123456789abcdef/edge\","));
    ck_assert_ptr_nonnull(strstr(b.data, "\"request_id\":\"0123456789abcdef0123456789abcdef\""));
    ck_assert_ptr_nonnull(strstr(b.data, "\"error\":{\"code\":\"bad_parameter\"}"));
    /* the trace id, in sorted order between time and worker */
    ck_assert_ptr_nonnull(
        strstr(b.data, "}},\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\",\"worker\":"));
    struct wr_err err = {0};
    ck_assert_int_eq(wr_audit_check_doc(b.data, b.len, &err), 0);
    wr_buf_release(&b);
    format(&b, false);
    ck_assert_ptr_nonnull(strstr(b.data, "{\"_id\":\"0123456789abcdef0123456789abcdef\","));
    ck_assert_ptr_nonnull(strstr(b.data, "\"trace_id\":null,"));
    wr_buf_release(&b);
}
END_TEST

START_TEST(bad_documents_refused)
{
    static const char *bad[] = {
        "",
        "[]",
        "{\"_id\":1}",
        "{\"x\":\"y\"}",
        "{\"_id\":\"a\"}\n",
        "{\"_id\":\"a\",\n\"b\":1}",
        "{\"_id\":\"a\"",
        "{\"_id\":\"a\",\"_id\":\"b\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct wr_err err = {0};
        ck_assert_msg(wr_audit_check_doc(bad[i], strlen(bad[i]), &err) == WR_EINVAL, "accepted %s",
                      bad[i]);
    }
    static const char nul[] = "{\"_id\":\"a\"}\0";
    struct wr_err err = {0};
    ck_assert_int_eq(wr_audit_check_doc(nul, sizeof(nul) - 1, &err), WR_EINVAL);
    ck_assert_int_eq(wr_audit_check_doc("{\"_id\":\"a\"}", 11, &err), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auditdoc");
    TCase *tc = tcase_create("auditdoc");
    tcase_add_test(tc, edge_record_named_apart);
    tcase_add_test(tc, bad_documents_refused);
    suite_add_tcase(s, tc);
    return run_suite(s, false);
}
