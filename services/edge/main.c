/* The HTTP edge: REST calls in, AMQP RPC requests out, replies back as HTTP
 * responses, on EDGE_THREADS event loops. main() is the table of contents;
 * the main thread only waits for SIGINT or SIGTERM, then drains the loops. */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loops.h"
#include "warren/cfg.h"
#include "warren/log.h"

int main(int argc, char **argv)
{
    static const struct wr_cfg_prog prog = {
        "warren-edge", "the HTTP edge: REST calls in, RPC requests over RabbitMQ out",
        WR_CFG_USE_EDGE};
    struct wr_cfg cfg;
    int rc = 0;
    if (!wr_cfg_from_args(&cfg, &prog, argc, argv, &rc))
        return rc; /* --help, --version, or the problems, printed */
    wr_log_init("edge", cfg.log_level);
    (void)wr_log_format_set(cfg.log_format); /* the key table checked the name */
    /* Flawfinder: ignore - random() only jitters the reconnect backoff, no secret */
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    (void)signal(SIGPIPE, SIG_IGN); /* cannot fail: a valid signal and handler */
    /* Blocked before any thread starts (the loops, the bus's connectors
     * inherit the mask): only sigwait below ever takes them. */
    sigset_t stop;
    (void)sigemptyset(&stop);
    (void)sigaddset(&stop, SIGINT);
    (void)sigaddset(&stop, SIGTERM);
    (void)pthread_sigmask(SIG_BLOCK, &stop, NULL);
    loops *ls = loops_new(&cfg);
    if (ls != NULL && loops_start(ls) == 0) {
        int sig = 0;
        (void)sigwait(&stop, &sig);
        wr_info(NULL, "%s: draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
        loops_stop(ls);
        rc = loops_join(ls) == 0 ? 0 : 1;
    } else {
        rc = 1; /* logged where it failed */
    }
    loops_free(ls);
    wr_cfg_release(&cfg);
    wr_info(NULL, "stopped");
    return rc;
}
