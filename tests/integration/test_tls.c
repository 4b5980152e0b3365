/* The broker as a cluster, against the test RabbitMQ: AMQP_URL's node
 * list (a dead first node is skipped; when the node in use dies, the
 * processes fail over to the next) and amqps:// (the edge, a worker and
 * the RPC client over TLS, a client certificate with an encrypted key,
 * and a clear error naming the node and OpenSSL's reason for a wrong CA,
 * a name the certificate lacks, an expired client certificate and a plain
 * port). The broker's TLS listener and CA come from tests/lib/servers.sh
 * (WRT_AMQPS_PORT); tls_certs.sh makes the rest with openssl. */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "warren/rpc.h"
#include "run_suite.h"

extern char **environ;

static char ca_dir[512];  /* the broker's CA (servers.sh) */
static char out_dir[512]; /* ours (tls_certs.sh) */
static int tls_port;

static const char *path_in(const char *dir, const char *name)
{
    static char paths[8][600];
    static int next;
    char *p = paths[next++ % 8];
    (void)snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
    return p;
}

static void make_certs(void)
{
    (void)snprintf(ca_dir, sizeof(ca_dir), "%s/tls", h_env("WRT_STATE_DIR"));
    (void)snprintf(out_dir, sizeof(out_dir), "%s/tls-test-%d", h_env("WRT_STATE_DIR"), getpid());
    tls_port = (int)strtol(h_env("WRT_AMQPS_PORT"), NULL, 10);
    ck_assert_msg(tls_port > 0, "WRT_AMQPS_PORT: the test broker needs a TLS listener");
    char *argv[] = {"bash", WARREN_TLS_CERTS_SH, out_dir, ca_dir, NULL};
    pid_t pid;
    ck_assert_int_eq(posix_spawnp(&pid, "bash", NULL, NULL, argv, environ), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tls_certs.sh failed");
}

/* GET path on the edge until 200, for up to timeout_ms. */
static bool serves(int port, const char *path, int timeout_ms)
{
    for (long long end = h_now_ms() + timeout_ms; h_now_ms() < end; usleep(200000)) {
        struct http_resp r;
        int status = h_http(port, "GET", path, NULL, &r, 6000) == 0 ? r.status : 0;
        h_http_free(&r);
        if (status == 200)
            return true;
    }
    return false;
}

/* An RPC client for url with tls; NULL with err on failure. */
static wr_rpc *client(const char *url, struct wr_amqp_tls tls, struct wr_err *err)
{
    struct wr_rpc_opts o = {.amqp_url = url, .service = "t_tls", .timeout_ms = 10000, .tls = tls};
    *err = (struct wr_err){0};
    return wr_rpc_new(&o, err);
}

/* Asserts a client for url with tls fails, naming node and why. */
static void assert_refused(const char *url, struct wr_amqp_tls tls, const char *node,
                           const char *why)
{
    struct wr_err err;
    wr_rpc *rpc = client(url, tls, &err);
    ck_assert_msg(rpc == NULL, "%s: connected", url);
    ck_assert_msg(strstr(err.msg, node) != NULL && strstr(err.msg, why) != NULL,
                  "%s: got '%s', want '%s' and '%s'", url, err.msg, node, why);
}

START_TEST(edge_and_worker_over_tls_skip_a_dead_first_node)
{
    int dead = h_free_port();
    char wurl[300], eurl[300], node[96], dead_node[96];
    (void)snprintf(wurl, sizeof(wurl),
                   "WARREN_AMQP_URL=amqps://guest:guest@localhost:%d/%%2f, "
                   "amqps://guest:guest@localhost:%d/%%2f",
                   dead, tls_port);
    (void)snprintf(eurl, sizeof(eurl),
                   "WARREN_AMQP_URL=amqps://guest:guest@127.0.0.1:%d/%%2f,"
                   "amqps://guest:guest@127.0.0.1:%d/%%2f",
                   dead, tls_port);
    char ca[700], cert[700], key[700], pw[700];
    (void)snprintf(ca, sizeof(ca), "WARREN_AMQP_TLS_CA_PATH=%s", path_in(ca_dir, "ca.pem"));
    (void)snprintf(cert, sizeof(cert), "WARREN_AMQP_TLS_CERT_PATH=%s",
                   path_in(out_dir, "client.pem"));
    (void)snprintf(key, sizeof(key), "WARREN_AMQP_TLS_KEY_PATH=%s", path_in(out_dir, "client.key"));
    (void)snprintf(pw, sizeof(pw), "WARREN_AMQP_TLS_KEY_PASSWORD_FILE=%s",
                   path_in(out_dir, "password"));
    /* the worker shows a client certificate whose key is encrypted; the
     * edge none, and names the broker by IP address */
    const char *wenv[] = {wurl, ca, cert, key, pw, NULL};
    const char *eenv[] = {eurl, ca, NULL};
    struct proc worker, edge;
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "tls-worker", 0, "t_tls", wenv);
    int port = h_spawn_edge(&edge, "tls-edge", "t_tls", eenv);
    ck_assert_msg(h_wait_ready(port, 30000), "the edge is not ready (%s)", edge.log);
    ck_assert_msg(serves(port, "/api/Albums/1", 30000), "no 200 over TLS (%s, %s)", worker.log,
                  edge.log);
    (void)snprintf(dead_node, sizeof(dead_node), "broker node amqps://localhost:%d unavailable",
                   dead);
    ck_assert_msg(h_log_has(worker.log, dead_node, 0), "%s: no '%s'", worker.log, dead_node);
    (void)snprintf(node, sizeof(node), "connected to the broker at amqps://localhost:%d, consuming",
                   tls_port);
    ck_assert_msg(h_log_has(worker.log, node, 0), "%s: no '%s'", worker.log, node);
    (void)snprintf(node, sizeof(node), "connected to the broker at amqps://127.0.0.1:%d", tls_port);
    ck_assert_msg(h_log_has(edge.log, node, 0), "%s: no '%s'", edge.log, node);
    /* the broker's side: TLS connections, one with our client certificate */
    char out[16384];
    ck_assert_int_eq(h_servers_ctl_out("list_connections ssl peer_cert_subject", out, sizeof(out)),
                     0);
    ck_assert_msg(strstr(out, "CN=warren-test-client") != NULL, "no client certificate: %s", out);

    /* the RPC client over amqps, to the same worker */
    char url[200];
    (void)snprintf(url, sizeof(url), "amqps://guest:guest@localhost:%d/%%2f", tls_port);
    struct wr_err err;
    wr_rpc *rpc = client(url, (struct wr_amqp_tls){.ca_path = path_in(ca_dir, "ca.pem")}, &err);
    ck_assert_msg(rpc != NULL, "rpc over TLS: %s", err.msg);
    struct wr_request req = {.op = WR_OP_GET, .collection = "Artists", .key = "1"};
    struct wr_reply reply;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 200);
    ck_assert_ptr_nonnull(strstr(reply.body, "AC/DC"));
    wr_reply_release(&reply);
    wr_rpc_free(rpc);
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}
END_TEST

/* Every refusal names the node and OpenSSL's reason: never a silent
 * plain connection, never a bare "SSL error". */
START_TEST(tls_failures_are_clear_errors)
{
    char url[200], node[64], plain[200];
    (void)snprintf(url, sizeof(url), "amqps://guest:guest@localhost:%d/%%2f", tls_port);
    (void)snprintf(node, sizeof(node), "amqps://localhost:%d", tls_port);
    struct wr_amqp_tls good = {.ca_path = path_in(ca_dir, "ca.pem")};
    struct wr_amqp_tls wrong_ca = {.ca_path = path_in(out_dir, "other-ca.pem")};
    /* the broker sends its CA with its certificate: a CA we do not trust */
    assert_refused(url, wrong_ca, node, "self-signed certificate in certificate chain");
    /* 127.0.0.2 reaches the broker, whose certificate names 127.0.0.1 */
    char other[200], other_node[64];
    (void)snprintf(other, sizeof(other), "amqps://guest:guest@127.0.0.2:%d/%%2f", tls_port);
    (void)snprintf(other_node, sizeof(other_node), "amqps://127.0.0.2:%d", tls_port);
    assert_refused(other, good, other_node, "IP address mismatch");
    struct wr_amqp_tls expired = good;
    expired.cert_path = path_in(out_dir, "expired.pem");
    expired.key_path = path_in(out_dir, "expired.key");
    /* TLS 1.3: the broker refuses it after the client's handshake; its
     * alert names the reason unless the connection's reset overtakes it */
    struct wr_err err;
    ck_assert_ptr_null(client(url, expired, &err));
    ck_assert_msg(strstr(err.msg, node) != NULL &&
                      (strstr(err.msg, "TLS: the broker ended the connection at login: sslv3 "
                                       "alert certificate expired") != NULL ||
                       strstr(err.msg, "is AMQP_TLS_CERT_PATH valid") != NULL),
                  "expired client certificate: got '%s'", err.msg);
    struct wr_amqp_tls bad_password = good;
    bad_password.cert_path = path_in(out_dir, "client.pem");
    bad_password.key_path = path_in(out_dir, "client.key");
    bad_password.key_password = "not the password";
    assert_refused(url, bad_password, "AMQP_TLS_KEY_PATH", "bad decrypt");
    /* an amqps:// URL on the plain AMQP port */
    (void)snprintf(plain, sizeof(plain), "amqps://guest:guest@localhost:%s/%%2f",
                   h_env("WRT_AMQP_PORT"));
    (void)snprintf(node, sizeof(node), "amqps://localhost:%s", h_env("WRT_AMQP_PORT"));
    assert_refused(plain, good, node, "TLS handshake failed: wrong version number");

    /* a worker with the wrong CA keeps retrying, saying why each time */
    char wurl[300], ca[700];
    (void)snprintf(wurl, sizeof(wurl), "WARREN_AMQP_URL=%s", url);
    (void)snprintf(ca, sizeof(ca), "WARREN_AMQP_TLS_CA_PATH=%s", path_in(out_dir, "other-ca.pem"));
    const char *env[] = {wurl, ca, "WARREN_RECONNECT_MAX_MS=200", NULL};
    struct proc worker;
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "tls-wrong-ca", 0, "t_tls_wrong", env);
    const char *why =
        "TLS: the broker's certificate is refused: self-signed certificate in certificate chain";
    ck_assert_msg(h_log_has(worker.log, why, 20000), "%s: no '%s'", worker.log, why);
    ck_assert_int_eq(waitpid(worker.pid, NULL, WNOHANG), 0); /* still retrying */
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}
END_TEST

/* TLS settings with an amqp:// URL are a config error (exit 2), never a
 * plain connection the operator did not ask for. */
START_TEST(tls_settings_with_a_plain_url_refuse_to_start)
{
    char ca[700];
    (void)snprintf(ca, sizeof(ca), "WARREN_AMQP_TLS_CA_PATH=%s", path_in(ca_dir, "ca.pem"));
    const char *env[] = {ca, NULL};
    struct proc worker;
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "tls-plain", 0, "t_tls_plain", env);
    int status = 0;
    for (long long end = h_now_ms() + 20000; h_now_ms() < end; usleep(50000))
        if (waitpid(worker.pid, &status, WNOHANG) == worker.pid)
            break;
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "exit status %d", status);
    worker.pid = 0;
    ck_assert(h_log_has(worker.log, "refusing to connect without TLS", 0));
}
END_TEST

/* --- a TCP proxy of ours in front of the broker's plain port: real
 * traffic, and a node that can die under live connections ----------- */

#define PROXY_PAIRS 32

struct proxy {
    int listen_fd;
    int port;
    int target;
    int wake[2];
    int fds[2 * PROXY_PAIRS]; /* client, upstream; -1 when free */
    pthread_t thread;
};

static void proxy_close_pair(struct proxy *px, int i)
{
    int base = i - i % 2;
    for (int k = base; k < base + 2; k++) {
        if (px->fds[k] >= 0)
            close(px->fds[k]);
        px->fds[k] = -1;
    }
}

static void proxy_accept(struct proxy *px)
{
    int c = accept(px->listen_fd, NULL, NULL);
    int u = c >= 0 ? h_connect(px->target, 0) : -1;
    for (int i = 0; u >= 0 && i < 2 * PROXY_PAIRS; i += 2) {
        if (px->fds[i] < 0) {
            px->fds[i] = c;
            px->fds[i + 1] = u;
            return;
        }
    }
    if (c >= 0)
        close(c);
    if (u >= 0)
        close(u);
}

/* Copies what fds[i] has to its peer; closes the pair at EOF or error. */
static void proxy_copy(struct proxy *px, int i)
{
    char buf[65536];
    ssize_t n = read(px->fds[i], buf, sizeof(buf));
    int peer = px->fds[i ^ 1];
    for (ssize_t off = 0; n > 0 && off < n;) {
        ssize_t w = write(peer, buf + off, (size_t)(n - off));
        if (w <= 0) {
            n = -1;
            break;
        }
        off += w;
    }
    if (n <= 0)
        proxy_close_pair(px, i);
}

static void *proxy_run(void *arg)
{
    struct proxy *px = arg;
    for (;;) {
        struct pollfd p[2 + 2 * PROXY_PAIRS];
        int idx[2 + 2 * PROXY_PAIRS];
        nfds_t n = 0;
        p[n++] = (struct pollfd){.fd = px->wake[0], .events = POLLIN};
        p[n++] = (struct pollfd){.fd = px->listen_fd, .events = POLLIN};
        for (int i = 0; i < 2 * PROXY_PAIRS; i++)
            if (px->fds[i] >= 0) {
                idx[n] = i;
                p[n++] = (struct pollfd){.fd = px->fds[i], .events = POLLIN};
            }
        if (poll(p, n, -1) < 0 || p[0].revents != 0)
            break;
        if (p[1].revents & POLLIN)
            proxy_accept(px);
        for (nfds_t k = 2; k < n; k++)
            if (p[k].revents != 0 && px->fds[idx[k]] == p[k].fd)
                proxy_copy(px, idx[k]);
    }
    return NULL;
}

static void proxy_start(struct proxy *px, int target)
{
    *px = (struct proxy){.target = target};
    for (int i = 0; i < 2 * PROXY_PAIRS; i++)
        px->fds[i] = -1;
    px->listen_fd = h_listener(&px->port);
    ck_assert_int_eq(pipe(px->wake), 0);
    ck_assert_int_eq(pthread_create(&px->thread, NULL, proxy_run, px), 0);
}

/* The node dies: its port refuses, and every connection through it ends. */
static void proxy_stop(struct proxy *px)
{
    ck_assert_int_eq(write(px->wake[1], "x", 1), 1);
    pthread_join(px->thread, NULL);
    for (int i = 0; i < 2 * PROXY_PAIRS; i++)
        if (px->fds[i] >= 0)
            close(px->fds[i]);
    close(px->listen_fd);
    close(px->wake[0]);
    close(px->wake[1]);
}

START_TEST(the_node_in_use_dies_and_they_fail_over)
{
    struct proxy px;
    int real = (int)strtol(h_env("WRT_AMQP_PORT"), NULL, 10);
    proxy_start(&px, real);
    char url[300], first[80], second[80];
    (void)snprintf(url, sizeof(url),
                   "WARREN_AMQP_URL=amqp://guest:guest@127.0.0.1:%d/%%2f,"
                   "amqp://guest:guest@127.0.0.1:%d/%%2f",
                   px.port, real);
    const char *env[] = {url, "WARREN_RECONNECT_MAX_MS=500", NULL};
    struct proc worker, edge;
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "tls-fo-worker", 0, "t_tls_fo", env);
    int port = h_spawn_edge(&edge, "tls-fo-edge", "t_tls_fo", env);
    ck_assert_msg(h_wait_ready(port, 30000), "the edge is not ready (%s)", edge.log);
    ck_assert_msg(serves(port, "/api/Albums/2", 30000), "no 200 through the first node (%s)",
                  worker.log);
    (void)snprintf(first, sizeof(first), "at amqp://127.0.0.1:%d", px.port);
    ck_assert_msg(h_log_has(worker.log, first, 0), "%s: no '%s'", worker.log, first);
    ck_assert_msg(h_log_has(edge.log, first, 0), "%s: no '%s'", edge.log, first);

    long long died = h_now_ms();
    proxy_stop(&px);
    ck_assert_msg(serves(port, "/api/Albums/3", 30000), "no 200 after the node died (%s, %s)",
                  worker.log, edge.log);
    printf("failover: served again %lld ms after the node in use died\n", h_now_ms() - died);
    (void)snprintf(second, sizeof(second), "at amqp://127.0.0.1:%d", real);
    ck_assert_msg(h_log_has(worker.log, second, 0), "%s: no '%s'", worker.log, second);
    ck_assert_msg(h_log_has(edge.log, second, 0), "%s: no '%s'", edge.log, second);
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the proxy writes to peers that may be gone */
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("tls");
    tcase_add_unchecked_fixture(tc, make_certs, NULL);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, edge_and_worker_over_tls_skip_a_dead_first_node);
    tcase_add_test(tc, tls_failures_are_clear_errors);
    tcase_add_test(tc, tls_settings_with_a_plain_url_refuse_to_start);
    tcase_add_test(tc, the_node_in_use_dies_and_they_fail_over);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
