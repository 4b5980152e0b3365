/* The edge's AMQP connection inside its libevent loop: connects (and
 * reconnects with exponential backoff and jitter), declares the queues of
 * SERVICE and of every service in SERVICES, watches the socket,
 * services heartbeats from a timer, publishes requests and hands replies,
 * returns and outages to the HTTP side through callbacks. */
#ifndef EDGE_BUS_H
#define EDGE_BUS_H

#include <event2/event.h>
#include <stdbool.h>

#include "warren/amqp.h"
#include "warren/cfg.h"

struct bus_handlers {
    /* A reply on direct reply-to; m is valid during the call. */
    void (*on_reply)(void *arg, const struct wr_msg *m);
    /* A request the broker could not route (mandatory publish returned). */
    void (*on_returned)(void *arg, const struct wr_msg *m);
    /* The connection is gone: replies to requests in flight will never come. */
    void (*on_down)(void *arg);
    void *arg;
};

typedef struct bus bus;

/* Starts connecting at once (without blocking the caller for longer than
 * the connect timeout). NULL when out of memory. */
bus *bus_new(struct event_base *base, const struct wr_cfg *cfg, const struct bus_handlers *h);
void bus_free(bus *b);

/* Connected, consuming replies, and not blocked by a broker alarm: no bus
 * of this process is blocked (an alarm blocks every publisher; the broker
 * says so to each connection only at its first publish). */
bool bus_ready(const bus *b);
/* Every bus of this process connected and none blocked: what /readyz
 * reports (a loop still connecting would answer 503). */
bool bus_all_ready(void);
/* Connected while a broker alarm blocks a bus of this process (publishes
 * would wait). */
bool bus_blocked(const bus *b);
/* Connections made so far (the first, then every reconnect). */
long long bus_connects(const bus *b);
/* Publishes a request (mandatory, through the default exchange) to
 * warren.<service>, service NULL meaning SERVICE, or for a write to
 * warren.<service>.write. 0, WR_EINVAL for a service name too long, or
 * WR_ECLOSED when not ready (the bus then reconnects in the background). */
int bus_publish(bus *b, const char *service, bool write, const struct wr_msg *m,
                struct wr_err *err);

/* Publishes audit documents to warren.audit as a message of type (one
 * document for WR_MSG_TYPE_AUDIT, several for WR_MSG_TYPE_AUDIT_BATCH; not
 * mandatory: the queue is declared with the topology). 0, WR_EAGAIN while
 * the broker's socket is full (it reads nothing now), or WR_ECLOSED when
 * not ready. */
int bus_publish_audit(bus *b, const char *type, const char *body, size_t len, struct wr_err *err);

#endif
