/* The HTTP edge: REST calls in, AMQP RPC requests out, replies back as HTTP
 * responses, all on one libevent loop. main() is the table of contents. */
#include <event2/event.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "edge.h"
#include "warren/cfg.h"
#include "warren/log.h"

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    edge_drain(arg);
}

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
    struct event_base *base = event_base_new();
    edge *e = base ? edge_new(base, &cfg) : NULL;
    struct event *sigint = e ? evsignal_new(base, SIGINT, on_stop_signal, e) : NULL;
    struct event *sigterm = e ? evsignal_new(base, SIGTERM, on_stop_signal, e) : NULL;
    if (sigint && sigterm && event_add(sigint, NULL) == 0 && event_add(sigterm, NULL) == 0)
        rc = event_base_dispatch(base) < 0 ? 1 : 0;
    else
        rc = 1; /* logged where it failed */
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    edge_free(e);
    if (base)
        event_base_free(base);
    wr_cfg_release(&cfg);
    wr_info(NULL, "stopped");
    return rc;
}
