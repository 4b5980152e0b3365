/* The RPC client API's throughput: n blocking calls one after another, then
 * the same n as pipelined batches (wr_rpc_call_many). Prints calls/s for
 * each. Usage: rpc_bench AMQP_URL [n] [batch]; the other broker settings
 * (AMQP_TLS_* for amqps://, timeouts) come from WARREN_* variables, read
 * as every warren process reads them. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "warren/cfg.h"
#include "warren/rpc.h"

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s AMQP_URL [n] [batch]\n", argv[0]);
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 5000;
    long batch = argc > 3 ? strtol(argv[3], NULL, 10) : 64;
    if (n < 1 || batch < 1)
        return 2;
    struct wr_cfg cfg = {0};
    struct wr_buf problems;
    wr_buf_init(&problems, 65536);
    if (setenv("WARREN_AMQP_URL", argv[1], 1) != 0 ||
        wr_cfg_load(&cfg, "/nonexistent/config.cfg", false, environ, &problems) != 0) {
        fprintf(stderr, "rpc_bench: %s", problems.data ? problems.data : "out of memory\n");
        wr_buf_release(&problems);
        return 2;
    }
    wr_buf_release(&problems);
    struct wr_err err = {0};
    struct wr_rpc_opts o = {.amqp_url = cfg.amqp_url,
                            .service = "catalog",
                            .timeout_ms = 5000,
                            .connect_timeout_ms = cfg.connect_timeout_ms,
                            .heartbeat_s = cfg.heartbeat_s,
                            .tls = wr_amqp_tls_from_cfg(&cfg)};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    wr_cfg_release(&cfg); /* wr_rpc_new copied what it keeps */
    if (rpc == NULL) {
        fprintf(stderr, "rpc_bench: %s\n", err.msg);
        return 1;
    }
    struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = "1"};
    long ok = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        struct wr_reply r;
        if (wr_rpc_call(rpc, &req, &r, &err) == 0 && r.status == 200)
            ok++;
        wr_reply_release(&r);
    }
    double blocking = (double)n / (now_s() - t0);
    struct wr_request *reqs = calloc((size_t)batch, sizeof(*reqs));
    struct wr_reply *replies = calloc((size_t)batch, sizeof(*replies));
    for (long i = 0; i < batch; i++)
        reqs[i] = req;
    t0 = now_s();
    long done = 0;
    while (done < n) {
        size_t k = (size_t)(n - done < batch ? n - done : batch);
        (void)wr_rpc_call_many(rpc, reqs, k, replies, &err);
        for (size_t i = 0; i < k; i++) {
            ok += replies[i].status == 200;
            wr_reply_release(&replies[i]);
        }
        done += (long)k;
    }
    double pipelined = (double)n / (now_s() - t0);
    printf("rpc client, GET Albums/1: blocking %.0f calls/s, pipelined (batches of %ld) %.0f "
           "calls/s, %ld of %ld answered 200\n",
           blocking, batch, pipelined, ok, 2 * n);
    free(reqs);
    free(replies);
    wr_rpc_free(rpc);
    return ok == 2 * n ? 0 : 1;
}
