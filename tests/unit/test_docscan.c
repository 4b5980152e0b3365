/* The audit document's fast check (docscan.h): it takes the records edges
 * send (or the worker pays jansson's cost again), and it never says yes
 * where jansson says no, on hand-made cases and on thousands of mutations
 * of a real record; where it is unsure, wr_audit_check_doc's verdict is
 * still jansson's. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "docscan.h"
#include "run_suite.h"
#include "warren/auditdoc.h"

/* An edge's refusal as it leaves the edge (trail.c formats it so). */
static const char RECORD[] =
    "{\"_id\":\"e0249c7d84a95f763a124e041cfb5b69\",\"cache\":null,\"collection\":\"Albums\","
    "\"duration_ms\":0.090101,\"error\":{\"body\":\"{\\\"code\\\":\\\"unavailable\\\","
    "\\\"message\\\":\\\"the broker is unavailable\\\"}\",\"bytes\":60,\"code\":\"unavailable\","
    "\"message\":\"the broker is unavailable\"},\"id\":\"208\",\"op\":\"get\",\"params\":{"
    "\"page\":null,\"relation\":null,\"results_per_page\":null},\"principal\":\"anonymous\","
    "\"request_id\":\"1eff488d04583d54279d3057d66f341c\",\"rows\":null,\"status\":503,"
    "\"time\":{\"$date\":{\"$numberLong\":\"1796620447256\"}},\"trace_id\":"
    "\"bdca5f10d7a697cb73ad6abf88429bc1\",\"worker\":\"edge:vm:3098\"}";

/* What jansson says, as wr_audit_check_doc asked it before the fast path. */
static bool jansson_ok(const char *doc, size_t len)
{
    json_t *j = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
    bool ok = json_is_object(j) && json_is_string(json_object_get(j, "_id"));
    json_decref(j);
    return ok;
}

static bool fast(const char *doc)
{
    return wr__doc_surely_ok(doc, strlen(doc));
}

static int check(const char *doc)
{
    struct wr_err err = {0};
    return wr_audit_check_doc(doc, strlen(doc), &err);
}

START_TEST(records_take_the_fast_path)
{
    ck_assert(fast(RECORD));
    struct wr_audit_rec r = {.id = "0123456789abcdef0123456789abcdef",
                             .audit_id = "fedcba9876543210fedcba9876543210",
                             .time_ms = 1700000000000LL,
                             .op = "list",
                             .collection = "Albums",
                             .status = 400,
                             .rows = -1,
                             .error = "{\"code\":\"bad_parameter\"}",
                             .error_len = 24,
                             .error_is_json = true,
                             .trace_id = "0af7651916cd43dd8448eb211c80319c"};
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    wr_audit_format(&b, &r, "edge:h:1");
    ck_assert_int_eq(wr_buf_error(&b), 0);
    ck_assert_msg(wr__doc_surely_ok(b.data, b.len), "%.*s", (int)b.len, b.data);
    wr_buf_release(&b);
}
END_TEST

START_TEST(names_compared_within_their_object)
{
    /* the same name in sibling objects, at other depths, in array items */
    ck_assert(fast("{\"_id\":\"a\",\"x\":{\"k\":1,\"_id\":2},\"y\":{\"k\":2},\"k\":[{\"k\":1},"
                   "{\"k\":[1,{\"k\":{}}]}]}"));
    ck_assert(fast(" {\"_id\" : \"a\" , \"b\" : [ 1 , -2.5e-7 , true , false , null ] } "));
    /* a duplicate at any depth: no, and jansson refuses it too */
    static const char *dups[] = {
        "{\"_id\":\"a\",\"_id\":\"a\"}",
        "{\"_id\":\"a\",\"x\":{\"k\":1,\"k\":1}}",
        "{\"_id\":\"a\",\"x\":[{\"k\":1},{\"j\":{\"m\":1,\"n\":2,\"m\":3}}]}",
        "{\"_id\":\"a\",\"x\":{\"k\":{}},\"x\":1}",
    };
    for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
        ck_assert_msg(!fast(dups[i]), "fast yes: %s", dups[i]);
        ck_assert_msg(check(dups[i]) == WR_EINVAL, "accepted %s", dups[i]);
    }
    ck_assert(!fast("{\"_id\":1}"));
    ck_assert(!fast("{\"x\":{\"_id\":\"a\"}}")); /* _id of the top object only */
    ck_assert(!fast("[{\"_id\":\"a\"}]"));
}
END_TEST

/* Where the fast check is unsure, jansson decides, both ways. */
START_TEST(unsure_goes_to_jansson)
{
    static const struct {
        const char *doc;
        int rc;
    } cases[] = {
        {"{\"_id\":\"a\",\"\\u006b\":1,\"k\":2}", WR_EINVAL}, /* the same name, escaped */
        {"{\"_id\":\"a\",\"\\u006b\":1,\"j\":2}", 0},
        {"{\"\\u005fid\":\"a\"}", 0},
        {"{\"_id\":\"a\",\"n\":123456789012345678901234}", WR_EINVAL}, /* too big an integer */
        {"{\"_id\":\"a\",\"n\":12345678901234567890.5}", 0},
        {"{\"_id\":\"a\",\"n\":1e400}", WR_EINVAL}, /* a real that overflows */
        {"{\"_id\":\"a\",\"n\":1e-400}", 0},
        {"{\"_id\":\"a\",\"s\":\"x\\u0000y\"}", WR_EINVAL}, /* jansson takes no NUL */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(!fast(cases[i].doc), "fast yes: %s", cases[i].doc);
        ck_assert_msg(check(cases[i].doc) == cases[i].rc, "%s: not %d", cases[i].doc, cases[i].rc);
    }
    /* more names at once than it keeps */
    char many[8192];
    size_t n = (size_t)snprintf(many, sizeof(many), "{\"_id\":\"a\"");
    for (int k = 0; k < 200; k++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, ",\"k%d\":%d", k, k);
    (void)snprintf(many + n, sizeof(many) - n, "}");
    ck_assert(!fast(many));
    ck_assert_int_eq(check(many), 0);
}
END_TEST

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mutations of a real record (bytes replaced by JSON's punctuation,
 * digits, quotes, escapes; spans copied elsewhere, which repeats names):
 * whenever the fast check says yes, jansson does. */
START_TEST(never_yes_where_jansson_says_no)
{
    static const char alphabet[] = "{}[]:,\"\\0123456789-+.eEtrufalsn _idxu\x80\xc3";
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int yes = 0, no = 0;
    for (int round = 0; round < 40000; round++) {
        char doc[2 * sizeof(RECORD)];
        size_t len = sizeof(RECORD) - 1;
        memcpy(doc, RECORD, len + 1);
        int edits = 1 + (int)(next(&seed) % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = next(&seed) % len;
            if (next(&seed) % 4 == 0) { /* copy a span elsewhere */
                size_t from = next(&seed) % len, span = 1 + next(&seed) % 24;
                if (from + span > len || len + span >= sizeof(doc))
                    continue;
                memmove(doc + at + span, doc + at, len - at + 1);
                memmove(doc + at, doc + (from < at ? from : from + span), span);
                len += span;
            } else {
                doc[at] = alphabet[next(&seed) % (sizeof(alphabet) - 1)];
            }
        }
        bool f = wr__doc_surely_ok(doc, len);
        ck_assert_msg(!f || jansson_ok(doc, len), "fast yes, jansson no: %.*s", (int)len, doc);
        yes += f;
        no += !f;
    }
    /* both verdicts were reached, so the property was tested on each */
    ck_assert_msg(yes > 1000 && no > 1000, "%d yes, %d no", yes, no);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("docscan");
    TCase *tc = tcase_create("docscan");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, records_take_the_fast_path);
    tcase_add_test(tc, names_compared_within_their_object);
    tcase_add_test(tc, unsure_goes_to_jansson);
    tcase_add_test(tc, never_yes_where_jansson_says_no);
    suite_add_tcase(s, tc);
    return run_suite(s, false);
}
