/* A three-node RabbitMQ cluster under faults (issue 12, item 9), made by
 * tests/lib/cluster.sh on ports of its own: the node leading the request
 * queue killed with SIGKILL under load; one node frozen (SIGSTOP) past the
 * heartbeat, then thawed; all three restarted in turn. Reads and writes
 * through the edge meanwhile: none lost, hung or answered twice, and every
 * write applied exactly once. */
#include <check.h>
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "run_suite.h"

extern char **environ;

#define TIMEOUT_MS 5000 /* the edge's default request deadline */
#define CHUNK 500       /* requests per load, 2.5 s at RATE */
#define RATE 200        /* requests started per second */
#define MAX_CHUNKS 80   /* 200 s of load at most per scenario */
#define WRITE_EVERY 5   /* one request in five is a write */
#define FREEZE_MS 10000 /* 5 heartbeats (WARREN_HEARTBEAT_S=2 in fault.c) */

static char cluster_dir[600];
static struct fleet fleet;

/* Runs tests/lib/cluster.sh cmd DIR [arg]; with out, its stdout (trimmed)
 * goes there. Returns its exit status, or -1. */
static int cluster(const char *cmd, const char *arg, char *out, size_t cap)
{
    char *argv[] = {"bash", WARREN_CLUSTER_SH, (char *)cmd, cluster_dir, (char *)arg, NULL};
    char path[700];
    (void)snprintf(path, sizeof(path), "%s/out-%d", cluster_dir, getpid());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out != NULL)
        posix_spawn_file_actions_addopen(&fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawnp(&pid, "bash", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int status = 0;
    waitpid(pid, &status, 0);
    if (out != NULL) {
        char *text = h_read_file(path, NULL);
        (void)snprintf(out, cap, "%s", text != NULL ? text : "");
        out[strcspn(out, "\n")] = '\0';
        free(text);
        (void)unlink(path);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The node (1..3) leading the quorum queue, or 0 when no node could say. */
static int leader(const char *queue)
{
    char out[64];
    if (cluster("leader", queue, out, sizeof(out)) != 0)
        return 0;
    long n = strtol(out, NULL, 10);
    return n >= 1 && n <= 3 ? (int)n : 0;
}

/* How many nodes hold queue (its quorum members). */
static int members(const char *queue)
{
    char out[64];
    if (cluster("members", queue, out, sizeof(out)) != 0)
        return 0;
    return (int)strtol(out, NULL, 10);
}

static void node_cmd(const char *cmd, int node)
{
    char n[8];
    (void)snprintf(n, sizeof(n), "%d", node);
    ck_assert_msg(cluster(cmd, n, NULL, 0) == 0, "cluster.sh %s %d failed", cmd, node);
}

/* Before each scenario: the cluster (started by the first, kept running
 * for the next; cluster.sh start returns at once when it runs). */
static void cluster_up(void)
{
    (void)snprintf(cluster_dir, sizeof(cluster_dir), "%s/cluster", h_env("WRT_STATE_DIR"));
    long long t0 = h_now_ms();
    ck_assert_msg(cluster("start", NULL, NULL, 0) == 0, "the cluster did not start");
    printf("cluster: three nodes up and joined (%lld ms)\n", h_now_ms() - t0);
}

static void cluster_down(void)
{
    (void)cluster("stop", NULL, NULL, 0);
}

/* One load of CHUNK requests: reads of albums, and every WRITE_EVERY-th a
 * POST of an artist whose name is unique to it. */
struct chunk {
    checker *c;
    struct load_req *reqs;
    char (*names)[64];
    char (*bodies)[96];
};

struct scenario {
    const char *name;
    char service[64], queue[80], db_path[512], db_uri[600];
    char urls[3][400]; /* WARREN_AMQP_URL=... with node 1, 2, 3 first */
    struct chunk chunks[MAX_CHUNKS];
    size_t nchunks;
    struct chk_totals sum;
    size_t writes, retried;
};

static struct scenario sc;

static bool is_write(size_t i)
{
    return i % WRITE_EVERY == WRITE_EVERY - 1;
}

static struct chunk *new_chunk(struct scenario *s)
{
    ck_assert(s->nchunks < MAX_CHUNKS);
    struct chunk *k = &s->chunks[s->nchunks];
    k->c = chk_new(CHUNK);
    k->reqs = f_album_reads(CHUNK);
    k->names = calloc(CHUNK, sizeof(*k->names));
    k->bodies = calloc(CHUNK, sizeof(*k->bodies));
    ck_assert(k->c != NULL && k->names != NULL && k->bodies != NULL);
    chk_allow(k->c, 200);
    chk_allow(k->c, 201);
    chk_allow(k->c, 503); /* a request in flight on a connection that dropped */
    chk_allow(k->c, 504);
    chk_allow_reexec(k->c, true); /* redelivered; writes still applied once (below) */
    for (size_t i = 0; i < CHUNK; i++) {
        if (!is_write(i))
            continue;
        (void)snprintf(k->names[i], sizeof(k->names[i]), "cl-%s-%zu-%zu-%.8s", s->name, s->nchunks,
                       i, chk_at(k->c, i)->id);
        (void)snprintf(k->bodies[i], sizeof(k->bodies[i]), "{\"name\":\"%s\"}", k->names[i]);
        k->reqs[i] =
            (struct load_req){.method = "POST", .body = k->bodies[i], .expect = k->names[i]};
        (void)snprintf(k->reqs[i].path, sizeof(k->reqs[i].path), "/api/Artists");
    }
    s->nchunks++;
    return k;
}

static void free_scenario(struct scenario *s)
{
    for (size_t i = 0; i < s->nchunks; i++) {
        chk_free(s->chunks[i].c);
        free(s->chunks[i].reqs);
        free(s->chunks[i].names);
        free(s->chunks[i].bodies);
    }
    s->nchunks = 0;
}

static struct load_opts load_opts(void)
{
    return (struct load_opts){
        .port = fleet.port, .concurrency = 32, .rate_per_s = RATE, .give_up_ms = TIMEOUT_MS + 3000};
}

static void teardown(void)
{
    f_fleet_stop(&fleet);
    free_scenario(&sc);
    /* the next scenario starts from three running nodes */
    ck_assert_msg(cluster("heal", NULL, NULL, 0) == 0, "the cluster did not heal");
}

/* A copy of Chinook, the fleet on the cluster (worker 0 connects to node 1
 * first, worker 1 to node 2, the edge to node 3), and the request queues
 * checked to have three members. */
static void start_scenario(struct scenario *s, const char *name)
{
    *s = (struct scenario){.name = name};
    (void)snprintf(s->service, sizeof(s->service), "f_cl_%s", name);
    (void)snprintf(s->queue, sizeof(s->queue), "warren.%s", s->service);
    f_copy_db(s->service, s->db_path, sizeof(s->db_path), s->db_uri, sizeof(s->db_uri));
    for (int n = 0; n < 3; n++) {
        char arg[4], list[360];
        (void)snprintf(arg, sizeof(arg), "%d", n + 1);
        ck_assert_int_eq(cluster("url", arg, list, sizeof(list)), 0);
        (void)snprintf(s->urls[n], sizeof(s->urls[n]), "WARREN_AMQP_URL=%s", list);
    }
    static const char *worker_env[2][4], *edge_env[4];
    f_fleet_init(&fleet, s->service);
    for (size_t w = 0; w < 2; w++) {
        const char *e[] = {s->db_uri, "WARREN_Artists__METHODS=GET, POST", s->urls[w], NULL};
        memcpy(worker_env[w], e, sizeof(e));
        fleet.worker_env = worker_env[w];
        f_worker(&fleet, w);
    }
    const char *e[] = {s->db_uri, "WARREN_Artists__METHODS=GET, POST", s->urls[2], NULL};
    memcpy(edge_env, e, sizeof(e));
    fleet.edge_env = edge_env;
    f_edge(&fleet);
    char write_queue[96];
    (void)snprintf(write_queue, sizeof(write_queue), "%s.write", s->queue);
    int m = members(s->queue), mw = members(write_queue);
    printf("cluster-%s: %s has %d members, %s %d; leader node %d\n", name, s->queue, m, write_queue,
           mw, leader(s->queue));
    ck_assert_msg(m == 3 && mw == 3, "the request queues are not on all three nodes");
}

static bool faults_done(struct f_faults *f)
{
    return __atomic_load_n(&f->steps[f->n - 1].done_ms, __ATOMIC_ACQUIRE) != 0;
}

/* Loads of CHUNK requests while the faults run, then one more after them:
 * returns the totals of that last one (served again). */
static struct chk_totals run_under(struct scenario *s, struct f_faults *f)
{
    struct load_opts o = load_opts();
    f_faults_start(f);
    do {
        struct chunk *k = new_chunk(s);
        load_run(&o, k->reqs, CHUNK, k->c);
    } while (!faults_done(f) && s->nchunks < MAX_CHUNKS - 1);
    f_faults_join(f);
    struct chunk *k = new_chunk(s);
    load_run(&o, k->reqs, CHUNK, k->c);
    struct chk_totals after = {0};
    for (size_t i = 0; i < CHUNK; i++)
        after.ok += chk_at(k->c, i)->status / 100 == 2;
    return after;
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static int count_rows(sqlite3 *db, const char *sql, const char *value)
{
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

#define ROWS "SELECT count(*) FROM artists WHERE Name = ?"
#define APPLIED "SELECT count(*) FROM warren_applied WHERE message_id = ?"

/* Every write applied at most once, a 201 exactly once; those that did not
 * answer 201 are sent again with their X-Request-Id (201, nothing added);
 * then every write has exactly one row and one applied id. */
static void check_writes(struct scenario *s)
{
    sqlite3 *db = open_db(s->db_path);
    size_t cap = s->nchunks * (CHUNK / WRITE_EVERY), m = 0;
    struct load_req *again = calloc(cap, sizeof(*again));
    char(*ids)[WR_REQUEST_ID_LEN + 1] = calloc(cap, sizeof(*ids));
    ck_assert(again != NULL && ids != NULL);
    for (size_t j = 0; j < s->nchunks; j++)
        for (size_t i = WRITE_EVERY - 1; i < CHUNK; i += WRITE_EVERY) {
            const struct chunk *k = &s->chunks[j];
            const struct chk_call *call = chk_at(k->c, i);
            int rows = count_rows(db, ROWS, k->names[i]);
            ck_assert_msg(rows <= 1, "write %zu/%zu applied %d times", j, i, rows);
            ck_assert_msg(call->status != 201 || rows == 1, "write %zu/%zu: 201, %d rows", j, i,
                          rows);
            s->writes++;
            if (call->status == 201)
                continue;
            memcpy(ids[m], call->id, sizeof(call->id));
            again[m++] = k->reqs[i];
        }
    if (m > 0) {
        checker *retry = chk_new(m);
        for (size_t j = 0; j < m; j++)
            memcpy(chk_at(retry, j)->id, ids[j], sizeof(ids[j]));
        chk_rekey(retry);
        chk_allow(retry, 201);
        struct load_opts o = load_opts();
        o.rate_per_s = 0;
        load_run(&o, again, m, retry);
        struct chk_totals t;
        char name[64];
        (void)snprintf(name, sizeof(name), "cluster-%s-writes-retried", s->name);
        ck_assert_msg(chk_verdict(retry, name, &t) && t.ok == m, "a retried write did not 201");
        chk_free(retry);
    }
    for (size_t j = 0; j < s->nchunks; j++)
        for (size_t i = WRITE_EVERY - 1; i < CHUNK; i += WRITE_EVERY) {
            const struct chunk *k = &s->chunks[j];
            int rows = count_rows(db, ROWS, k->names[i]);
            int applied = count_rows(db, APPLIED, chk_at(k->c, i)->id);
            ck_assert_msg(rows == 1 && applied == 1, "write %zu/%zu: %d rows, %d applied ids", j, i,
                          rows, applied);
        }
    s->retried = m;
    sqlite3_close(db);
    free(ids);
    free(again);
}

/* Stops the fleet, counts every load with the checker, and prints the sum. */
static void verdict(struct scenario *s, long long t0)
{
    f_fleet_stop(&fleet);
    bool good = true;
    size_t unexecuted = 0;
    struct chk_totals *u = &s->sum;
    for (size_t j = 0; j < s->nchunks; j++) {
        checker *c = s->chunks[j].c;
        f_collect(&fleet, c);
        char name[64];
        struct chk_totals t;
        (void)snprintf(name, sizeof(name), "cluster-%s#%zu", s->name, j + 1);
        good = chk_verdict(c, name, &t) && good; /* hung ones included */
        for (size_t i = 0; i < CHUNK; i++)
            unexecuted += chk_at(c, i)->status / 100 == 2 && chk_at(c, i)->executions == 0;
        u->sent += t.sent, u->ok += t.ok, u->s503 += t.s503, u->s504 += t.s504;
        u->lost += t.lost, u->dup += t.dup, u->hung += t.hung, u->unexpected += t.unexpected;
        u->misrouted += t.misrouted, u->wrong_body += t.wrong_body, u->reexec += t.reexec;
        u->max503_ms = t.max503_ms > u->max503_ms ? t.max503_ms : u->max503_ms;
        u->max504_ms = t.max504_ms > u->max504_ms ? t.max504_ms : u->max504_ms;
    }
    printf("cluster-%s: sent=%zu ok=%zu 503=%zu 504=%zu lost=%zu answered_twice=%zu hung=%zu "
           "unexpected=%zu misrouted=%zu wrong_body=%zu reexec=%zu writes=%zu applied once "
           "(%zu retried) max503_ms=%lld max504_ms=%lld in %lld s\n",
           s->name, u->sent, u->ok, u->s503, u->s504, u->lost, u->dup, u->hung, u->unexpected,
           u->misrouted, u->wrong_body, u->reexec, s->writes, s->retried, u->max503_ms,
           u->max504_ms, (h_now_ms() - t0) / 1000);
    (void)fflush(stdout);
    ck_assert_msg(good, "cluster-%s: lost, unexpected, hung or doubly answered (see above)",
                  s->name);
    ck_assert_msg(unexecuted == 0, "%zu answers without an execution", unexecuted);
    /* an error answer came within its deadline (plus scheduling slack) */
    ck_assert_msg(u->max503_ms <= TIMEOUT_MS + 1000 && u->max504_ms <= TIMEOUT_MS + 1000,
                  "cluster-%s: an error answer came after its deadline", s->name);
}

/* (a) the node leading the read queue killed, started again 6 s later */
static int victim, successor;

static void kill_leader(void *arg)
{
    (void)arg;
    victim = leader(sc.queue);
    ck_assert_msg(victim != 0, "no leader for %s", sc.queue);
    node_cmd("kill", victim);
}

static void restart_victim(void *arg)
{
    (void)arg;
    successor = leader(sc.queue);
    node_cmd("start-node", victim);
}

START_TEST(leader_killed)
{
    long long t0 = h_now_ms();
    start_scenario(&sc, "kill");
    struct f_step steps[] = {{2000, kill_leader, NULL, 0}, {8000, restart_victim, NULL, 0}};
    struct f_faults f = {.steps = steps, .n = 2};
    struct chk_totals after = run_under(&sc, &f);
    check_writes(&sc);
    printf("cluster-kill: killed node %d (the leader of %s); node %d led it then; node %d "
           "was back %lld ms after the kill; %zu of %d answered 2xx after\n",
           victim, sc.queue, successor, victim, steps[1].done_ms - steps[0].done_ms, after.ok,
           CHUNK);
    verdict(&sc, t0);
    ck_assert_msg(successor != 0 && successor != victim, "no other node took the lead");
    ck_assert_msg(after.ok >= CHUNK * 9 / 10, "not served again after the kill");
}
END_TEST

/* (b) the edge's node (node 3, first in its AMQP_URL) frozen for five
 * heartbeats, then thawed */
static void freeze3(void *arg)
{
    (void)arg;
    node_cmd("freeze", 3);
}

static void thaw3(void *arg)
{
    (void)arg;
    node_cmd("thaw", 3);
}

/* When the first call sent at or after since was answered 2xx, or 0. */
static long long first_ok_after(const struct scenario *s, long long since)
{
    long long first = 0;
    for (size_t j = 0; j < s->nchunks; j++)
        for (size_t i = 0; i < CHUNK; i++) {
            const struct chk_call *k = chk_at(s->chunks[j].c, i);
            if (k->status / 100 == 2 && k->sent_ms >= since &&
                (first == 0 || k->answered_ms < first))
                first = k->answered_ms;
        }
    return first;
}

START_TEST(node_frozen)
{
    long long t0 = h_now_ms();
    start_scenario(&sc, "freeze");
    size_t connected = f_count_lines(fleet.edge.log, "connected to the broker");
    struct f_step steps[] = {{2000, freeze3, NULL, 0}, {2000 + FREEZE_MS, thaw3, NULL, 0}};
    struct f_faults f = {.steps = steps, .n = 2};
    struct chk_totals after = run_under(&sc, &f);
    check_writes(&sc);
    size_t moved = f_count_lines(fleet.edge.log, "connected to the broker") - connected;
    long long frozen = steps[0].done_ms, thawed = steps[1].done_ms;
    long long served = first_ok_after(&sc, frozen);
    printf("cluster-freeze: node 3 frozen %lld ms; the edge connected %zu times meanwhile; "
           "served again %lld ms into the freeze; %zu of %d answered 2xx after\n",
           thawed - frozen, moved, served ? served - frozen : -1, after.ok, CHUNK);
    verdict(&sc, t0);
    ck_assert_msg(moved > 0, "the edge never left the frozen node");
    /* Every loop leaves the frozen node (two heartbeats, or a write it
     * does not read for a second) and no request hangs (verdict): each is
     * answered, or gets its 503 or 504 within the deadline. Served again
     * before the thaw is printed, not asserted: until RabbitMQ counts the
     * frozen node down (net_ticktime, about a minute) the healthy nodes
     * may hold what involves it (quorum replication, bindings). */
    ck_assert_msg(after.ok >= CHUNK * 9 / 10, "not served again after the thaw");
}
END_TEST

/* (c) every node stopped and started again in turn */
static void roll(void *arg)
{
    (void)arg;
    for (int n = 1; n <= 3; n++) {
        long long t = h_now_ms();
        node_cmd("stop-node", n);
        node_cmd("start-node", n);
        printf("cluster-rolling: node %d restarted in %lld ms\n", n, h_now_ms() - t);
        (void)fflush(stdout);
    }
}

START_TEST(rolling_restart)
{
    long long t0 = h_now_ms();
    start_scenario(&sc, "rolling");
    struct f_step steps[] = {{2000, roll, NULL, 0}};
    struct f_faults f = {.steps = steps, .n = 1};
    struct chk_totals after = run_under(&sc, &f);
    check_writes(&sc);
    printf("cluster-rolling: %zu of %d answered 2xx after\n", after.ok, CHUNK);
    verdict(&sc, t0);
    ck_assert_msg(after.ok >= CHUNK * 9 / 10, "not served again after the restarts");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_cluster");
    /* one case each, so that CK_RUN_CASE=freeze runs one alone */
    const char *names[] = {"kill", "freeze", "rolling"};
    const TTest *tests[] = {leader_killed, node_frozen, rolling_restart};
    for (size_t i = 0; i < 3; i++) {
        TCase *tc = tcase_create(names[i]);
        tcase_add_checked_fixture(tc, cluster_up, teardown);
        tcase_add_test(tc, tests[i]);
        suite_add_tcase(s, tc);
    }
    long long t0 = h_now_ms();
    int rc = run_suite(s, false);
    cluster_down();
    printf("cluster: the whole run took %lld s (cluster start and stop included)\n",
           (h_now_ms() - t0) / 1000);
    return h_verdict(rc);
}
