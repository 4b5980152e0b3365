/* Relation changes in a write's body (Flask-Restless 0.17's PATCH/POST
 * forms) over a copy of Chinook: a to-one set to an existing object or a
 * new one, to-many add / remove / remove with __delete__ / set, one level of
 * nested create, the related collections' METHODS respected, and
 * validation_errors naming every problem. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

static int port; /* the edge's, from h_spawn_edge */

static struct proc edge, worker;
static char db[512];

static void setup(void)
{
    static char env_db[600];
    h_copy_db("relations-chinook", db, sizeof(db));
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    const char *extra[] = {env_db,
                           "WARREN_COLLECTIONS=Albums, Artists, Tracks",
                           "WARREN_Albums__METHODS=GET, POST, PATCH, DELETE",
                           "WARREN_Artists__METHODS=GET, POST, PATCH, DELETE, PATCH_MANY, "
                           "DELETE_MANY",
                           "WARREN_Tracks__METHODS=GET, PATCH",
                           NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-rel", 0, "t_rel", extra);
    port = h_spawn_edge(&edge, "edge-rel", "t_rel", extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

/* Sends a request with a JSON body (or none) and checks its status; returns
 * the parsed answer (NULL for none). */
static json_t *call(const char *method, const char *path, const char *body, int status)
{
    struct http_resp r;
    ck_assert_int_eq(h_http_body(port, method, path, body, &r, 10000), 0);
    ck_assert_msg(r.status == status, "%s %s %s: %d, want %d: %s", method, path, body ? body : "",
                  r.status, status, r.body);
    json_t *j = r.len > 0 ? json_loads(r.body, 0, NULL) : NULL;
    h_http_free(&r);
    return j;
}

static long long int_of(json_t *j, const char *member)
{
    return json_integer_value(json_object_get(j, member));
}

static long long related_count(const char *path)
{
    json_t *j = call("GET", path, NULL, 200);
    long long n = int_of(j, "num_results");
    json_decref(j);
    return n;
}

/* The validation error recorded for member, "" when none. */
static const char *problem(json_t *j, const char *member)
{
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "validation_failed");
    const char *s =
        json_string_value(json_object_get(json_object_get(j, "validation_errors"), member));
    return s ? s : "";
}

START_TEST(to_one_nested_create_and_link)
{
    json_t *j =
        call("POST", "/api/Albums", "{\"title\":\"N1\",\"Artists\":{\"name\":\"Newcomer\"}}", 201);
    json_t *artist = json_object_get(j, "Artists");
    ck_assert_str_eq(json_string_value(json_object_get(artist, "name")), "Newcomer");
    ck_assert_int_eq(int_of(artist, "artist_id"), int_of(j, "artist_id"));
    ck_assert_int_gt(int_of(j, "artist_id"), 275); /* Chinook has 275 artists */
    char path[64];
    (void)snprintf(path, sizeof(path), "/api/Albums/%lld", int_of(j, "album_id"));
    json_decref(j);
    j = call("PATCH", path, "{\"Artists\":{\"artist_id\":1}}", 200);
    ck_assert_int_eq(int_of(j, "artist_id"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "Artists"), "name")),
                     "AC/DC");
    json_decref(j);
    j = call("PATCH", path, "{\"Artists\":{\"artist_id\":999999}}", 400);
    ck_assert_str_eq(problem(j, "Artists"), "no such object");
    json_decref(j);
    /* the column and its relation at once, and a nested object's own problem */
    j = call("PATCH", path, "{\"artist_id\":2,\"Artists\":{\"artist_id\":1}}", 400);
    ck_assert_str_eq(problem(j, "artist_id"), "is also set by a relation");
    json_decref(j);
    j = call("POST", "/api/Albums", "{\"title\":\"N2\",\"Artists\":{\"name\":7}}", 400);
    json_t *nested = json_object_get(json_object_get(j, "validation_errors"), "Artists");
    ck_assert_str_eq(json_string_value(json_object_get(nested, "name")), "must be a string");
    json_decref(j);
}
END_TEST

START_TEST(to_many_add_remove_delete)
{
    json_t *j = call("POST", "/api/Artists",
                     "{\"name\":\"Band\",\"albums\":[{\"title\":\"B1\"},{\"title\":\"B2\"}]}", 201);
    long long artist = int_of(j, "artist_id");
    json_decref(j);
    char albums[64], obj[64], body[200];
    (void)snprintf(albums, sizeof(albums), "/api/Artists/%lld/albums", artist);
    (void)snprintf(obj, sizeof(obj), "/api/Artists/%lld", artist);
    ck_assert_int_eq(related_count(albums), 2);
    /* add an existing album (AC/DC's first) */
    json_decref(call("PATCH", obj, "{\"albums\":{\"add\":[{\"album_id\":1}]}}", 200));
    ck_assert_int_eq(related_count(albums), 3);
    /* AC/DC kept album 4 and N1 (linked to it by the test before) */
    ck_assert_int_eq(related_count("/api/Artists/1/albums"), 2);
    /* remove with __delete__: the album is gone */
    j = call("GET", albums, NULL, 200);
    long long b1 = 0;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(j, "objects"), i, o) {
        if (strcmp(json_string_value(json_object_get(o, "title")), "B1") == 0)
            b1 = int_of(o, "album_id");
    }
    json_decref(j);
    (void)snprintf(body, sizeof(body),
                   "{\"albums\":{\"remove\":[{\"album_id\":%lld,\"__delete__\":true}]}}", b1);
    json_decref(call("PATCH", obj, body, 200));
    ck_assert_int_eq(related_count(albums), 2);
    (void)snprintf(body, sizeof(body), "/api/Albums/%lld", b1);
    json_decref(call("GET", body, NULL, 404));
    /* remove without deleting: an album needs its artist (NOT NULL): 409 */
    j = call("PATCH", obj, "{\"albums\":{\"remove\":[{\"album_id\":1}]}}", 409);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "conflict");
    json_decref(j);
    /* removing what is not related */
    j = call("PATCH", obj, "{\"albums\":{\"remove\":[{\"album_id\":2}]}}", 400);
    ck_assert_str_eq(problem(j, "albums"), "not related to this object");
    json_decref(j);
    ck_assert_int_eq(related_count(albums), 2);
}
END_TEST

START_TEST(to_many_set_and_methods)
{
    /* album 3 has tracks 3, 4 and 5; a set keeps 3 and unlinks the others */
    ck_assert_int_eq(related_count("/api/Albums/3/tracks"), 3);
    json_decref(call("PATCH", "/api/Albums/3", "{\"tracks\":[{\"track_id\":3}]}", 200));
    ck_assert_int_eq(related_count("/api/Albums/3/tracks"), 1);
    json_t *j = call("GET", "/api/Tracks/4", NULL, 200);
    ck_assert(json_is_null(json_object_get(j, "album_id")));
    json_decref(j);
    /* plain remove on a nullable foreign key */
    json_decref(
        call("PATCH", "/api/Albums/3", "{\"tracks\":{\"remove\":[{\"track_id\":3}]}}", 200));
    ck_assert_int_eq(related_count("/api/Albums/3/tracks"), 0);
    /* Tracks takes GET and PATCH only: no nested create, no __delete__ */
    j = call("PATCH", "/api/Albums/4",
             "{\"tracks\":{\"add\":[{\"name\":\"x\",\"media_type_id\":1,"
             "\"milliseconds\":1,\"unit_price\":1}]}}",
             400);
    ck_assert_str_eq(problem(j, "tracks"), "changing Tracks objects needs POST on Tracks");
    json_decref(j);
    j = call("PATCH", "/api/Albums/4",
             "{\"tracks\":{\"remove\":[{\"track_id\":6,\"__delete__\":true}]}}", 400);
    ck_assert_str_eq(problem(j, "tracks"), "changing Tracks objects needs DELETE on Tracks");
    json_decref(j);
    ck_assert_int_eq(related_count("/api/Albums/4/tracks"), 8);
    /* a failed relation change leaves the row unchanged too (one transaction) */
    j = call("PATCH", "/api/Albums/4",
             "{\"title\":\"changed\",\"tracks\":{\"add\":[{\"track_id\":"
             "999999}]}}",
             400);
    json_decref(j);
    j = call("GET", "/api/Albums/4", NULL, 200);
    ck_assert_str_ne(json_string_value(json_object_get(j, "title")), "changed");
    json_decref(j);
}
END_TEST

/* PATCH and DELETE of many objects by q, where the collection opts in. */
START_TEST(patch_and_delete_many)
{
    json_decref(call("POST", "/api/Artists", "{\"name\":\"Gone 1\"}", 201));
    json_decref(call("POST", "/api/Artists", "{\"name\":\"Gone 2\"}", 201));
    const char *gone = "/api/Artists?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22name%22%2C%22op%22"
                       "%3A%22like%22%2C%22val%22%3A%22Gone%25%22%7D%5D%7D"; /* name like Gone% */
    json_t *j = call("PATCH", gone, "{\"name\":\"Gone again\"}", 200);
    ck_assert_int_eq(int_of(j, "num_modified"), 2);
    json_decref(j);
    j = call("GET", gone, NULL, 200);
    ck_assert_int_eq(int_of(j, "num_results"), 2);
    ck_assert_str_eq(json_string_value(
                         json_object_get(json_array_get(json_object_get(j, "objects"), 1), "name")),
                     "Gone again");
    json_decref(j);
    j = call("DELETE", gone, NULL, 200);
    ck_assert_int_eq(int_of(j, "num_deleted"), 2);
    json_decref(j);
    j = call("DELETE", gone, NULL, 200);
    ck_assert_int_eq(int_of(j, "num_deleted"), 0);
    json_decref(j);
    /* artists with albums cannot go (foreign key): nothing is deleted */
    j = call("DELETE",
             "/api/"
             "Artists?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22artist_id%22%2C%22op%22%3A%22lt%"
             "22%2C%22val%22%3A3%7D%5D%7D",
             NULL, 409);
    json_decref(j);
    ck_assert_int_eq(related_count("/api/"
                                   "Artists?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22artist_id%"
                                   "22%2C%22op%22%3A%22lt%22%2C%22val%22%3A3%7D%5D%7D"),
                     2);
    /* a bad q names itself; Albums did not opt in */
    j = call("DELETE",
             "/api/"
             "Artists?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22nope%22%2C%22op%22%3A%22%3D%3D%22%"
             "2C%22val%22%3A1%7D%5D%7D",
             NULL, 400);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "bad_parameter");
    json_decref(j);
    struct http_resp r;
    ck_assert_int_eq(h_http_body(port, "PATCH", "/api/Albums", "{\"title\":\"x\"}", &r, 10000), 0);
    ck_assert_int_eq(r.status, 405);
    char allow[128];
    ck_assert(h_header(&r, "Allow", allow, sizeof(allow)));
    ck_assert_str_eq(allow, "GET, POST, PATCH, DELETE"); /* HTTP methods, no opt-in words */
    h_http_free(&r);
}
END_TEST

/* One related object by its id (GET reads it, DELETE takes it out of the
 * relation), through the RPC client API. */
static int rpc_status(const char *op, const char *coll, const char *key, const char *rel,
                      const char *relid, char **body)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_rel", .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request req = {
        .op = op, .collection = coll, .key = key, .relation = rel, .related_id = relid};
    struct wr_reply r;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &r, &err), 0);
    int status = r.status;
    if (body != NULL)
        *body = strdup(r.body ? r.body : "");
    wr_reply_release(&r);
    wr_rpc_free(rpc);
    return status;
}

START_TEST(one_related_object)
{
    char *body = NULL;
    ck_assert_int_eq(rpc_status("related", "Albums", "5", "tracks", "23", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"track_id\":23"));
    free(body);
    ck_assert_int_eq(rpc_status("related", "Albums", "5", "tracks", "38", NULL), 404);
    ck_assert_int_eq(rpc_status("related", "Tracks", "38", "Albums", "6", NULL), 200);
    /* to-many: the track leaves album 5 */
    ck_assert_int_eq(rpc_status("delete", "Albums", "5", "tracks", "23", NULL), 204);
    ck_assert_int_eq(related_count("/api/Albums/5/tracks"), 14);
    json_t *j = call("GET", "/api/Tracks/23", NULL, 200);
    ck_assert(json_is_null(json_object_get(j, "album_id")));
    json_decref(j);
    ck_assert_int_eq(rpc_status("delete", "Albums", "5", "tracks", "23", NULL), 404);
    /* to-one: the track's album is cleared; a wrong one is a 404 */
    ck_assert_int_eq(rpc_status("delete", "Tracks", "39", "Albums", "5", NULL), 404);
    ck_assert_int_eq(rpc_status("delete", "Tracks", "38", "Albums", "6", NULL), 204);
    ck_assert_int_eq(rpc_status("related", "Tracks", "38", "Albums", "6", NULL), 404);
    /* an album must keep its artist */
    ck_assert_int_eq(rpc_status("delete", "Artists", "1", "albums", "4", NULL), 409);
    /* the same over HTTP */
    json_t *j2 = call("GET", "/api/Albums/5/tracks/24", NULL, 200);
    ck_assert_int_eq(int_of(j2, "track_id"), 24);
    json_decref(j2);
    json_decref(call("DELETE", "/api/Albums/5/tracks/24", NULL, 204));
    json_decref(call("DELETE", "/api/Albums/5/tracks/24", NULL, 404));
    json_decref(call("GET", "/api/Albums/5/tracks/24", NULL, 404));
    json_decref(call("PATCH", "/api/Albums/5/tracks/25", "{}", 405));
    ck_assert_int_eq(related_count("/api/Albums/5/tracks"), 13);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("relations");
    TCase *tc = tcase_create("relations");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, to_one_nested_create_and_link);
    tcase_add_test(tc, to_many_add_remove_delete);
    tcase_add_test(tc, to_many_set_and_methods);
    tcase_add_test(tc, patch_and_delete_many);
    tcase_add_test(tc, one_related_object);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
