/* Unit tests for the worker runtime's pure decisions (call.c) and the
 * answer's audit description (answer.c): which op a delivery goes to, who
 * asked, whether it is still due, which op tables are refused, and what
 * the audit record keeps of what an op described. */
#include <check.h>
#include <string.h>

#include "call.h"
#include "run_suite.h"
#include "warren/answer.h"

static int op_a(void *ctx, const struct wr_call *call, struct wr_answer *out)
{
    (void)ctx;
    (void)call;
    out->status = 200;
    return 0;
}

static int op_b(void *ctx, const struct wr_call *call, struct wr_answer *out)
{
    return op_a(ctx, call, out);
}

static const struct wr_op ops[] = {
    {.name = "records", .waits = true, .fn = op_a},
    {.name = "put", .writes = true, .fn = op_b},
};
static const struct wr_op other = {.fn = op_b};

START_TEST(op_found_by_type)
{
    struct wr_service svc = {.name = "s", .ops = ops, .nops = 2};
    ck_assert_ptr_eq(wr__op_find(&svc, "records"), &ops[0]);
    ck_assert_ptr_eq(wr__op_find(&svc, "put"), &ops[1]);
    ck_assert_ptr_null(wr__op_find(&svc, "Records"));
    ck_assert_ptr_null(wr__op_find(&svc, "record"));
    ck_assert_ptr_null(wr__op_find(&svc, ""));
    ck_assert_ptr_null(wr__op_find(&svc, NULL));
    svc.fallback = &other; /* the catalog's: any other type, or none */
    ck_assert_ptr_eq(wr__op_find(&svc, "records"), &ops[0]);
    ck_assert_ptr_eq(wr__op_find(&svc, "nope"), &other);
    ck_assert_ptr_eq(wr__op_find(&svc, NULL), &other);
}
END_TEST

START_TEST(principal_sanitised)
{
    ck_assert_str_eq(wr__principal("tests"), "tests");
    ck_assert_str_eq(wr__principal("ci.bot_2-x"), "ci.bot_2-x");
    ck_assert_str_eq(wr__principal(NULL), "anonymous");
    ck_assert_str_eq(wr__principal(""), "anonymous");
    ck_assert_str_eq(wr__principal("a b"), "anonymous");
    ck_assert_str_eq(wr__principal("x\"y"), "anonymous");
    ck_assert_str_eq(wr__principal("caf\xc3\xa9"), "anonymous");
    char long_name[80];
    memset(long_name, 'a', sizeof(long_name));
    long_name[64] = '\0';
    ck_assert_str_eq(wr__principal(long_name), long_name); /* 64: the most */
    long_name[64] = 'a';
    long_name[65] = '\0';
    ck_assert_str_eq(wr__principal(long_name), "anonymous");
}
END_TEST

/* The edge's x-principal wins; without it the broker user that published
 * (user_id) is the principal, under the same rule. */
START_TEST(principal_from_user_id)
{
    ck_assert_str_eq(wr__principal_of("tests", "guest"), "tests");
    ck_assert_str_eq(wr__principal_of(NULL, "guest"), "guest");
    ck_assert_str_eq(wr__principal_of(NULL, "svc.billing"), "svc.billing");
    ck_assert_str_eq(wr__principal_of(NULL, NULL), "anonymous");
    ck_assert_str_eq(wr__principal_of(NULL, "user@host"), "anonymous");
    ck_assert_str_eq(wr__principal_of("a b", "guest"), "anonymous"); /* a bad header stays bad */
}
END_TEST

START_TEST(deadline_decisions)
{
    ck_assert(!wr__deadline_passed(0, 1000)); /* none: always served */
    ck_assert(!wr__deadline_passed(1000, 1000));
    ck_assert(wr__deadline_passed(1000, 1001));
    ck_assert(!wr__deadline_passed(-5, 1000));
    ck_assert_int_eq(wr__deadline(5000, -1, 1000), 5000);
    ck_assert_int_eq(wr__deadline(5000, 4000, 1000), 5000); /* within the budget */
    /* the publisher's clock an hour ahead: the budget from receipt */
    ck_assert_int_eq(wr__deadline(3600000 + 5000, 4000, 1000), 5000);
    ck_assert_int_eq(wr__deadline(0, 1000, 1000), 2000);
    ck_assert_int_eq(wr__deadline(0, -1, 1000), 1000 + WR_WORKER_BUDGET_MS);
}
END_TEST

static void refused(const struct wr_service *svc, const char *what)
{
    struct wr_err err = {0};
    ck_assert_msg(wr__service_check(svc, &err) == WR_EINVAL, "accepted: %s", what);
    ck_assert_msg(err.msg[0] != '\0', "no message: %s", what);
}

START_TEST(service_checked)
{
    struct wr_err err = {0};
    struct wr_service svc = {.name = "auditlog", .ops = ops, .nops = 2};
    ck_assert_int_eq(wr__service_check(&svc, &err), 0);
    svc.name = NULL;
    refused(&svc, "no name");
    svc.name = "";
    refused(&svc, "an empty name");
    char name[80];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    svc.name = name;
    refused(&svc, "a name over 64 bytes");
    svc.name = "s";
    svc.nops = 0;
    refused(&svc, "no ops");
    svc.fallback = &other;
    ck_assert_int_eq(wr__service_check(&svc, &err), 0); /* a fallback alone */
    struct wr_op bad[] = {{.name = "ok", .fn = op_a}, {.name = "Bad", .fn = op_a}};
    svc = (struct wr_service){.name = "s", .ops = bad, .nops = 2};
    refused(&svc, "an op name with a capital");
    bad[1].name = "ok";
    refused(&svc, "an op twice");
    bad[1] = (struct wr_op){.name = "other"};
    refused(&svc, "an op without a handler");
    svc = (struct wr_service){.name = "s", .ops = ops, .nops = 2, .fallback = &(struct wr_op){0}};
    refused(&svc, "a fallback without a handler");
    svc = (struct wr_service){.name = "s", .ops = NULL, .nops = 1};
    refused(&svc, "ops without a table");
}
END_TEST

START_TEST(write_queue_only_for_writes)
{
    struct wr_service svc = {.name = "s", .ops = ops, .nops = 1};
    ck_assert(!wr__service_writes(&svc)); /* records only waits */
    svc.nops = 2;
    ck_assert(wr__service_writes(&svc));
    struct wr_op writes_any = {.writes = true, .fn = op_a};
    svc = (struct wr_service){.name = "s", .ops = ops, .nops = 1, .fallback = &writes_any};
    ck_assert(wr__service_writes(&svc));
}
END_TEST

START_TEST(description_copied_and_kept)
{
    struct wr_answer a;
    wr_answer_init(&a, 1024);
    char key[16] = "42";
    wr_answer_describe(
        &a, &(struct wr_answer_about){
                .op = "get", .collection = "Albums", .key = key, .page = 2, .per_page = 20});
    key[0] = 'X'; /* the caller's strings may change or go */
    ck_assert_str_eq(a.about.op, "get");
    ck_assert_str_eq(a.about.collection, "Albums");
    ck_assert_str_eq(a.about.key, "42");
    ck_assert_ptr_null(a.about.relation);
    ck_assert_int_eq(a.about.page, 2);
    ck_assert_int_eq(a.about.per_page, 20);
    /* an error answer keeps it: the record says what failed */
    wr_answer_error(&a, 404, "not_found", "no such object");
    ck_assert_int_eq(a.status, 404);
    ck_assert_str_eq(a.about.key, "42");
    /* a long string is cut at 1024 bytes */
    char big[3000];
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    wr_answer_describe(&a, &(struct wr_answer_about){.op = "records", .key = big});
    ck_assert_uint_eq(strlen(a.about.key), 1024);
    ck_assert_ptr_null(a.about.collection);
    /* the next request starts with nothing described */
    wr_answer_reset(&a);
    ck_assert_ptr_null(a.about.op);
    ck_assert_ptr_null(a.about.key);
    ck_assert_int_eq(a.status, 0);
    wr_answer_release(&a);
    wr_answer_release(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("worker");
    tcase_add_test(tc, op_found_by_type);
    tcase_add_test(tc, principal_sanitised);
    tcase_add_test(tc, principal_from_user_id);
    tcase_add_test(tc, deadline_decisions);
    tcase_add_test(tc, service_checked);
    tcase_add_test(tc, write_queue_only_for_writes);
    tcase_add_test(tc, description_copied_and_kept);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
