/* The audit spool's bounds, against the real broker and the MongoDB test
 * peer: at AUDIT_SPOOL_MAX_BYTES a worker stops taking requests (they wait
 * in the queue) until the records ship; a full disk (a 1 MiB tmpfs this
 * test mounts) holds records in memory, their requests unacknowledged,
 * until room returns, and every record arrives; AUDIT_SPOOL_KEEP_BYTES
 * keeps only the newest records where nothing ships them. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

#define SERVICE "t_spool_full"
#define COLLECTION "audit_spool_full"
#define N 120

static struct proc worker;
static char env_mongo[160], env_spool[800], spool_dir[700], mnt[512];
static bool mounted;

/* The requests' ids, and how many got their answer. */
static char ids[N][WR_REQUEST_ID_LEN + 1];
static atomic_int answered, failed;
/* The sending thread; a failed test stops it (after the call under way)
 * so that it cannot send into the next test. */
static pthread_t sender;
static bool sending;
static atomic_bool stop_sending;

static mongoc_collection_t *coll(mongoc_client_t **client)
{
    char uri[128];
    (void)snprintf(uri, sizeof(uri), "mongodb://127.0.0.1:%s/?serverSelectionTimeoutMS=2000",
                   h_env("WRT_MONGO_PORT"));
    *client = mongoc_client_new(uri);
    ck_assert_ptr_nonnull(*client);
    return mongoc_client_get_collection(*client, "warren", COLLECTION);
}

static void setup(void)
{
    (void)snprintf(env_mongo, sizeof(env_mongo), "WARREN_MONGO_URI=mongodb://127.0.0.1:%s/",
                   h_env("WRT_MONGO_PORT"));
    ck_assert_int_eq(h_servers("start-mongo"), 0);
    mongoc_client_t *client;
    mongoc_collection_t *c = coll(&client);
    (void)mongoc_collection_drop(c, NULL);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
    atomic_store(&answered, 0);
    atomic_store(&failed, 0);
    atomic_store(&stop_sending, false);
    (void)h_servers_ctl("purge_queue " WR_QUEUE_PREFIX SERVICE);
    /* edge records other test programs left there would land here too */
    (void)h_servers_ctl("purge_queue " WR_AUDIT_QUEUE);
}

/* Waits for the sending thread to end. */
static void join_sender(void)
{
    if (sending)
        pthread_join(sender, NULL);
    sending = false;
}

static void teardown(void)
{
    atomic_store(&stop_sending, true);
    h_servers("start-mongo");
    if (worker.pid > 0)
        h_stop(&worker, SIGTERM);
    worker.pid = 0;
    join_sender();
    if (mounted) {
        (void)umount2(mnt, MNT_DETACH);
        mounted = false;
    }
}

/* A fresh spool folder dir (under the state folder unless it is absolute). */
static void use_spool(const char *dir)
{
    if (dir[0] == '/')
        (void)snprintf(spool_dir, sizeof(spool_dir), "%s", dir);
    else
        (void)snprintf(spool_dir, sizeof(spool_dir), "%s/%s", h_env("WRT_STATE_DIR"), dir);
    (void)mkdir(spool_dir, 0700);
    h_empty_dir(spool_dir);
    (void)snprintf(env_spool, sizeof(env_spool), "WARREN_AUDIT_SPOOL_DIR=%s", spool_dir);
}

static void start_worker(const char *more0, const char *more1)
{
    const char *extra[] = {env_spool, "WARREN_AUDIT_COLLECTION=" COLLECTION,
                           /* a few deliveries at a time: what the worker already holds is
                              answered when it stops taking more */
                           "WARREN_PREFETCH=4", more0, more1, NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-spool-full", 0, SERVICE, extra);
}

/* Sends the N requests one after the other, each waiting up to a minute. */
static void *send_all(void *arg)
{
    (void)arg;
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = SERVICE, .timeout_ms = 60000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    for (int i = 0; rpc != NULL && i < N && !atomic_load(&stop_sending); i++) {
        char key[16];
        (void)snprintf(key, sizeof(key), "%d", i % 300 + 1);
        struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = key};
        memcpy(req.id, ids[i], sizeof(req.id));
        struct wr_reply r;
        if (wr_rpc_call(rpc, &req, &r, &err) == 0 && r.status == 200)
            atomic_fetch_add(&answered, 1);
        else
            atomic_fetch_add(&failed, 1);
        wr_reply_release(&r);
    }
    if (rpc == NULL)
        atomic_store(&failed, N);
    wr_rpc_free(rpc);
    return NULL;
}

static void start_sending(void)
{
    for (int i = 0; i < N; i++)
        wr_request_id_new(ids[i]);
    ck_assert_int_eq(pthread_create(&sender, NULL, send_all, NULL), 0);
    sending = true;
}

/* Whether the worker's log says what within timeout_ms. */
static bool log_says(const char *what, int timeout_ms)
{
    return h_log_has(worker.log, what, timeout_ms);
}

/* Once paused, the answers stand still, short of N: requests wait. The
 * request delivered before the pause is still answered (the sender has
 * one at a time in flight), so the answers settle first: unchanged for
 * 1.5 s, within 15 s, at most one past the count at the pause. */
static int assert_waiting(void)
{
    int at_pause = atomic_load(&answered);
    int before = at_pause, after = -1;
    for (long long end = h_now_ms() + 15000; after != before && h_now_ms() < end;) {
        before = after < 0 ? before : after;
        usleep(1500000);
        after = atomic_load(&answered);
    }
    ck_assert_msg(after == before && after < N, "answers went on: %d, then %d of %d", before, after,
                  N);
    ck_assert_msg(after - at_pause <= 1, "%d answers after the pause", after - at_pause);
    ck_assert_int_eq(atomic_load(&failed), 0);
    return after;
}

/* How many records MongoDB holds per request id: every one of ids must
 * have exactly one within timeout_ms. */
static void assert_every_record_once(int timeout_ms)
{
    size_t once = 0, total = 0;
    for (long long end = h_now_ms() + timeout_ms; h_now_ms() < end; usleep(300000)) {
        int seen[N] = {0};
        mongoc_client_t *client;
        mongoc_collection_t *c = coll(&client);
        bson_t filter = BSON_INITIALIZER;
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &filter, NULL, NULL);
        const bson_t *doc;
        total = 0;
        while (mongoc_cursor_next(cur, &doc)) {
            bson_iter_t it;
            total++;
            if (!bson_iter_init_find(&it, doc, "request_id") || !BSON_ITER_HOLDS_UTF8(&it))
                continue;
            for (int i = 0; i < N; i++)
                seen[i] += strcmp(ids[i], bson_iter_utf8(&it, NULL)) == 0;
        }
        mongoc_cursor_destroy(cur);
        bson_destroy(&filter);
        mongoc_collection_destroy(c);
        mongoc_client_destroy(client);
        once = 0;
        for (int i = 0; i < N; i++)
            once += seen[i] == 1;
        if (once == N) /* total may hold an edge record another program sent */
            return;
    }
    ck_abort_msg("%zu of %d requests have exactly one record, %zu documents (see %s)", once, N,
                 total, worker.log);
}

/* rabbitmqctl's count of deliveries of the queue not yet acknowledged. */
static long unacked(void)
{
    /* the list names every queue of a broker other runs may have used:
     * room for thousands, and a failure message short enough for check */
    static char out[1 << 20];
    ck_assert_int_eq(
        h_servers_ctl_out("list_queues -q name messages_unacknowledged", out, sizeof(out)), 0);
    const char *at = strstr(out, WR_QUEUE_PREFIX SERVICE "\t");
    ck_assert_msg(at != NULL, "no queue %s in the broker's %zu-byte list", SERVICE, strlen(out));
    return strtol(at + strlen(WR_QUEUE_PREFIX SERVICE "\t"), NULL, 10);
}

/* At AUDIT_SPOOL_MAX_BYTES (MongoDB away, so nothing ships) the worker
 * stops taking requests: they wait in the queue, none is lost; once
 * MongoDB is back the spool ships, the worker takes them again, and every
 * request has its one record. */
START_TEST(bound_stops_taking_requests_until_shipped)
{
    use_spool("spool-full-bound");
    ck_assert_int_eq(h_servers("stop-mongo"), 0);
    start_worker(env_mongo, "WARREN_AUDIT_SPOOL_MAX_BYTES=12000");
    start_sending();
    ck_assert_msg(log_says("audit spool full", 20000), "never paused (see %s)", worker.log);
    int waiting = assert_waiting();
    ck_assert_int_gt(waiting, 10); /* it served until the bound */
    ck_assert_int_eq(h_servers("start-mongo"), 0);
    join_sender();
    ck_assert_int_eq(atomic_load(&answered), N);
    ck_assert(log_says("audit spool has room again", 1000));
    assert_every_record_once(30000);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    worker.pid = 0;
}
END_TEST

/* Fills the file system of dir but for about leave bytes; the filler's path
 * goes into filler. */
static void fill(const char *dir, size_t leave, char *filler, size_t cap)
{
    (void)snprintf(filler, cap, "%s/filler", dir);
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    static char block[4096];
    size_t size = 0;
    while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
        size += sizeof(block);
    ck_assert_int_eq(ftruncate(fd, (off_t)(size > leave ? size - leave : 0)), 0);
    close(fd);
}

/* A full disk loses no record: the worker holds what the disk refuses in
 * memory and stops taking requests; the deliveries stay unacknowledged
 * (a crash now would give them to another worker); once space returns
 * every record is written, the requests are acknowledged, the waiting ones
 * served, and every record reaches MongoDB once. */
START_TEST(full_disk_holds_records_until_room)
{
    (void)snprintf(mnt, sizeof(mnt), "%s/spool-tmpfs", h_env("WRT_STATE_DIR"));
    (void)mkdir(mnt, 0700);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0700") != 0) {
        printf("full_disk_holds_records_until_room: SKIPPED: cannot mount a tmpfs at %s (%s): "
               "run as root, or with CAP_SYS_ADMIN\n",
               mnt, strerror(errno));
        return;
    }
    mounted = true;
    char dir[600];
    (void)snprintf(dir, sizeof(dir), "%s/spool", mnt);
    use_spool(dir);
    ck_assert_int_eq(h_servers("stop-mongo"), 0); /* nothing ships: the disk stays full */
    start_worker(env_mongo, NULL);
    ck_assert(log_says("audit: spooling to", 15000));
    char filler[700];
    fill(mnt, 12 * 1024, filler, sizeof(filler));
    start_sending();
    ck_assert_msg(log_says("holding records in memory", 20000), "never held (see %s)", worker.log);
    ck_assert(log_says("audit spool full", 5000));
    assert_waiting();
    /* the broker's queue figures lag by its statistics interval (5 s) */
    long held = 0;
    for (long long end = h_now_ms() + 15000; (held = unacked()) == 0 && h_now_ms() < end;)
        usleep(500000);
    ck_assert_msg(held > 0, "records held in memory, yet no delivery waits for its ack");
    ck_assert_int_eq(unlink(filler), 0); /* room again */
    ck_assert_msg(log_says("the disk has room again", 10000), "see %s", worker.log);
    join_sender();
    ck_assert_int_eq(atomic_load(&answered), N);
    for (long long end = h_now_ms() + 15000; unacked() > 0 && h_now_ms() < end;)
        usleep(200000);
    ck_assert_int_eq(unacked(), 0);
    ck_assert_int_eq(h_servers("start-mongo"), 0);
    assert_every_record_once(30000);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    worker.pid = 0;
}
END_TEST

/* Without MONGO_URI, AUDIT_SPOOL_KEEP_BYTES keeps only about that many
 * bytes of the newest records: the spool file stays small, the newest
 * record is in it, the oldest are gone (and said to be). */
START_TEST(keep_bytes_keeps_the_newest)
{
    use_spool("spool-full-keep");
    start_worker("WARREN_AUDIT_SPOOL_KEEP_BYTES=8192", NULL);
    start_sending();
    join_sender();
    ck_assert_int_eq(atomic_load(&answered), N);
    ck_assert_msg(log_says("discarded", 5000), "nothing discarded (see %s)", worker.log);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    worker.pid = 0;
    char path[800];
    (void)snprintf(path, sizeof(path), "%s/audit-00.spool", spool_dir);
    size_t len = 0;
    char *text = h_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(len <= 3 * 8192, "the spool holds %zu bytes", len);
    ck_assert_ptr_nonnull(strstr(text, ids[N - 1]));
    ck_assert_ptr_null(strstr(text, ids[0]));
    free(text);
}
END_TEST

int main(void)
{
    /* once: a second mongoc_init after mongoc_cleanup reads the freed
       handshake (the tests run unforked, in one process) */
    mongoc_init();
    Suite *s = suite_create("spool_full");
    TCase *tc = tcase_create("spool_full");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, bound_stops_taking_requests_until_shipped);
    tcase_add_test(tc, full_disk_holds_records_until_room);
    tcase_add_test(tc, keep_bytes_keeps_the_newest);
    suite_add_tcase(s, tc);
    int rc = run_suite(s, false);
    mongoc_cleanup();
    return h_verdict(rc);
}
