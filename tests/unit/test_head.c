/* Unit tests for the edge's request head check and framer (head.h): each
 * RFC 9112 violation libevent would take is refused with its reason, good
 * heads pass with their framing, and the framer walks pipelined requests
 * (Content-Length and chunked bodies) the same way whatever the bytes'
 * split into reads. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "head.h"
#include "run_suite.h"
#include "warren/err.h"

static bool check(const char *head, struct head_info *info, const char **why)
{
    return head_check(head, strlen(head), info, why);
}

static void refused(const char *head, const char *reason)
{
    struct head_info info;
    const char *why = NULL;
    ck_assert_msg(!check(head, &info, &why), "taken: %s", head);
    ck_assert_ptr_nonnull(why);
    ck_assert_msg(strstr(why, reason) != NULL, "%s: %s, want %s", head, why, reason);
}

START_TEST(good_heads)
{
    struct head_info info;
    const char *why = "x";
    ck_assert(check("GET /api/Albums?q=%7B%7D HTTP/1.1\r\nHost: x\r\n\r\n", &info, &why));
    ck_assert_ptr_null(why);
    ck_assert_str_eq(info.method, "GET");
    ck_assert_int_eq(info.body, HEAD_BODY_NONE);
    ck_assert(
        check("POST /api/Albums HTTP/1.1\r\nHost: x\r\ncontent-length:  12 \r\n\r\n", &info, &why));
    ck_assert_int_eq(info.body, HEAD_BODY_LENGTH);
    ck_assert_uint_eq(info.length, 12);
    ck_assert(
        check("PATCH /a HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nhost: x\r\n\r\n", &info, &why));
    ck_assert_int_eq(info.body, HEAD_BODY_CHUNKED);
    /* a length of 0 is no body, on any method; HTTP/1.0; empty values */
    ck_assert(check("HEAD / HTTP/1.0\r\nContent-Length: 0\r\nX-Empty:\r\n\r\n", &info, &why));
    ck_assert_int_eq(info.body, HEAD_BODY_NONE);
    ck_assert(
        check("GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\nX: caf\xc3\xa9\tok\r\n\r\n", &info, &why));
}
END_TEST

START_TEST(bad_request_lines)
{
    refused("GET  / HTTP/1.1\r\n\r\n", "request line");
    refused("GET / a HTTP/1.1\r\n\r\n", "request line");
    refused("GET / HTTP/1.1 \r\n\r\n", "request line");
    refused("GET / HTTP/1.2\r\nHost: x\r\n\r\n", "request line");
    refused("GET / HTTP/2\r\nHost: x\r\n\r\n", "request line");
    refused("GET / HTTP/x.1\r\nHost: x\r\n\r\n", "request line");
    refused("GET / HTTP/1.10\r\n\r\n", "request line");
    refused("G(T / HTTP/1.1\r\n\r\n", "request line");
    refused("GET /\x01 HTTP/1.1\r\n\r\n", "request line");
    refused("\r\nGET / HTTP/1.1\r\n\r\n", "request line");
    refused("GET / HTTP/1.1\n\n", "request line");
}
END_TEST

/* Another major version is told apart: 505, not 400. */
START_TEST(other_versions)
{
    static const char *const heads[] = {"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
                                        "PRI * HTTP/2.0\r\n\r\n", "GET / HTTP/0.9\r\n\r\n",
                                        "GET / HTTP/3.0\r\nHost: x\r\n\r\n"};
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        struct head_info info;
        const char *why = NULL;
        ck_assert(!check(heads[i], &info, &why));
        ck_assert_msg(why == head_why_version, "%s: %s", heads[i], why);
    }
}
END_TEST

START_TEST(bad_fields)
{
    refused("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", "not a token");
    refused("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", "not a token");
    refused("GET / HTTP/1.1\r\n: x\r\n\r\n", "not a token");
    refused("GET / HTTP/1.1\r\nNo colon\r\n\r\n", "not a token");
    refused("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "obs-fold");
    refused("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", "obs-fold");
    refused("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "CRLF");
    refused("GET / HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\n", "CRLF");
    refused("GET / HTTP/1.1\r\nX: a\r\n\n", "CRLF");
    refused("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", "control character");
    refused("GET / HTTP/1.1\r\nHost: a\r\nHOST: b\r\n\r\n", "Host given twice");
    /* none, in HTTP/1.1 (HTTP/1.0 needs none: good_heads) */
    refused("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", "no Host");
    struct head_info info;
    const char *why;
    static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    ck_assert(!head_check(nul, sizeof(nul) - 1, &info, &why));
    ck_assert(strstr(why, "control") != NULL);
    /* bytes past the empty line are not part of a head */
    ck_assert(!check("GET / HTTP/1.1\r\n\r\nX", &info, &why));
}
END_TEST

START_TEST(bad_framing)
{
    refused("HEAD / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", "takes none");
    refused("TRACE / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", "takes none");
    refused("GET / HTTP/1.1\r\nContent-Length: 1\r\n\r\n", "takes none");
    refused("DELETE /a/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "takes none");
    refused("OPTIONS / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "takes none");
    refused("FOO / HTTP/1.1\r\nContent-Length: 3\r\n\r\n", "takes none");
    refused("post / HTTP/1.1\r\nContent-Length: 3\r\n\r\n", "takes none");
    refused("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", "twice");
    refused("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", "twice");
    refused("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n", "plain decimal");
    refused("POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\n", "plain decimal");
    refused("POST / HTTP/1.1\r\nContent-Length: 0x2\r\n\r\n", "plain decimal");
    refused("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "plain decimal");
    refused("POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n", "plain decimal");
    refused("POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", "both");
    refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "other than chunked");
    refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "twice");
    refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.0");
}
END_TEST

/* Feeds all of s, split every `step` bytes; returns the feed's verdict. */
static int feed(struct head_framer *f, const char *s, size_t n, size_t step)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i += step)
        rc = head_framer_feed(f, s + i, n - i < step ? n - i : step);
    return rc;
}

START_TEST(framer_walks_pipelines)
{
    static const char stream[] =
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
        "GET /" /* the body */
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        "PUT /a/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n"
        "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n";
    for (size_t step = 1; step <= sizeof(stream); step++) {
        struct head_framer f;
        head_framer_init(&f, 4096);
        ck_assert_int_eq(feed(&f, stream, sizeof(stream) - 1, step), 0);
        ck_assert_uint_eq(f.requests, 4);
        ck_assert(head_framer_idle(&f));
        ck_assert_str_eq(f.info.method, "HEAD");
        head_framer_release(&f);
    }
    /* a HEAD with a length: refused at its head, before its "body" */
    struct head_framer f;
    head_framer_init(&f, 4096);
    static const char smuggle[] =
        "GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nContent-Length: 40\r\n"
        "\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(feed(&f, smuggle, sizeof(smuggle) - 1, 7), WR_EINVAL);
    ck_assert_uint_eq(f.requests, 1);
    ck_assert(strstr(f.why, "takes none") != NULL);
    ck_assert_int_eq(head_framer_feed(&f, "x", 1), WR_EINVAL); /* stays bad */
    head_framer_release(&f);
    head_framer_release(NULL);
}
END_TEST

START_TEST(framer_bad_chunks)
{
    static const char *const bad[] = {
        "5;ext=1\r\nabcde\r\n0\r\n\r\n", /* extensions: libevent refuses them */
        "0x5\r\nabcde\r\n0\r\n\r\n",     /* strtoll would read 0x */
        " 5\r\nabcde\r\n0\r\n\r\n",      "5 \r\nabcde\r\n0\r\n\r\n",
        "5\nabcde\r\n0\r\n\r\n",         "5\r\nabcdef\r\n0\r\n\r\n",
        "5\r\nabcde\r\n\r\n0\r\n\r\n",   "5\r\nabcde\r\n0\r\nX-T: 1\r\n\r\n",
        "1000000000000000\r\n",
    };
    static const char head[] = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct head_framer f;
        head_framer_init(&f, 4096);
        ck_assert_int_eq(head_framer_feed(&f, head, sizeof(head) - 1), 0);
        ck_assert_msg(head_framer_feed(&f, bad[i], strlen(bad[i])) == WR_EINVAL, "taken: %s",
                      bad[i]);
        head_framer_release(&f);
    }
}
END_TEST

START_TEST(framer_gives_up_past_its_limit)
{
    struct head_framer f;
    head_framer_init(&f, 64);
    char big[200];
    int n = snprintf(big, sizeof(big), "GET /%0150d HTTP/1.1\r\nX : y\r\n\r\n", 1);
    ck_assert_int_eq(head_framer_feed(&f, big, (size_t)n), 0);
    ck_assert(head_framer_gave_up(&f));
    ck_assert_uint_eq(f.requests, 0);
    head_framer_release(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("head");
    TCase *t = tcase_create("head");
    tcase_add_test(t, good_heads);
    tcase_add_test(t, bad_request_lines);
    tcase_add_test(t, other_versions);
    tcase_add_test(t, bad_fields);
    tcase_add_test(t, bad_framing);
    tcase_add_test(t, framer_walks_pipelines);
    tcase_add_test(t, framer_bad_chunks);
    tcase_add_test(t, framer_gives_up_past_its_limit);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
