/* The topology every warren process declares on each (re)connect, the
 * same from every process (proto/README.md section 2): the service's
 * queues, the dead-letter exchange and queue, the audit queue, and the
 * change stream. Part of the rabbitmq-c adapter (see amqp.h). */
#include <stdio.h>

#include "amqp_int.h"
#include "warren/proto.h"

static int declare_queue(wr_amqp *a, const char *name, amqp_table_t args, struct wr_err *err)
{
    amqp_connection_state_t conn = wr__amqp_conn(a);
    (void)amqp_queue_declare(conn, WR__AMQP_CHANNEL, amqp_cstring_bytes(name), 0, 1, 0, 0, args);
    return wr__amqp_check_reply(amqp_get_rpc_reply(conn), "queue.declare", err);
}

int wr_amqp_declare_service(wr_amqp *a, const char *service, struct wr_err *err)
{
    amqp_connection_state_t conn = wr__amqp_conn(a);
    if (conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    char queue[256];
    int n = snprintf(queue, sizeof(queue), WR_QUEUE_PREFIX "%s", service);
    if (n < 0 || (size_t)n >= sizeof(queue))
        return wr_err_set(err, WR_EINVAL, "amqp: service name too long");
    (void)amqp_exchange_declare(conn, WR__AMQP_CHANNEL, amqp_cstring_bytes(WR_DLX_EXCHANGE),
                                amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
    int rc = wr__amqp_check_reply(amqp_get_rpc_reply(conn), "exchange.declare", err);
    /* Requests that expired in their queue are dead-lettered too: a cap
     * keeps warren.dead from growing without bound when nobody reads it. */
    amqp_table_entry_t dead_args[] = {wr__amqp_str("x-queue-type", "quorum"),
                                      wr__amqp_int("x-max-length", WR_DEAD_MAX_LENGTH)};
    if (rc == 0)
        rc = declare_queue(a, WR_DEAD_QUEUE, (amqp_table_t){2, dead_args}, err);
    if (rc == 0) {
        (void)amqp_queue_bind(conn, WR__AMQP_CHANNEL, amqp_cstring_bytes(WR_DEAD_QUEUE),
                              amqp_cstring_bytes(WR_DLX_EXCHANGE), amqp_cstring_bytes(""),
                              amqp_empty_table);
        rc = wr__amqp_check_reply(amqp_get_rpc_reply(conn), "queue.bind", err);
    }
    /* Queue arguments can never change once declared: these are the
     * contract of proto/README.md, identical in every process. */
    amqp_table_entry_t args[] = {
        wr__amqp_str("x-queue-type", "quorum"),
        wr__amqp_int("x-delivery-limit", WR_DELIVERY_LIMIT),
        wr__amqp_str("x-dead-letter-exchange", WR_DLX_EXCHANGE),
    };
    if (rc == 0)
        rc = declare_queue(a, queue, (amqp_table_t){3, args}, err);
    /* The edge's audit records: shared by every service, same arguments. */
    if (rc == 0)
        rc = declare_queue(a, WR_AUDIT_QUEUE, (amqp_table_t){3, args}, err);
    /* Writes: the same, with one active consumer, so one process writes at
     * a time, in order. */
    amqp_table_entry_t wargs[] = {
        wr__amqp_str("x-queue-type", "quorum"),
        wr__amqp_int("x-delivery-limit", WR_DELIVERY_LIMIT),
        wr__amqp_str("x-dead-letter-exchange", WR_DLX_EXCHANGE),
        wr__amqp_bool("x-single-active-consumer", true),
    };
    n = snprintf(queue, sizeof(queue), WR_QUEUE_PREFIX "%s" WR_QUEUE_WRITE_SUFFIX, service);
    if (rc == 0 && (n < 0 || (size_t)n >= sizeof(queue)))
        rc = wr_err_set(err, WR_EINVAL, "amqp: service name too long");
    if (rc == 0)
        rc = declare_queue(a, queue, (amqp_table_t){4, wargs}, err);
    return rc;
}

int wr_amqp_declare_stream(wr_amqp *a, const char *name, long long max_bytes, const char *max_age,
                           struct wr_err *err)
{
    if (wr__amqp_conn(a) == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    /* Without a retention a stream never shrinks; like a queue's, these
     * arguments can never change once it exists. */
    amqp_table_entry_t args[3] = {wr__amqp_str("x-queue-type", "stream"),
                                  wr__amqp_int("x-max-length-bytes", max_bytes)};
    int n = 2;
    if (max_age != NULL && max_age[0] != '\0')
        args[n++] = wr__amqp_str("x-max-age", max_age);
    return declare_queue(a, name, (amqp_table_t){n, args}, err);
}
