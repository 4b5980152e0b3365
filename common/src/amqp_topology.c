/* The topology every warren process declares on each (re)connect, the
 * same from every process (proto/README.md section 2): the service's
 * queues, the dead-letter exchange and queue, the audit queue, the change
 * events' exchange, and a writer's change and event streams. One table (wr_amqp_topology) is both
 * what is declared and what deployments compare theirs with. Part of the rabbitmq-c adapter (see
 * amqp.h). */
#include <stdio.h>
#include <string.h>

#include "amqp_int.h"
#include "warren/proto.h"

#define ARG_STR(k, v)                                                                              \
    {                                                                                              \
        .key = (k), .str = (v)                                                                     \
    }
#define ARG_INT(k, v)                                                                              \
    {                                                                                              \
        .key = (k), .num = (v)                                                                     \
    }
#define ARG_BOOL(k, v)                                                                             \
    {                                                                                              \
        .key = (k), .num = (v), .is_bool = true                                                    \
    }

/* Queue arguments can never change once declared: these are the contract
 * of proto/README.md, identical in every process. */
static const struct wr_amqp_arg work_args[] = {
    ARG_STR("x-queue-type", "quorum"),
    ARG_INT("x-delivery-limit", WR_DELIVERY_LIMIT),
    ARG_STR("x-dead-letter-exchange", WR_DLX_EXCHANGE),
    /* writes only: one active consumer, so one process writes at a time,
     * in order */
    ARG_BOOL("x-single-active-consumer", 1),
};
/* Requests that expired in their queue are dead-lettered too: a cap keeps
 * warren.dead from growing without bound when nobody reads it. */
static const struct wr_amqp_arg dead_args[] = {
    ARG_STR("x-queue-type", "quorum"),
    ARG_INT("x-max-length", WR_DEAD_MAX_LENGTH),
};

static void set_args(struct wr_amqp_object *o, const struct wr_amqp_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o->args[i] = args[i];
    o->nargs = n;
}

static int set_name(struct wr_amqp_object *o, const char *prefix, const char *name,
                    const char *suffix, struct wr_err *err)
{
    int n = snprintf(o->name, sizeof(o->name), "%s%s%s", prefix, name, suffix);
    if (n < 0 || (size_t)n >= sizeof(o->name))
        return wr_err_set(err, WR_EINVAL, "amqp: service name too long");
    return 0;
}

/* The topic exchange of every service's change events. */
static int events_exchange(struct wr_amqp_object *o, struct wr_err *err)
{
    o->kind = WR_AMQP_EXCHANGE;
    o->type = "topic";
    return set_name(o, "", WR_EVENTS_EXCHANGE, "", err);
}

int wr_amqp_topology(const char *service, struct wr_amqp_object objs[WR_AMQP_TOPOLOGY_MAX],
                     struct wr_err *err)
{
    memset(objs, 0, sizeof(objs[0]) * WR_AMQP_TOPOLOGY_MAX);
    objs[0].kind = WR_AMQP_EXCHANGE;
    objs[0].type = "fanout";
    int rc = set_name(&objs[0], "", WR_DLX_EXCHANGE, "", err);
    objs[1].kind = WR_AMQP_QUEUE;
    set_args(&objs[1], dead_args, sizeof(dead_args) / sizeof(dead_args[0]));
    if (rc == 0)
        rc = set_name(&objs[1], "", WR_DEAD_QUEUE, "", err);
    objs[2].kind = WR_AMQP_BINDING;
    objs[2].source = WR_DLX_EXCHANGE;
    if (rc == 0)
        rc = set_name(&objs[2], "", WR_DEAD_QUEUE, "", err);
    /* The service's reads, and the edge's audit records (shared by every
     * service, same arguments), then the writes. */
    objs[3].kind = objs[4].kind = objs[5].kind = WR_AMQP_QUEUE;
    set_args(&objs[3], work_args, 3);
    set_args(&objs[4], work_args, 3);
    set_args(&objs[5], work_args, 4);
    if (rc == 0)
        rc = set_name(&objs[3], WR_QUEUE_PREFIX, service, "", err);
    if (rc == 0)
        rc = set_name(&objs[4], "", WR_AUDIT_QUEUE, "", err);
    if (rc == 0)
        rc = set_name(&objs[5], WR_QUEUE_PREFIX, service, WR_QUEUE_WRITE_SUFFIX, err);
    /* every process declares the events' exchange, so a subscriber may
     * bind its queue before the first writer ran */
    if (rc == 0)
        rc = events_exchange(&objs[6], err);
    return rc == 0 ? WR_AMQP_TOPOLOGY_MAX : rc;
}

int wr_amqp_stream_topology(const char *name, long long max_bytes, const char *max_age,
                            struct wr_amqp_object *obj, struct wr_err *err)
{
    *obj = (struct wr_amqp_object){.kind = WR_AMQP_QUEUE};
    /* Without a retention a stream never shrinks; like a queue's, these
     * arguments can never change once it exists. */
    obj->args[obj->nargs++] = (struct wr_amqp_arg)ARG_STR("x-queue-type", "stream");
    obj->args[obj->nargs++] = (struct wr_amqp_arg)ARG_INT("x-max-length-bytes", max_bytes);
    if (max_age != NULL && max_age[0] != '\0')
        obj->args[obj->nargs++] = (struct wr_amqp_arg)ARG_STR("x-max-age", max_age);
    return set_name(obj, "", name, "", err);
}

int wr_amqp_events_topology(const char *service, long long max_bytes, const char *max_age,
                            struct wr_amqp_object objs[WR_AMQP_EVENTS_MAX], struct wr_err *err)
{
    memset(objs, 0, sizeof(objs[0]) * WR_AMQP_EVENTS_MAX);
    char stream[sizeof(objs[0].name)];
    int n = snprintf(stream, sizeof(stream), WR_QUEUE_PREFIX "%s" WR_EVENTS_SUFFIX, service);
    int rc = n < 0 || (size_t)n >= sizeof(stream)
                 ? wr_err_set(err, WR_EINVAL, "amqp: service name too long")
                 : events_exchange(&objs[0], err);
    if (rc == 0)
        rc = wr_amqp_stream_topology(stream, max_bytes, max_age, &objs[1], err);
    /* the service's events only: <service>.<Collection>.<op> */
    objs[2].kind = WR_AMQP_BINDING;
    objs[2].source = WR_EVENTS_EXCHANGE;
    if (rc == 0)
        rc = set_name(&objs[2], "", stream, "", err);
    n = snprintf(objs[2].key, sizeof(objs[2].key), "%s.#", service);
    if (rc == 0 && (n < 0 || (size_t)n >= sizeof(objs[2].key)))
        rc = wr_err_set(err, WR_EINVAL, "amqp: service name too long");
    return rc == 0 ? WR_AMQP_EVENTS_MAX : rc;
}

/* "k=v k=v": what warren declares, for the mismatch message. */
static void describe(const struct wr_amqp_object *o, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    if (o->kind == WR_AMQP_EXCHANGE)
        (void)snprintf(out, size, "type=%s", o->type);
    for (size_t i = 0; i < o->nargs && used < size; i++) {
        const struct wr_amqp_arg *a = &o->args[i];
        int n = a->str != NULL
                    ? snprintf(out + used, size - used, "%s%s=%s", i ? " " : "", a->key, a->str)
                : a->is_bool
                    ? snprintf(out + used, size - used, "%s%s=%s", i ? " " : "", a->key,
                               a->num ? "true" : "false")
                    : snprintf(out + used, size - used, "%s%s=%lld", i ? " " : "", a->key, a->num);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

/* Checks a declare's reply. A PRECONDITION_FAILED (the object exists with
 * other arguments) gets a message that says which object and what warren
 * wants, since every process retries it forever otherwise unexplained. */
static int check_declare(const struct wr_amqp_object *o, amqp_rpc_reply_t r, const char *what,
                         struct wr_err *err)
{
    int rc = wr__amqp_check_reply(r, what, err);
    if (rc == 0 || r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
        r.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
        return rc;
    const amqp_channel_close_t *m = r.reply.decoded;
    if (m->reply_code != AMQP_PRECONDITION_FAILED)
        return rc;
    char want[256];
    describe(o, want, sizeof(want));
    return wr_err_set(err, WR_ECLOSED,
                      "%s %s exists with other arguments than warren declares (%s): "
                      "delete it or declare it alike (README, \"Queue arguments\"): %.*s",
                      o->kind == WR_AMQP_EXCHANGE ? "exchange" : "queue", o->name, want,
                      (int)m->reply_text.len, (const char *)m->reply_text.bytes);
}

static int declare(amqp_connection_state_t conn, const struct wr_amqp_object *o, struct wr_err *err)
{
    amqp_table_entry_t entries[WR_AMQP_MAX_ARGS];
    for (size_t i = 0; i < o->nargs; i++) {
        const struct wr_amqp_arg *a = &o->args[i];
        entries[i] = a->str != NULL ? wr__amqp_str(a->key, a->str)
                     : a->is_bool   ? wr__amqp_bool(a->key, a->num != 0)
                                    : wr__amqp_int(a->key, a->num);
    }
    amqp_table_t args = {(int)o->nargs, entries};
    amqp_bytes_t name = amqp_cstring_bytes(o->name);
    switch (o->kind) {
    case WR_AMQP_EXCHANGE:
        (void)amqp_exchange_declare(conn, WR__AMQP_CHANNEL, name, amqp_cstring_bytes(o->type), 0, 1,
                                    0, 0, args);
        return check_declare(o, amqp_get_rpc_reply(conn), "exchange.declare", err);
    case WR_AMQP_QUEUE:
        (void)amqp_queue_declare(conn, WR__AMQP_CHANNEL, name, 0, 1, 0, 0, args);
        return check_declare(o, amqp_get_rpc_reply(conn), "queue.declare", err);
    case WR_AMQP_BINDING:
        (void)amqp_queue_bind(conn, WR__AMQP_CHANNEL, name, amqp_cstring_bytes(o->source),
                              amqp_cstring_bytes(o->key), args);
        return wr__amqp_check_reply(amqp_get_rpc_reply(conn), "queue.bind", err);
    }
    return wr_err_set(err, WR_EINVAL, "amqp: unknown topology object");
}

/* Whether warren.dead exists: a passive declare, which the node answers
 * from its own tables. 1 yes; 0 no (the broker closed the channel for it,
 * and it is open again); or a negative WR_E*. */
static int dead_queue_exists(amqp_connection_state_t conn, struct wr_err *err)
{
    (void)amqp_queue_declare(conn, WR__AMQP_CHANNEL, amqp_cstring_bytes(WR_DEAD_QUEUE), 1, 0, 0, 0,
                             amqp_empty_table);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 1;
    if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || r.reply.id != AMQP_CHANNEL_CLOSE_METHOD ||
        ((const amqp_channel_close_t *)r.reply.decoded)->reply_code != AMQP_NOT_FOUND)
        return wr__amqp_check_reply(r, "queue.declare (passive)", err);
    amqp_channel_close_ok_t ok = {0};
    if (amqp_send_method(conn, WR__AMQP_CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) !=
        AMQP_STATUS_OK)
        return wr_err_set(err, WR_ECLOSED, "channel.close-ok: the connection failed");
    (void)amqp_channel_open(conn, WR__AMQP_CHANNEL);
    return wr__amqp_check_reply(amqp_get_rpc_reply(conn), "channel.open", err);
}

int wr_amqp_declare_service(wr_amqp *a, const char *service, struct wr_err *err)
{
    amqp_connection_state_t conn = wr__amqp_conn(a);
    if (conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    struct wr_amqp_object objs[WR_AMQP_TOPOLOGY_MAX];
    int n = wr_amqp_topology(service, objs, err);
    /* RabbitMQ locks a binding on every cluster node, even one that exists:
     * a queue.bind waits while any node is frozen or cut off (until the
     * cluster counts it down, net_ticktime: about a minute), and with it
     * every reconnect. Declares of what exists are answered locally. So
     * once this handle has bound warren.dead, a reconnect binds it again
     * only when the queue is gone (a broker that lost its definitions);
     * the first connect of every process always binds, so a process that
     * died between making the queue and binding it is made good by the
     * next one to start. */
    bool *bound = wr__amqp_dead_bound(a);
    int exists = n > 0 && *bound ? dead_queue_exists(conn, err) : 0;
    if (exists < 0)
        return exists;
    for (int i = 0; i < n; i++) {
        if (objs[i].kind == WR_AMQP_BINDING && exists == 1)
            continue;
        int rc = declare(conn, &objs[i], err);
        if (rc != 0)
            return rc;
    }
    if (n > 0)
        *bound = true;
    return n < 0 ? n : 0;
}

int wr_amqp_declare_stream(wr_amqp *a, const char *name, long long max_bytes, const char *max_age,
                           struct wr_err *err)
{
    amqp_connection_state_t conn = wr__amqp_conn(a);
    if (conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    struct wr_amqp_object obj;
    int rc = wr_amqp_stream_topology(name, max_bytes, max_age, &obj, err);
    return rc != 0 ? rc : declare(conn, &obj, err);
}

int wr_amqp_declare_events(wr_amqp *a, const char *service, long long max_bytes,
                           const char *max_age, struct wr_err *err)
{
    amqp_connection_state_t conn = wr__amqp_conn(a);
    if (conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    struct wr_amqp_object objs[WR_AMQP_EVENTS_MAX];
    int n = wr_amqp_events_topology(service, max_bytes, max_age, objs, err);
    for (int i = 0; i < n; i++) {
        int rc = declare(conn, &objs[i], err);
        if (rc != 0)
            return rc;
    }
    return n < 0 ? n : 0;
}
