/* Unit tests for the API's own documents (services/catalog/ops/apidoc.c):
 * GET /api's collection index and the OpenAPI document, over the Chinook
 * fixture's albums, artists and labels (a composite key): the index's exact
 * bytes, the document's paths, schemas and references, and for each
 * METHODS setting exactly the operations it allows. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chinook_fixture.h"
#include "model/schema.h"
#include "ops/apidoc.h"
#include "warren/cfg.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct wr_cfg cfg;
static schema *sch;
static struct wr_buf out;

static void rebuild(const char *config)
{
    schema_free(sch);
    wr_cfg_release(&cfg);
    struct wr_err err = {0};
    sch = fixture_schema("albums artists labels", config, &cfg, &err);
    ck_assert_msg(sch != NULL, "%s", err.msg);
}

static void setup(void)
{
    sch = NULL;
    memset(&cfg, 0, sizeof(cfg));
    wr_buf_init(&out, 1 << 20);
    rebuild("Artists.DEPTH = 0\nArtists.METHODS = 'GET, post, DELETE'\n");
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

START_TEST(collections_index)
{
    ck_assert_int_eq(apidoc_collections(&out, sch, "http://h:1"), 0);
    ck_assert_str_eq(text(), "{\"collections\":["
                             "{\"methods\":[\"GET\"],\"name\":\"Albums\",\"url\":\"http://h:1/api/"
                             "Albums\"},"
                             "{\"methods\":[\"GET\",\"POST\",\"DELETE\"],\"name\":\"Artists\","
                             "\"url\":\"http://h:1/api/Artists\"},"
                             "{\"methods\":[\"GET\"],\"name\":\"Labels\",\"url\":\"http://h:1/api/"
                             "Labels\"}]}\n");
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
                                       "/api/eval/Labels"};
    for (size_t i = 0; i < N(want); i++)
        ck_assert_msg(json_object_get(paths, want[i]) != NULL, "no path %s", want[i]);
    /* a list's GET answers exports too (issue 14, item 6) */
    json_t *list_get = json_object_get(json_object_get(paths, "/api/Albums"), "get");
    json_t *content =
        json_object_get(json_object_get(json_object_get(list_get, "responses"), "200"), "content");
    ck_assert_ptr_nonnull(json_object_get(content, "text/csv"));
    ck_assert_ptr_nonnull(json_object_get(content, "application/x-ndjson"));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(list_get, "responses"), "406"));
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
    json_t *pk = json_object_get(json_object_get(schemas, "Labels"), "x-primary-key");
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
    rebuild("Albums.EXCLUDE = 'Artists, title'\n");
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

/* The operations of path in the document: its verbs, sorted, joined by
 * ' ', and nothing else. */
static void assert_verbs(json_t *paths, const char *path, const char *want)
{
    json_t *item = json_object_get(paths, path);
    ck_assert_msg(item != NULL, "no path %s", path);
    static const char *const verbs[] = {"delete", "get", "patch", "post", "put"};
    char got[64] = "";
    size_t len = 0, found = 0;
    for (size_t i = 0; i < N(verbs); i++) {
        if (json_object_get(item, verbs[i]) == NULL)
            continue;
        found++;
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", len ? " " : "", verbs[i]);
    }
    /* and HEAD where there is GET, OPTIONS everywhere */
    bool get = json_object_get(item, "get") != NULL;
    ck_assert_int_eq(json_object_get(item, "head") != NULL, get);
    ck_assert_ptr_nonnull(json_object_get(item, "options"));
    ck_assert_uint_eq(json_object_size(item), found + (get ? 1 : 0) + 1);
    ck_assert_msg(strcmp(got, want) == 0, "%s: %s, want %s", path, got, want);
}

/* For each METHODS setting, the routes of a collection carry exactly the
 * operations it allows: POST on the list; PATCH, PUT, DELETE on an object;
 * PATCH_MANY (patch, put) and DELETE_MANY (delete) on the list. Related
 * objects, functions and the documents are read only. */
START_TEST(openapi_operations_per_methods)
{
    static const struct {
        const char *methods, *list, *one;
    } cases[] = {
        {"GET", "get", "get"},
        {"GET, POST", "get post", "get"},
        {"GET, PATCH", "get", "get patch"},
        {"GET, PUT", "get", "get put"},
        {"GET, DELETE", "get", "delete get"},
        {"GET, PATCH_MANY", "get patch put", "get"},
        {"GET, DELETE_MANY", "delete get", "get"},
        {"get, post, patch, put, delete, patch_many, delete_many", "delete get patch post put",
         "delete get patch put"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char config[256];
        (void)snprintf(config, sizeof(config), "Albums.METHODS = '%s'\n", cases[i].methods);
        rebuild(config);
        wr_buf_reset(&out);
        ck_assert_int_eq(apidoc_openapi(&out, sch, NULL), 0);
        json_t *doc = json_loadb(out.data, out.len, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        json_t *paths = json_object_get(doc, "paths");
        assert_verbs(paths, "/api/Albums", cases[i].list);
        assert_verbs(paths, "/api/Albums/{id}", cases[i].one);
        assert_verbs(paths, "/api/Albums/{id}/Artists", "get");
        assert_verbs(paths, "/api/eval/Albums", "get");
        assert_verbs(paths, "/api", "get");
        assert_verbs(paths, "/api/openapi.json", "get");
        /* Artists keeps its own METHODS */
        assert_verbs(paths, "/api/Artists", "get");
        assert_verbs(paths, "/api/Artists/{id}", "get");
        /* a write with a body says so */
        json_t *post = json_object_get(json_object_get(paths, "/api/Albums"), "post");
        if (post != NULL)
            ck_assert(
                json_is_true(json_object_get(json_object_get(post, "requestBody"), "required")));
        json_decref(doc);
        /* the index lists the same words */
        wr_buf_reset(&out);
        ck_assert_int_eq(apidoc_collections(&out, sch, NULL), 0);
        ck_assert_ptr_nonnull(strstr(text(), "{\"methods\":[\"GET\""));
    }
}
END_TEST

/* Every path the document lists, and no other: the documents, the batch
 * (Artists takes writes), and per collection the list, an object, each
 * visible relation and functions. */
START_TEST(openapi_paths_complete)
{
    ck_assert_int_eq(apidoc_openapi(&out, sch, NULL), 0);
    json_t *doc = json_loadb(out.data, out.len, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    static const char *const want[] = {
        "/api",
        "/api/openapi.json",
        "/api/_batch",
        "/api/Albums",
        "/api/Albums/{id}",
        "/api/Albums/{id}/Artists",
        "/api/Albums/{id}/Artists/{related_id}",
        "/api/eval/Albums",
        "/api/Artists",
        "/api/Artists/{id}",
        "/api/Artists/{id}/albums",
        "/api/Artists/{id}/albums/{related_id}",
        "/api/eval/Artists",
        "/api/Labels",
        "/api/Labels/{id}",
        "/api/eval/Labels",
    };
    json_t *paths = json_object_get(doc, "paths");
    for (size_t i = 0; i < N(want); i++)
        ck_assert_msg(json_object_get(paths, want[i]) != NULL, "no path %s", want[i]);
    ck_assert_uint_eq(json_object_size(paths), N(want));
    json_decref(doc);
}
END_TEST

static json_t *at(json_t *j, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n && j != NULL; i++)
        j = json_object_get(j, keys[i]);
    return j;
}

/* Whether the operation's parameters refer to the component named name. */
static bool has_param(json_t *op, const char *name)
{
    char want[128];
    (void)snprintf(want, sizeof(want), "#/components/parameters/%s", name);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(op, "parameters"), i, p) {
        if (strcmp(json_string_value(json_object_get(p, "$ref")), want) == 0)
            return true;
    }
    return false;
}

/* Issue 14's additions: one related object (an unlink where the row that
 * holds the key takes PATCH), the Link header on pages and their HEAD,
 * before on lists, match and _rank in q's description; operation ids
 * unique across the document. */
START_TEST(openapi_related_objects_head_link_before)
{
    rebuild("Albums.METHODS = 'GET, PATCH'\n");
    ck_assert_int_eq(apidoc_openapi(&out, sch, NULL), 0);
    json_t *doc = json_loadb(out.data, out.len, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    json_t *paths = json_object_get(doc, "paths");
    /* Albums holds the key into Artists: it unlinks; Artists' albums are Albums' rows too */
    assert_verbs(paths, "/api/Albums/{id}/Artists/{related_id}", "delete get");
    assert_verbs(paths, "/api/Artists/{id}/albums/{related_id}", "delete get");
    json_t *one =
        at(paths, (const char *const[]){"/api/Albums/{id}/Artists/{related_id}", "get"}, 2);
    ck_assert(has_param(one, "related_id") && has_param(one, "id") && has_param(one, "fields"));
    static const char *const link[] = {"responses", "200", "headers", "Link"};
    json_t *list = at(paths, (const char *const[]){"/api/Albums"}, 1);
    ck_assert_ptr_nonnull(at(json_object_get(list, "get"), link, 4));
    ck_assert_ptr_nonnull(at(json_object_get(list, "head"), link, 4));
    ck_assert_ptr_null(
        at(json_object_get(list, "head"), (const char *const[]){"responses", "200", "content"}, 3));
    ck_assert_ptr_nonnull(
        at(json_object_get(json_object_get(paths, "/api/Artists/{id}/albums"), "get"), link, 4));
    ck_assert_ptr_null(
        at(json_object_get(json_object_get(paths, "/api/Albums/{id}"), "get"), link, 4));
    ck_assert(has_param(json_object_get(list, "get"), "before"));
    ck_assert(has_param(json_object_get(list, "get"), "after"));
    const char *q = json_string_value(
        at(doc, (const char *const[]){"components", "parameters", "q", "description"}, 4));
    ck_assert(strstr(q, "match") != NULL && strstr(q, "_rank") != NULL);
    /* every operation id once */
    json_t *ids = json_object();
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        const char *verb;
        json_t *op;
        json_object_foreach(item, verb, op) {
            const char *id = json_string_value(json_object_get(op, "operationId"));
            ck_assert_msg(id != NULL, "%s %s has no operationId", verb, path);
            ck_assert_msg(json_object_get(ids, id) == NULL, "operationId %s twice", id);
            json_object_set_new(ids, id, json_true());
        }
    }
    json_decref(ids);
    json_decref(doc);
}
END_TEST

/* fields on every read of objects, depth up to 2, count=estimated, the
 * page's estimate and truncation flags; a create that takes a list and
 * the Prefer header; each parameter once per operation. */
START_TEST(openapi_new_parameters_and_bodies)
{
    ck_assert_int_eq(apidoc_openapi(&out, sch, NULL), 0);
    json_t *doc = json_loadb(out.data, out.len, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    json_t *paths = json_object_get(doc, "paths");
    static const char *const reads[] = {"/api/Albums", "/api/Albums/{id}",
                                        "/api/Albums/{id}/Artists", "/api/Artists/{id}/albums"};
    for (size_t i = 0; i < N(reads); i++) {
        json_t *get = json_object_get(json_object_get(paths, reads[i]), "get");
        ck_assert_msg(has_param(get, "fields"), "%s lacks fields", reads[i]);
        ck_assert_msg(has_param(get, "depth"), "%s lacks depth", reads[i]);
        size_t n = json_array_size(json_object_get(get, "parameters")), j, k;
        for (j = 0; j < n; j++)
            for (k = j + 1; k < n; k++)
                ck_assert_msg(!json_equal(json_array_get(json_object_get(get, "parameters"), j),
                                          json_array_get(json_object_get(get, "parameters"), k)),
                              "%s: a parameter twice", reads[i]);
    }
    static const char *const depth_enum[] = {"components", "parameters", "depth", "schema", "enum"};
    ck_assert_uint_eq(json_array_size(at(doc, depth_enum, N(depth_enum))), 3);
    static const char *const count_enum[] = {"components", "parameters", "count", "schema", "enum"};
    ck_assert_uint_eq(json_array_size(at(doc, count_enum, N(count_enum))), 3);
    static const char *const flags[] = {"components", "schemas", "Albums_page", "properties"};
    ck_assert_ptr_nonnull(json_object_get(at(doc, flags, N(flags)), "num_results_estimated"));
    ck_assert_ptr_nonnull(json_object_get(at(doc, flags, N(flags)), "num_results_truncated"));
    json_t *post = json_object_get(json_object_get(paths, "/api/Artists"), "post");
    ck_assert(has_param(post, "Prefer"));
    static const char *const body[] = {"requestBody", "content", "application/json", "schema",
                                       "oneOf"};
    json_t *shapes = at(post, body, N(body));
    ck_assert_uint_eq(json_array_size(shapes), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(shapes, 1), "type")),
                     "array");
    static const char *const prefer[] = {"components", "parameters", "Prefer", "in"};
    ck_assert_str_eq(json_string_value(at(doc, prefer, N(prefer))), "header");
    json_decref(doc);
}
END_TEST

/* /api/_batch: a POST of 1 to 100 operations, only when some collection
 * takes writes. */
START_TEST(openapi_batch_only_with_writes)
{
    ck_assert_int_eq(apidoc_openapi(&out, sch, NULL), 0);
    json_t *doc = json_loadb(out.data, out.len, 0, NULL);
    static const char *const items[] = {"paths",   "/api/_batch",      "post",  "requestBody",
                                        "content", "application/json", "schema"};
    json_t *list = at(doc, items, N(items));
    ck_assert_int_eq(json_integer_value(json_object_get(list, "maxItems")), 100);
    ck_assert_int_eq(json_integer_value(json_object_get(list, "minItems")), 1);
    static const char *const op[] = {"components", "schemas", "BatchOperation",
                                     "properties", "method",  "enum"};
    ck_assert_uint_eq(json_array_size(at(doc, op, N(op))), 4);
    json_decref(doc);
    rebuild("Artists.METHODS = 'GET'\n");
    wr_buf_reset(&out);
    ck_assert_int_eq(apidoc_openapi(&out, sch, NULL), 0);
    doc = json_loadb(out.data, out.len, 0, NULL);
    ck_assert_ptr_null(json_object_get(json_object_get(doc, "paths"), "/api/_batch"));
    json_decref(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("apidoc");
    TCase *tc = tcase_create("apidoc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, collections_index);
    tcase_add_test(tc, openapi_document);
    tcase_add_test(tc, openapi_leaves_hidden_out);
    tcase_add_test(tc, openapi_operations_per_methods);
    tcase_add_test(tc, openapi_paths_complete);
    tcase_add_test(tc, openapi_related_objects_head_link_before);
    tcase_add_test(tc, openapi_new_parameters_and_bodies);
    tcase_add_test(tc, openapi_batch_only_with_writes);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
