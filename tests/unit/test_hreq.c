/* Unit tests for the edge server's requests (hreq.c, behind httpd.h): a
 * checked head read into its method, target, path, query, fields and
 * body (chunked bodies decoded); keep-alive by version and Connection;
 * and an answer's head: Date first, the headers in the order given, one
 * of each framing header (the server's own, whatever a caller adds), and
 * nothing that could split a line. */
#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "head.h"
#include "httpd_int.h"
#include "httpdate.h"
#include "run_suite.h"

/* The request in raw (a head and body head.h passes), read as the server
 * reads it. */
static struct hreq *read_raw(const char *raw)
{
    struct evbuffer *in = evbuffer_new();
    ck_assert_int_eq(evbuffer_add(in, raw, strlen(raw)), 0);
    const char *end = strstr(raw, "\r\n\r\n");
    ck_assert_ptr_nonnull(end);
    size_t head_len = (size_t)(end - raw) + 4;
    struct head_info info;
    const char *why = NULL;
    ck_assert_msg(head_check(raw, head_len, &info, &why), "%s", why);
    uint64_t declared = 0;
    struct chunk_scan scan = {0};
    size_t wire = info.body == HEAD_BODY_CHUNKED  ? hreq_chunked_len(in, head_len, &scan, &declared)
                  : info.body == HEAD_BODY_LENGTH ? (size_t)info.length
                                                  : 0;
    ck_assert_uint_eq(head_len + wire, strlen(raw));
    struct hreq *r = hreq_read(in, head_len, &info, wire);
    ck_assert_ptr_nonnull(r);
    evbuffer_free(in);
    return r;
}

/* The answer head req would send for status, as a string (static). */
static const char *head_of(struct hreq *req, int status, bool has_length, size_t length)
{
    static char got[32768];
    struct evbuffer *out = evbuffer_new();
    hreq_write_head(req, out, status, has_length, length);
    size_t n = evbuffer_get_length(out);
    ck_assert_uint_lt(n, sizeof(got));
    evbuffer_remove(out, got, n);
    got[n] = '\0';
    evbuffer_free(out);
    return got;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(reads_the_head)
{
    struct hreq *r = read_raw("GET /api/Albums?q=%7B%7D&page=2#frag HTTP/1.1\r\n"
                              "Host: x\r\nX-A:  padded \t\r\nx-a: second\r\n\r\n");
    ck_assert_int_eq(hreq_method(r), EVHTTP_REQ_GET);
    ck_assert_str_eq(hreq_target(r), "/api/Albums?q=%7B%7D&page=2#frag");
    ck_assert_str_eq(hreq_path(r), "/api/Albums");
    ck_assert_str_eq(hreq_query(r), "q=%7B%7D&page=2");
    ck_assert_uint_eq(hreq_header_count(r), 3);
    ck_assert_str_eq(hreq_header(r, "x-a"), "padded"); /* the first, trimmed */
    const char *name, *value;
    hreq_header_at(r, 2, &name, &value);
    ck_assert_str_eq(name, "x-a");
    ck_assert_str_eq(value, "second");
    ck_assert_ptr_null(hreq_header(r, "X-B"));
    size_t len = 1;
    ck_assert_str_eq(hreq_body(r, &len), "");
    ck_assert_uint_eq(len, 0);
    ck_assert(!hreq_closes(r));
    hreq_free(r);
}
END_TEST

START_TEST(targets_of_other_forms)
{
    struct hreq *r =
        read_raw("GET http://example.com:8080/api/Artists?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_str_eq(hreq_path(r), "/api/Artists");
    ck_assert_str_eq(hreq_query(r), "x=1");
    hreq_free(r);
    r = read_raw("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(hreq_method(r), EVHTTP_REQ_OPTIONS);
    ck_assert_str_eq(hreq_path(r), "*");
    ck_assert_ptr_null(hreq_query(r));
    hreq_free(r);
    r = read_raw("GET /a? HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_str_eq(hreq_path(r), "/a");
    ck_assert_str_eq(hreq_query(r), "");
    hreq_free(r);
}
END_TEST

START_TEST(bodies)
{
    struct hreq *r = read_raw("POST /api/Albums HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n"
                              "{\"a\":1}");
    size_t len = 0;
    ck_assert_str_eq(hreq_body(r, &len), "{\"a\":1}");
    ck_assert_uint_eq(len, 7);
    hreq_free(r);
    r = read_raw("POST /api/Albums HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\n{\"a\r\na\r\n\":1234567}\r\n0\r\n\r\n");
    ck_assert_str_eq(hreq_body(r, &len), "{\"a\":1234567}");
    ck_assert_uint_eq(len, 13);
    hreq_free(r);
}
END_TEST

/* A chunked body is all there only with its last chunk and the CRLF after
 * it. */
START_TEST(chunked_length_waits_for_the_end)
{
    static const char *parts[] = {"5\r\nhello\r\n", "0\r\n", "\r\n"};
    struct evbuffer *in = evbuffer_new();
    uint64_t declared = 1;
    struct chunk_scan scan = {0};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(hreq_chunked_len(in, 0, &scan, &declared), 0);
        evbuffer_add(in, parts[i], strlen(parts[i]));
    }
    ck_assert_uint_eq(hreq_chunked_len(in, 0, &scan, &declared), 15);
    ck_assert_uint_eq(declared, 5);
    evbuffer_add(in, "GET", 3); /* the next request does not count */
    ck_assert_uint_eq(hreq_chunked_len(in, 0, &scan, &declared), 15);
    evbuffer_drain(in, evbuffer_get_length(in));
    scan = (struct chunk_scan){0}; /* the next request's body */
    evbuffer_add(in, "1", 1);      /* a size line cut in two */
    ck_assert_uint_eq(hreq_chunked_len(in, 0, &scan, &declared), 0);
    ck_assert_uint_eq(declared, 1);
    evbuffer_add(in, "00000\r\n{", 8); /* a size is known before its data */
    ck_assert_uint_eq(hreq_chunked_len(in, 0, &scan, &declared), 0);
    ck_assert_uint_eq(declared, 0x100000);
    evbuffer_free(in);
}
END_TEST

/* A body trickling in, a chunk a read, is read a chunk once: the chunks
 * already counted are not read again (here they are overwritten after
 * each call, and the length still comes out right), nor is the input made
 * one block (its first chain stays one chunk long). Before, each read
 * rescanned the whole body: a client sending 1.6 MB of one-byte chunks
 * in small writes cost the edge 6 s of CPU. */
START_TEST(chunked_length_reads_each_chunk_once)
{
    struct evbuffer *in = evbuffer_new();
    const char *head = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t from = strlen(head);
    evbuffer_add(in, head, from);
    struct chunk_scan scan = {0};
    uint64_t declared = 0;
    enum { CHUNKS = 1000 };
    for (int i = 0; i < CHUNKS; i++) {
        evbuffer_add(in, "3\r\nabc\r\n", 8);
        ck_assert_uint_eq(hreq_chunked_len(in, from, &scan, &declared), 0);
        ck_assert_uint_eq(declared, 3u * (unsigned)(i + 1));
        ck_assert_uint_eq(scan.at, from + 8u * (unsigned)(i + 1));
        /* the chunk just counted, made unreadable as a chunk */
        struct evbuffer_ptr at;
        ck_assert_int_eq(evbuffer_ptr_set(in, &at, from + 8u * (unsigned)i, EVBUFFER_PTR_SET), 0);
        struct evbuffer_iovec v;
        ck_assert_int_eq(evbuffer_peek(in, 1, &at, &v, 1), 1);
        memset(v.iov_base, 'z', 1);
    }
    ck_assert_uint_lt(evbuffer_get_contiguous_space(in), from + 8u * CHUNKS);
    evbuffer_add(in, "0\r\n\r\n", 5);
    ck_assert_uint_eq(hreq_chunked_len(in, from, &scan, &declared), 8u * CHUNKS + 5);
    ck_assert_uint_eq(declared, 3u * CHUNKS);
    evbuffer_free(in);
}
END_TEST

START_TEST(keep_alive_by_version_and_connection)
{
    static const struct {
        const char *raw;
        bool closes;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n", false},
        {"GET / HTTP/1.0\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hreq *r = read_raw(cases[i].raw);
        ck_assert_msg(hreq_closes(r) == cases[i].closes, "case %zu: %s", i, cases[i].raw);
        hreq_free(r);
    }
}
END_TEST

START_TEST(answer_head)
{
    struct hreq *r = read_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    hreq_header_add(r, "X-A", "1");
    hreq_header_add(r, "Content-Type", "application/json");
    hreq_header_add(r, "Vary", "Accept");
    hreq_header_add(r, "Content-Length", "999"); /* the server's own */
    hreq_header_add(r, "Transfer-Encoding", "chunked");
    hreq_header_add(r, "Date", "Thu, 01 Jan 1970 00:00:00 GMT");
    hreq_header_add(r, "Keep-Alive", "timeout=5");
    const char *got = head_of(r, 200, true, 42);
    char want[512];
    (void)snprintf(want, sizeof(want),
                   "HTTP/1.1 200 OK\r\nDate: %.*s\r\nX-A: 1\r\nContent-Type: application/json\r\n"
                   "Vary: Accept\r\nContent-Length: 42\r\n\r\n",
                   HTTPDATE_LEN, got + 23);
    ck_assert_str_eq(got, want);
    ck_assert_ptr_null(strstr(got, "1970"));
    ck_assert(!hreq_closes(r));
    hreq_header_add(r, "Connection", "close"); /* a caller's close closes */
    ck_assert(hreq_closes(r));
    got = head_of(r, 304, false, 0);
    ck_assert_uint_eq(count(got, "Connection: close\r\n"), 1);
    ck_assert_uint_eq(count(got, "Content-Length"), 0);
    hreq_free(r);
}
END_TEST

START_TEST(http10_answers)
{
    struct hreq *r = read_raw("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const char *got = head_of(r, 404, true, 3);
    ck_assert_msg(strncmp(got, "HTTP/1.0 404 Not Found\r\n", 24) == 0, "%s", got);
    ck_assert_uint_eq(count(got, "Connection: keep-alive\r\n"), 1);
    hreq_free(r);
}
END_TEST

START_TEST(drops_what_would_split_a_line)
{
    struct hreq *r = read_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    hreq_header_add(r, "X-Ok", "before");
    hreq_header_add(r, "X-Evil", "a\r\nSet-Cookie: x=1");
    hreq_header_add(r, "X-Evil", "a\nSet-Cookie: x=1");
    hreq_header_add(r, "X-Evil", "a\rb");
    hreq_header_add(r, "Bad Name", "1");
    hreq_header_add(r, "X:Y", "1");
    hreq_header_add(r, "", "1");
    hreq_header_add(r, "X-\xc3\xa4", "1");
    hreq_header_add(r, "X-Ok2", "after");
    const char *got = head_of(r, 200, true, 0);
    ck_assert_ptr_null(strstr(got, "Evil"));
    ck_assert_ptr_null(strstr(got, "Cookie"));
    ck_assert_ptr_nonnull(strstr(got, "\r\nX-Ok: before\r\nX-Ok2: after\r\n"));
    ck_assert_uint_eq(count(got, "\r\n"), 6); /* status, Date, 2, length, end */
    hreq_free(r);
}
END_TEST

START_TEST(grows_past_its_first_allocation)
{
    struct hreq *r = read_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    char name[32], value[64];
    for (int i = 0; i < 300; i++) {
        (void)snprintf(name, sizeof(name), "X-H%d", i);
        (void)snprintf(value, sizeof(value), "value-%d-%040d", i, i);
        hreq_header_add(r, name, value);
    }
    const char *got = head_of(r, 200, true, 0);
    const char *at = got;
    for (int i = 0; i < 300; i++) {
        char line[128];
        (void)snprintf(line, sizeof(line), "X-H%d: value-%d-%040d\r\n", i, i, i);
        const char *p = strstr(at, line);
        ck_assert_msg(p != NULL, "%s missing or out of order", line);
        at = p + strlen(line);
    }
    hreq_free(r);
}
END_TEST

START_TEST(expects_continue)
{
    static const struct {
        const char *head;
        bool expects;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", true},
        {"POST / HTTP/1.1\r\nHost: x\r\nexpect:100-Continue\r\n\r\n", true},
        {"POST / HTTP/1.1\r\nHost: x\r\n\r\n", false},
        {"POST / HTTP/1.1\r\nX-Expect: 100-continue\r\n\r\n", false},
        {"POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", false},
        {"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", false}, /* 1.0 knows no 100 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(hreq_head_expects_continue(cases[i].head, strlen(cases[i].head)) ==
                          cases[i].expects,
                      "case %zu", i);
}
END_TEST

START_TEST(chunk_lines)
{
    char line[24];
    ck_assert_uint_eq(hreq_chunk_line(1, line), 3);
    ck_assert_int_eq(memcmp(line, "1\r\n", 3), 0);
    ck_assert_uint_eq(hreq_chunk_line(0x1a2b, line), 6);
    ck_assert_int_eq(memcmp(line, "1a2b\r\n", 6), 0);
    ck_assert_uint_eq(hreq_chunk_line(4096, line), 6);
    ck_assert_int_eq(memcmp(line, "1000\r\n", 6), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hreq");
    TCase *t = tcase_create("hreq");
    tcase_add_test(t, reads_the_head);
    tcase_add_test(t, targets_of_other_forms);
    tcase_add_test(t, bodies);
    tcase_add_test(t, chunked_length_waits_for_the_end);
    tcase_add_test(t, chunked_length_reads_each_chunk_once);
    tcase_add_test(t, keep_alive_by_version_and_connection);
    tcase_add_test(t, answer_head);
    tcase_add_test(t, http10_answers);
    tcase_add_test(t, drops_what_would_split_a_line);
    tcase_add_test(t, grows_past_its_first_allocation);
    tcase_add_test(t, expects_continue);
    tcase_add_test(t, chunk_lines);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
