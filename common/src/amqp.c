/* The rabbitmq-c adapter (see amqp.h): the connection, publishing,
 * consuming and polling; amqp_topology.c declares the queues. rabbitmq-c's
 * error model (reply types, library status codes, server close methods) is
 * translated to WR_E* codes here and nowhere else. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "amqp_int.h"
#include "warren/log.h"
#include "warren/proto.h"

#define CHANNEL WR__AMQP_CHANNEL
#define SCRATCH_SIZE ((size_t)512 * 1024) /* a reply's Link header carries its search */

#define MAX_CONSUMERS 4

struct wr_amqp {
    char consumer_tags[MAX_CONSUMERS][256];   /* of this connection's consumers */
    char consumer_queues[MAX_CONSUMERS][256]; /* and the queue each consumes */
    size_t nconsumers;
    struct wr_amqp_opts opts; /* its strings owned */
    struct wr_amqp_nodes nodes;
    int nodes_rc; /* wr_amqp_nodes_parse's result, and its message */
    char nodes_msg[sizeof(((struct wr_err *)NULL)->msg)];
    size_t next;                  /* the node the next connect tries first */
    const char *node;             /* the label of the node connected to, or last tried */
    char *user;                   /* the login of the last successful connect */
    amqp_connection_state_t conn; /* NULL when closed */
    bool have_envelope;
    amqp_envelope_t envelope; /* the last delivery, freed at the next poll */
    bool have_returned;
    amqp_message_t returned;    /* the last basic.return, likewise */
    char scratch[SCRATCH_SIZE]; /* NUL-terminated copies of received strings */
    size_t scratch_used;
    bool dead_bound; /* this handle bound warren.dead once (amqp_topology.c) */
};

/* Copies a borrowed string into *dst (NULL stays NULL); false when out
 * of memory. */
static bool own(const char **dst, const char *src)
{
    *dst = src != NULL ? strdup(src) : NULL;
    return src == NULL || *dst != NULL;
}

wr_amqp *wr_amqp_new(const struct wr_amqp_opts *opts)
{
    wr_amqp *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->node = "";
    a->opts = (struct wr_amqp_opts){
        .heartbeat_s = opts->heartbeat_s,
        .connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 2000,
        .tls = {.skip_verify_peer = opts->tls.skip_verify_peer,
                .skip_verify_hostname = opts->tls.skip_verify_hostname}};
    struct wr_amqp_tls *t = &a->opts.tls;
    bool ok = opts->url != NULL && own(&a->opts.url, opts->url) &&
              own(&a->opts.name, opts->name ? opts->name : "warren") &&
              own(&t->ca_path, opts->tls.ca_path) && own(&t->cert_path, opts->tls.cert_path) &&
              own(&t->key_path, opts->tls.key_path) &&
              own(&t->key_password, opts->tls.key_password);
    /* A bad list is reported by each connect, as a bad URL always was. */
    struct wr_err err = {0};
    a->nodes_rc = ok ? wr_amqp_nodes_parse(&a->nodes, a->opts.url, &err) : 0;
    (void)snprintf(a->nodes_msg, sizeof(a->nodes_msg), "%s", err.msg);
    if (!ok || a->nodes_rc == WR_ENOMEM) {
        wr_amqp_free(a);
        return NULL;
    }
    return a;
}

static void release_received(wr_amqp *a)
{
    if (a->have_envelope)
        amqp_destroy_envelope(&a->envelope);
    if (a->have_returned)
        amqp_destroy_message(&a->returned);
    a->have_envelope = false;
    a->have_returned = false;
    a->scratch_used = 0;
    if (a->conn != NULL)
        amqp_maybe_release_buffers(a->conn);
}

void wr_amqp_close(wr_amqp *a)
{
    if (a == NULL || a->conn == NULL)
        return;
    release_received(a);
    /* A polite close needs a round trip; when the socket is dead it fails
     * fast with an error we have nothing to do with. */
    a->nconsumers = 0;
    (void)amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
    (void)amqp_destroy_connection(a->conn);
    a->conn = NULL;
}

void wr_amqp_free(wr_amqp *a)
{
    if (a == NULL)
        return;
    wr_amqp_close(a);
    wr_amqp_nodes_release(&a->nodes);
    free((char *)a->opts.url);
    free((char *)a->opts.name);
    free((char *)a->opts.tls.ca_path);
    free((char *)a->opts.tls.cert_path);
    free((char *)a->opts.tls.key_path);
    free((char *)a->opts.tls.key_password);
    free(a->user);
    free(a);
}

bool wr_amqp_is_open(const wr_amqp *a)
{
    return a->conn != NULL;
}

int wr_amqp_fd(const wr_amqp *a)
{
    return a->conn ? amqp_get_sockfd(a->conn) : -1;
}

amqp_connection_state_t wr__amqp_conn(const wr_amqp *a)
{
    return a->conn;
}

bool *wr__amqp_dead_bound(wr_amqp *a)
{
    return &a->dead_bound;
}

bool wr_amqp_has_buffered(const wr_amqp *a)
{
    return a->conn != NULL && (amqp_data_in_buffer(a->conn) || amqp_frames_enqueued(a->conn));
}

bool wr_amqp_readable(const wr_amqp *a)
{
    if (wr_amqp_has_buffered(a))
        return true;
    struct pollfd p = {.fd = wr_amqp_fd(a), .events = POLLIN};
    return p.fd >= 0 && poll(&p, 1, 0) > 0;
}

const char *wr_amqp_user(const wr_amqp *a)
{
    return a->user;
}

const char *wr_amqp_node(const wr_amqp *a)
{
    return a->node;
}

#define check_reply wr__amqp_check_reply

int wr__amqp_check_reply(amqp_rpc_reply_t r, const char *what, struct wr_err *err)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        return wr_err_set(err, WR_EIO, "%s: missing RPC reply", what);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return wr_err_set(err, r.library_error == AMQP_STATUS_TIMEOUT ? WR_ETIMEDOUT : WR_ECLOSED,
                          "%s: %s", what, amqp_error_string2(r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t *m = r.reply.decoded;
            return wr_err_set(err, WR_ECLOSED, "%s: server closed the connection: %u %.*s", what,
                              m->reply_code, (int)m->reply_text.len,
                              (const char *)m->reply_text.bytes);
        }
        if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *m = r.reply.decoded;
            return wr_err_set(err, WR_ECLOSED, "%s: server closed the channel: %u %.*s", what,
                              m->reply_code, (int)m->reply_text.len,
                              (const char *)m->reply_text.bytes);
        }
        return wr_err_set(err, WR_ECLOSED, "%s: server error (method 0x%08x)", what, r.reply.id);
    }
    return wr_err_set(err, WR_EIO, "%s: unknown reply type", what);
}

/* Opens one node: connection, socket, login, channel. */
static int connect_node(wr_amqp *a, const struct wr_amqp_node *node, struct wr_err *err)
{
    a->node = node->label;
    a->conn = amqp_new_connection();
    if (a->conn == NULL)
        return wr_err_set(err, WR_ENOMEM, "amqp: out of memory");
    int rc = wr__amqp_open(a->conn, node, &a->opts, err);
    if (rc == 0) {
        (void)amqp_channel_open(a->conn, CHANNEL);
        rc = check_reply(amqp_get_rpc_reply(a->conn), "channel.open", err);
    }
    if (rc == 0 && (a->user == NULL || strcmp(a->user, node->user) != 0)) {
        free(a->user);
        a->user = strdup(node->user);
        if (a->user == NULL)
            rc = wr_err_set(err, WR_ENOMEM, "amqp: out of memory");
    }
    if (rc != 0) {
        (void)amqp_destroy_connection(a->conn);
        a->conn = NULL;
    }
    return rc;
}

int wr_amqp_connect(wr_amqp *a, struct wr_err *err)
{
    wr_amqp_close(a);
    if (a->nodes_rc != 0)
        return wr_err_set(err, a->nodes_rc, "amqp: %s", a->nodes_msg);
    size_t n = a->nodes.n;
    /* Each node once, from a->next. With several, a failure is logged when
     * another node is left to try, and the error names every failure. */
    char why[sizeof(err->msg)] = "";
    size_t used = 0;
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = (a->next + k) % n;
        struct wr_err one = {0};
        rc = connect_node(a, &a->nodes.node[i], &one);
        if (rc == 0) {
            a->next = (i + 1) % n;
            return 0;
        }
        if (n == 1)
            return wr_err_set(err, rc, "%s", one.msg);
        if (k + 1 < n)
            wr_warn(NULL, "broker node %s unavailable, trying the next: %s", a->nodes.node[i].label,
                    one.msg);
        int w = snprintf(why + used, sizeof(why) - used, "%s%s", k > 0 ? "; " : "", one.msg);
        used = w < 0 || (size_t)w >= sizeof(why) - used ? sizeof(why) - 1 : used + (size_t)w;
    }
    return wr_err_set(err, rc, "amqp: none of the %zu nodes answered: %s", n, why);
}

static int consume_args(wr_amqp *a, const char *queue, bool no_ack, unsigned prefetch,
                        amqp_table_t args, struct wr_err *err)
{
    if (a->conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    if (prefetch > 0) {
        (void)amqp_basic_qos(a->conn, CHANNEL, 0, (uint16_t)(prefetch > 65535 ? 65535 : prefetch),
                             0);
        int rc = check_reply(amqp_get_rpc_reply(a->conn), "basic.qos", err);
        if (rc != 0)
            return rc;
    }
    amqp_basic_consume_ok_t *ok = amqp_basic_consume(a->conn, CHANNEL, amqp_cstring_bytes(queue),
                                                     amqp_empty_bytes, 0, no_ack, 0, args);
    int rc = check_reply(amqp_get_rpc_reply(a->conn), "basic.consume", err);
    if (rc == 0 && ok != NULL && a->nconsumers < MAX_CONSUMERS &&
        ok->consumer_tag.len < sizeof(a->consumer_tags[0])) {
        char *tag = a->consumer_tags[a->nconsumers];
        memcpy(tag, ok->consumer_tag.bytes, ok->consumer_tag.len);
        tag[ok->consumer_tag.len] = '\0';
        (void)snprintf(a->consumer_queues[a->nconsumers++], sizeof(a->consumer_queues[0]), "%s",
                       queue);
    }
    return rc;
}

int wr_amqp_consume(wr_amqp *a, const char *queue, bool no_ack, unsigned prefetch,
                    struct wr_err *err)
{
    return consume_args(a, queue, no_ack, prefetch, amqp_empty_table, err);
}

int wr_amqp_consume_ranked(wr_amqp *a, const char *queue, unsigned prefetch, long long priority,
                           struct wr_err *err)
{
    if (priority == 0)
        return wr_amqp_consume(a, queue, false, prefetch, err);
    amqp_table_entry_t arg = wr__amqp_int("x-priority", priority);
    return consume_args(a, queue, false, prefetch, (amqp_table_t){1, &arg}, err);
}

int wr_amqp_consume_stream(wr_amqp *a, const char *stream, unsigned prefetch, long long offset,
                           struct wr_err *err)
{
    const char *spec = offset == WR_AMQP_STREAM_NEXT   ? "next"
                       : offset == WR_AMQP_STREAM_LAST ? "last"
                                                       : "first";
    amqp_table_entry_t arg = offset >= 0 ? wr__amqp_int("x-stream-offset", offset)
                                         : wr__amqp_str("x-stream-offset", spec);
    return consume_args(a, stream, false, prefetch, (amqp_table_t){1, &arg}, err);
}

int wr_amqp_confirm(wr_amqp *a, struct wr_err *err)
{
    if (a->conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    (void)amqp_confirm_select(a->conn, CHANNEL);
    return check_reply(amqp_get_rpc_reply(a->conn), "confirm.select", err);
}

/* Cancels the consumers of queue (NULL: every one) and forgets them; the
 * others stay, in order. */
static int cancel_where(wr_amqp *a, const char *queue, struct wr_err *err)
{
    if (a->conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    int rc = 0;
    size_t kept = 0;
    for (size_t i = 0; i < a->nconsumers; i++) {
        if (queue != NULL && strcmp(a->consumer_queues[i], queue) != 0) {
            if (kept != i) {
                memcpy(a->consumer_tags[kept], a->consumer_tags[i], sizeof(a->consumer_tags[0]));
                memcpy(a->consumer_queues[kept], a->consumer_queues[i],
                       sizeof(a->consumer_queues[0]));
            }
            kept++;
        } else if (rc == 0) {
            (void)amqp_basic_cancel(a->conn, CHANNEL, amqp_cstring_bytes(a->consumer_tags[i]));
            rc = check_reply(amqp_get_rpc_reply(a->conn), "basic.cancel", err);
        }
    }
    a->nconsumers = kept;
    return rc;
}

int wr_amqp_cancel(wr_amqp *a, struct wr_err *err)
{
    return cancel_where(a, NULL, err);
}

int wr_amqp_cancel_queue(wr_amqp *a, const char *queue, struct wr_err *err)
{
    return cancel_where(a, queue, err);
}

/* Status codes from calls that do no RPC: a failure means the socket is
 * gone, and the caller reconnects. */
static int check_status(int status, const char *what, struct wr_err *err)
{
    if (status == AMQP_STATUS_OK)
        return 0;
    return wr_err_set(err, WR_ECLOSED, "%s: %s", what, amqp_error_string2(status));
}

int wr_amqp_publish(wr_amqp *a, const char *routing_key, const struct wr_msg *msg, bool mandatory,
                    struct wr_err *err)
{
    if (a->conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    amqp_basic_properties_t p = {._flags = AMQP_BASIC_CONTENT_TYPE_FLAG,
                                 .content_type = amqp_cstring_bytes(
                                     msg->content_type ? msg->content_type : WR_CONTENT_TYPE)};
    // cppcheck-suppress variableScope ; p.expiration points into it until the publish below
    char expiration[24];
    if (msg->correlation_id) {
        p._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        p.correlation_id = amqp_cstring_bytes(msg->correlation_id);
    }
    if (msg->message_id) {
        p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        p.message_id = amqp_cstring_bytes(msg->message_id);
    }
    if (msg->reply_to) {
        p._flags |= AMQP_BASIC_REPLY_TO_FLAG;
        p.reply_to = amqp_cstring_bytes(msg->reply_to);
    }
    if (msg->type) {
        p._flags |= AMQP_BASIC_TYPE_FLAG;
        p.type = amqp_cstring_bytes(msg->type);
    }
    if (msg->user_id) {
        p._flags |= AMQP_BASIC_USER_ID_FLAG;
        p.user_id = amqp_cstring_bytes(msg->user_id);
    }
    if (msg->expiration_ms >= 0) {
        (void)snprintf(expiration, sizeof(expiration), "%lld", msg->expiration_ms);
        p._flags |= AMQP_BASIC_EXPIRATION_FLAG;
        p.expiration = amqp_cstring_bytes(expiration);
    }
    if (msg->persistent) {
        p._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
        p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    }
    p._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    p.timestamp = (uint64_t)time(NULL);

    amqp_table_entry_t entries[2 * WR_AMQP_MAX_HDRS + 2];
    int n = 0;
    if (msg->status != 0)
        entries[n++] = wr__amqp_int(WR_HDR_STATUS, msg->status);
    if (msg->deadline_ms != 0)
        entries[n++] = wr__amqp_int(WR_HDR_DEADLINE, msg->deadline_ms);
    for (size_t i = 0; i < msg->nhdrs && i < WR_AMQP_MAX_HDRS; i++)
        entries[n++] = wr__amqp_str(msg->hdrs[i].name, msg->hdrs[i].value);
    for (size_t i = 0; i < msg->nihdrs && i < WR_AMQP_MAX_HDRS; i++)
        entries[n++] = wr__amqp_int(msg->ihdrs[i].name, msg->ihdrs[i].value);
    if (n > 0) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers = (amqp_table_t){.num_entries = n, .entries = entries};
    }
    amqp_bytes_t body = {.len = msg->len, .bytes = (void *)msg->body};
    amqp_bytes_t exchange = msg->exchange ? amqp_cstring_bytes(msg->exchange) : amqp_empty_bytes;
    int status = amqp_basic_publish(a->conn, CHANNEL, exchange, amqp_cstring_bytes(routing_key),
                                    mandatory, 0, &p, body);
    return check_status(status, "basic.publish", err);
}

void wr_amqp_cork(wr_amqp *a, bool on)
{
    int fd = wr_amqp_fd(a);
    int v = on ? 1 : 0;
    /* Failure only costs the optimisation. */
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
}

int wr_amqp_ack(wr_amqp *a, uint64_t delivery_tag, bool multiple, struct wr_err *err)
{
    if (a->conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    return check_status(amqp_basic_ack(a->conn, CHANNEL, delivery_tag, multiple), "basic.ack", err);
}

int wr_amqp_reject(wr_amqp *a, uint64_t delivery_tag, bool requeue, struct wr_err *err)
{
    if (a->conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    return check_status(amqp_basic_reject(a->conn, CHANNEL, delivery_tag, requeue), "basic.reject",
                        err);
}

/* A NUL-terminated copy of b in the scratch area; NULL when it is full. */
static const char *scratch_str(wr_amqp *a, amqp_bytes_t b)
{
    if (b.len >= SCRATCH_SIZE - a->scratch_used)
        return NULL;
    char *p = a->scratch + a->scratch_used;
    if (b.len > 0)
        memcpy(p, b.bytes, b.len);
    p[b.len] = '\0';
    a->scratch_used += b.len + 1;
    return p;
}

static long long field_int(const amqp_field_value_t *v, bool *ok)
{
    *ok = true;
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8:
        return v->value.i8;
    case AMQP_FIELD_KIND_U8:
        return v->value.u8;
    case AMQP_FIELD_KIND_I16:
        return v->value.i16;
    case AMQP_FIELD_KIND_U16:
        return v->value.u16;
    case AMQP_FIELD_KIND_I32:
        return v->value.i32;
    case AMQP_FIELD_KIND_U32:
        return v->value.u32;
    case AMQP_FIELD_KIND_I64:
        return v->value.i64;
    case AMQP_FIELD_KIND_U64:
        return (long long)v->value.u64;
    default:
        *ok = false;
        return 0;
    }
}

static void read_headers(wr_amqp *a, const amqp_table_t *t, struct wr_msg *m)
{
    for (int i = 0; i < t->num_entries; i++) {
        const amqp_table_entry_t *e = &t->entries[i];
        const char *key = scratch_str(a, e->key);
        bool ok;
        long long v = field_int(&e->value, &ok);
        if (key == NULL)
            continue;
        if (strcmp(key, WR_HDR_STATUS) == 0 && ok)
            m->status = (int)v;
        else if (strcmp(key, WR_HDR_DEADLINE) == 0 && ok)
            m->deadline_ms = v;
        else if ((e->value.kind == AMQP_FIELD_KIND_UTF8 ||
                  e->value.kind == AMQP_FIELD_KIND_BYTES) &&
                 m->nhdrs < WR_AMQP_MAX_HDRS) {
            const char *value = scratch_str(a, e->value.value.bytes);
            if (value != NULL)
                m->hdrs[m->nhdrs++] = (struct wr_amqp_hdr){key, value};
        } else if (ok && m->nihdrs < WR_AMQP_MAX_HDRS) {
            m->ihdrs[m->nihdrs++] = (struct wr_amqp_ihdr){key, v};
        }
    }
}

/* Fills m from a received message's properties and body. */
static void read_message(wr_amqp *a, const amqp_message_t *msg, struct wr_msg *m)
{
    const amqp_basic_properties_t *p = &msg->properties;
    *m = (struct wr_msg){.expiration_ms = -1, .body = msg->body.bytes, .len = msg->body.len};
    if (p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
        m->correlation_id = scratch_str(a, p->correlation_id);
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        m->message_id = scratch_str(a, p->message_id);
    if (p->_flags & AMQP_BASIC_REPLY_TO_FLAG)
        m->reply_to = scratch_str(a, p->reply_to);
    if (p->_flags & AMQP_BASIC_TYPE_FLAG)
        m->type = scratch_str(a, p->type);
    if (p->_flags & AMQP_BASIC_USER_ID_FLAG)
        m->user_id = scratch_str(a, p->user_id);
    if (p->_flags & AMQP_BASIC_EXPIRATION_FLAG) {
        const char *s = scratch_str(a, p->expiration);
        char *end = NULL;
        long long v = s ? strtoll(s, &end, 10) : -1;
        m->expiration_ms = (s && end != s && *end == '\0') ? v : -1;
    }
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
        read_headers(a, &p->headers, m);
}

/* A frame that is not a delivery: basic.return, connection.blocked, or a
 * close that ends the connection. */
static int read_other_frame(wr_amqp *a, enum wr_amqp_event *ev, struct wr_msg *msg,
                            struct wr_err *err)
{
    amqp_frame_t frame;
    struct timeval zero = {0, 0};
    int status = amqp_simple_wait_frame_noblock(a->conn, &frame, &zero);
    if (status == AMQP_STATUS_TIMEOUT)
        return 0;
    if (status != AMQP_STATUS_OK)
        return check_status(status, "amqp: read", err);
    if (frame.frame_type != AMQP_FRAME_METHOD)
        return 0;
    switch (frame.payload.method.id) {
    case AMQP_BASIC_RETURN_METHOD: {
        amqp_rpc_reply_t r = amqp_read_message(a->conn, frame.channel, &a->returned, 0);
        int rc = check_reply(r, "basic.return", err);
        if (rc != 0)
            return rc;
        a->have_returned = true;
        read_message(a, &a->returned, msg);
        *ev = WR_AMQP_RETURNED;
        return 0;
    }
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *m = frame.payload.method.decoded;
        *msg = (struct wr_msg){.delivery_tag = m->delivery_tag, .multiple = m->multiple != 0};
        *ev = WR_AMQP_ACKED;
        return 0;
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *m = frame.payload.method.decoded;
        *msg = (struct wr_msg){.delivery_tag = m->delivery_tag, .multiple = m->multiple != 0};
        *ev = WR_AMQP_NACKED;
        return 0;
    }
    case AMQP_CONNECTION_BLOCKED_METHOD:
        *ev = WR_AMQP_BLOCKED;
        return 0;
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
        *ev = WR_AMQP_UNBLOCKED;
        return 0;
    case AMQP_CHANNEL_CLOSE_METHOD:
        return wr_err_set(err, WR_ECLOSED, "amqp: the server closed the channel");
    case AMQP_CONNECTION_CLOSE_METHOD:
        return wr_err_set(err, WR_ECLOSED, "amqp: the server closed the connection");
    default:
        return 0;
    }
}

int wr_amqp_poll(wr_amqp *a, long timeout_ms, enum wr_amqp_event *ev, struct wr_msg *msg,
                 struct wr_err *err)
{
    *ev = WR_AMQP_NONE;
    if (a->conn == NULL)
        return wr_err_set(err, WR_ECLOSED, "amqp: not connected");
    release_received(a);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    /* rabbitmq-c takes a zero timeout for "now" and then never compares
     * the heartbeat deadline: a node gone silent (frozen) would never be
     * noticed by a caller that only polls without waiting (the edge). One
     * microsecond waits as little and lets it notice. */
    if (timeout_ms <= 0)
        tv = (struct timeval){.tv_sec = 0, .tv_usec = 1};
    amqp_rpc_reply_t r = amqp_consume_message(a->conn, &a->envelope, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        a->have_envelope = true;
        read_message(a, &a->envelope.message, msg);
        msg->delivery_tag = a->envelope.delivery_tag;
        msg->redelivered = a->envelope.redelivered != 0;
        msg->routing_key = scratch_str(a, a->envelope.routing_key);
        *ev = WR_AMQP_DELIVERY;
        return 0;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
        if (r.library_error == AMQP_STATUS_TIMEOUT)
            return 0;
        if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE)
            return read_other_frame(a, ev, msg, err);
    }
    return check_reply(r, "amqp: consume", err);
}
