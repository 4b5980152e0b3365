/* What the files of the rabbitmq-c adapter share: amqp.c (the
 * connection, publishing, consuming, polling), amqp_connect.c (opening one
 * node, TLS included), amqp_nodes.c (AMQP_URL's node list) and
 * amqp_topology.c (what every process declares). Internal to libwarren:
 * nothing else includes <amqp.h>. */
#ifndef WARREN_AMQP_INT_H
#define WARREN_AMQP_INT_H

#include <amqp.h>
#include <stdbool.h>

#include "warren/amqp.h"

#define WR__AMQP_CHANNEL 1

/* The live connection, or NULL when closed. */
amqp_connection_state_t wr__amqp_conn(const wr_amqp *a);
/* Whether this handle has bound warren.dead to warren.dlx since it was
 * made (kept across reconnects): amqp_topology.c's to read and set. */
bool *wr__amqp_dead_bound(wr_amqp *a);
/* Opens node's socket on conn (TLS with opts->tls for amqps://, bounded
 * by opts->connect_timeout_ms) and logs in as opts->name. 0, or WR_E* with
 * err naming the node and why; the caller destroys conn either way. */
int wr__amqp_open(amqp_connection_state_t conn, const struct wr_amqp_node *node,
                  const struct wr_amqp_opts *opts, struct wr_err *err);
/* Translates an RPC reply into 0 or WR_E*, with the server's reason. */
int wr__amqp_check_reply(amqp_rpc_reply_t r, const char *what, struct wr_err *err);

static inline amqp_table_entry_t wr__amqp_str(const char *key, const char *value)
{
    return (amqp_table_entry_t){
        .key = amqp_cstring_bytes(key),
        .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(value)}};
}

static inline amqp_table_entry_t wr__amqp_bool(const char *key, bool value)
{
    return (amqp_table_entry_t){.key = amqp_cstring_bytes(key),
                                .value = {.kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = value}};
}

static inline amqp_table_entry_t wr__amqp_int(const char *key, long long value)
{
    return (amqp_table_entry_t){.key = amqp_cstring_bytes(key),
                                .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = value}};
}

#endif
