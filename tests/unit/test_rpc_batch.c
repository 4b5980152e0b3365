/* Proto v2's batch envelope: requests and replies round-trip byte for byte
 * (envelopes and bodies with escapes and non-ASCII text), what cannot
 * travel exactly is refused by the encoder with the batch unchanged, a
 * full batch refuses more, the decoder reads any JSON spelling of a batch
 * and refuses every malformed batch whole (version, list, members, ids,
 * types, integers, headers, strings, JSON itself); a reply body that is
 * JSON travels as JSON. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "run_suite.h"
#include "warren/rpc_batch.h"

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"

static struct wr_msg request(const char *id, const char *envelope)
{
    struct wr_msg m = {.message_id = id,
                       .correlation_id = id,
                       .type = "list",
                       .expiration_ms = 5000,
                       .deadline_ms = 1700000000123LL,
                       .hdrs = {{"x-base-url", "http://h:1"},
                                {"x-principal", "anonymous"},
                                {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-"
                                                "b7ad6b7169203331-01"}},
                       .nhdrs = 3,
                       .body = envelope,
                       .len = strlen(envelope)};
    return m;
}

START_TEST(requests_round_trip)
{
    static const char e1[] =
        "{\"collection\":\"Albums\",\"op\":\"list\",\"q\":\"\\\"\\u00e9\\n\",\"v\":1}";
    static const char e2[] = "{\"collection\":\"Caf\xc3\xa9\",\"id\":\"1\",\"op\":\"get\",\"v\":1}";
    struct wr_batch_enc e;
    wr_batch_enc_init(&e, false, 1 << 20);
    struct wr_msg a = request(ID1, e1), b = request(ID2, e2);
    b.type = "get";
    b.expiration_ms = -1;
    b.deadline_ms = 0;
    b.nhdrs = 0;
    ck_assert_int_eq(wr_batch_enc_add(&e, &a), 0);
    ck_assert_int_eq(wr_batch_enc_add(&e, &b), 0);
    size_t len;
    const char *body = wr_batch_enc_finish(&e, &len);
    ck_assert_ptr_nonnull(body);
    struct wr_batch d;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_batch_decode(body, len, false, &d, &err), 0);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_str_eq(d.items[0].message_id, ID1);
    ck_assert_str_eq(d.items[0].correlation_id, ID1);
    ck_assert_str_eq(d.items[0].type, "list");
    ck_assert_int_eq(d.items[0].expiration_ms, 5000);
    ck_assert_int_eq(d.items[0].deadline_ms, 1700000000123LL);
    ck_assert_uint_eq(d.items[0].len, strlen(e1));
    ck_assert(memcmp(d.items[0].body, e1, strlen(e1)) == 0);
    ck_assert_uint_eq(d.items[0].nhdrs, 3);
    ck_assert_str_eq(d.items[0].hdrs[1].name, "x-principal");
    ck_assert_str_eq(d.items[0].hdrs[1].value, "anonymous");
    ck_assert_str_eq(d.items[1].type, "get");
    ck_assert_int_eq(d.items[1].expiration_ms, -1);
    ck_assert_int_eq(d.items[1].deadline_ms, 0);
    ck_assert_uint_eq(d.items[1].nhdrs, 0);
    ck_assert(memcmp(d.items[1].body, e2, strlen(e2)) == 0);
    /* a request batch is no reply batch */
    struct wr_batch r;
    ck_assert_int_eq(wr_batch_decode(body, len, true, &r, &err), WR_EINVAL);
    wr_batch_release(&d);
    wr_batch_release(&d); /* safe twice */
    /* reset: a new batch from empty */
    wr_batch_enc_reset(&e);
    ck_assert_ptr_null(wr_batch_enc_finish(&e, &len));
    wr_batch_enc_release(&e);
}
END_TEST

START_TEST(replies_round_trip)
{
    static const char page[] =
        "{\"num_results\":1,\"objects\":[{\"title\":\"\\u00e9 \\\"x\\\"\"}]}\n";
    struct wr_batch_enc e;
    wr_batch_enc_init(&e, true, 1 << 20);
    struct wr_msg a = {.correlation_id = ID1,
                       .status = 200,
                       .hdrs = {{"link", "</api/Albums?page=2>; rel=\"next\""}, {"x-cache", "off"}},
                       .nhdrs = 2,
                       .body = page,
                       .len = strlen(page)};
    struct wr_msg b = {.correlation_id = ID2, .status = 404, .body = "{}", .len = 2};
    ck_assert_int_eq(wr_batch_enc_add(&e, &a), 0);
    ck_assert_int_eq(wr_batch_enc_add(&e, &b), 0);
    size_t len;
    const char *body = wr_batch_enc_finish(&e, &len);
    struct wr_batch d;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_batch_decode(body, len, true, &d, &err), 0);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_str_eq(d.items[0].correlation_id, ID1);
    ck_assert_int_eq(d.items[0].status, 200);
    ck_assert_uint_eq(d.items[0].len, strlen(page));
    ck_assert(memcmp(d.items[0].body, page, strlen(page)) == 0);
    ck_assert_str_eq(d.items[0].hdrs[0].value, "</api/Albums?page=2>; rel=\"next\"");
    ck_assert_int_eq(d.items[1].status, 404);
    wr_batch_release(&d);
    wr_batch_enc_release(&e);
}
END_TEST

START_TEST(encoder_refuses)
{
    struct wr_batch_enc e;
    wr_batch_enc_init(&e, false, 1 << 20);
    struct wr_msg ok = request(ID1, "{}");
    ck_assert_int_eq(wr_batch_enc_add(&e, &ok), 0);
    size_t before = e.buf.len;
    struct wr_msg m = request("not-an-id", "{}");
    ck_assert_int_eq(wr_batch_enc_add(&e, &m), WR_EINVAL);
    m = request(ID2, "\xff\xfe"); /* not UTF-8: wr_json_str would change it */
    ck_assert_int_eq(wr_batch_enc_add(&e, &m), WR_EINVAL);
    m = request(ID2, "{}");
    m.len = 3; /* the NUL */
    ck_assert_int_eq(wr_batch_enc_add(&e, &m), WR_EINVAL);
    m = request(ID2, "{}");
    m.type = "Not an op";
    ck_assert_int_eq(wr_batch_enc_add(&e, &m), WR_EINVAL);
    m = request(ID2, "{}");
    m.hdrs[0].name = "X-Upper";
    ck_assert_int_eq(wr_batch_enc_add(&e, &m), WR_EINVAL);
    ck_assert_uint_eq(e.buf.len, before);
    ck_assert_uint_eq(e.n, 1);
    /* over max_bytes: WR_ENOMEM, the batch as it was and still usable */
    struct wr_batch_enc small;
    wr_batch_enc_init(&small, false, 400);
    ck_assert_int_eq(wr_batch_enc_add(&small, &ok), 0);
    size_t n = small.buf.len;
    static char big[600];
    memset(big, 'a', sizeof(big) - 1);
    m = request(ID2, big);
    ck_assert_int_eq(wr_batch_enc_add(&small, &m), WR_ENOMEM);
    ck_assert_uint_eq(small.buf.len, n);
    size_t len;
    const char *body = wr_batch_enc_finish(&small, &len);
    struct wr_batch d;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_batch_decode(body, len, false, &d, &err), 0);
    ck_assert_uint_eq(d.n, 1);
    wr_batch_release(&d);
    wr_batch_enc_release(&small);
    /* a reply's status out of range */
    struct wr_batch_enc r;
    wr_batch_enc_init(&r, true, 1 << 20);
    struct wr_msg rep = {.correlation_id = ID1, .status = 0, .body = "{}", .len = 2};
    ck_assert_int_eq(wr_batch_enc_add(&r, &rep), WR_EINVAL);
    wr_batch_enc_release(&r);
    /* full */
    wr_batch_enc_reset(&e);
    for (int i = 0; i < WR_RPC_BATCH_ITEMS_MAX; i++)
        ck_assert_int_eq(wr_batch_enc_add(&e, &ok), 0);
    ck_assert_int_eq(wr_batch_enc_add(&e, &ok), WR_EINVAL);
    body = wr_batch_enc_finish(&e, &len);
    ck_assert_int_eq(wr_batch_decode(body, len, false, &d, &err), 0);
    ck_assert_uint_eq(d.n, WR_RPC_BATCH_ITEMS_MAX);
    wr_batch_release(&d);
    wr_batch_enc_release(&e);
}
END_TEST

/* Each of the n texts decodes (as a reply batch when it says "replies")
 * to WR_EINVAL, the batch left empty and the message prefixed "batch: ". */
static void assert_refused(const char *const *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct wr_batch d = {.n = 7};
        struct wr_err err = {0};
        bool reply = strstr(bad[i], "replies") != NULL;
        ck_assert_msg(wr_batch_decode(bad[i], strlen(bad[i]), reply, &d, &err) == WR_EINVAL,
                      "accepted %zu: %s", i, bad[i]);
        ck_assert_uint_eq(d.n, 0);
        ck_assert_ptr_null(d.store);
        ck_assert(strncmp(err.msg, "batch: ", 7) == 0);
        /* a skimming reader refuses them too: none has a json_bytes to trust */
        ck_assert_msg(!reply || wr_batch_decode_skim(bad[i], strlen(bad[i]), &d, &err) == WR_EINVAL,
                      "skim accepted %zu: %s", i, bad[i]);
    }
}

#define ITEM(extra)                                                                                \
    "{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},\"id\":\"" ID1     \
    "\",\"type\":\"list\"" extra "}"

START_TEST(header_names)
{
    ck_assert(wr_batch_hdr_name_ok("link"));
    ck_assert(wr_batch_hdr_name_ok("x-cache-0"));
    ck_assert(!wr_batch_hdr_name_ok(NULL));
    ck_assert(!wr_batch_hdr_name_ok(""));
    ck_assert(!wr_batch_hdr_name_ok("Link")); /* lower case only */
    ck_assert(!wr_batch_hdr_name_ok("x_cache"));
    ck_assert(!wr_batch_hdr_name_ok("x cache"));
    ck_assert(!wr_batch_hdr_name_ok("caf\xc3\xa9"));
    char name[80];
    memset(name, 'a', sizeof(name));
    name[64] = '\0';
    ck_assert(wr_batch_hdr_name_ok(name)); /* 64: the most */
    name[64] = 'a';
    name[65] = '\0';
    ck_assert(!wr_batch_hdr_name_ok(name));
}
END_TEST

START_TEST(decoder_refuses)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"batch\":[" ITEM("") "]}",                 /* no v */
        "{\"batch\":[" ITEM("") "],\"v\":1}",         /* v1 */
        "{\"batch\":[" ITEM("") "],\"v\":2.0}",       /* not an integer */
        "{\"batch\":[],\"v\":2}",                     /* empty */
        "{\"batch\":{},\"v\":2}",                     /* not a list */
        "{\"batch\":[" ITEM("") "],\"v\":2,\"x\":1}", /* unknown member */
        "{\"batch\":[" ITEM("") "],\"v\":2,\"v\":2}", /* twice */
        "{\"batch\":[" ITEM(",\"x\":1") "],\"v\":2}", /* unknown item member */
        /* a member misspelled, beginning as the known one does */
        "{\"batch\":[{\"deadline\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}",
        "{\"batch\":[{\"deadline_ms\":0,\"envelopes\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}",
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"exp\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}",
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"idx\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}",
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"t\":\"list\"}],\"v\":2}",
        "{\"replies\":[{\"jsonx\":{},\"headers\":{},\"id\":\"" ID1 "\",\"status\":200}],\"v\":2}",
        "{\"replies\":[{\"json_b\":2,\"json\":{},\"headers\":{},\"id\":\"" ID1
        "\",\"status\":200}],\"v\":2}",
        "{\"replies\":[{\"bodies\":\"{}\",\"headers\":{},\"id\":\"" ID1 "\",\"status\":200}],"
        "\"v\":2}",
        "{\"replies\":[{\"body\":\"{}\",\"h\":{},\"id\":\"" ID1 "\",\"status\":200}],\"v\":2}",
        "{\"replies\":[{\"body\":\"{}\",\"headers\":{},\"id\":\"" ID1 "\",\"stat\":200}],"
        "\"v\":2}",
        "{\"batch\":[1],\"v\":2}", /* not an object */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"kind\":\"list\"}],\"v\":2}", /* type missing */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"ABC\",\"type\":\"list\"}],\"v\":2}", /* not a request id */
        "{\"batch\":[{\"deadline_ms\":-5,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}", /* negative deadline */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":{},\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}", /* envelope not a string */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"type\":\"Li st\"}],\"v\":2}", /* type not an op name */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,"
        "\"headers\":{\"X\":\"y\"},\"id\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}", /* name */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,"
        "\"headers\":{\"x\":1},\"id\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}", /* value */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,"
        "\"headers\":{\"a\":\"\",\"b\":\"\",\"c\":\"\",\"d\":\"\",\"e\":\"\",\"f\":\"\",\"g\":\"\","
        "\"h\":\"\",\"i\":\"\"},\"id\":\"" ID1 "\",\"type\":\"list\"}],\"v\":2}", /* 9 headers */
        "{\"replies\":[{\"body\":\"{}\",\"headers\":{},\"id\":\"" ID1 "\",\"status\":99}],\"v\":2}",
    };
    assert_refused(bad, sizeof(bad) / sizeof(bad[0]));
    static const char ok[] = "{\"batch\":[" ITEM("") "],\"v\":2}";
    struct wr_batch d;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_batch_decode(ok, strlen(ok), false, &d, &err), 0);
    wr_batch_release(&d);
    /* too many items */
    struct wr_buf b;
    wr_buf_init(&b, 1 << 20);
    wr_buf_puts(&b, "{\"batch\":[");
    for (int i = 0; i <= WR_RPC_BATCH_ITEMS_MAX; i++)
        wr_buf_printf(&b, "%s" ITEM(""), i ? "," : "");
    wr_buf_puts(&b, "],\"v\":2}");
    ck_assert_int_eq(wr_batch_decode(b.data, b.len, false, &d, &err), WR_EINVAL);
    wr_buf_release(&b);
}
END_TEST

/* Any JSON spelling of a batch reads the same: white space between tokens,
 * members in any order, every escape (a surrogate pair to one code point);
 * and what JSON or the batch forbids is refused: a lone surrogate, an
 * escaped NUL, a raw control character, a duplicate header, a number with
 * a fraction, an exponent or a leading zero, anything after the object. */
START_TEST(decoder_reads_any_spelling)
{
    static const char spelled[] =
        " { \"v\" : 2 ,\n\"replies\" :\t[ { \"status\" : 200 , \"id\" : \"\\u0030123456789abcdef"
        "0123456789abcdef\" , \"headers\" : { \"x-a\" : \"\\\"\\\\\\/\\b\\f\\n\\r\\t\" } , "
        "\"body\" : \"caf\\u00e9 \\ud83c\\udfb5 \xe2\x82\xac\" } ] }\r\n";
    struct wr_batch d;
    struct wr_err err = {0};
    ck_assert_msg(wr_batch_decode(spelled, strlen(spelled), true, &d, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.items[0].correlation_id, ID1);
    ck_assert_int_eq(d.items[0].status, 200);
    ck_assert_uint_eq(d.items[0].nhdrs, 1);
    ck_assert_str_eq(d.items[0].hdrs[0].name, "x-a");
    ck_assert_str_eq(d.items[0].hdrs[0].value, "\"\\/\b\f\n\r\t");
    static const char body[] = "caf\xc3\xa9 \xf0\x9f\x8e\xb5 \xe2\x82\xac";
    ck_assert_uint_eq(d.items[0].len, sizeof(body) - 1);
    ck_assert(memcmp(d.items[0].body, body, sizeof(body) - 1) == 0);
    wr_batch_release(&d);

#define REPLY(body, hdrs, status, after)                                                           \
    "{\"replies\":[{\"body\":\"" body "\",\"headers\":{" hdrs "},\"id\":\"" ID1                    \
    "\",\"status\":" status "}],\"v\":2}" after
    static const char *const bad[] = {
        REPLY("\\ud83c", "", "200", ""),                     /* a lone high surrogate */
        REPLY("\\udfb5", "", "200", ""),                     /* a lone low one */
        REPLY("\\ud83c\\u0041", "", "200", ""),              /* high, then no low */
        REPLY("a\\u0000b", "", "200", ""),                   /* NUL */
        REPLY("a\nb", "", "200", ""),                        /* a raw control character */
        REPLY("\\x41", "", "200", ""),                       /* no such escape */
        REPLY("\\u00g1", "", "200", ""),                     /* not hex */
        REPLY("\xc3(", "", "200", ""),                       /* ill-formed UTF-8 */
        REPLY("", "\"x-a\":\"1\",\"x-a\":\"2\"", "200", ""), /* a header twice */
        REPLY("", "", "200.0", ""),                          /* a fraction */
        REPLY("", "", "2e2", ""),                            /* an exponent */
        REPLY("", "", "0200", ""),                           /* a leading zero */
        REPLY("", "", "-", ""),                              /* no digits */
        REPLY("", "", "200", "x"),                           /* after the object */
        REPLY("", "", "200", "{}"),                          /* a second value */
        "{\"replies\":[{\"body\":\"\",\"headers\":{},\"id\":\"" ID1 "\",\"status\":200},],\"v\":2}",
        "{\"replies\":[{\"body\":\"\",\"headers\":{},\"id\":\"" ID1 "\",\"status\":200}],\"v\":2",
        "{\"replies\":[{\"body\":\"\",\"headers\":{},\"id\":\"" ID1 "\",\"status\":200}],"
        "\"v\":20000000000000000000000}",
        "{\"replies\":[{\"body\":\"\",\"headers\":{},\"id\":\"" ID1 "\",\"status\":200}],"
        "\"replies\":[],\"v\":2}",
    };
#undef REPLY
    assert_refused(bad, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

/* The body of reply m, encoded alone and decoded: whether it went as JSON
 * ("json") and that it came back byte for byte. */
static bool went_as_json(const char *body, size_t len)
{
    struct wr_batch_enc e;
    wr_batch_enc_init(&e, true, 1 << 20);
    struct wr_msg m = {.correlation_id = ID1, .status = 200, .body = body, .len = len};
    ck_assert_int_eq(wr_batch_enc_add(&e, &m), 0);
    size_t n;
    const char *batch = wr_batch_enc_finish(&e, &n);
    bool json = strstr(batch, "\"json\":") != NULL;
    ck_assert(json != (strstr(batch, "\"body\":") != NULL));
    if (json) { /* its length, before it */
        char len_member[64];
        (void)snprintf(len_member, sizeof(len_member), "\"json_bytes\":%zu,\"json\":", len);
        ck_assert_msg(strstr(batch, len_member) != NULL, "%s", batch);
    }
    struct wr_batch d;
    struct wr_err err = {0};
    ck_assert_msg(wr_batch_decode(batch, n, true, &d, &err) == 0, "%s: %s", batch, err.msg);
    ck_assert_uint_eq(d.items[0].len, len);
    ck_assert(memcmp(d.items[0].body, body, len) == 0);
    ck_assert(((const char *)d.items[0].body)[len] == '\0');
    wr_batch_release(&d);
    ck_assert_int_eq(wr_batch_decode_skim(batch, n, &d, &err), 0); /* the edge's reader */
    ck_assert_uint_eq(d.items[0].len, len);
    ck_assert(memcmp(d.items[0].body, body, len) == 0);
    wr_batch_release(&d);
    wr_batch_enc_release(&e);
    return json;
}

/* A reply body that is one JSON value (with white space around it or not)
 * travels as itself, white space and escapes as they were; anything else
 * (other text around it, not JSON, JSON a reader could take otherwise) as
 * a string. Either way the edge gets the same bytes. */
START_TEST(json_bodies_travel_as_json)
{
    static const char *const as_json[] = {
        "{\"num_results\":1,\"objects\":[{\"Title\":\"\\u00e9 \\\"x\\\" caf\xc3\xa9\"}]}",
        "{ \"a\" : [ 1, -2.5e+3, true, false, null ],\n\t\"b\": {} }",
        "\"a\\u0000b\"", /* an escaped NUL: JSON text without a NUL byte */
        "[]",
        "0",
        "{}\n",        /* a page: a newline after it */
        " \r\n[1]\t ", /* white space around it */
    };
    for (size_t i = 0; i < sizeof(as_json) / sizeof(as_json[0]); i++)
        ck_assert_msg(went_as_json(as_json[i], strlen(as_json[i])), "as a string: %s", as_json[i]);
    static const char *const as_string[] = {
        "  \n",          /* white space alone */
        "{} x",          /* text after it */
        "AlbumId,Title", /* CSV */
        "[1,]",          /* not JSON */
        "\"\\ud800\"",   /* a lone surrogate escape */
        "{}{}",          /* two values */
    };
    for (size_t i = 0; i < sizeof(as_string) / sizeof(as_string[0]); i++)
        ck_assert_msg(!went_as_json(as_string[i], strlen(as_string[i])), "as JSON: %s",
                      as_string[i]);
    ck_assert(!went_as_json("", 0));
}
END_TEST

/* A reply carries its body once, as body or as json, and json is a JSON
 * value the edge can pass on unread. */
START_TEST(decoder_refuses_json_bodies)
{
#define REP(members)                                                                               \
    "{\"replies\":[{" members "\"headers\":{},\"id\":\"" ID1 "\",\"status\":200}],\"v\":2}"
    static const char *const bad[] = {
        REP("\"body\":\"{}\",\"json\":{},"), /* both */
        REP("\"json\":{},\"body\":\"{}\","), /* both, the other way round */
        REP("\"json\":{},\"json\":{},"),     /* json twice */
        REP(""),                             /* neither */
        REP("\"json\":[1,],"),               /* not JSON */
        REP("\"json\":\"\\ud800\","),        /* a lone surrogate escape */
        REP("\"json\":\"a\nb\","),           /* a raw control character */
        REP("\"json\":,"),                   /* no value */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"json\":{},\"type\":\"list\"}],\"v\":2}", /* json in a request */
    };
#undef REP
    assert_refused(bad, sizeof(bad) / sizeof(bad[0]));
}
END_TEST

/* json_bytes: a strict reader checks it against the text, a skimming one
 * takes that many bytes once a ',' or '}' follows them; either way it
 * comes before json and only with it. */
START_TEST(json_bytes_is_checked_or_trusted)
{
#define REP(members)                                                                               \
    "{\"replies\":[{\"headers\":{},\"id\":\"" ID1 "\"," members ",\"status\":200}],\"v\":2}"
#define REP_LAST(members) "{\"replies\":[{\"headers\":{},\"id\":\"" ID1 "\"," members "}],\"v\":2}"
    static const char *const refused_by_both[] = {
        REP("\"json_bytes\":2,\"json\":[1]"),                        /* one short: lands on ']' */
        REP("\"json_bytes\":4,\"json\":[1]"),                        /* one long: past the ',' */
        REP("\"json_bytes\":0,\"json\":[1]"),                        /* none */
        REP("\"json_bytes\":-3,\"json\":[1]"),                       /* negative */
        REP("\"json_bytes\":3.0,\"json\":[1]"),                      /* not an integer */
        REP("\"json_bytes\":\"3\",\"json\":[1]"),                    /* a string */
        REP("\"json\":[1],\"json_bytes\":3"),                        /* after json */
        REP("\"json_bytes\":3,\"body\":\"[1]\""),                    /* with body */
        REP("\"body\":\"[1]\",\"json_bytes\":3"),                    /* with body, after it */
        REP("\"json_bytes\":3"),                                     /* alone */
        REP("\"json_bytes\":3,\"json_bytes\":3,\"json\":[1]"),       /* twice */
        REP_LAST("\"status\":200,\"json_bytes\":9999,\"json\":[1]"), /* past the end */
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,\"headers\":{},"
        "\"id\":\"" ID1 "\",\"json_bytes\":2,\"type\":\"list\"}],\"v\":2}", /* in a request */
    };
    assert_refused(refused_by_both, sizeof(refused_by_both) / sizeof(refused_by_both[0]));
    struct wr_batch d;
    struct wr_err err = {0};
    /* right: both take it, white space around the value included */
    static const char ok[] = REP("\"json_bytes\":6,\"json\": [1]\n ");
    ck_assert_int_eq(wr_batch_decode(ok, strlen(ok), true, &d, &err), 0);
    ck_assert_uint_eq(d.items[0].len, 6);
    ck_assert(memcmp(d.items[0].body, " [1]\n ", 6) == 0);
    wr_batch_release(&d);
    ck_assert_int_eq(wr_batch_decode_skim(ok, strlen(ok), &d, &err), 0);
    ck_assert_uint_eq(d.items[0].len, 6);
    ck_assert(memcmp(d.items[0].body, " [1]\n ", 6) == 0);
    wr_batch_release(&d);
    /* not JSON, of the length given: the skimming reader trusts the
     * writer and passes the bytes on; the strict one refuses */
    static const char trusted[] = REP("\"json_bytes\":4,\"json\":[1,]");
    ck_assert_int_eq(wr_batch_decode(trusted, strlen(trusted), true, &d, &err), WR_EINVAL);
    ck_assert_int_eq(wr_batch_decode_skim(trusted, strlen(trusted), &d, &err), 0);
    ck_assert_uint_eq(d.items[0].len, 4);
    ck_assert(memcmp(d.items[0].body, "[1,]", 4) == 0);
    ck_assert_int_eq(d.items[0].status, 200);
    wr_batch_release(&d);
    /* a writer that leaves it out: both scan */
    static const char plain[] = REP("\"json\":{\"a\":[1,2]}");
    ck_assert_int_eq(wr_batch_decode_skim(plain, strlen(plain), &d, &err), 0);
    ck_assert_uint_eq(d.items[0].len, strlen("{\"a\":[1,2]}"));
    wr_batch_release(&d);
#undef REP
#undef REP_LAST
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rpc_batch");
    TCase *tc = tcase_create("rpc_batch");
    tcase_add_test(tc, requests_round_trip);
    tcase_add_test(tc, replies_round_trip);
    tcase_add_test(tc, encoder_refuses);
    tcase_add_test(tc, header_names);
    tcase_add_test(tc, decoder_refuses);
    tcase_add_test(tc, decoder_reads_any_spelling);
    tcase_add_test(tc, json_bodies_travel_as_json);
    tcase_add_test(tc, decoder_refuses_json_bodies);
    tcase_add_test(tc, json_bytes_is_checked_or_trusted);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
