/* Unit tests for the edge's response header list (headers.h): the
 * headers libevent does not read fold into one entry behind Date, in the
 * order given; framing headers stay entries of their own; what could
 * split a line is dropped; and a real evhttp server writes the folded
 * list as the same lines, with one Date and one Content-Type. */
#include <sys/queue.h> /* before libevent's headers: TAILQ's operations */

#include <arpa/inet.h>
#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "headers.h"
#include "httpdate.h"
#include "run_suite.h"

static size_t entries(const struct evkeyvalq *h)
{
    size_t n = 0;
    const struct evkeyval *kv;
    for (kv = TAILQ_FIRST(h); kv != NULL; kv = TAILQ_NEXT(kv, next))
        n++;
    return n;
}

/* Occurrences of needle in s. */
static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(folds_behind_date)
{
    struct evkeyvalq h;
    TAILQ_INIT(&h);
    headers_add(&h, "X-A", "1");
    headers_add(&h, "Vary", "Accept");
    headers_add(&h, "Content-Type", "application/json");
    headers_add(&h, "Vary", "Origin");
    headers_add(&h, "Content-Length", "5");
    headers_add(&h, "Connection", "close");
    ck_assert_uint_eq(entries(&h), 3);
    const struct evkeyval *first = TAILQ_FIRST(&h);
    ck_assert_str_eq(first->key, "Date");
    char want[512];
    (void)snprintf(want, sizeof(want),
                   "%.*s\r\nX-A: 1\r\nVary: Accept\r\n"
                   "Content-Type: application/json\r\nVary: Origin",
                   HTTPDATE_LEN, first->value);
    ck_assert_str_eq(first->value, want);
    ck_assert_str_eq(evhttp_find_header(&h, "Content-Length"), "5");
    ck_assert_str_eq(evhttp_find_header(&h, "Connection"), "close");
    evhttp_clear_headers(&h); /* libevent frees what headers.c allocated */
}
END_TEST

START_TEST(drops_what_would_split_a_line)
{
    struct evkeyvalq h;
    TAILQ_INIT(&h);
    headers_add(&h, "X-Ok", "before");
    headers_add(&h, "X-Evil", "a\r\nSet-Cookie: x=1");
    headers_add(&h, "X-Evil", "a\nSet-Cookie: x=1");
    headers_add(&h, "X-Evil", "a\rb");
    headers_add(&h, "Bad Name", "1");
    headers_add(&h, "X:Y", "1");
    headers_add(&h, "", "1");
    headers_add(&h, "X-\xc3\xa4", "1");
    headers_add(&h, "X-Ok2", "after");
    const char *v = TAILQ_FIRST(&h)->value;
    ck_assert_uint_eq(count(v, "\r\n"), 2);
    ck_assert_ptr_null(strstr(v, "Evil"));
    ck_assert_ptr_null(strstr(v, "Cookie"));
    ck_assert_ptr_nonnull(strstr(v, "\r\nX-Ok: before\r\nX-Ok2: after"));
    ck_assert_uint_eq(entries(&h), 1);
    evhttp_clear_headers(&h);
}
END_TEST

START_TEST(date_once_and_the_edges)
{
    struct evkeyvalq h;
    TAILQ_INIT(&h);
    headers_date(&h);
    headers_date(&h);
    headers_add(&h, "Date", "Thu, 01 Jan 1970 00:00:00 GMT");
    headers_add(&h, "date", "x");
    ck_assert_uint_eq(entries(&h), 1);
    const char *v = evhttp_find_header(&h, "Date");
    ck_assert_uint_eq(strlen(v), HTTPDATE_LEN);
    ck_assert_ptr_null(strstr(v, "1970"));
    evhttp_clear_headers(&h);
}
END_TEST

START_TEST(grows_past_its_first_allocation)
{
    struct evkeyvalq h;
    TAILQ_INIT(&h);
    char name[32], value[64];
    for (int i = 0; i < 300; i++) {
        (void)snprintf(name, sizeof(name), "X-H%d", i);
        (void)snprintf(value, sizeof(value), "value number %d of three hundred", i);
        headers_add(&h, name, value);
    }
    const char *v = TAILQ_FIRST(&h)->value;
    ck_assert_uint_eq(count(v, "\r\n"), 300);
    const char *at = v;
    for (int i = 0; i < 300; i++) { /* each once, in order */
        char line[128];
        (void)snprintf(line, sizeof(line), "\r\nX-H%d: value number %d of three hundred", i, i);
        const char *p = strstr(at, line);
        ck_assert_msg(p != NULL, "%s missing or out of order", line);
        at = p + strlen(line);
    }
    ck_assert_uint_eq(*at, '\0');
    evhttp_clear_headers(&h);
}
END_TEST

/* The wire: a request answered by a real evhttp server, headers by
 * headers_add. */
static void answer(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    headers_add(h, "X-A", "1");
    headers_add(h, "Content-Type", "application/json");
    headers_add(h, "Content-Length", "2");
    headers_add(h, "X-B", "2");
    evbuffer_add(evhttp_request_get_output_buffer(req), "{}", 2);
    evhttp_send_reply(req, 200, "OK", NULL);
}

START_TEST(same_lines_on_the_wire)
{
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_default_content_type(http, NULL);
    evhttp_set_gencb(http, answer, NULL);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bound);
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &salen),
                     0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, salen), 0);
    static const char ask[] = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
    ck_assert_int_eq(write(fd, ask, sizeof(ask) - 1), (ssize_t)(sizeof(ask) - 1));
    char got[4096];
    size_t n = 0;
    for (int i = 0; i < 1000 && (n < 4 || memcmp(got + n - 2, "{}", 2) != 0); i++) {
        event_base_loop(base, EVLOOP_NONBLOCK); /* the server's turn */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1) == 1) {
            ssize_t r = recv(fd, got + n, sizeof(got) - 1 - n, 0);
            ck_assert_int_gt(r, 0);
            n += (size_t)r;
        }
    }
    got[n] = '\0';
    ck_assert_msg(strncmp(got, "HTTP/1.1 200 OK\r\nDate: ", 23) == 0, "%s", got);
    ck_assert_uint_eq(count(got, "Date: "), 1);
    ck_assert_uint_eq(count(got, "Content-Type: "), 1);
    ck_assert_uint_eq(count(got, "Content-Length: 2\r\n"), 1);
    ck_assert_ptr_nonnull(
        strstr(got, " GMT\r\nX-A: 1\r\nContent-Type: application/json\r\nX-B: 2\r\n"));
    const char *end = strstr(got, "\r\n\r\n");
    ck_assert_ptr_nonnull(end);
    ck_assert_str_eq(end, "\r\n\r\n{}");
    close(fd);
    evhttp_free(http);
    event_base_free(base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("headers");
    TCase *tc = tcase_create("headers");
    tcase_add_test(tc, folds_behind_date);
    tcase_add_test(tc, drops_what_would_split_a_line);
    tcase_add_test(tc, date_once_and_the_edges);
    tcase_add_test(tc, grows_past_its_first_allocation);
    tcase_add_test(tc, same_lines_on_the_wire);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
