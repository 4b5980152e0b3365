/* Replicas fed by the change stream, end to end over copies of Chinook (the
 * shared file is never written): a writer and two replicas, each with its
 * own file, take mixed writes through the edge while reads go to all three,
 * and end with identical files; a replica killed in the middle catches up;
 * a writer killed mid-burst loses nothing and applies nothing twice; a
 * replica whose file was changed by hand stops and says why; the broker
 * restarted mid-stream; a replica held behind (its file's write lock taken
 * by the test, so its applier waits) neither plants a stale answer in the
 * shared cache nor, past MAX_REPLICA_LAG_MS, takes requests. Each test has
 * a service (and so a stream) of its own, and the nodes share Redis db 7. */
#include <check.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"

#define NREPLICAS 2

struct node {
    struct proc proc;
    char db[512];
    char env_db[600];
    char spool[600];
    char tag[64];
    char admin[64]; /* WARREN_ADMIN_PORT=... */
    int admin_port;
};

static struct node writer, replicas[NREPLICAS];
static struct proc edge;
static int port;
static char service[64];
static char redis_url[128];
static const char *lag_env; /* extra for the replicas, or NULL */
static bool broker_stopped; /* by the test: started again in the teardown */
static bool short_stream;   /* the test's stream keeps little (setup_short_stream) */

static const char *const methods[] = {
    "WARREN_Albums__METHODS=GET, POST, PATCH, PUT, DELETE, PATCH_MANY, DELETE_MANY",
    "WARREN_Artists__METHODS=GET, POST, PATCH, DELETE",
    "WARREN_COLLECTIONS=Albums, Artists",
    "WARREN_LOG_LEVEL=info",
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static void spawn(struct node *n, bool replica)
{
    /* every read through the cache (CACHE_MIN_COST_US 0), and through
     * Redis: the X-Cache these tests expect is Redis's tier, which the
     * workers' in-process one would answer before
     * (integration_local_cache shows that one) */
    const char *extra[NMETHODS + 9] = {n->env_db,
                                       n->spool,
                                       redis_url,
                                       n->admin,
                                       "WARREN_CACHE_MIN_COST_US=0",
                                       "WARREN_LOCAL_CACHE_MAX_BYTES=0"};
    size_t k = 6;
    for (size_t i = 0; i < NMETHODS; i++)
        extra[k++] = methods[i];
    if (replica)
        extra[k++] = "WARREN_REPLICA=True";
    if (replica && lag_env != NULL)
        extra[k++] = lag_env;
    extra[k] = NULL;
    h_spawn_warren(&n->proc, WARREN_CATALOG_BIN, n->tag, 0, service, extra);
}

static void name_node(struct node *n, const char *what)
{
    (void)snprintf(n->tag, sizeof(n->tag), "replicas-%s", what);
    (void)snprintf(n->env_db, sizeof(n->env_db), "WARREN_DATABASE_URI=sqlite:///%s", n->db);
    (void)snprintf(n->spool, sizeof(n->spool), "WARREN_AUDIT_SPOOL_DIR=%s/spool-%s",
                   h_env("WRT_STATE_DIR"), what);
    n->admin_port = h_free_port();
    (void)snprintf(n->admin, sizeof(n->admin), "WARREN_ADMIN_PORT=%d", n->admin_port);
}

/* Runs a Redis command on the test's db; the reply (may be NULL). */
static redisReply *redis_do(const char *cmd)
{
    redisContext *c = redisConnect("127.0.0.1", (int)strtol(h_env("WRT_REDIS_PORT"), NULL, 10));
    ck_assert_msg(c != NULL && !c->err, "cannot reach Redis");
    freeReplyObject(redisCommand(c, "SELECT 7"));
    redisReply *r = redisCommand(c, cmd);
    redisFree(c);
    return r;
}

/* Runs warren-catalog --snapshot path against the writer's file. */
static void snapshot(const char *path)
{
    char side[600];
    (void)unlink(path);
    for (int i = 0; i < 2; i++) {
        (void)snprintf(side, sizeof(side), "%s%s", path, i ? "-wal" : "-shm");
        (void)unlink(side);
    }
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        (void)setenv("WARREN_DATABASE_URI", writer.env_db + strlen("WARREN_DATABASE_URI="), 1);
        execl(WARREN_CATALOG_BIN, WARREN_CATALOG_BIN, "--snapshot", path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "snapshot of %s failed", path);
}

static void setup(void)
{
    static int run;
    (void)snprintf(service, sizeof(service), "t_rep%d_%d", (int)getpid(), run++);
    /* the generations are positions of this test's writer file's log */
    (void)snprintf(redis_url, sizeof(redis_url), "WARREN_REDIS_URL=redis://127.0.0.1:%s/7",
                   h_env("WRT_REDIS_PORT"));
    freeReplyObject(redis_do("FLUSHDB"));
    lag_env = NULL;
    broker_stopped = false;
    if (short_stream) {
        /* before the stream exists: a segment's size is fixed when it is
         * made, and the retention drops whole segments */
        char ctl[256];
        (void)snprintf(ctl, sizeof(ctl),
                       "set_policy short_%s ^warren\\.%s\\.changes$ "
                       "{\"stream-max-segment-size-bytes\":4096,\"max-length-bytes\":16384} "
                       "--apply-to queues",
                       service, service);
        ck_assert_int_eq(h_servers_ctl(ctl), 0);
    }
    h_copy_db("replicas-writer", writer.db, sizeof(writer.db));
    name_node(&writer, "writer");
    for (int i = 0; i < NREPLICAS; i++) {
        char what[16];
        (void)snprintf(what, sizeof(what), "r%d", i);
        (void)snprintf(replicas[i].db, sizeof(replicas[i].db), "%s/replicas-%s.db",
                       h_env("WRT_STATE_DIR"), what);
        name_node(&replicas[i], what);
        snapshot(replicas[i].db);
    }
    spawn(&writer, false);
    for (int i = 0; i < NREPLICAS; i++)
        spawn(&replicas[i], true);
    const char *extra[] = {"WARREN_REQUEST_TIMEOUT_MS=10000", NULL};
    port = h_spawn_edge(&edge, "replicas-edge", service, extra);
    ck_assert_msg(h_wait_ready(port, 20000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    for (int i = 0; i < NREPLICAS; i++)
        h_stop(&replicas[i].proc, SIGTERM);
    h_stop(&writer.proc, SIGTERM);
    if (broker_stopped) /* leave the broker as we found it */
        (void)h_servers("start-rabbit");
    if (short_stream) {
        char ctl[128];
        (void)snprintf(ctl, sizeof(ctl), "clear_policy short_%s", service);
        (void)h_servers_ctl(ctl);
    }
}

/* The fixture of a stream that keeps 16 KB (in 4 KB segments), by a
 * policy, where CHANGES_MAX_BYTES could say no less than a segment (500
 * MB by default) holds. */
static void setup_short_stream(void)
{
    short_stream = true;
    setup();
}

static void teardown_short_stream(void)
{
    teardown();
    short_stream = false;
}

/* The first integer of sql's first row in the file path (-1: none). */
static long long db_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static long long writer_position(void)
{
    return db_int(writer.db, "SELECT max(position) FROM warren_outbox");
}

static long long replica_position(int i)
{
    return db_int(replicas[i].db, "SELECT position FROM warren_replica");
}

/* Waits until every replica is at the writer's position. */
static void wait_drained(int timeout_ms)
{
    long long until = h_now_ms() + timeout_ms;
    long long want = writer_position();
    for (int i = 0; i < NREPLICAS; i++) {
        while (replica_position(i) < want && h_now_ms() < until)
            usleep(50000);
        ck_assert_msg(replica_position(i) == want, "replica %d at %lld, writer at %lld (see %s)", i,
                      replica_position(i), want, replicas[i].proc.log);
    }
}

/* The file's .dump by the sqlite3 shell, without warren's own log tables
 * (the writer's outbox, the replica's position): malloc'd. */
static char *dump(const char *path)
{
    char out[600];
    (void)snprintf(out, sizeof(out), "%s.dump", path);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(127);
        execlp("sqlite3", "sqlite3", "-readonly", path, ".dump", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    size_t n = 0;
    char *text = h_read_file(out, &n);
    ck_assert_ptr_nonnull(text);
    /* drop the lines of warren_outbox, warren_log and warren_replica */
    char *w = text;
    for (char *line = text; *line != '\0';) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
        char save = line[len];
        line[len] = '\0';
        bool ours = strstr(line, "warren_outbox") != NULL || strstr(line, "warren_log") != NULL ||
                    strstr(line, "warren_replica") != NULL;
        line[len] = save;
        if (!ours) {
            memmove(w, line, len);
            w += len;
        }
        line += len;
    }
    *w = '\0';
    return text;
}

static void assert_identical(void)
{
    char *want = dump(writer.db);
    for (int i = 0; i < NREPLICAS; i++) {
        char *got = dump(replicas[i].db);
        bool same = strcmp(want, got) == 0;
        free(got);
        if (!same)
            free(want);
        ck_assert_msg(same, "replica %d differs from the writer (see its .dump)", i);
    }
    free(want);
}

static int status_of(const char *method, const char *path, const char *body)
{
    struct http_resp r;
    ck_assert_int_eq(h_http_body(port, method, path, body, &r, 15000), 0);
    int status = r.status;
    h_http_free(&r);
    return status;
}

/* Write n of a mix: creates, updates, deletes, writes of many, relation
 * changes; every few, a read (served by any of the three). Each write must
 * succeed (or be a 404 for an object a delete of many already took). */
static void mixed_writes(int n, int seed)
{
    char body[256], path[128];
    for (int i = 0; i < n; i++) {
        int k = (i + seed) % 8, id = 1 + (i * 7 + seed) % 300, st = 0;
        switch (k) {
        case 0:
        case 1:
            (void)snprintf(body, sizeof(body), "{\"title\":\"rep %d-%d\",\"artist_id\":%d}", seed,
                           i, 1 + i % 200);
            st = status_of("POST", "/api/Albums", body);
            ck_assert_int_eq(st, 201);
            break;
        case 2:
            (void)snprintf(path, sizeof(path), "/api/Albums/%d", id);
            (void)snprintf(body, sizeof(body), "{\"title\":\"renamed %d-%d\"}", seed, i);
            st = status_of("PATCH", path, body);
            ck_assert_msg(st == 200 || st == 404, "PATCH %s: %d", path, st);
            break;
        case 3:
            (void)snprintf(body, sizeof(body), "{\"name\":\"artist %d-%d\"}", seed, i);
            ck_assert_int_eq(status_of("POST", "/api/Artists", body), 201);
            break;
        case 4: /* a relation change: the album's artist */
            (void)snprintf(path, sizeof(path), "/api/Albums/%d", id);
            (void)snprintf(body, sizeof(body), "{\"Artists\":{\"artist_id\":%d}}", 1 + i % 100);
            st = status_of("PATCH", path, body);
            ck_assert_msg(st == 200 || st == 404, "PATCH relation %s: %d", path, st);
            break;
        case 5: /* a write of many */
            (void)snprintf(path, sizeof(path),
                           "/api/Albums?q={\"filters\":[{\"name\":\"title\",\"op\":\"like\","
                           "\"val\":\"rep%%20%d-%d%%25\"}]}",
                           seed, i - 5);
            st = status_of("PATCH", path, "{\"title\":\"many\"}");
            ck_assert_msg(st == 200, "PATCH many: %d", st);
            break;
        case 6: /* delete one created earlier (Chinook has 347), or a 404 */
            (void)snprintf(path, sizeof(path), "/api/Albums/%d", 348 + (i * 3 + seed) % 100);
            st = status_of("DELETE", path, NULL);
            ck_assert_msg(st == 204 || st == 404, "DELETE %s: %d", path, st);
            break;
        default:
            (void)snprintf(path, sizeof(path), "/api/Albums/%d", id);
            st = status_of("GET", path, NULL);
            ck_assert_msg(st == 200 || st == 404, "GET %s: %d", path, st);
            break;
        }
    }
}

START_TEST(writes_reach_every_replica)
{
    mixed_writes(1000, 1);
    wait_drained(60000);
    assert_identical();
}
END_TEST

START_TEST(killed_replica_catches_up)
{
    mixed_writes(150, 2);
    h_stop(&replicas[0].proc, SIGKILL); /* mid-stream: the writes go on */
    mixed_writes(150, 3);
    spawn(&replicas[0], true);
    mixed_writes(50, 4);
    wait_drained(60000);
    assert_identical();
}
END_TEST

START_TEST(killed_writer_loses_nothing)
{
    mixed_writes(100, 5);
    /* killed while writes arrive: some committed and perhaps not yet
     * published; the restarted writer publishes them, replicas skip
     * repeats. The writes in flight may fail: a child sends them. */
    pid_t child = h_writes_in_flight(port, 200);
    usleep(700000);
    h_stop(&writer.proc, SIGKILL);
    spawn(&writer, false);
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    mixed_writes(100, 6);
    wait_drained(60000);
    assert_identical(); /* a change applied twice would have stopped a replica */
}
END_TEST

/* A replica needs from the writer only the stream: with the writer
 * stopped, every read is served, by the replicas from their files, with
 * the writes made before the stop; a read that asks for a later position
 * than any replica has is a 504 stale. */
START_TEST(replicas_serve_reads_while_the_writer_is_down)
{
    ck_assert_int_eq(status_of("PATCH", "/api/Albums/7", "{\"title\":\"before the stop\"}"), 200);
    wait_drained(60000);
    ck_assert_int_eq(h_stop(&writer.proc, SIGTERM), 0);
    writer.proc.pid = 0;
    for (int k = 1; k <= 20; k++) {
        char path[32];
        (void)snprintf(path, sizeof(path), "/api/Albums/%d", k);
        ck_assert_msg(status_of("GET", path, NULL) == 200, "GET %s with the writer down", path);
    }
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/7", NULL, &r, 15000), 0);
    ck_assert_msg(r.status == 200 && strstr(r.body, "before the stop") != NULL, "%d %s", r.status,
                  r.body);
    h_http_free(&r);
    /* a position only a writer could reach: the replicas wait out the
     * deadline, then say why (504 stale, not the edge's own timeout) */
    ck_assert_int_eq(
        h_http(port, "GET", "/api/Albums/1", "X-Warren-Min-Position: 999999999\r\n", &r, 15000), 0);
    ck_assert_msg(r.status == 504 && strstr(r.body, "\"stale\"") != NULL, "%d %s", r.status,
                  r.body);
    h_http_free(&r);
}
END_TEST

START_TEST(hand_changed_replica_stops)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(replicas[1].db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000); /* the replica's applier writes too */
    ck_assert_int_eq(
        sqlite3_exec(db, "UPDATE albums SET Title = 'by hand' WHERE AlbumId = 5", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(status_of("PATCH", "/api/Albums/5", "{\"title\":\"through warren\"}"), 200);
    long long until = h_now_ms() + 20000;
    bool said = false;
    while (!said && h_now_ms() < until) {
        size_t n = 0;
        char *log = h_read_file(replicas[1].proc.log, &n);
        said = log != NULL && strstr(log, "replica stopped: change") != NULL &&
               strstr(log, "not taking requests") != NULL;
        free(log);
        if (!said)
            usleep(100000);
    }
    ck_assert_msg(said, "the replica did not say it stopped (see %s)", replicas[1].proc.log);
    /* it applied nothing past the conflict, and the others go on */
    long long at = replica_position(1);
    ck_assert_int_eq(status_of("PATCH", "/api/Albums/6", "{\"title\":\"later\"}"), 200);
    ck_assert_int_eq(status_of("GET", "/api/Albums/6", NULL), 200);
    usleep(500000);
    ck_assert_int_eq(replica_position(1), at);
    ck_assert_int_lt(at, writer_position());
}
END_TEST

/* Read your writes: each create's X-Warren-Position, sent back as
 * X-Warren-Min-Position on a read of what it created, gets that object
 * from whichever of the three answers (a replica behind waits for it). */
START_TEST(reads_see_their_writes)
{
    for (int i = 0; i < 1000; i++) {
        char body[96], position[32], location[256], headers[96];
        struct http_resp r;
        (void)snprintf(body, sizeof(body), "{\"title\":\"ryw %d\",\"artist_id\":1}", i);
        ck_assert_int_eq(h_http_body(port, "POST", "/api/Albums", body, &r, 15000), 0);
        ck_assert_int_eq(r.status, 201);
        ck_assert(h_header(&r, "X-Warren-Position", position, sizeof(position)));
        ck_assert(h_header(&r, "Location", location, sizeof(location)));
        h_http_free(&r);
        ck_assert_int_gt(strtoll(position, NULL, 10), 0);
        const char *path = strstr(location, "/api/");
        ck_assert_ptr_nonnull(path);
        (void)snprintf(headers, sizeof(headers), "X-Warren-Min-Position: %s\r\n", position);
        ck_assert_int_eq(h_http(port, "GET", path, headers, &r, 15000), 0);
        ck_assert_msg(r.status == 200, "read %d of %s at %s: %d %s", i, path, position, r.status,
                      r.body);
        h_http_free(&r);
    }
    /* a position that is not one is the client's mistake */
    struct http_resp r;
    ck_assert_int_eq(
        h_http(port, "GET", "/api/Albums/1", "X-Warren-Min-Position: -1\r\n", &r, 15000), 0);
    ck_assert_int_eq(r.status, 400);
    h_http_free(&r);
    /* a position no replica reaches within the deadline: 504 stale, unless
     * the writer's worker answered (its file is the newest there is) */
    ck_assert_int_eq(
        h_http(port, "GET", "/api/Albums/1", "X-Warren-Min-Position: 999999999\r\n", &r, 15000), 0);
    ck_assert_msg(r.status == 504 || r.status == 200, "%d", r.status);
    if (r.status == 504)
        ck_assert_ptr_nonnull(strstr(r.body, "\"stale\""));
    h_http_free(&r);
}
END_TEST

/* Waits until replica i is at position want. */
static void wait_at(int i, long long want, int timeout_ms)
{
    long long until = h_now_ms() + timeout_ms;
    while (replica_position(i) < want && h_now_ms() < until)
        usleep(50000);
    ck_assert_msg(replica_position(i) >= want, "replica %d at %lld, want %lld (see %s)", i,
                  replica_position(i), want, replicas[i].proc.log);
}

/* Takes the write lock of a replica's file, as a long transaction of
 * another program would: its applier waits (and retries) meanwhile, its
 * readers do not (WAL). Release with release_file. */
static sqlite3 *hold_file(const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void release_file(sqlite3 *db)
{
    ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* GETs path: its status, X-Cache into cache, and whether the body holds
 * text. */
static int get_cached(const char *path, const char *text, char *cache, size_t cap, bool *holds)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 15000), 0);
    cache[0] = '\0';
    (void)h_header(&r, "X-Cache", cache, cap);
    *holds = r.body != NULL && strstr(r.body, text) != NULL;
    int status = r.status;
    h_http_free(&r);
    return status;
}

static void assert_read(const char *path, const char *text, const char *want_cache)
{
    char cache[16];
    bool holds = false;
    ck_assert_int_eq(get_cached(path, text, cache, sizeof(cache), &holds), 200);
    ck_assert_msg(holds, "GET %s does not hold \"%s\" (X-Cache %s)", path, text, cache);
    ck_assert_msg(strcmp(cache, want_cache) == 0, "GET %s: X-Cache %s, want %s", path, cache,
                  want_cache);
}

/* warren:gen:<table> on the test's Redis db: its value, -1 when none. */
static long long gen_of(const char *table)
{
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "GET warren:gen:%s", table);
    redisReply *r = redis_do(cmd);
    long long v = r != NULL && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
    freeReplyObject(r);
    return v;
}

/* PATCHes path with body; the reply's X-Warren-Position. */
static long long patch_at(const char *path, const char *body)
{
    struct http_resp r;
    char position[32] = "";
    ck_assert_int_eq(h_http_body(port, "PATCH", path, body, &r, 15000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(h_header(&r, "X-Warren-Position", position, sizeof(position)));
    h_http_free(&r);
    return strtoll(position, NULL, 10);
}

/* A table's generation is the position of its last write, set by the
 * writer after the commit; never lowered (a counter already past it goes
 * up by one); a table not written yet has the writer file's position
 * from its start. */
START_TEST(generations_are_positions)
{
    long long p = patch_at("/api/Albums/5", "{\"title\":\"gen one\"}");
    ck_assert_int_gt(p, 0);
    ck_assert_int_eq(gen_of("albums"), p);
    ck_assert_int_eq(gen_of("artists"), 0); /* seeded: the fresh copy had written nothing */
    freeReplyObject(redis_do("SET warren:gen:albums 1000000"));
    long long q = patch_at("/api/Albums/5", "{\"title\":\"gen two\"}");
    ck_assert_int_eq(q, p + 1);
    ck_assert_int_eq(gen_of("albums"), 1000001);
}
END_TEST

/* The cache stays exact across machines: a replica stores an answer only
 * when its file holds every write the generations it read name. Which
 * worker answers is chosen by stopping the others (the edge's reads go to
 * whoever consumes). */
START_TEST(replica_cache_stays_exact)
{
    h_stop(&replicas[1].proc, SIGTERM);
    /* current: the replica's answer is stored, and the next read hits it */
    ck_assert_int_eq(status_of("PATCH", "/api/Albums/5", "{\"title\":\"cached one\"}"), 200);
    wait_at(0, writer_position(), 30000);
    h_stop(&writer.proc, SIGTERM);
    assert_read("/api/Albums/5", "cached one", "miss");
    assert_read("/api/Albums/5", "cached one", "hit");

    /* behind: a write the replica cannot apply yet moves the generation
     * past its file; its answer (the old title) is not stored */
    sqlite3 *held = hold_file(replicas[0].db);
    spawn(&writer, false);
    ck_assert_int_eq(status_of("PATCH", "/api/Albums/5", "{\"title\":\"cached two\"}"), 200);
    h_stop(&writer.proc, SIGTERM);
    assert_read("/api/Albums/5", "cached one", "behind");
    assert_read("/api/Albums/5", "cached one", "behind");

    /* the writer's worker reads the write, not the replica's old answer */
    h_stop(&replicas[0].proc, SIGTERM);
    spawn(&writer, false);
    assert_read("/api/Albums/5", "cached two", "miss");
    assert_read("/api/Albums/5", "cached two", "hit");
    release_file(held);
    spawn(&replicas[0], true);
    wait_at(0, writer_position(), 30000);
}
END_TEST

/* GET /readyz of a worker's admin port: the status. */
static int readyz(const struct node *n)
{
    struct http_resp r;
    if (h_http(n->admin_port, "GET", "/readyz", NULL, &r, 5000) != 0)
        return 0;
    int status = r.status;
    h_http_free(&r);
    return status;
}

static bool wait_readyz(const struct node *n, int want, int timeout_ms)
{
    long long until = h_now_ms() + timeout_ms;
    while (readyz(n) != want && h_now_ms() < until)
        usleep(100000);
    return readyz(n) == want;
}

static bool log_says(const struct node *n, const char *text)
{
    size_t len = 0;
    char *log = h_read_file(n->proc.log, &len);
    bool said = log != NULL && strstr(log, text) != NULL;
    free(log);
    return said;
}

/* A replica past MAX_REPLICA_LAG_MS stops taking requests (its /readyz
 * 503, its log says why, and the reads it would answer from old data go
 * to the writer's worker), then resumes once it caught up. */
START_TEST(lagging_replica_steps_aside)
{
    h_stop(&replicas[1].proc, SIGTERM);
    h_stop(&replicas[0].proc, SIGTERM);
    lag_env = "WARREN_MAX_REPLICA_LAG_MS=1000";
    spawn(&replicas[0], true);
    ck_assert_msg(wait_readyz(&replicas[0], 200, 30000), "replica not ready (see %s)",
                  replicas[0].proc.log);
    sqlite3 *held = hold_file(replicas[0].db);
    ck_assert_int_eq(status_of("PATCH", "/api/Albums/7", "{\"title\":\"while behind\"}"), 200);
    ck_assert_msg(wait_readyz(&replicas[0], 503, 20000), "a replica behind stays ready (see %s)",
                  replicas[0].proc.log);
    ck_assert(log_says(&replicas[0], "not taking requests"));
    usleep(300000); /* /readyz tells before the consumer is cancelled */
    for (int i = 0; i < 20; i++)
        assert_read("/api/Albums/7", "while behind", i == 0 ? "miss" : "hit");
    release_file(held);
    ck_assert_msg(wait_readyz(&replicas[0], 200, 20000), "the replica did not resume (see %s)",
                  replicas[0].proc.log);
    ck_assert(log_says(&replicas[0], "replica caught up"));
    wait_at(0, writer_position(), 30000);
}
END_TEST

/* The broker restarted while writes arrive: the writer publishes what it
 * had not got confirmed, the replicas resume from their files' offsets,
 * and all end identical (a position applied twice would stop one). */
START_TEST(broker_restart_mid_stream)
{
    mixed_writes(100, 7);
    pid_t child = h_writes_in_flight(port, 150);
    usleep(500000);
    broker_stopped = true;
    ck_assert_int_eq(h_servers("stop-rabbit"), 0);
    long long at[NREPLICAS];
    for (int i = 0; i < NREPLICAS; i++)
        at[i] = replica_position(i);
    ck_assert_int_eq(h_servers("start-rabbit"), 0);
    broker_stopped = false;
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(h_wait_ready(port, 60000), "edge not ready after the restart (see %s)", edge.log);
    mixed_writes(100, 8);
    wait_drained(90000);
    assert_identical();
    for (int i = 0; i < NREPLICAS; i++)
        ck_assert_msg(replica_position(i) > at[i], "replica %d did not move on", i);
    /* they resumed, not started over: no retention complaint */
    for (int i = 0; i < NREPLICAS; i++)
        ck_assert(!log_says(&replicas[i], "replica stopped"));
}
END_TEST

/* A replica whose position the stream no longer keeps (stopped while the
 * writer wrote more than the stream's retention) stops and says why when
 * it comes back, instead of skipping the changes it cannot read; the
 * replica that kept up goes on. */
START_TEST(replica_past_the_retention_stops)
{
    mixed_writes(20, 8);
    wait_drained(60000);
    ck_assert_int_eq(h_stop(&replicas[0].proc, SIGTERM), 0);
    long long at = replica_position(0);
    mixed_writes(300, 9); /* some 100 KB of changes: the stream keeps 16 */
    spawn(&replicas[0], true);
    long long until = h_now_ms() + 20000;
    while (!log_says(&replicas[0], "not taking requests") && h_now_ms() < until)
        usleep(100000);
    ck_assert_msg(log_says(&replicas[0], "replica stopped: out of the stream's retention"),
                  "the replica did not say it stopped (see %s)", replicas[0].proc.log);
    ck_assert_msg(wait_readyz(&replicas[0], 503, 10000), "a stopped replica is ready (see %s)",
                  replicas[0].proc.log);
    ck_assert_int_eq(replica_position(0), at);
    wait_at(1, writer_position(), 30000);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("replicas");
    TCase *tc = tcase_create("replicas");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, writes_reach_every_replica);
    tcase_add_test(tc, killed_replica_catches_up);
    tcase_add_test(tc, killed_writer_loses_nothing);
    tcase_add_test(tc, replicas_serve_reads_while_the_writer_is_down);
    tcase_add_test(tc, hand_changed_replica_stops);
    tcase_add_test(tc, reads_see_their_writes);
    tcase_add_test(tc, generations_are_positions);
    tcase_add_test(tc, replica_cache_stays_exact);
    tcase_add_test(tc, lagging_replica_steps_aside);
    tcase_add_test(tc, broker_restart_mid_stream);
    suite_add_tcase(s, tc);
    TCase *short_tc = tcase_create("short stream");
    tcase_add_checked_fixture(short_tc, setup_short_stream, teardown_short_stream);
    tcase_set_timeout(short_tc, 280);
    tcase_add_test(short_tc, replica_past_the_retention_stops);
    suite_add_tcase(s, short_tc);
    return s;
}

int main(void)
{
    return h_verdict(run_suite(suite(), false));
}
