/* Unit tests of the error model: the detail out-parameter and the one map
 * from WR_E* codes to HTTP statuses and contract codes. */
#include <check.h>
#include <string.h>

#include "run_suite.h"
#include "warren/err.h"
#include "warren/proto.h"

START_TEST(set_formats_and_returns_code)
{
    struct wr_err err = {0};
    ck_assert_int_eq(wr_err_set(&err, WR_EINVAL, "bad %s %d", "page", 3), WR_EINVAL);
    ck_assert_int_eq(err.code, WR_EINVAL);
    ck_assert_str_eq(err.msg, "bad page 3");
    ck_assert_int_eq(wr_err_set(NULL, WR_EIO, "ignored"), WR_EIO);
}
END_TEST

START_TEST(http_map)
{
    static const struct {
        int rc, status;
        const char *code;
    } want[] = {
        {WR_EINVAL, 400, WR_CODE_BAD_REQUEST},
        {WR_ETOOBIG, 400, WR_CODE_BAD_PARAMETER},
        {WR_ENOTFOUND, 404, WR_CODE_NOT_FOUND},
        {WR_ECONFLICT, 409, WR_CODE_CONFLICT},
        {WR_ETIMEDOUT, 504, WR_CODE_TIMEOUT},
        {WR_EBUSY, 503, WR_CODE_UNAVAILABLE},
        {WR_ECLOSED, 503, WR_CODE_UNAVAILABLE},
        {WR_EAGAIN, 503, WR_CODE_UNAVAILABLE},
        {WR_EPROTO, 400, WR_CODE_UNSUPPORTED_VERSION},
        {WR_ENOMEM, 500, WR_CODE_INTERNAL},
        {WR_EIO, 500, WR_CODE_INTERNAL},
        {-999, 500, WR_CODE_INTERNAL},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct wr_http_error h = wr_err_http(want[i].rc);
        ck_assert_int_eq(h.status, want[i].status);
        ck_assert_str_eq(h.code, want[i].code);
        ck_assert(h.message != NULL && strlen(h.message) > 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("err");
    TCase *t = tcase_create("err");
    tcase_add_test(t, set_formats_and_returns_code);
    tcase_add_test(t, http_map);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
