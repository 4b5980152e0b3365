/* Unit tests for the edge bus's stall guard: a call that waits on a socket
 * past the bound is woken by the socket's shutdown and told so; a call
 * that returns in time is left alone, and so is the socket once the call
 * has left (the loop may close it and the number be reused). */
#include <check.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "busguard.h"
#include "run_suite.h"

#define STALL_MS 100

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Whether one byte goes from a to b and is read there. */
static bool passes_a_byte(int a, int b)
{
    char c = 'x';
    return write(a, &c, 1) == 1 && read(b, &c, 1) == 1 && c == 'x';
}

START_TEST(a_stalled_call_is_cut)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    busguard *g = busguard_new(STALL_MS);
    ck_assert_ptr_nonnull(g);
    busguard_enter(g, sv[0]);
    /* what rabbitmq-c does after a partial write: wait for the peer, which
     * never sends; only the guard can end this wait before 30 s */
    struct pollfd p = {.fd = sv[0], .events = POLLIN};
    int n = poll(&p, 1, 30000);
    ck_assert_int_eq(n, 1);
    ck_assert(busguard_leave(g));
    char c;
    ck_assert_int_eq(read(sv[0], &c, 1), 0); /* shut: end of stream */
    busguard_free(g);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(a_call_in_time_and_a_left_socket_are_untouched)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    busguard *g = busguard_new(STALL_MS);
    ck_assert_ptr_nonnull(g);
    for (int i = 0; i < 20; i++) { /* quick calls, as the loop makes them */
        busguard_enter(g, sv[0]);
        ck_assert(passes_a_byte(sv[1], sv[0]));
        ck_assert(!busguard_leave(g));
    }
    sleep_ms(STALL_MS * 4); /* no call inside: the guard must not cut */
    ck_assert(passes_a_byte(sv[1], sv[0]));
    ck_assert(passes_a_byte(sv[0], sv[1]));
    /* a call cut, then the next one on a fresh socket is not */
    busguard_enter(g, sv[0]);
    sleep_ms(STALL_MS * 4);
    ck_assert(busguard_leave(g));
    int sv2[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
    busguard_enter(g, sv2[0]);
    ck_assert(passes_a_byte(sv2[1], sv2[0]));
    ck_assert(!busguard_leave(g));
    busguard_free(g);
    for (int i = 0; i < 2; i++) {
        close(sv[i]);
        close(sv2[i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("busguard");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, a_stalled_call_is_cut);
    tcase_add_test(tc, a_call_in_time_and_a_left_socket_are_untouched);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
