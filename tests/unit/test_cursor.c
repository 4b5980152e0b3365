/* Unit tests for keyset cursors (services/catalog/cursor.c), the cache keys
 * of the new request parameters (reqkey.c) and the API's documents
 * (apidoc.c), over a small hand-written schema: albums with an integer key,
 * genres with a text key, and a composite key. */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "ops/apidoc.h"
#include "ops/cursor.h"
#include "ops/reqkey.h"
#include "model/schema.h"
#include "warren/cfg.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct schema_column_def albums_cols[] = {
    {"AlbumId", "INTEGER", 1}, {"Title", "NVARCHAR(160)", 0}, {"ArtistId", "INTEGER", 0}};
static const struct schema_fk_def albums_fks[] = {{0, "artists", "ArtistId", "ArtistId"}};
static const struct schema_column_def artists_cols[] = {{"ArtistId", "INTEGER", 1},
                                                        {"Name", "NVARCHAR(120)", 0}};
static const struct schema_column_def codes_cols[] = {{"Code", "TEXT", 1}, {"Seq", "INTEGER", 2}};
static const struct schema_table_def tables[] = {
    {"albums", albums_cols, N(albums_cols), albums_fks, N(albums_fks)},
    {"artists", artists_cols, N(artists_cols), NULL, 0},
    {"codes", codes_cols, N(codes_cols), NULL, 0},
};

static struct wr_cfg cfg;
static schema *sch;
static struct wr_buf out;

static void build(const char *text)
{
    struct wr_buf problems;
    wr_buf_init(&problems, 1 << 16);
    memset(&cfg, 0, sizeof(cfg));
    ck_assert_int_eq(wr_cfg_parse(&cfg, "t.cfg", text, strlen(text), NULL, &problems), 0);
    wr_buf_release(&problems);
    struct wr_err err = {0};
    sch = schema_build(tables, N(tables), &cfg, &err);
    ck_assert_msg(sch != NULL, "%s", err.msg);
}

static void setup(void)
{
    wr_buf_init(&out, 1 << 20);
    build("Artists.DEPTH = 0\nArtists.METHODS = 'GET, post, DELETE'\n");
}

static void teardown(void)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
    wr_buf_release(&out);
}

static const char *text(void)
{
    return out.data ? out.data : "";
}

/* --- cursors --- */

START_TEST(cursor_round_trip)
{
    const struct collection *c = schema_find(sch, "Albums");
    struct value key[1] = {{.kind = V_INT, .i = 347}};
    static const size_t pk[] = {0};
    ck_assert_int_eq(cursor_encode(&out, c, NULL, 10, key, 1, 36), 0);
    for (const char *p = text(); *p; p++)
        ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    struct value back[2];
    long page = 0;
    char scratch[256];
    ck_assert(cursor_decode(text(), c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
    ck_assert_int_eq(back[0].kind, V_INT);
    ck_assert_int_eq(back[0].i, 347);
    ck_assert_int_eq(page, 36);

    /* text and composite keys */
    const struct collection *codes = schema_find(sch, "Codes");
    static const size_t both[] = {0, 1};
    struct value k2[2] = {{.kind = V_TEXT, .s = "a\"b\xc3\xa9", .n = 5}, {.kind = V_INT, .i = -2}};
    wr_buf_reset(&out);
    ck_assert_int_eq(cursor_encode(&out, codes, "{\"filters\":[]}", 5, k2, 2, 2), 0);
    ck_assert(cursor_decode(text(), codes, both, 2, "{\"filters\":[]}", 5, back, &page, scratch,
                            sizeof(scratch)));
    ck_assert_int_eq(back[0].kind, V_TEXT);
    ck_assert_str_eq(back[0].s, "a\"b\xc3\xa9");
    ck_assert_int_eq(back[1].i, -2);
}
END_TEST

/* Edited, cut, or used elsewhere: refused. */
START_TEST(cursor_tampering_refused)
{
    const struct collection *c = schema_find(sch, "Albums");
    static const size_t pk[] = {0};
    struct value key[1] = {{.kind = V_INT, .i = 20}};
    ck_assert_int_eq(cursor_encode(&out, c, "{}", 10, key, 1, 3), 0);
    char good[512], bad[512];
    ck_assert_uint_lt(out.len, sizeof(good));
    memcpy(good, out.data, out.len + 1);
    struct value back[1];
    long page;
    char scratch[64];
    ck_assert(cursor_decode(good, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    /* every single-character edit */
    size_t n = strlen(good), accepted = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, good, n + 1);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        accepted += cursor_decode(bad, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch));
    }
    /* the last character may carry only padding bits */
    ck_assert_uint_le(accepted, 1);
    memcpy(bad, good, n + 1);
    bad[n / 2] = '\0';
    ck_assert(!cursor_decode(bad, c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    ck_assert(!cursor_decode(good, c, pk, 1, "{\"filters\":[]}", 10, back, &page, scratch,
                             sizeof(scratch)));
    ck_assert(!cursor_decode(good, c, pk, 1, "{}", 20, back, &page, scratch, sizeof(scratch)));
    ck_assert(!cursor_decode(good, schema_find(sch, "Artists"), pk, 1, "{}", 10, back, &page,
                             scratch, sizeof(scratch)));
    ck_assert(!cursor_decode("", c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    ck_assert(
        !cursor_decode("e30", c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch))); /* {} */
    ck_assert(!cursor_decode("a+/=", c, pk, 1, "{}", 10, back, &page, scratch, sizeof(scratch)));
    /* a well-formed document with a forged checksum */
    wr_buf_reset(&out);
    static const char forged[] = "{\"h\":\"0000000000000000\",\"k\":[1],\"p\":2}";
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < sizeof(forged) - 1; i += 3) {
        unsigned v = (unsigned)(unsigned char)forged[i] << 16;
        size_t left = sizeof(forged) - 1 - i;
        if (left > 1)
            v |= (unsigned)(unsigned char)forged[i + 1] << 8;
        if (left > 2)
            v |= (unsigned char)forged[i + 2];
        for (size_t k = 0; k < (left > 2 ? 4 : left + 1); k++)
            wr_buf_putc(&out, abc[(v >> (18 - 6 * k)) & 63]);
    }
    ck_assert(!cursor_decode(text(), c, pk, 1, NULL, 10, back, &page, scratch, sizeof(scratch)));
}
END_TEST

/* An order_by keyset may hold NULLs and reals; each column is typed. */
START_TEST(cursor_nulls_and_columns)
{
    const struct collection *c = schema_find(sch, "Albums");
    static const size_t cols[] = {1, 2, 0}; /* title, artist_id, album_id */
    struct value key[3] = {{.kind = V_NULL}, {.kind = V_INT, .i = 5}, {.kind = V_INT, .i = 9}};
    ck_assert_int_eq(cursor_encode(&out, c, "{\"order_by\":[]}", 10, key, 3, 4), 0);
    struct value back[3];
    long page;
    char scratch[64];
    ck_assert(cursor_decode(text(), c, cols, 3, "{\"order_by\":[]}", 10, back, &page, scratch,
                            sizeof(scratch)));
    ck_assert_int_eq(back[0].kind, V_NULL);
    ck_assert_int_eq(back[1].i, 5);
    ck_assert_int_eq(page, 4);
    /* a text value where an INTEGER column is: refused */
    static const size_t swapped[] = {2, 1, 0};
    struct value k2[3] = {
        {.kind = V_TEXT, .s = "x", .n = 1}, {.kind = V_NULL}, {.kind = V_INT, .i = 1}};
    wr_buf_reset(&out);
    ck_assert_int_eq(cursor_encode(&out, c, NULL, 10, k2, 3, 2), 0);
    ck_assert(
        !cursor_decode(text(), c, swapped, 3, NULL, 10, back, &page, scratch, sizeof(scratch)));
}
END_TEST

START_TEST(cursor_blob_key_refused)
{
    struct value key[1] = {{.kind = V_BLOB, .s = "x", .n = 1}};
    ck_assert_int_eq(cursor_encode(&out, schema_find(sch, "Albums"), NULL, 10, key, 1, 2),
                     WR_EINVAL);
}
END_TEST

/* --- cache keys --- */

static const char *key_of(const struct wr_request *req, char *buf, size_t cap)
{
    struct reqkey k;
    reqkey_init(&k);
    struct reqkey_opts o = {.service = "catalog", .default_per_page = 10, .max_per_page = 100};
    ck_assert(reqkey_build(&k, sch, req, "http://h", &o));
    ck_assert_uint_lt(k.key.len, cap);
    memcpy(buf, k.key.data, k.key.len + 1);
    reqkey_release(&k);
    return buf;
}

/* depth, count and after change the answer, so they change the key;
 * forms that answer the same share one. */
START_TEST(reqkey_new_parameters)
{
    char a[1024], b[1024];
    struct wr_request plain = {.op = WR_OP_LIST, .collection = "Albums"};
    struct wr_request shallow = plain, none = plain, start = plain, after = plain;
    shallow.depth_given = true;
    shallow.depth = 0;
    none.count = "none";
    start.after = "";
    after.after = "abc";
    const struct wr_request *all[] = {&plain, &shallow, &none, &start, &after};
    for (size_t i = 0; i < N(all); i++)
        for (size_t j = i + 1; j < N(all); j++)
            ck_assert_str_ne(key_of(all[i], a, sizeof(a)), key_of(all[j], b, sizeof(b)));
    /* Artists has DEPTH 0: depth=0 answers what no depth answers, but its
     * links repeat the parameter, so the keys still differ; the effective
     * depth is in both. */
    struct wr_request art = {.op = WR_OP_GET, .collection = "Artists", .key = "1"};
    struct wr_request art0 = art;
    art0.depth_given = true;
    ck_assert_int_eq(reqkey_depth(schema_find(sch, "Artists"), &art0), 0);
    ck_assert_int_eq(reqkey_depth(schema_find(sch, "Artists"), &art), 0);
    art0.depth = 1; /* capped by DEPTH */
    ck_assert_int_eq(reqkey_depth(schema_find(sch, "Artists"), &art0), 0);
    ck_assert(!reqkey_uncounted(schema_find(sch, "Albums"), &plain));
    ck_assert(reqkey_uncounted(schema_find(sch, "Albums"), &none));
    /* another model (a config change) gives other keys */
    char tag[17];
    reqkey_schema_tag(tag, sch);
    struct reqkey ka, kb;
    reqkey_init(&ka);
    reqkey_init(&kb);
    struct reqkey_opts oa = {.service = "catalog", .default_per_page = 10, .max_per_page = 100};
    struct reqkey_opts ob = oa;
    memcpy(oa.schema_tag, tag, sizeof(tag));
    schema_free(sch);
    wr_cfg_release(&cfg);
    build("Albums.EXCLUDE = 'title'\n");
    reqkey_schema_tag(ob.schema_tag, sch);
    ck_assert_str_ne(oa.schema_tag, ob.schema_tag);
    ck_assert(reqkey_build(&ka, sch, &plain, NULL, &oa));
    ck_assert(reqkey_build(&kb, sch, &plain, NULL, &ob));
    ck_assert_str_ne(ka.key.data, kb.key.data);
    reqkey_release(&ka);
    reqkey_release(&kb);
    /* the catalog ops are not cached */
    struct reqkey k;
    reqkey_init(&k);
    struct reqkey_opts o = {.service = "catalog", .default_per_page = 10, .max_per_page = 100};
    struct wr_request index = {.op = WR_OP_COLLECTIONS};
    ck_assert(!reqkey_build(&k, sch, &index, NULL, &o));
    reqkey_release(&k);
}
END_TEST

/* --- documents --- */

START_TEST(collections_index)
{
    ck_assert_int_eq(apidoc_collections(&out, sch, "http://h:1"), 0);
    ck_assert_str_eq(text(), "{\"collections\":["
                             "{\"methods\":[\"GET\"],\"name\":\"Albums\",\"url\":\"http://h:1/api/"
                             "Albums\"},"
                             "{\"methods\":[\"GET\",\"POST\",\"DELETE\"],\"name\":\"Artists\","
                             "\"url\":\"http://h:1/api/Artists\"},"
                             "{\"methods\":[\"GET\"],\"name\":\"Codes\",\"url\":\"http://h:1/api/"
                             "Codes\"}]}\n");
}
END_TEST

START_TEST(openapi_document)
{
    ck_assert_int_eq(apidoc_openapi(&out, sch, NULL), 0);
    ck_assert_uint_gt(out.len, 0);
    ck_assert_int_eq(out.data[out.len - 1], '\n');
    json_error_t jerr;
    json_t *doc = json_loadb(out.data, out.len, 0, &jerr);
    ck_assert_msg(doc != NULL, "%s", jerr.text);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    static const char *const want[] = {"/api",
                                       "/api/openapi.json",
                                       "/api/Albums",
                                       "/api/Albums/{id}",
                                       "/api/Albums/{id}/Artists",
                                       "/api/Artists/{id}/albums",
                                       "/api/eval/Codes"};
    for (size_t i = 0; i < N(want); i++)
        ck_assert_msg(json_object_get(paths, want[i]) != NULL, "no path %s", want[i]);
    ck_assert_ptr_null(json_object_get(json_object_get(paths, "/api/Albums"), "post"));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(paths, "/api/Artists"), "post"));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(paths, "/api/Artists/{id}"), "delete"));
    ck_assert_ptr_null(json_object_get(json_object_get(paths, "/api/Artists/{id}"), "patch"));
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    json_t *album = json_object_get(json_object_get(schemas, "Albums"), "properties");
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_object_get(album, "title"), "type"), 0)),
                     "string");
    ck_assert_ptr_nonnull(json_object_get(album, "Artists"));
    json_t *pk = json_object_get(json_object_get(schemas, "Codes"), "x-primary-key");
    ck_assert_uint_eq(json_array_size(pk), 2);
    ck_assert_ptr_nonnull(json_object_get(schemas, "Error"));
    /* every $ref resolves */
    char *dump = json_dumps(doc, JSON_COMPACT);
    for (const char *p = strstr(dump, "\"$ref\":\""); p; p = strstr(p + 1, "\"$ref\":\"")) {
        char kind[64], name[128];
        ck_assert_int_eq(sscanf(p, "\"$ref\":\"#/components/%63[^/]/%127[^\"]\"", kind, name), 2);
        ck_assert_msg(json_object_get(json_object_get(json_object_get(doc, "components"), kind),
                                      name) != NULL,
                      "dangling $ref %s/%s", kind, name);
    }
    free(dump);
    json_decref(doc);
}
END_TEST

/* A hidden relation is not advertised. */
START_TEST(openapi_leaves_hidden_out)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
    build("Albums.EXCLUDE = 'Artists, title'\n");
    ck_assert_int_eq(apidoc_openapi(&out, sch, "http://h"), 0);
    ck_assert_ptr_null(strstr(text(), "/api/Albums/{id}/Artists"));
    json_t *doc = json_loadb(out.data, out.len, 0, NULL);
    json_t *album = json_object_get(
        json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Albums"),
        "properties");
    ck_assert_ptr_null(json_object_get(album, "title"));
    ck_assert_ptr_nonnull(json_object_get(album, "album_id"));
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(doc, "servers"), 0), "url")),
                     "http://h");
    json_decref(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("cursor");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, cursor_round_trip);
    tcase_add_test(tc, cursor_tampering_refused);
    tcase_add_test(tc, cursor_nulls_and_columns);
    tcase_add_test(tc, cursor_blob_key_refused);
    tcase_add_test(tc, reqkey_new_parameters);
    tcase_add_test(tc, collections_index);
    tcase_add_test(tc, openapi_document);
    tcase_add_test(tc, openapi_leaves_hidden_out);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
