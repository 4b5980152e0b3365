/* The audit document: a record's _id is its own (never the request id),
 * it carries the request id as request_id, a client's strings stay values
 * (member names like `$date`, `$oid`, `a.b` or control characters in an
 * error body never become keys, so libbson reads every record and an
 * insert takes it), long error bodies are cut, and a worker spools only
 * documents that are one line of JSON object with a string _id. */
#include <bson/bson.h>
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "run_suite.h"
#include "warren/auditdoc.h"

static void format(struct wr_buf *b, const char *audit_id, const char *trace_id)
{
    struct wr_audit_rec r = {.id = "0123456789abcdef0123456789abcdef",
                             .audit_id = audit_id,
                             .time_ms = 1700000000000LL,
                             .op = "list",
                             .status = 400,
                             .rows = -1,
                             .error = "{\"code\":\"bad_parameter\"}",
                             .error_len = 24,
                             .error_is_json = true,
                             .trace_id = trace_id};
    wr_buf_init(b, 4096);
    wr_audit_format(b, &r, "edge:h:1");
    ck_assert_int_eq(wr_buf_error(b), 0);
    wr_buf_putc(b, '\0');
    b->len--;
}

START_TEST(record_named_by_its_own_id)
{
    struct wr_buf b;
    format(&b, "fedcba9876543210fedcba9876543210", "0af7651916cd43dd8448eb211c80319c");
    ck_assert_ptr_nonnull(strstr(b.data, "{\"_id\":\"fedcba9876543210fedcba9876543210\","));
    ck_assert_ptr_nonnull(strstr(b.data, "\"request_id\":\"0123456789abcdef0123456789abcdef\""));
    ck_assert_ptr_nonnull(strstr(b.data, "\"body\":\"{\\\"code\\\":\\\"bad_parameter\\\"}\""));
    /* the trace id, in sorted order between time and worker */
    ck_assert_ptr_nonnull(
        strstr(b.data, "}},\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\",\"worker\":"));
    struct wr_err err = {0};
    ck_assert_int_eq(wr_audit_check_doc(b.data, b.len, &err), 0);
    wr_buf_release(&b);
    format(&b, "fedcba9876543210fedcba9876543210", NULL);
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

/* What libbson makes of a record, checked as an insert checks it; NULL
 * when it would be refused. */
static bson_t *as_bson(const struct wr_buf *b)
{
    bson_error_t error;
    bson_t *doc = bson_new_from_json((const uint8_t *)b->data, (ssize_t)b->len, &error);
    if (doc != NULL &&
        !bson_validate_with_error(doc,
                                  BSON_VALIDATE_UTF8 | BSON_VALIDATE_EMPTY_KEYS |
                                      BSON_VALIDATE_DOT_KEYS | BSON_VALIDATE_DOLLAR_KEYS,
                                  &error)) {
        bson_destroy(doc);
        doc = NULL;
    }
    return doc;
}

START_TEST(client_names_stay_data)
{
    /* a validation error names the client's members: what a body with
     * members "$date", "$oid", "a.b", "\u0001x" and "" gets */
    static const char body[] =
        "{\"code\":\"validation_failed\",\"message\":\"the body is not valid\","
        "\"validation_errors\":{\"\":\"e\",\"$date\":\"is not an attribute\","
        "\"$oid\":{\"$numberLong\":\"x\"},\"\\u0001x\":\"y\",\"a.b\":\"z\"}}";
    struct wr_audit_rec r = {.audit_id = "fedcba9876543210fedcba9876543210",
                             .id = "0123456789abcdef0123456789abcdef",
                             .time_ms = 1700000000000LL,
                             .op = "create",
                             .collection = "$where",
                             .key = "{\"$gt\":\"\"}",
                             .status = 400,
                             .rows = -1,
                             .error = body,
                             .error_len = sizeof(body) - 1,
                             .error_is_json = true};
    struct wr_buf b;
    wr_buf_init(&b, 65536);
    wr_audit_format(&b, &r, "h:1");
    ck_assert_int_eq(wr_buf_error(&b), 0);
    bson_t *doc = as_bson(&b);
    ck_assert_msg(doc != NULL, "libbson or an insert refuses %.*s", (int)b.len, b.data);
    bson_iter_t it;
    ck_assert(bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "error.code", &it));
    ck_assert_str_eq(bson_iter_utf8(&it, NULL), "validation_failed");
    ck_assert(bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "error.body", &it));
    ck_assert_str_eq(bson_iter_utf8(&it, NULL), body);
    ck_assert(bson_iter_init_find(&it, doc, "time") && BSON_ITER_HOLDS_DATE_TIME(&it));
    ck_assert(bson_iter_init_find(&it, doc, "collection"));
    ck_assert_str_eq(bson_iter_utf8(&it, NULL), "$where");
    bson_destroy(doc);
    /* a note, and an error body that is no JSON */
    r.error = "$date";
    r.error_len = 5;
    r.error_is_json = false;
    wr_buf_reset(&b);
    wr_audit_format(&b, &r, "h:1");
    doc = as_bson(&b);
    ck_assert_ptr_nonnull(doc);
    bson_destroy(doc);
    r.error = "{\"$date\":";
    r.error_len = 9;
    r.error_is_json = true;
    wr_buf_reset(&b);
    wr_audit_format(&b, &r, "h:1");
    doc = as_bson(&b);
    ck_assert_ptr_nonnull(doc);
    bson_destroy(doc);
    wr_buf_release(&b);
}
END_TEST

/* An error body a client made huge (one validation error per member of a
 * 1 MiB body) is cut, so its record stays small enough to spool and ship. */
START_TEST(long_errors_cut)
{
    size_t n = 200000;
    char *body = malloc(n + 64);
    ck_assert_ptr_nonnull(body);
    int head = snprintf(body, 64, "{\"code\":\"validation_failed\",\"message\":\"");
    memset(body + head, 'x', n - (size_t)head - 2);
    /* a two-byte UTF-8 character across the cut */
    body[WR_AUDIT_ERROR_MAX - 1] = '\xc3';
    body[WR_AUDIT_ERROR_MAX] = '\xa9';
    memcpy(body + n - 2, "\"}", 3);
    struct wr_audit_rec r = {.audit_id = "a",
                             .id = "b",
                             .status = 400,
                             .rows = -1,
                             .error = body,
                             .error_len = n,
                             .error_is_json = true};
    struct wr_buf b;
    wr_buf_init(&b, 65536);
    wr_audit_format(&b, &r, "h:1");
    ck_assert_int_eq(wr_buf_error(&b), 0);
    ck_assert_uint_lt(b.len, 3 * WR_AUDIT_ERROR_MAX);
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    json_t *e = json_object_get(j, "error");
    ck_assert_int_eq(json_integer_value(json_object_get(e, "bytes")), (json_int_t)n);
    ck_assert_uint_eq(json_string_length(json_object_get(e, "body")), WR_AUDIT_ERROR_MAX - 1);
    ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "validation_failed");
    json_decref(j);
    wr_buf_release(&b);
    free(body);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auditdoc");
    TCase *tc = tcase_create("auditdoc");
    tcase_add_test(tc, record_named_by_its_own_id);
    tcase_add_test(tc, bad_documents_refused);
    tcase_add_test(tc, client_names_stay_data);
    tcase_add_test(tc, long_errors_cut);
    suite_add_tcase(s, tc);
    return run_suite(s, false);
}
