/* The rabbitmq-c adapter: the only code that includes <amqp.h>.
 * One connection with one channel. Connect and login are bounded by a
 * timeout; heartbeats are serviced inside wr_amqp_poll, so callers poll at
 * least every heartbeat/2 (the edge from a timer, workers from their loop).
 * rabbitmq-c never reconnects: after any call returns WR_ECLOSED the caller
 * calls wr_amqp_close, waits its backoff, and wr_amqp_connect again.
 * Threads: a wr_amqp is one connection and is not thread-safe; use it from
 * one thread at a time (each warren process keeps its own on its loop).
 * Every call but wr_amqp_new/free/is_open/fd/has_buffered may block, each
 * bounded by connect_timeout_ms or its own timeout. */
#ifndef WARREN_AMQP_H
#define WARREN_AMQP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warren/err.h"

typedef struct wr_amqp wr_amqp;

struct wr_cfg;

/* TLS for amqps:// nodes. The zero value verifies the broker's certificate
 * chain against the system's trust store and its name against the URL's
 * host, and presents no client certificate. */
struct wr_amqp_tls {
    const char *ca_path;       /* PEM CA certificate(s); NULL or "": the system's store */
    const char *cert_path;     /* PEM client certificate (chain); with key_path */
    const char *key_path;      /* PEM client key */
    const char *key_password;  /* of an encrypted key_path; secret */
    bool skip_verify_peer;     /* trust any certificate (tests only: no protection) */
    bool skip_verify_hostname; /* any name in a trusted certificate will do */
};

struct wr_amqp_opts {
    /* One node, amqp[s]://user:pass@host:port/vhost, or several separated
     * by commas (wr_amqp_nodes_parse), tried in turn by wr_amqp_connect. */
    const char *url;
    long heartbeat_s;        /* 0 disables heartbeats */
    long connect_timeout_ms; /* bounds TCP connect, handshake and each setup RPC */
    const char *name;        /* connection name shown by the broker */
    struct wr_amqp_tls tls;  /* for amqps:// nodes */
};

/* The options every warren process connects with, from its config:
 * AMQP_URL, HEARTBEAT_S, CONNECT_TIMEOUT_MS and the AMQP_TLS_* keys; name
 * as given. The strings are borrowed from cfg and name. */
struct wr_amqp_opts wr_amqp_opts_from_cfg(const struct wr_cfg *cfg, const char *name);
/* The AMQP_TLS_* keys alone (for struct wr_rpc_opts), borrowed from cfg. */
struct wr_amqp_tls wr_amqp_tls_from_cfg(const struct wr_cfg *cfg);

/* AMQP_URL as a list of nodes: entries separated by ',', blanks around an
 * entry ignored. Each entry must be a URL rabbitmq-c reads
 * (amqp[s]://[user[:password]@]host[:port][/vhost]); all of them amqp://
 * or all amqps://, so a failover never drops TLS. */
#define WR_AMQP_MAX_NODES 16
struct wr_amqp_node {
    char *label;          /* "amqps://host:port": names the node in logs (no password) */
    const char *user;     /* these point into storage the node owns */
    const char *password; /* secret: never logged */
    const char *host;
    const char *vhost;
    int port; /* 5672 (5671 for amqps) when the URL gives none */
    bool tls; /* amqps:// */
    char *storage;
};
struct wr_amqp_nodes {
    struct wr_amqp_node node[WR_AMQP_MAX_NODES];
    size_t n;
    bool tls; /* every node is amqps:// */
};
/* Fills nodes from list. Returns 0, or WR_EINVAL (an empty list or entry,
 * a URL rabbitmq-c cannot read, mixed schemes, more than
 * WR_AMQP_MAX_NODES entries) / WR_ENOMEM, with err naming the entry by
 * position, never by its text (it may carry a password); on error nodes
 * holds nothing to free. Pure: no I/O. */
int wr_amqp_nodes_parse(struct wr_amqp_nodes *nodes, const char *list, struct wr_err *err);
/* Frees what wr_amqp_nodes_parse allocated. NULL-safe; safe twice. */
void wr_amqp_nodes_release(struct wr_amqp_nodes *nodes);

/* A string header other than the typed ones below. */
struct wr_amqp_hdr {
    const char *name;
    const char *value;
};

/* An integer header (a field of any integer type, received as a long). */
struct wr_amqp_ihdr {
    const char *name;
    long long value;
};

#define WR_AMQP_MAX_HDRS 8

/* One message, as published or as received. Received strings and the body
 * are borrowed from the adapter and valid until the next wr_amqp_poll. */
struct wr_msg {
    const char *correlation_id;
    const char *message_id;
    const char *reply_to;
    const char *type;
    const char *content_type; /* published only: NULL means application/json */
    /* The AMQP user_id property: the broker user that published, which
     * RabbitMQ checks against the publishing connection's login (a message
     * naming another user is refused). NULL when absent. */
    const char *user_id;
    long long expiration_ms; /* per-message TTL; < 0 when absent */
    long long deadline_ms;   /* header x-deadline-ms; 0 when absent */
    int status;              /* header x-status; 0 when absent */
    struct wr_amqp_hdr hdrs[WR_AMQP_MAX_HDRS];
    size_t nhdrs;
    struct wr_amqp_ihdr ihdrs[WR_AMQP_MAX_HDRS]; /* integer headers but the typed ones */
    size_t nihdrs;
    const void *body;
    size_t len;
    /* published only, by the code that checked it: the body is one JSON
     * value with only white space around it (wr_json_is_one_value), so a
     * reply batch carries it as JSON without checking it again */
    bool body_json;
    uint64_t delivery_tag;   /* received deliveries; a confirm's sequence number */
    bool redelivered;        /* received deliveries only */
    bool multiple;           /* a confirm: every earlier sequence number too */
    const char *routing_key; /* received deliveries only: the queue's name when published
                                through the default exchange */
    /* published only: the exchange (NULL: the default exchange) and
     * delivery_mode 2 (persistent) */
    const char *exchange;
    bool persistent;
};

enum wr_amqp_event {
    WR_AMQP_NONE,     /* nothing arrived within the timeout */
    WR_AMQP_DELIVERY, /* a message from a consumer */
    WR_AMQP_RETURNED, /* a mandatory publish nobody could route (basic.return) */
    WR_AMQP_BLOCKED,  /* the broker stopped reading our publishes (alarm) */
    WR_AMQP_UNBLOCKED,
    /* Publisher confirms (after wr_amqp_confirm): the broker has (ACKED)
     * or could not take (NACKED) the publish numbered msg->delivery_tag
     * (1 for the first publish after wr_amqp_confirm, then 2, ...), and
     * every earlier one too when msg->multiple. */
    WR_AMQP_ACKED,
    WR_AMQP_NACKED,
};

/* A disconnected adapter; NULL when out of memory. Copies opts' strings. */
wr_amqp *wr_amqp_new(const struct wr_amqp_opts *opts);
/* Closes the connection if open and frees the adapter. NULL-safe. */
void wr_amqp_free(wr_amqp *a);

/* Opens the socket (TLS for amqps://), logs in (asking for
 * connection.blocked notices) and opens channel 1, trying the URL's nodes
 * in turn, each once: the first connect starts with the first node, a
 * later one with the node after the one last connected. A node that fails
 * while another is left to try is logged (a warning naming it and why).
 * 0, or WR_EIO/WR_ETIMEDOUT/WR_EINVAL (bad URL) with details naming each
 * node that failed and why (a TLS failure with OpenSSL's reason, e.g.
 * "certificate has expired"). */
int wr_amqp_connect(wr_amqp *a, struct wr_err *err);
/* The label of the node connected to ("amqps://host:port"), or of the
 * last one tried when closed; "" before any connect. Owned by a. */
const char *wr_amqp_node(const wr_amqp *a);
/* Drops the connection (politely when it still works). Safe to repeat. */
void wr_amqp_close(wr_amqp *a);
bool wr_amqp_is_open(const wr_amqp *a);
/* The socket to watch for input, or -1 when closed. */
int wr_amqp_fd(const wr_amqp *a);
/* True when input is already buffered inside the library, so the caller must
 * poll again before waiting on the socket. */
bool wr_amqp_has_buffered(const wr_amqp *a);
/* True when input waits now, in the library or on the socket (one poll(2)
 * without waiting); false when closed. Data TLS holds back is not seen. */
bool wr_amqp_readable(const wr_amqp *a);
/* The user name the connection logged in as (from the URL, "guest" when it
 * names none), for a message's user_id; NULL before the first successful
 * connect. Owned by a; valid until the next connect or wr_amqp_free. */
const char *wr_amqp_user(const wr_amqp *a);

/* The topology as data: what wr_amqp_declare_service and
 * wr_amqp_declare_stream declare, for a deployment to declare the same
 * objects (tests/k8s compares it with deploy/k8s). */
enum wr_amqp_kind { WR_AMQP_EXCHANGE, WR_AMQP_QUEUE, WR_AMQP_BINDING };

/* One argument: a string (str non-NULL), else a bool (is_bool) or an
 * integer (num). */
struct wr_amqp_arg {
    const char *key;
    const char *str;
    long long num;
    bool is_bool;
};

#define WR_AMQP_MAX_ARGS 4
#define WR_AMQP_TOPOLOGY_MAX 7 /* the objects of one service */
#define WR_AMQP_EVENTS_MAX 3   /* the objects of a writer's change events */

/* A durable exchange (name, type), a durable queue (name, args), or a
 * binding of queue name to exchange source with routing key key. Strings
 * are static or in the object. */
struct wr_amqp_object {
    enum wr_amqp_kind kind;
    char name[160];
    const char *type;   /* an exchange's type */
    const char *source; /* a binding's exchange */
    char key[160];      /* a binding's routing key ("" for a fanout's) */
    struct wr_amqp_arg args[WR_AMQP_MAX_ARGS];
    size_t nargs;
};

/* Fills objs with service's topology in the order it is declared: the
 * dead-letter exchange, warren.dead and its binding, warren.<service>,
 * warren.audit, warren.<service>.write, and the change events' topic
 * exchange warren.events. Returns the count, or WR_EINVAL when the name is
 * too long. Pure. */
int wr_amqp_topology(const char *service, struct wr_amqp_object objs[WR_AMQP_TOPOLOGY_MAX],
                     struct wr_err *err);
/* Fills obj with the stream wr_amqp_declare_stream declares. 0, or
 * WR_EINVAL when the name is too long. Pure. */
int wr_amqp_stream_topology(const char *name, long long max_bytes, const char *max_age,
                            struct wr_amqp_object *obj, struct wr_err *err);
/* Fills objs with what carries service's change events (proto/README.md
 * section 14): the exchange warren.events (as wr_amqp_topology has it),
 * the stream warren.<service>.events with the retention of
 * wr_amqp_stream_topology, and its binding to warren.events with key
 * "<service>.#". Returns the count (WR_AMQP_EVENTS_MAX), or WR_EINVAL when
 * the name is too long. Pure. */
int wr_amqp_events_topology(const char *service, long long max_bytes, const char *max_age,
                            struct wr_amqp_object objs[WR_AMQP_EVENTS_MAX], struct wr_err *err);

/* Declares a service's topology, identically from every process: the durable
 * quorum queue warren.<service> with the delivery limit and dead-letter
 * exchange of proto/README.md, the fanout warren.dlx and queue warren.dead
 * (capped at WR_DEAD_MAX_LENGTH messages, oldest dropped first), and the
 * edge's audit queue warren.audit (like a service queue). A queue or exchange
 * that exists with other arguments (declared by an operator, or by another
 * version) is WR_ECLOSED with a message naming it, what warren declares
 * and the broker's PRECONDITION_FAILED reason. */
int wr_amqp_declare_service(wr_amqp *a, const char *service, struct wr_err *err);
/* Declares the durable stream name (x-queue-type stream) with its
 * retention: at most max_bytes, and messages younger than max_age (a
 * RabbitMQ duration such as "7D" or "12h"; NULL or "" for no age limit).
 * Like a queue's, a stream's arguments can never change: every process
 * must declare it alike. */
int wr_amqp_declare_stream(wr_amqp *a, const char *name, long long max_bytes, const char *max_age,
                           struct wr_err *err);
/* Declares wr_amqp_events_topology's objects, in its order. 0 or WR_E*
 * (WR_ECLOSED as wr_amqp_declare_service). */
int wr_amqp_declare_events(wr_amqp *a, const char *service, long long max_bytes,
                           const char *max_age, struct wr_err *err);
/* Puts the channel in confirm mode: each later publish is acknowledged
 * by a WR_AMQP_ACKED or WR_AMQP_NACKED event of wr_amqp_poll. */
int wr_amqp_confirm(wr_amqp *a, struct wr_err *err);
/* Consumes the stream from offset (a stream offset; WR_AMQP_STREAM_NEXT:
 * only what is published from now on; WR_AMQP_STREAM_LAST: from the first
 * message of the last chunk the stream wrote; any other value < 0: from the
 * first message the stream keeps), acknowledged by the caller with a
 * prefetch of at most prefetch. Each delivery has the integer header
 * x-stream-offset, its offset. */
#define WR_AMQP_STREAM_NEXT (-2LL)
#define WR_AMQP_STREAM_LAST (-3LL)
int wr_amqp_consume_stream(wr_amqp *a, const char *stream, unsigned prefetch, long long offset,
                           struct wr_err *err);
/* Starts consuming queue. no_ack for direct reply-to; prefetch 0 = unlimited. */
int wr_amqp_consume(wr_amqp *a, const char *queue, bool no_ack, unsigned prefetch,
                    struct wr_err *err);
/* Starts consuming queue, acknowledged by the caller, with the consumer
 * priority priority (x-priority; 0: none): the broker gives a message to
 * the consumer of the highest priority that has room below its prefetch,
 * and to those of equal priority in turn. */
int wr_amqp_consume_ranked(wr_amqp *a, const char *queue, unsigned prefetch, long long priority,
                           struct wr_err *err);
/* Cancels every consumer this connection started and waits for the broker
 * to confirm: no delivery is sent after that, and those sent before it are
 * still read by wr_amqp_poll. For a graceful stop. */
int wr_amqp_cancel(wr_amqp *a, struct wr_err *err);
/* Likewise for this connection's consumers of queue only; the others go on. */
int wr_amqp_cancel_queue(wr_amqp *a, const char *queue, struct wr_err *err);
/* Publishes msg through msg->exchange (NULL: the default exchange) to routing_key. The typed
 * fields and hdrs become properties and headers; absent ones are left out. */
int wr_amqp_publish(wr_amqp *a, const char *routing_key, const struct wr_msg *msg, bool mandatory,
                    struct wr_err *err);
/* Holds back (on) or lets go (off) small writes, so that a burst of
 * publishes and acks leaves in a few full TCP segments instead of one per
 * frame: rabbitmq-c writes every frame with its own send(). Every cork must
 * be followed by an uncork soon. */
void wr_amqp_cork(wr_amqp *a, bool on);
/* Acknowledges delivery_tag, and with multiple every earlier one too. */
int wr_amqp_ack(wr_amqp *a, uint64_t delivery_tag, bool multiple, struct wr_err *err);
/* basic.reject; requeue false dead-letters the message. */
int wr_amqp_reject(wr_amqp *a, uint64_t delivery_tag, bool requeue, struct wr_err *err);

/* Waits up to timeout_ms (0: only what is already readable) for one event and
 * fills *msg for DELIVERY and RETURNED. Services heartbeats, and with any
 * timeout (0 too) notices two missed ones. Returns 0 (with *ev WR_AMQP_NONE
 * on timeout) or WR_ECLOSED when the connection or channel is gone (a
 * missed heartbeat included). */
int wr_amqp_poll(wr_amqp *a, long timeout_ms, enum wr_amqp_event *ev, struct wr_msg *msg,
                 struct wr_err *err);

#endif
