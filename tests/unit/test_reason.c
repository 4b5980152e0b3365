/* Unit tests for the edge's reason phrases (reason.h): RFC 9110's wording
 * where libevent 2.1.12 has RFC 2616's or only a class name, the statuses
 * warren answers, and an empty phrase for a status neither RFC defines. */
#include <check.h>

#include "reason.h"
#include "run_suite.h"

START_TEST(rfc_9110_wording)
{
    /* libevent: "Request Entity Too Large", "Request-URI Too Large",
     * "Gateway Time-out", "Request Time-out", and 307 one place off */
    ck_assert_str_eq(http_reason(413), "Content Too Large");
    ck_assert_str_eq(http_reason(414), "URI Too Long");
    ck_assert_str_eq(http_reason(504), "Gateway Timeout");
    ck_assert_str_eq(http_reason(408), "Request Timeout");
    ck_assert_str_eq(http_reason(307), "Temporary Redirect");
    ck_assert_str_eq(http_reason(308), "Permanent Redirect");
    /* libevent: "Client Error" */
    ck_assert_str_eq(http_reason(422), "Unprocessable Content");
    ck_assert_str_eq(http_reason(429), "Too Many Requests");
    ck_assert_str_eq(http_reason(431), "Request Header Fields Too Large");
}
END_TEST

/* Every status warren answers (proto/README.md section 8, and the plain
 * answers), found whatever its place in the table. */
START_TEST(warren_statuses)
{
    static const struct {
        int status;
        const char *text;
    } want[] = {{200, "OK"},
                {201, "Created"},
                {204, "No Content"},
                {304, "Not Modified"},
                {400, "Bad Request"},
                {401, "Unauthorized"},
                {403, "Forbidden"},
                {404, "Not Found"},
                {405, "Method Not Allowed"},
                {406, "Not Acceptable"},
                {409, "Conflict"},
                {415, "Unsupported Media Type"},
                {500, "Internal Server Error"},
                {501, "Not Implemented"},
                {503, "Service Unavailable"}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_str_eq(http_reason(want[i].status), want[i].text);
    ck_assert_str_eq(http_reason(100), "Continue");                   /* the table's first */
    ck_assert_str_eq(http_reason(505), "HTTP Version Not Supported"); /* and last */
}
END_TEST

START_TEST(undefined_is_empty)
{
    static const int none[] = {-1, 0, 99, 199, 299, 306, 418, 499, 599, 1000};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        ck_assert_msg(http_reason(none[i])[0] == '\0', "%d: %s", none[i], http_reason(none[i]));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reason");
    TCase *tc = tcase_create("reason");
    tcase_add_test(tc, rfc_9110_wording);
    tcase_add_test(tc, warren_statuses);
    tcase_add_test(tc, undefined_is_empty);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
