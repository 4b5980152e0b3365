/* Unit tests for the capped buffer: growth, the cap, the sticky error;
 * and the fixed-size string copy. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "warren/buf.h"
#include "warren/err.h"
#include "run_suite.h"

START_TEST(grows_and_terminates)
{
    struct wr_buf b;
    wr_buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(wr_buf_printf(&b, "%d,", i % 10), 0);
    ck_assert_uint_eq(b.len, 2000);
    ck_assert_int_eq(b.data[b.len], '\0');
    ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
    wr_buf_release(&b);
}
END_TEST

START_TEST(cap_is_sticky)
{
    struct wr_buf b;
    wr_buf_init(&b, 8);
    ck_assert_int_eq(wr_buf_puts(&b, "12345678"), 0);
    ck_assert_int_eq(wr_buf_putc(&b, '9'), WR_ETOOBIG);
    ck_assert_int_eq(wr_buf_puts(&b, ""), WR_ETOOBIG);
    ck_assert_int_eq(wr_buf_error(&b), WR_ETOOBIG);
    ck_assert_ptr_null(wr_buf_detach(&b, NULL));
    wr_buf_reset(&b);
    ck_assert_int_eq(wr_buf_puts(&b, "ok"), 0);
    size_t n = 0;
    char *p = wr_buf_detach(&b, &n);
    ck_assert_str_eq(p, "ok");
    ck_assert_uint_eq(n, 2);
    free(p);
    wr_buf_release(&b);
}
END_TEST

START_TEST(detach_of_empty_is_empty_string)
{
    struct wr_buf b;
    wr_buf_init(&b, 16);
    char *p = wr_buf_detach(&b, NULL);
    ck_assert_str_eq(p, "");
    free(p);
}
END_TEST

/* wr_str_copy: whole when it fits, cut to cap - 1 bytes when not, "" for
 * NULL; always terminated, nothing written past cap. */
START_TEST(str_copy_cuts_and_terminates)
{
    char out[8];
    memset(out, 'x', sizeof(out));
    ck_assert_uint_eq(wr_str_copy(out, 4, "abc"), 3);
    ck_assert_str_eq(out, "abc");
    ck_assert_uint_eq(wr_str_copy(out, 4, "abcdef"), 3);
    ck_assert_str_eq(out, "abc");
    ck_assert_int_eq(out[4], 'x');
    ck_assert_uint_eq(wr_str_copy(out, 4, NULL), 0);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(wr_str_copy(out, 1, "abc"), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("buf");
    tcase_add_test(tc, grows_and_terminates);
    tcase_add_test(tc, cap_is_sticky);
    tcase_add_test(tc, detach_of_empty_is_empty_string);
    tcase_add_test(tc, str_copy_cuts_and_terminates);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
