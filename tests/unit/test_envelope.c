/* Unit tests for the RPC envelope (proto v1): canonical encoding, the round
 * trip, everything strict decoding refuses, and request ids. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "warren/buf.h"
#include "warren/err.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct wr_buf out;
static struct wr_request req;
static struct wr_err err;

static void setup(void)
{
    wr_buf_init(&out, 1 << 16);
    memset(&req, 0, sizeof(req));
    memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
    wr_request_release(&req);
    wr_buf_release(&out);
}

static const char *encode(const struct wr_request *r)
{
    wr_buf_reset(&out);
    ck_assert_int_eq(wr_request_encode(r, &out), 0);
    return out.data;
}

static int decode(const char *body)
{
    wr_request_release(&req);
    memset(&err, 0, sizeof(err));
    return wr_request_decode(&req, body, strlen(body), &err);
}

/* Asserts body is refused with WR_EINVAL and leaves req empty. */
static void assert_refused_as(const char *body, int code)
{
    int rc = decode(body);
    ck_assert_msg(rc == code, "accepted (%d): %s", rc, body);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(err.msg[0] != '\0', "no message for %s", body);
    ck_assert_ptr_null(req.op);
    ck_assert_ptr_null(req.collection);
    ck_assert_ptr_null(req.key);
    ck_assert_ptr_null(req.relation);
}

static void assert_refused(const char *body)
{
    assert_refused_as(body, WR_EINVAL);
}

/* --- encode --- */

START_TEST(encode_list)
{
    struct wr_request r = {.op = WR_OP_LIST, .collection = "Albums", .page = 2};
    ck_assert_str_eq(encode(&r), "{\"collection\":\"Albums\",\"op\":\"list\",\"page\":2,\"v\":1}");
    r.page = 0;
    ck_assert_str_eq(encode(&r), "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1}");
}
END_TEST

START_TEST(encode_every_member_sorted)
{
    struct wr_request r = {.op = WR_OP_RELATED,
                           .collection = "Artists",
                           .key = "1",
                           .relation = "albums",
                           .page = 3,
                           .results_per_page = 5};
    ck_assert_str_eq(encode(&r), "{\"collection\":\"Artists\",\"id\":\"1\",\"op\":\"related\","
                                 "\"page\":3,\"relation\":\"albums\",\"results_per_page\":5,"
                                 "\"v\":1}");
    struct wr_request g = {.op = WR_OP_GET, .collection = "Albums", .key = "1,2"};
    ck_assert_str_eq(encode(&g),
                     "{\"collection\":\"Albums\",\"id\":\"1,2\",\"op\":\"get\",\"v\":1}");
}
END_TEST

START_TEST(encode_escapes_strings)
{
    struct wr_request r = {.op = WR_OP_GET, .collection = "A\"b", .key = "AC/DC\\\n\xc3\xa9"};
    ck_assert_str_eq(encode(&r), "{\"collection\":\"A\\\"b\",\"id\":\"AC/DC\\\\\\n\\u00e9\","
                                 "\"op\":\"get\",\"v\":1}");
}
END_TEST

/* --- round trip --- */

static void round_trip(const struct wr_request *r)
{
    encode(r);
    ck_assert_msg(decode(out.data) == 0, "%s: %s", out.data, err.msg);
    ck_assert_str_eq(req.op, r->op);
    ck_assert_str_eq(req.collection, r->collection);
    if (r->key)
        ck_assert_str_eq(req.key, r->key);
    else
        ck_assert_ptr_null(req.key);
    if (r->relation)
        ck_assert_str_eq(req.relation, r->relation);
    else
        ck_assert_ptr_null(req.relation);
    if (r->q)
        ck_assert_str_eq(req.q, r->q);
    else
        ck_assert_ptr_null(req.q);
    ck_assert_int_eq(req.page, r->page);
    ck_assert_int_eq(req.results_per_page, r->results_per_page);
}

START_TEST(encode_decode_round_trip)
{
    round_trip(&(struct wr_request){.op = WR_OP_LIST, .collection = "Albums"});
    round_trip(&(struct wr_request){
        .op = WR_OP_LIST, .collection = "Albums", .page = 35, .results_per_page = 10});
    round_trip(&(struct wr_request){.op = WR_OP_GET, .collection = "PlaylistTrack", .key = "1,2"});
    round_trip(&(struct wr_request){
        .op = WR_OP_LIST, .collection = "Albums", .q = "{\"filters\":[{\"name\":\"title\"}]}"});
    round_trip(&(struct wr_request){.op = WR_OP_RELATED,
                                    .collection = "Artists",
                                    .key = "AC DC \"x\" \xc3\xa9",
                                    .relation = "albums",
                                    .page = 1000000000,
                                    .results_per_page = 1});
}
END_TEST

START_TEST(decode_minimal)
{
    ck_assert_int_eq(decode("{\"v\":1,\"op\":\"list\",\"collection\":\"Albums\"}"), 0);
    ck_assert_str_eq(req.op, "list");
    ck_assert_str_eq(req.collection, "Albums");
    ck_assert_ptr_null(req.key);
    ck_assert_ptr_null(req.relation);
    ck_assert_int_eq(req.page, 0);
    ck_assert_int_eq(req.results_per_page, 0);
    /* Whitespace is fine; the order of members is free. */
    ck_assert_int_eq(decode(" { \"op\" : \"get\" , \"id\" : \"7\", \"collection\":\"A\", "
                            "\"v\":1 }\n"),
                     0);
    ck_assert_str_eq(req.key, "7");
}
END_TEST

/* --- refused --- */

START_TEST(refuse_invalid_json)
{
    static const char *const bodies[] = {
        "",           "{",
        "{\"v\":1,",  "nonsense",
        "{\"v\":1}x", "{'v':1}",
        "{\"v\":1,}", "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1} {}",
    };
    for (size_t i = 0; i < N(bodies); i++)
        assert_refused(bodies[i]);
}
END_TEST

START_TEST(refuse_non_object)
{
    static const char *const bodies[] = {"[]", "[{\"v\":1}]", "1", "\"list\"", "null", "true"};
    for (size_t i = 0; i < N(bodies); i++)
        assert_refused(bodies[i]);
}
END_TEST

START_TEST(refuse_version)
{
    static const char *const bodies[] = {"{\"collection\":\"Albums\",\"op\":\"list\"}",
                                         "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":2}",
                                         "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":0}",
                                         "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":\"1\"}",
                                         "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1.0}",
                                         "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":null}",
                                         "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":true}"};
    for (size_t i = 0; i < N(bodies); i++)
        assert_refused_as(bodies[i], WR_EPROTO);
}
END_TEST

/* The catalog's messages, word for word: clients and tests match them. */
START_TEST(catalog_messages_unchanged)
{
    static const struct {
        const char *body, *msg;
    } cases[] = {
        {"{\"op\":\"list\",\"v\":2}", "envelope: unsupported version (this is v1)"},
        {"[]", "envelope: not an object"},
        {"{\"collection\":\"A\",\"op\":\"list\",\"v\":1,\"x\":1}", "envelope: unknown member x"},
        {"{\"op\":\"list\",\"v\":1}", "envelope: op and collection are required"},
        {"{\"collection\":\"A\",\"op\":\"remove\",\"v\":1}", "envelope: unknown op remove"},
        {"{\"collection\":\"A\",\"op\":\"get\",\"v\":1}", "envelope: op get needs an id"},
        {"{\"op\":\"openapi\",\"page\":1,\"v\":1}", "envelope: op openapi takes only op and v"},
        {"{\"collection\":7,\"op\":\"list\",\"v\":1}", "envelope: collection must be a string"},
        {"{\"collection\":\"A\",\"op\":\"list\",\"page\":0,\"v\":1}",
         "page must be a positive integer"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        ck_assert_int_ne(decode(cases[i].body), 0);
        ck_assert_str_eq(err.msg, cases[i].msg);
    }
}
END_TEST

/* Another service's envelope: v, op (a word, the message's type) and id. */
static int decode_service(const char *type, const char *body)
{
    wr_request_release(&req);
    memset(&err, 0, sizeof(err));
    return wr_request_decode_service(&req, type, body, strlen(body), &err);
}

START_TEST(service_envelope_decodes)
{
    ck_assert_int_eq(decode_service("records", "{\"id\":\"ab\",\"op\":\"records\",\"v\":1}"), 0);
    ck_assert_str_eq(req.op, "records");
    ck_assert_str_eq(req.key, "ab");
    ck_assert_ptr_null(req.collection);
    ck_assert_int_eq(decode_service(NULL, "{\"op\":\"time_now\",\"v\":1}"), 0);
    ck_assert_str_eq(req.op, "time_now");
    ck_assert_ptr_null(req.key);
    /* the client API's envelope of such an op */
    struct wr_request r = {.op = WR_OP_RECORDS, .key = "0123456789abcdef0123456789abcdef"};
    ck_assert_int_eq(decode_service(WR_OP_RECORDS, encode(&r)), 0);
    ck_assert_str_eq(req.key, r.key);
}
END_TEST

START_TEST(service_envelope_refused)
{
    static const struct {
        const char *type, *body, *msg;
        int code;
    } cases[] = {
        {"records", "{\"op\":\"records\",\"v\":2}", "envelope: unsupported version (this is v1)",
         WR_EPROTO},
        {"records", "{\"op\":\"records\"}", "envelope: unsupported version (this is v1)",
         WR_EPROTO},
        {"records", "{\"op\":\"get\",\"v\":1}",
         "envelope: op get is not the message's type records", WR_EINVAL},
        {"records", "{\"collection\":\"A\",\"op\":\"records\",\"v\":1}",
         "envelope: unknown member collection", WR_EINVAL},
        {"records", "{\"v\":1}", "envelope: op must be a word of [a-z][a-z0-9_]{0,31}", WR_EINVAL},
        {"Records", "{\"op\":\"Records\",\"v\":1}",
         "envelope: op must be a word of [a-z][a-z0-9_]{0,31}", WR_EINVAL},
        {"records", "{\"id\":\"\",\"op\":\"records\",\"v\":1}",
         "envelope: id must be 1 to 1024 characters", WR_EINVAL},
        {"records", "{\"id\":[],\"op\":\"records\",\"v\":1}", "envelope: id must be a string",
         WR_EINVAL},
        {"records", "{\"op\":\"records\",\"op\":\"records\",\"v\":1}", NULL, WR_EINVAL},
        {"records", "nope", NULL, WR_EINVAL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        ck_assert_int_eq(decode_service(cases[i].type, cases[i].body), cases[i].code);
        ck_assert_int_eq(err.code, cases[i].code);
        if (cases[i].msg != NULL)
            ck_assert_str_eq(err.msg, cases[i].msg);
        ck_assert_ptr_null(req.op);
        ck_assert_ptr_null(req.key);
    }
}
END_TEST

START_TEST(op_names)
{
    ck_assert(wr_op_name_valid("records"));
    ck_assert(wr_op_name_valid("a"));
    ck_assert(wr_op_name_valid("a_1"));
    ck_assert(wr_op_name_valid("abcdefghijklmnopqrstuvwxyz012345"));   /* 32 */
    ck_assert(!wr_op_name_valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
    ck_assert(!wr_op_name_valid(""));
    ck_assert(!wr_op_name_valid(NULL));
    ck_assert(!wr_op_name_valid("_a"));
    ck_assert(!wr_op_name_valid("1a"));
    ck_assert(!wr_op_name_valid("aB"));
    ck_assert(!wr_op_name_valid("a-b"));
}
END_TEST

START_TEST(refuse_unknown_member)
{
    assert_refused("{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1,\"search\":\"{}\"}");
    /* q goes with list only */
    assert_refused("{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"get\",\"q\":\"{}\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1,\"Page\":1}");
    assert_refused("{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1,\"\":1}");
}
END_TEST

START_TEST(refuse_duplicate_keys)
{
    assert_refused("{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1,\"v\":1}");
    assert_refused(
        "{\"collection\":\"Albums\",\"collection\":\"Artists\",\"op\":\"list\",\"v\":1}");
}
END_TEST

START_TEST(refuse_bad_ops)
{
    /* unknown or missing op */
    assert_refused("{\"collection\":\"Albums\",\"op\":\"remove\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"op\":\"LIST\",\"v\":1}");
    /* a write of many takes q and no id; of one, an id and no q */
    ck_assert_int_eq(decode("{\"collection\":\"Albums\",\"op\":\"delete\",\"v\":1}"), 0);
    ck_assert_int_eq(decode("{\"collection\":\"Albums\",\"op\":\"delete\",\"q\":\"{}\",\"v\":1}"),
                     0);
    assert_refused(
        "{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"delete\",\"q\":\"{}\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"op\":\"\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"op\":1,\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"v\":1}");
    assert_refused("{\"op\":\"list\",\"v\":1}");
    /* get without id, related without relation or id, relation with list/get,
     * id with list */
    assert_refused("{\"collection\":\"Albums\",\"op\":\"get\",\"v\":1}");
    assert_refused("{\"collection\":\"Artists\",\"id\":\"1\",\"op\":\"related\",\"v\":1}");
    assert_refused("{\"collection\":\"Artists\",\"op\":\"related\",\"relation\":\"albums\","
                   "\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"op\":\"list\",\"relation\":\"tracks\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"get\",\"relation\":\"x\","
                   "\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"list\",\"v\":1}");
}
END_TEST

START_TEST(refuse_bad_counts)
{
    static const char *const values[] = {
        "0",  "-1", "\"2\"", "1.5", "2.0", "null", "true", "1000000001", "99999999999999999999",
        "[1]"};
    for (size_t i = 0; i < N(values); i++) {
        char body[256];
        ck_assert_int_lt(snprintf(body, sizeof(body),
                                  "{\"collection\":\"Albums\",\"op\":\"list\",\"page\":%s,\"v\":1}",
                                  values[i]),
                         (int)sizeof(body));
        assert_refused(body);
        ck_assert_int_lt(snprintf(body, sizeof(body),
                                  "{\"collection\":\"Albums\",\"op\":\"list\","
                                  "\"results_per_page\":%s,\"v\":1}",
                                  values[i]),
                         (int)sizeof(body));
        assert_refused(body);
    }
    ck_assert_int_eq(decode("{\"collection\":\"Albums\",\"op\":\"list\",\"page\":1000000000,"
                            "\"results_per_page\":1,\"v\":1}"),
                     0);
    ck_assert_int_eq(req.page, 1000000000);
    ck_assert_int_eq(req.results_per_page, 1);
}
END_TEST

/* A list request whose collection is n 'a's. */
static const char *collection_of(size_t n)
{
    static char body[512];
    char name[300];
    ck_assert_uint_lt(n, sizeof(name));
    memset(name, 'a', n);
    name[n] = '\0';
    ck_assert_int_lt(
        snprintf(body, sizeof(body), "{\"collection\":\"%s\",\"op\":\"list\",\"v\":1}", name),
        (int)sizeof(body));
    return body;
}

START_TEST(refuse_bad_collection)
{
    assert_refused("{\"collection\":\"\",\"op\":\"list\",\"v\":1}");
    assert_refused("{\"collection\":null,\"op\":\"list\",\"v\":1}");
    assert_refused("{\"collection\":[\"Albums\"],\"op\":\"list\",\"v\":1}");
    assert_refused(collection_of(129));
    assert_refused(collection_of(200));
    ck_assert_int_eq(decode(collection_of(128)), 0);
    ck_assert_uint_eq(strlen(req.collection), 128);
    ck_assert_int_eq(decode(collection_of(1)), 0);
}
END_TEST

START_TEST(refuse_bad_id)
{
    assert_refused("{\"collection\":\"Albums\",\"id\":\"\",\"op\":\"get\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"id\":1,\"op\":\"get\",\"v\":1}");
    char body[1200], key[1030];
    memset(key, '1', sizeof(key));
    key[1025] = '\0';
    ck_assert_int_lt(snprintf(body, sizeof(body),
                              "{\"collection\":\"Albums\",\"id\":\"%s\",\"op\":\"get\",\"v\":1}",
                              key),
                     (int)sizeof(body));
    assert_refused(body);
    key[1024] = '\0';
    ck_assert_int_lt(snprintf(body, sizeof(body),
                              "{\"collection\":\"Albums\",\"id\":\"%s\",\"op\":\"get\",\"v\":1}",
                              key),
                     (int)sizeof(body));
    ck_assert_int_eq(decode(body), 0);
    ck_assert_uint_eq(strlen(req.key), 1024);
}
END_TEST

START_TEST(refuse_embedded_nul)
{
    assert_refused("{\"collection\":\"Al\\u0000bums\",\"op\":\"list\",\"v\":1}");
    assert_refused("{\"collection\":\"\\u0000\",\"op\":\"list\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"id\":\"1\\u0000\",\"op\":\"get\",\"v\":1}");
    assert_refused("{\"collection\":\"Artists\",\"id\":\"1\",\"op\":\"related\","
                   "\"relation\":\"albums\\u0000x\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"op\":\"list\\u0000\",\"v\":1}");
    assert_refused("{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1,\"v\\u0000\":1}");
    /* A raw NUL byte inside the body. */
    static const char raw[] = "{\"collection\":\"Al\0bums\",\"op\":\"list\",\"v\":1}";
    ck_assert_int_eq(wr_request_decode(&req, raw, sizeof(raw) - 1, &err), WR_EINVAL);
    ck_assert_ptr_null(req.collection);
}
END_TEST

/* The reader's own answers: escapes decoded, values of every JSON type
 * read (and refused for their member), where it stopped, integers at
 * their bounds. */
START_TEST(reader_reads_every_value)
{
    ck_assert_int_eq(decode("{\"collection\":\"A\\u00e9\\ud83c\\udfb8\\\"\\/\\t\","
                            "\"op\":\"list\",\"v\":1}"),
                     0);
    ck_assert_str_eq(req.collection, "A\xc3\xa9\xf0\x9f\x8e\xb8\"/\t");
    /* an unknown member is refused whatever its value, once it is JSON */
    static const char *const values[] = {
        "{\"a\":[1,{\"b\":null}]}", "[]", "-1.5e3", "true", "null", "\"x\"",
        "123456789012345678901"};
    char body[128];
    for (size_t i = 0; i < N(values); i++) {
        (void)snprintf(body, sizeof(body), "{\"op\":\"list\",\"v\":1,\"x\":%s}", values[i]);
        ck_assert_int_eq(decode(body), WR_EINVAL);
        ck_assert_str_eq(err.msg, "envelope: unknown member x");
    }
    static const struct {
        const char *body, *msg;
    } cases[] = {
        {"{\"op\":\"list\",\"v\":1,\"op\":\"get\"}", "envelope: member op given twice"},
        {"{\"op\":\"list\",\"v\":1,}", "envelope: invalid JSON (at byte 19)"},
        {"{\"op\":\"list\",\"v\":1} x", "envelope: invalid JSON (at byte 20)"},
        {"\"list\"", "envelope: not an object"},
        {" 7 ", "envelope: not an object"},
        {"{\"collection\":[\"A\"],\"op\":\"list\",\"v\":1}",
         "envelope: collection must be a string"},
        {"{\"collection\":\"A\",\"op\":\"list\",\"page\":1.0,\"v\":1}",
         "page must be a positive integer"},
        {"{\"collection\":\"A\",\"op\":\"list\",\"page\":1000000000000000000,\"v\":1}",
         "page must be a positive integer"},
        {"{\"collection\":\"A\",\"depth\":-0,\"op\":\"list\",\"page\":1,\"v\":01}",
         "envelope: invalid JSON (at byte 55)"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        ck_assert_int_ne(decode(cases[i].body), 0);
        ck_assert_str_eq(err.msg, cases[i].msg);
    }
    /* the largest page it takes, and -0 as 0 */
    ck_assert_int_eq(decode("{\"collection\":\"A\",\"depth\":-0,\"op\":\"list\","
                            "\"page\":1000000000,\"v\":1}"),
                     0);
    ck_assert_int_eq(req.page, 1000000000);
    ck_assert(req.depth_given && req.depth == 0);
}
END_TEST

START_TEST(release_is_null_safe)
{
    wr_request_release(NULL);
    struct wr_request empty = {0};
    wr_request_release(&empty);
    wr_request_release(&empty);
}
END_TEST

/* --- request ids --- */

START_TEST(new_ids_valid_and_distinct)
{
    enum { COUNT = 64 };
    char ids[COUNT][WR_REQUEST_ID_LEN + 1];
    for (size_t i = 0; i < COUNT; i++) {
        memset(ids[i], 'x', sizeof(ids[i]));
        wr_request_id_new(ids[i]);
        ck_assert_uint_eq(strlen(ids[i]), WR_REQUEST_ID_LEN);
        ck_assert_msg(wr_request_id_valid(ids[i]), "invalid id %s", ids[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(ids[i], ids[j]);
    }
}
END_TEST

START_TEST(id_validity)
{
    ck_assert(wr_request_id_valid("0123456789abcdef0123456789abcdef"));
    ck_assert(wr_request_id_valid("ffffffffffffffffffffffffffffffff"));
    ck_assert(!wr_request_id_valid("0123456789ABCDEF0123456789abcdef"));
    ck_assert(!wr_request_id_valid("0123456789abcdef0123456789abcdeF"));
    ck_assert(!wr_request_id_valid("0123456789abcdef0123456789abcde"));   /* 31 */
    ck_assert(!wr_request_id_valid("0123456789abcdef0123456789abcdef0")); /* 33 */
    ck_assert(!wr_request_id_valid("0123456789abcdef0123456789abcdeg"));
    ck_assert(!wr_request_id_valid("01234567-89ab-cdef-0123-456789abcdef"));
    ck_assert(!wr_request_id_valid("0123456789abcdef 123456789abcdef"));
    ck_assert(!wr_request_id_valid(""));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("envelope");
    TCase *enc = tcase_create("encode");
    tcase_add_checked_fixture(enc, setup, teardown);
    tcase_add_test(enc, encode_list);
    tcase_add_test(enc, encode_every_member_sorted);
    tcase_add_test(enc, encode_escapes_strings);
    tcase_add_test(enc, encode_decode_round_trip);
    tcase_add_test(enc, decode_minimal);
    suite_add_tcase(s, enc);

    TCase *dec = tcase_create("refused");
    tcase_add_checked_fixture(dec, setup, teardown);
    tcase_add_test(dec, refuse_invalid_json);
    tcase_add_test(dec, refuse_non_object);
    tcase_add_test(dec, refuse_version);
    tcase_add_test(dec, refuse_unknown_member);
    tcase_add_test(dec, refuse_duplicate_keys);
    tcase_add_test(dec, refuse_bad_ops);
    tcase_add_test(dec, refuse_bad_counts);
    tcase_add_test(dec, refuse_bad_collection);
    tcase_add_test(dec, refuse_bad_id);
    tcase_add_test(dec, refuse_embedded_nul);
    tcase_add_test(dec, reader_reads_every_value);
    tcase_add_test(dec, release_is_null_safe);
    tcase_add_test(dec, catalog_messages_unchanged);
    suite_add_tcase(s, dec);

    TCase *svc = tcase_create("service");
    tcase_add_checked_fixture(svc, setup, teardown);
    tcase_add_test(svc, service_envelope_decodes);
    tcase_add_test(svc, service_envelope_refused);
    tcase_add_test(svc, op_names);
    suite_add_tcase(s, svc);

    TCase *ids = tcase_create("ids");
    tcase_add_test(ids, new_ids_valid_and_distinct);
    tcase_add_test(ids, id_validity);
    suite_add_tcase(s, ids);

    return run_suite(s, true);
}
