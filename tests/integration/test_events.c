/* Change events on warren.events, end to end over a copy of Chinook: a
 * writer and an edge take a few hundred mixed writes (creates, updates,
 * deletes, relation changes, writes of many, a bulk create, a batch, a
 * write a constraint refuses); a subscriber of its own, a queue bound to
 * warren.events with "<service>.#", gets each changed row's event exactly
 * once after dropping repeats, in position order, each object as GET
 * answered right after its write, null on delete, nothing for the refused
 * write. A writer SIGKILLed while writes commit loses no event after its
 * restart: repeats only, with their position and index. Each test has a
 * service (and so routing keys) of its own. */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"

static struct proc writer, edge;
static char db[512], env_db[600], spool[600];
static int port;
static char service[64];

static const char *const config[] = {
    env_db,
    spool,
    "WARREN_Albums__METHODS=GET, POST, PATCH, PUT, DELETE, PATCH_MANY, DELETE_MANY",
    "WARREN_Artists__METHODS=GET, POST, PATCH, DELETE",
    "WARREN_COLLECTIONS=Albums, Artists",
    NULL,
};

/* ---- the subscriber: rabbitmq-c itself, as any other service would ---- */

static amqp_connection_state_t sub;

static void subscribe(void)
{
    sub = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(sub);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(
        amqp_socket_open(s, "127.0.0.1", (int)strtol(h_env("WRT_AMQP_PORT"), NULL, 10)), 0);
    amqp_rpc_reply_t r =
        amqp_login(sub, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
    ck_assert_int_eq(r.reply_type, AMQP_RESPONSE_NORMAL);
    amqp_channel_open(sub, 1);
    ck_assert_int_eq(amqp_get_rpc_reply(sub).reply_type, AMQP_RESPONSE_NORMAL);
    /* declared alike by every warren process; a subscriber may come first */
    amqp_exchange_declare(sub, 1, amqp_cstring_bytes("warren.events"), amqp_cstring_bytes("topic"),
                          0, 1, 0, 0, amqp_empty_table);
    ck_assert_int_eq(amqp_get_rpc_reply(sub).reply_type, AMQP_RESPONSE_NORMAL);
    amqp_queue_declare_ok_t *q =
        amqp_queue_declare(sub, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
    ck_assert_ptr_nonnull(q);
    amqp_bytes_t queue = amqp_bytes_malloc_dup(q->queue);
    char key[96];
    (void)snprintf(key, sizeof(key), "%s.#", service);
    amqp_queue_bind(sub, 1, queue, amqp_cstring_bytes("warren.events"), amqp_cstring_bytes(key),
                    amqp_empty_table);
    ck_assert_int_eq(amqp_get_rpc_reply(sub).reply_type, AMQP_RESPONSE_NORMAL);
    amqp_basic_consume(sub, 1, queue, amqp_empty_bytes, 0, 1, 0, amqp_empty_table);
    ck_assert_int_eq(amqp_get_rpc_reply(sub).reply_type, AMQP_RESPONSE_NORMAL);
    amqp_bytes_free(queue);
}

static void unsubscribe(void)
{
    if (sub == NULL)
        return;
    (void)amqp_channel_close(sub, 1, AMQP_REPLY_SUCCESS);
    (void)amqp_connection_close(sub, AMQP_REPLY_SUCCESS);
    (void)amqp_destroy_connection(sub);
    sub = NULL;
}

/* One event as it arrived. */
struct event {
    long long position, k, count;
    char message_id[96];
    char routing_key[160];
    json_t *body;
};

#define MAX_EVENTS 20000
static struct event *events;
static size_t nevents;

static long long header_int(const amqp_basic_properties_t *p, const char *name)
{
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return -1;
    for (int i = 0; i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (e->key.len == strlen(name) && memcmp(e->key.bytes, name, e->key.len) == 0)
            return e->value.kind == AMQP_FIELD_KIND_I64 ? e->value.value.i64 : e->value.value.i32;
    }
    return -1;
}

/* Reads events until none came for quiet_ms. */
static void collect(int quiet_ms)
{
    for (;;) {
        struct timeval tv = {.tv_sec = quiet_ms / 1000, .tv_usec = (quiet_ms % 1000) * 1000};
        amqp_envelope_t env;
        amqp_maybe_release_buffers(sub);
        amqp_rpc_reply_t r = amqp_consume_message(sub, &env, &tv, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL)
            return; /* quiet: a timeout */
        ck_assert_uint_lt(nevents, MAX_EVENTS);
        struct event *e = &events[nevents++];
        const amqp_basic_properties_t *p = &env.message.properties;
        e->position = header_int(p, "x-position");
        e->k = header_int(p, "x-event-index");
        e->count = header_int(p, "x-event-count");
        ck_assert(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG);
        ck_assert(p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG);
        ck_assert_int_eq(p->delivery_mode, 2);
        (void)snprintf(e->message_id, sizeof(e->message_id), "%.*s", (int)p->message_id.len,
                       (const char *)p->message_id.bytes);
        (void)snprintf(e->routing_key, sizeof(e->routing_key), "%.*s", (int)env.routing_key.len,
                       (const char *)env.routing_key.bytes);
        e->body = json_loadb(env.message.body.bytes, env.message.body.len, 0, NULL);
        ck_assert_msg(e->body != NULL, "an event is no JSON: %.*s", (int)env.message.body.len,
                      (const char *)env.message.body.bytes);
        amqp_destroy_envelope(&env);
    }
}

/* ---- the writer and the edge ---- */

static void spawn_writer(void)
{
    h_spawn_warren(&writer, WARREN_CATALOG_BIN, "events-writer", 0, service, config);
}

static void setup(void)
{
    static int run;
    (void)snprintf(service, sizeof(service), "t_ev%d_%d", (int)getpid(), run++);
    h_copy_db("events-writer", db, sizeof(db));
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    (void)snprintf(spool, sizeof(spool), "WARREN_AUDIT_SPOOL_DIR=%s/spool-events",
                   h_env("WRT_STATE_DIR"));
    events = calloc(MAX_EVENTS, sizeof(*events));
    ck_assert_ptr_nonnull(events);
    nevents = 0;
    subscribe();
    spawn_writer();
    const char *extra[] = {"WARREN_REQUEST_TIMEOUT_MS=10000", NULL};
    port = h_spawn_edge(&edge, "events-edge", service, extra);
    ck_assert_msg(h_wait_ready(port, 20000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    h_stop(&writer, SIGTERM);
    unsubscribe();
    for (size_t i = 0; i < nevents; i++)
        json_decref(events[i].body);
    free(events);
    events = NULL;
}

/* The first integer of sql's first row in the writer's file (-1: none). */
static long long db_int(const char *sql)
{
    sqlite3 *d = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(d, 10000) == SQLITE_OK &&
        sqlite3_prepare_v2(d, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(d);
    return v;
}

/* Waits until the outbox has nothing unpublished, then reads the events. */
static void drain(void)
{
    long long until = h_now_ms() + 60000;
    while (db_int("SELECT count(*) FROM warren_outbox WHERE published = 0") != 0 &&
           h_now_ms() < until)
        usleep(50000);
    ck_assert_msg(db_int("SELECT count(*) FROM warren_outbox WHERE published = 0") == 0,
                  "the outbox was not published (see %s)", writer.log);
    collect(1500);
}

/* ---- what the writes should have caused ---- */

/* One write that succeeded: its position and the events it must have. */
struct expect {
    long long position;
    long long count;  /* events; -1: the one (collection, id, op) below */
    const char *op;   /* created, updated, deleted; NULL: any */
    long long id;     /* of an Albums or Artists row; 0: not known */
    const char *coll; /* Albums or Artists */
    json_t *object;   /* GET right after the write (NULL: not read) */
};

#define MAX_EXPECT 2000
static struct expect *want;
static size_t nwant;

static long long position_of(const struct http_resp *r)
{
    char v[32];
    ck_assert_msg(h_header(r, "X-Warren-Position", v, sizeof(v)), "a write without a position");
    return strtoll(v, NULL, 10);
}

static json_t *get_object(const char *coll, long long id)
{
    char path[96];
    struct http_resp r;
    (void)snprintf(path, sizeof(path), "/api/%s/%lld", coll, id);
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 15000), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    h_http_free(&r);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* A write; 0 when it was refused with one of the statuses allowed, else
 * its position (the expectation noted, count events of op). */
static long long do_write(const char *method, const char *path, const char *body, int ok, int ok2,
                          struct http_resp *r)
{
    ck_assert_int_eq(h_http_body(port, method, path, body, r, 15000), 0);
    ck_assert_msg(r->status == ok || r->status == ok2, "%s %s: %d %s", method, path, r->status,
                  r->body ? r->body : "");
    if (r->status != ok)
        return 0;
    return position_of(r);
}

static void expect_one(long long pos, const char *coll, long long id, const char *op)
{
    ck_assert_uint_lt(nwant, MAX_EXPECT);
    want[nwant++] = (struct expect){.position = pos,
                                    .count = -1,
                                    .op = op,
                                    .id = id,
                                    .coll = coll,
                                    .object = strcmp(op, "deleted") ? get_object(coll, id) : NULL};
}

static void expect_n(long long pos, long long count, const char *op)
{
    ck_assert_uint_lt(nwant, MAX_EXPECT);
    want[nwant++] = (struct expect){.position = pos, .count = count, .op = op};
}

static long long location_id(const struct http_resp *r)
{
    char loc[512];
    ck_assert(h_header(r, "Location", loc, sizeof(loc)));
    const char *slash = strrchr(loc, '/');
    ck_assert_ptr_nonnull(slash);
    return strtoll(slash + 1, NULL, 10);
}

static long long json_count(const struct http_resp *r, const char *key)
{
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    long long n = json_integer_value(json_object_get(j, key));
    json_decref(j);
    return n;
}

/* n writes of a mix, each one's expectation noted. */
static void mixed_writes(int n, int seed)
{
    char body[512], path[192];
    for (int i = 0; i < n; i++) {
        struct http_resp r;
        long long pos = 0, id = 1 + (i * 7 + seed) % 300;
        switch ((i + seed) % 10) {
        case 0:
        case 1:
            (void)snprintf(body, sizeof(body), "{\"title\":\"ev %d-%d\",\"artist_id\":%d}", seed, i,
                           1 + i % 200);
            pos = do_write("POST", "/api/Albums", body, 201, 201, &r);
            expect_one(pos, "Albums", location_id(&r), "created");
            break;
        case 2:
            (void)snprintf(path, sizeof(path), "/api/Albums/%lld", id);
            (void)snprintf(body, sizeof(body), "{\"title\":\"renamed %d-%d\"}", seed, i);
            if ((pos = do_write("PATCH", path, body, 200, 404, &r)) > 0)
                expect_one(pos, "Albums", id, "updated");
            break;
        case 3:
            (void)snprintf(body, sizeof(body), "{\"name\":\"artist %d-%d\"}", seed, i);
            pos = do_write("POST", "/api/Artists", body, 201, 201, &r);
            expect_one(pos, "Artists", location_id(&r), "created");
            break;
        case 4: { /* a relation change: the album's artist, to another one */
            json_t *now = get_object("Albums", id);
            long long artist = 1 + i % 100;
            if (json_integer_value(json_object_get(now, "artist_id")) == artist)
                artist++;
            json_decref(now);
            (void)snprintf(path, sizeof(path), "/api/Albums/%lld", id);
            (void)snprintf(body, sizeof(body), "{\"Artists\":{\"artist_id\":%lld}}", artist);
            if ((pos = do_write("PATCH", path, body, 200, 404, &r)) > 0)
                expect_one(pos, "Albums", id, "updated");
            break;
        }
        case 5: /* a write of many */
            (void)snprintf(path, sizeof(path),
                           "/api/Albums?q={\"filters\":[{\"name\":\"title\",\"op\":\"like\","
                           "\"val\":\"ev%%20%d-%d%%25\"}]}",
                           seed, i - 5);
            (void)snprintf(body, sizeof(body), "{\"title\":\"many %d-%d\"}", seed, i);
            pos = do_write("PATCH", path, body, 200, 200, &r);
            expect_n(pos, json_count(&r, "num_modified"), "updated");
            break;
        case 6: /* delete one created earlier (Chinook has 347), or a 404 */
            id = 348 + (i * 3 + seed) % 100;
            (void)snprintf(path, sizeof(path), "/api/Albums/%lld", id);
            if ((pos = do_write("DELETE", path, NULL, 204, 404, &r)) > 0)
                expect_one(pos, "Albums", id, "deleted");
            break;
        case 7: /* a bulk create of three */
            (void)snprintf(body, sizeof(body),
                           "[{\"title\":\"bulk %d-%d a\",\"artist_id\":1},"
                           "{\"title\":\"bulk %d-%d b\",\"artist_id\":2},"
                           "{\"title\":\"bulk %d-%d c\",\"artist_id\":3}]",
                           seed, i, seed, i, seed, i);
            pos = do_write("POST", "/api/Albums", body, 201, 201, &r);
            expect_n(pos, 3, "created");
            break;
        case 8: /* a batch: a create, an artist's rename */
            (void)snprintf(body, sizeof(body),
                           "[{\"method\":\"POST\",\"path\":\"/api/Albums\",\"body\":"
                           "{\"title\":\"batched %d-%d\",\"artist_id\":4}},"
                           "{\"method\":\"PATCH\",\"path\":\"/api/Artists/4\",\"body\":"
                           "{\"name\":\"batched %d-%d\"}}]",
                           seed, i, seed, i);
            pos = do_write("POST", "/api/_batch", body, 200, 200, &r);
            expect_n(pos, 2, NULL);
            break;
        default: /* refused by a constraint (no such artist): no event */
            (void)snprintf(body, sizeof(body), "{\"title\":\"refused %d-%d\",\"artist_id\":999999}",
                           seed, i);
            ck_assert_int_eq(h_http_body(port, "POST", "/api/Albums", body, &r, 15000), 0);
            ck_assert_msg(r.status == 409, "a refused write: %d %s", r.status, r.body);
            break;
        }
        h_http_free(&r);
    }
}

/* ---- checks ---- */

/* The events without repeats, in arrival order, after checking that every
 * repeat is one seen before with the same body, and that the first ones
 * come in (position, k) order. Returns their count; they are moved to the
 * front of events (the repeats' bodies freed). */
static size_t first_ones(void)
{
    size_t kept = 0;
    for (size_t i = 0; i < nevents; i++) {
        struct event *e = &events[i];
        ck_assert_int_ge(e->position, 1);
        ck_assert_int_ge(e->k, 0);
        ck_assert_int_lt(e->k, e->count);
        char id[96];
        (void)snprintf(id, sizeof(id), "%s:%lld:%lld", service, e->position, e->k);
        ck_assert_str_eq(e->message_id, id);
        bool newer = kept == 0 || e->position > events[kept - 1].position ||
                     (e->position == events[kept - 1].position && e->k > events[kept - 1].k);
        if (newer) {
            events[kept++] = *e;
            continue;
        }
        /* a repeat: the same event as before, never one missed */
        bool seen = false;
        for (size_t j = 0; j < kept && !seen; j++)
            if (events[j].position == e->position && events[j].k == e->k) {
                ck_assert_msg(json_equal(events[j].body, e->body), "repeat %s differs", id);
                seen = true;
            }
        ck_assert_msg(seen, "event %s arrived after a later one", id);
        json_decref(e->body);
    }
    nevents = kept;
    return kept;
}

/* Each position's events: all of its k, 0 to count - 1, in order. */
static void assert_whole(void)
{
    for (size_t i = 0; i < nevents; i++) {
        bool first = i == 0 || events[i - 1].position != events[i].position;
        ck_assert_msg(events[i].k == (first ? 0 : events[i - 1].k + 1),
                      "position %lld: event %lld missing", events[i].position,
                      first ? 0 : events[i - 1].k + 1);
        bool last = i + 1 == nevents || events[i + 1].position != events[i].position;
        if (last)
            ck_assert_int_eq(events[i].k + 1, events[i].count);
    }
}

static const char *str(const json_t *body, const char *key)
{
    const char *s = json_string_value(json_object_get(body, key));
    return s != NULL ? s : "";
}

static void assert_expected(void)
{
    size_t at = 0;
    for (size_t w = 0; w < nwant; w++) {
        const struct expect *x = &want[w];
        while (at < nevents && events[at].position < x->position)
            at++;
        size_t n = 0;
        while (at + n < nevents && events[at + n].position == x->position)
            n++;
        long long count = x->count < 0 ? 1 : x->count;
        ck_assert_msg((long long)n == count, "position %lld: %zu events, want %lld", x->position, n,
                      count);
        for (size_t k = 0; k < n; k++) {
            const json_t *b = events[at + k].body;
            char key[160];
            ck_assert_int_eq(json_integer_value(json_object_get(b, "position")), x->position);
            ck_assert_uint_eq(strlen(str(b, "request_id")), 32);
            ck_assert_str_eq(str(b, "principal"), "tests");
            ck_assert_uint_eq(strlen(str(b, "time")), 24);
            if (x->op != NULL)
                ck_assert_str_eq(str(b, "op"), x->op);
            (void)snprintf(key, sizeof(key), "%s.%s.%s", service, str(b, "collection"),
                           str(b, "op"));
            ck_assert_str_eq(events[at + k].routing_key, key);
            bool deleted = strcmp(str(b, "op"), "deleted") == 0;
            ck_assert(deleted == json_is_null(json_object_get(b, "object")));
            if (x->count >= 0)
                continue;
            ck_assert_str_eq(str(b, "collection"), x->coll);
            ck_assert_int_eq(json_integer_value(json_object_get(b, "id")), x->id);
            if (x->object != NULL)
                ck_assert_msg(json_equal(json_object_get(b, "object"), x->object),
                              "position %lld: the event's object is not GET's", x->position);
        }
        at += n;
    }
    /* no event but those of the writes above: the refused ones have none */
    size_t total = 0;
    for (size_t w = 0; w < nwant; w++)
        total += want[w].count < 0 ? 1 : (size_t)want[w].count;
    ck_assert_uint_eq(nevents, total);
}

START_TEST(every_row_once_in_order)
{
    want = calloc(MAX_EXPECT, sizeof(*want));
    ck_assert_ptr_nonnull(want);
    nwant = 0;
    mixed_writes(400, 1);
    drain();
    ck_assert_uint_gt(first_ones(), 300);
    assert_whole();
    assert_expected();
    for (size_t w = 0; w < nwant; w++)
        json_decref(want[w].object);
    free(want);
}
END_TEST

START_TEST(killed_writer_loses_no_event)
{
    /* creates only: each position has exactly one event. Killed while
     * writes arrive: some committed and perhaps not yet published; the
     * restarted writer publishes them. The writes in flight may fail: a
     * child sends them. */
    pid_t child = h_writes_in_flight(port, 300);
    usleep(1500000);
    h_stop(&writer, SIGKILL);
    spawn_writer();
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    drain();
    size_t n = first_ones();
    assert_whole();
    long long last = db_int("SELECT max(position) FROM warren_outbox");
    ck_assert_int_gt(last, 10);
    /* one event per position, from the first to the last: none missing */
    ck_assert_uint_eq(n, (size_t)last);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(events[i].position, (long long)i + 1);
        ck_assert_str_eq(str(events[i].body, "op"), "created");
    }
}
END_TEST

/* A hidden column or relation stays hidden in events: the object is
 * rendered as GET renders it, EXCLUDE included, so what a subscriber (or
 * a browser on /api/Albums/events, which needs no key) reads is never
 * more than a GET shows. */
START_TEST(hidden_fields_stay_out_of_events)
{
    h_stop(&writer, SIGTERM); /* maybe still starting: its status says nothing */
    static const char *const hiding[] = {env_db,
                                         spool,
                                         "WARREN_Albums__METHODS=GET, PATCH",
                                         "WARREN_Albums__EXCLUDE=artist_id, Artists",
                                         "WARREN_COLLECTIONS=Albums, Artists",
                                         NULL};
    h_spawn_warren(&writer, WARREN_CATALOG_BIN, "events-writer-hiding", 0, service, hiding);
    struct http_resp r;
    long long pos =
        do_write("PATCH", "/api/Albums/5", "{\"title\":\"Hidden Fields\"}", 200, 200, &r);
    h_http_free(&r);
    json_t *got = get_object("Albums", 5);
    ck_assert_ptr_null(json_object_get(got, "artist_id")); /* the GET hides them */
    ck_assert_ptr_null(json_object_get(got, "Artists"));
    drain();
    const json_t *object = NULL;
    for (size_t i = 0; i < nevents; i++)
        if (events[i].position == pos)
            object = json_object_get(events[i].body, "object");
    ck_assert_msg(object != NULL, "no event at position %lld", pos);
    char *text = json_dumps(object, JSON_SORT_KEYS);
    ck_assert_msg(json_object_get(object, "artist_id") == NULL &&
                      json_object_get(object, "Artists") == NULL,
                  "a hidden field in the event: %s", text);
    ck_assert_str_eq(json_string_value(json_object_get(object, "title")), "Hidden Fields");
    ck_assert_msg(json_equal(object, got), "the event's object is not the GET's: %s", text);
    free(text);
    json_decref(got);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("events");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_row_once_in_order);
    tcase_add_test(tc, killed_writer_loses_no_event);
    tcase_add_test(tc, hidden_fields_stay_out_of_events);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_verdict(run_suite(suite(), false));
}
