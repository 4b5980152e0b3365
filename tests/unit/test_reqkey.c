/* Unit tests for the cache keys of read requests
 * (services/catalog/ops/reqkey.c), over the Chinook fixture: forms that
 * answer alike share a key and others do not (parameters, defaults,
 * paging, length-prefixed parts), the generation counters a key depends
 * on, and the schema tag that keeps workers of different configs apart. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "chinook_fixture.h"
#include "model/schema.h"
#include "ops/reqkey.h"
#include "warren/cfg.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct wr_cfg cfg;
static schema *sch;

static void rebuild(const char *config)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
    struct wr_err err = {0};
    sch = fixture_schema(FIXTURE_CHINOOK, config, &cfg, &err);
    ck_assert_msg(sch != NULL, "%s", err.msg);
}

static void setup(void)
{
    sch = NULL;
    memset(&cfg, 0, sizeof(cfg));
    rebuild("Artists.DEPTH = 0\n");
}

static void teardown(void)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
}

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
/* The key's bytes are a contract between worker versions that share one
 * Redis during a rolling upgrade: a change of form needs a new prefix. */
START_TEST(key_bytes_are_stable)
{
    char a[1024];
    struct wr_request req = {.op = WR_OP_LIST,
                             .collection = "Albums",
                             .page = 2,
                             .q = "{}",
                             .count = "none",
                             .fields = "Title",
                             .after = "cur"};
    ck_assert_str_eq(key_of(&req, a, sizeof(a)),
                     "warren:v1:7:catalog|0:|4:list|6:Albums|0:|0:|0:|2:{}|2|10|8:http://h|"
                     "d00|c14:none|1|0|5:Title|3:cur|");
}
END_TEST

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
    rebuild("Albums.EXCLUDE = 'title'\n");
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

/* Parameter defaults make no new keys: page 1 is no page, the default
 * page size is none, a size above the maximum is the maximum; a single
 * object's key ignores paging. */
START_TEST(keys_normalised)
{
    char a[1024], b[1024];
    struct wr_request plain = {.op = WR_OP_LIST, .collection = "Albums"};
    struct wr_request page1 = plain, per10 = plain, per100 = plain, per500 = plain, page2 = plain,
                      per20 = plain;
    page1.page = 1;
    per10.results_per_page = 10;
    per100.results_per_page = 100;
    per500.results_per_page = 500;
    page2.page = 2;
    per20.results_per_page = 20;
    ck_assert_str_eq(key_of(&plain, a, sizeof(a)), key_of(&page1, b, sizeof(b)));
    ck_assert_str_eq(key_of(&plain, a, sizeof(a)), key_of(&per10, b, sizeof(b)));
    ck_assert_str_eq(key_of(&per100, a, sizeof(a)), key_of(&per500, b, sizeof(b)));
    ck_assert_str_ne(key_of(&plain, a, sizeof(a)), key_of(&page2, b, sizeof(b)));
    ck_assert_str_ne(key_of(&plain, a, sizeof(a)), key_of(&per20, b, sizeof(b)));
    ck_assert_int_eq(reqkey_per_page(&plain, 10, 100), 10);
    ck_assert_int_eq(reqkey_per_page(&per20, 10, 100), 20);
    ck_assert_int_eq(reqkey_per_page(&per500, 10, 100), 100);
    struct wr_request get = {.op = WR_OP_GET, .collection = "Albums", .key = "1"};
    struct wr_request get_paged = get;
    get_paged.page = 3;
    get_paged.results_per_page = 50;
    ck_assert_str_eq(key_of(&get, a, sizeof(a)), key_of(&get_paged, b, sizeof(b)));
    /* parts are length-prefixed: text cannot shift from one into the next */
    struct wr_request x = {.op = WR_OP_RELATED,
                           .collection = "Albums",
                           .key = "1",
                           .relation = "tracks",
                           .related_id = "2|3"};
    struct wr_request y = x;
    y.related_id = "2";
    y.q = "3";
    ck_assert_str_ne(key_of(&x, a, sizeof(a)), key_of(&y, b, sizeof(b)));
    /* the links' base URL is in the answer */
    struct reqkey k;
    reqkey_init(&k);
    struct reqkey_opts o = {.service = "catalog", .default_per_page = 10, .max_per_page = 100};
    ck_assert(reqkey_build(&k, sch, &plain, "http://other", &o));
    ck_assert_str_ne(k.key.data, key_of(&plain, a, sizeof(a)));
    /* another service's keys are its own */
    o.service = "other";
    ck_assert(reqkey_build(&k, sch, &plain, "http://h", &o));
    ck_assert_str_ne(k.key.data, key_of(&plain, a, sizeof(a)));
    reqkey_release(&k);
}
END_TEST

/* req's dependencies, as table names joined by ' ' (the counters less
 * their prefix), must be want. */
static void assert_deps(const struct wr_request *req, const char *want)
{
    struct reqkey k;
    reqkey_init(&k);
    struct reqkey_opts o = {.service = "catalog", .default_per_page = 10, .max_per_page = 100};
    ck_assert(reqkey_build(&k, sch, req, NULL, &o));
    char got[1024] = "";
    size_t len = 0, prefix = strlen(REQKEY_GEN_PREFIX);
    for (size_t i = 0; i < k.ndeps; i++) {
        ck_assert_int_eq(strncmp(k.dep_names[i], REQKEY_GEN_PREFIX, prefix), 0);
        const char *table = k.dep_names[i] + prefix;
        ck_assert_uint_lt(len + strlen(table) + 2, sizeof(got));
        if (i > 0)
            got[len++] = ' ';
        memcpy(got + len, table, strlen(table) + 1);
        len += strlen(table);
    }
    reqkey_release(&k);
    ck_assert_str_eq(got, want);
}

/* An answer holds its collection's rows and those of the relations its
 * objects carry; a search may filter through any table. */
START_TEST(dependencies)
{
    struct wr_request list = {.op = WR_OP_LIST, .collection = "Albums"};
    assert_deps(&list, "albums artists tracks");
    struct wr_request get = {.op = WR_OP_GET, .collection = "Albums", .key = "1"};
    assert_deps(&get, "albums artists tracks");
    /* a relation's objects carry their own relations */
    struct wr_request rel = {
        .op = WR_OP_RELATED, .collection = "Artists", .key = "1", .relation = "albums"};
    assert_deps(&rel, "artists albums tracks");
    struct wr_request search = list;
    search.q = "{}";
    assert_deps(&search, "albums artists tracks customers employees genres invoice_items "
                         "invoices media_types playlist_track playlists");
    /* a hidden relation is not in the answer */
    rebuild("Albums.EXCLUDE = 'tracks'\n");
    assert_deps(&list, "albums artists");
    char name[64];
    reqkey_gen_name(name, sizeof(name), "albums");
    ck_assert_str_eq(name, "warren:gen:albums");
}
END_TEST

/* fields, depth 2, count=estimated and COUNT_MAX change the answer, so
 * they change the key; at depth 2 the relations' relations are in it too,
 * and at depth 0 no relation is. */
START_TEST(issue14_parameters)
{
    char a[1024], b[1024];
    struct wr_request plain = {.op = WR_OP_LIST, .collection = "Albums"};
    struct wr_request fields = plain, deep = plain, est = plain;
    fields.fields = "title";
    deep.depth_given = true;
    deep.depth = 2;
    est.count = "estimated";
    const struct wr_request *all[] = {&plain, &fields, &deep, &est};
    for (size_t i = 0; i < N(all); i++)
        for (size_t j = i + 1; j < N(all); j++)
            ck_assert_str_ne(key_of(all[i], a, sizeof(a)), key_of(all[j], b, sizeof(b)));
    struct reqkey k;
    reqkey_init(&k);
    struct reqkey_opts o = {.service = "catalog", .default_per_page = 10, .max_per_page = 100};
    ck_assert(reqkey_build(&k, sch, &plain, NULL, &o));
    (void)snprintf(a, sizeof(a), "%s", k.key.data);
    o.count_max = 10;
    ck_assert(reqkey_build(&k, sch, &plain, NULL, &o));
    ck_assert_str_ne(a, k.key.data);
    reqkey_release(&k);
    ck_assert_int_eq(reqkey_depth(schema_find(sch, "Albums"), &deep), 2);
    ck_assert_int_eq(reqkey_depth(schema_find(sch, "Artists"), &deep), 0); /* DEPTH 0 */
    assert_deps(&deep, "albums artists tracks invoice_items playlist_track media_types genres");
    struct wr_request shallow = plain;
    shallow.depth_given = true;
    shallow.depth = 0;
    assert_deps(&shallow, "albums");
}
END_TEST

/* The tag of the model config builds. */
static void tag_of(const char *config, char tag[17])
{
    rebuild(config);
    reqkey_schema_tag(tag, sch);
    ck_assert_uint_eq(strlen(tag), 16);
}

/* Every setting that shapes answers changes the tag; the same config
 * gives the same tag. */
START_TEST(schema_tag_follows_config)
{
    static const char *const configs[] = {
        "",
        "Albums.EXCLUDE = 'title'\n",
        "Albums.EXCLUDE = 'Artists.name'\n",
        "Albums.INCLUDE = 'title, tracks'\n",
        "Albums.RENAME = 'title:name'\n",
        "Albums.NAME = 'Records'\n",
        "Albums.DEPTH = 0\n",
        "Albums.COUNT = 'none'\n",
        "COLLECTIONS = 'Albums, Artists'\n",
    };
    char tags[N(configs)][17];
    for (size_t i = 0; i < N(configs); i++)
        tag_of(configs[i], tags[i]);
    for (size_t i = 0; i < N(configs); i++)
        for (size_t j = i + 1; j < N(configs); j++)
            ck_assert_msg(strcmp(tags[i], tags[j]) != 0, "\"%s\" and \"%s\" share a tag",
                          configs[i], configs[j]);
    char again[17];
    tag_of("Albums.DEPTH = 0\n", again);
    ck_assert_str_eq(again, tags[6]);
    /* METHODS shapes no answer a key is made for (GET /api is not cached) */
    tag_of("Albums.METHODS = 'GET, POST'\n", again);
    ck_assert_str_eq(again, tags[0]);
}
END_TEST

/* What has no key: the API's documents, unknown collections and
 * relations. */
START_TEST(not_cacheable)
{
    struct reqkey k;
    reqkey_init(&k);
    struct reqkey_opts o = {.service = "catalog", .default_per_page = 10, .max_per_page = 100};
    struct wr_request index = {.op = WR_OP_COLLECTIONS};
    ck_assert(!reqkey_build(&k, sch, &index, NULL, &o));
    struct wr_request nope = {.op = WR_OP_LIST, .collection = "Nope"};
    ck_assert(!reqkey_build(&k, sch, &nope, NULL, &o));
    struct wr_request rel = {
        .op = WR_OP_RELATED, .collection = "Albums", .key = "1", .relation = "nope"};
    ck_assert(!reqkey_build(&k, sch, &rel, NULL, &o));
    reqkey_release(&k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reqkey");
    TCase *tc = tcase_create("reqkey");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, key_bytes_are_stable);
    tcase_add_test(tc, reqkey_new_parameters);
    tcase_add_test(tc, keys_normalised);
    tcase_add_test(tc, dependencies);
    tcase_add_test(tc, issue14_parameters);
    tcase_add_test(tc, schema_tag_follows_config);
    tcase_add_test(tc, not_cacheable);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
