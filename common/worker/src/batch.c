/* Proto v2 batch deliveries on the worker (see batch.h): dispatch item by
 * item with the replies collected, or split a redelivered batch into
 * single messages published with confirms on a connection of their own
 * (the consuming channel stays out of confirm mode: replies need none). */
#include "batch.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "warren/clock.h"
#include "warren/log.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/rpc_batch.h"

bool wr__batch_init(struct wr__worker *w)
{
    wr_batch_enc_init(&w->batch_replies, true, WR__BATCH_REPLY_BYTES);
    return true;
}

void wr__batch_release(struct wr__worker *w)
{
    wr_batch_enc_release(&w->batch_replies);
    wr_amqp_free(w->splitter);
    w->splitter = NULL;
}

bool wr__is_batch(const struct wr_msg *m)
{
    return m->type != NULL && strcmp(m->type, WR_MSG_TYPE_RPC_BATCH) == 0;
}

static bool redelivered(const struct wr_msg *m)
{
    if (m->redelivered)
        return true;
    for (size_t i = 0; i < m->nihdrs; i++)
        if (strcmp(m->ihdrs[i].name, "x-delivery-count") == 0 && m->ihdrs[i].value > 0)
            return true;
    return false;
}

/* Publishes the replies collected so far (if any) to reply_to. */
static int flush(struct wr__worker *w, const char *reply_to, struct wr_err *err)
{
    size_t len;
    const char *body = wr_batch_enc_finish(&w->batch_replies, &len);
    int rc = 0;
    if (body != NULL) {
        struct wr_msg out = {
            .type = WR_MSG_TYPE_RPC_BATCH, .expiration_ms = -1, .body = body, .len = len};
        rc = wr_amqp_publish(w->amqp, reply_to, &out, false, err);
    }
    wr_batch_enc_reset(&w->batch_replies);
    return rc;
}

int wr__batch_reply(struct wr__worker *w, const struct wr_msg *m, const struct wr_msg *out,
                    struct wr_err *err)
{
    struct wr_batch_enc *e = &w->batch_replies;
    if (e->n > 0 && e->buf.len + wr_batch_item_bytes(out) > WR__BATCH_REPLY_BYTES) {
        int rc = flush(w, m->reply_to, err);
        if (rc != 0)
            return rc;
    }
    if (wr_batch_enc_add(e, out) == 0)
        return 0;
    /* too big, or not byte-exact as a JSON string: alone, as in v1 */
    return wr_amqp_publish(w->amqp, m->reply_to, out, false, err);
}

/* Answers a batch that does not decode, as a whole, and records it. */
static int refuse(struct wr__worker *w, const struct wr_msg *m, const char *why,
                  unsigned long long *recno, struct wr_err *err)
{
    char id[WR_REQUEST_ID_LEN + 1];
    const char *rid =
        m->message_id != NULL && wr_request_id_valid(m->message_id) ? m->message_id : NULL;
    if (rid == NULL) {
        wr_request_id_new(id);
        rid = id;
    }
    wr_warn(rid, "%s", why);
    wr_answer_reset(&w->reply);
    wr_answer_error(&w->reply, 400, WR_CODE_BAD_REQUEST, why);
    int rc = 0;
    if (m->reply_to != NULL && m->correlation_id != NULL) {
        struct wr_msg out = {.correlation_id = m->correlation_id,
                             .expiration_ms = -1,
                             .status = 400,
                             .body = w->reply.body.data,
                             .len = w->reply.body.len};
        rc = wr_amqp_publish(w->amqp, m->reply_to, &out, false, err);
    }
    struct wr_audit_rec rec = {.id = rid,
                               .time_ms = wr_now_ms(),
                               .principal = wr__principal_of(NULL, m->user_id),
                               .op = WR_MSG_TYPE_RPC_BATCH,
                               .status = 400,
                               .rows = -1,
                               .error = why,
                               .error_len = strlen(why)};
    struct wr_err aerr = {0};
    if (wr_audit_record(w->audit, &rec, recno, &aerr) != 0) {
        wr_error(rid, "stopping: %s", aerr.msg);
        w->fatal = true;
        *recno = UINT64_MAX;
    }
    return rc;
}

/* Item i of batch m as a single request, as if it had come alone. */
static struct wr_msg item_of(const struct wr_msg *m, const struct wr_msg *it)
{
    struct wr_msg one = *it;
    one.reply_to = m->reply_to;
    one.user_id = m->user_id;
    one.routing_key = m->routing_key;
    one.delivery_tag = m->delivery_tag;
    one.redelivered = false;
    return one;
}

/* The connection splits are published on, connected and in confirm mode;
 * NULL with err when it cannot be. */
static wr_amqp *splitter(struct wr__worker *w, struct wr_err *err)
{
    if (w->splitter == NULL) {
        char name[sizeof(w->program) + 8];
        (void)snprintf(name, sizeof(name), "%s-split", w->program);
        struct wr_amqp_opts ao = wr_amqp_opts_from_cfg(w->cfg, name);
        w->splitter = wr_amqp_new(&ao);
        if (w->splitter == NULL) {
            wr_err_set(err, WR_ENOMEM, "out of memory");
            return NULL;
        }
    }
    if (wr_amqp_is_open(w->splitter))
        return w->splitter;
    w->split_seq = 0;
    int rc = wr_amqp_connect(w->splitter, err);
    if (rc == 0)
        rc = wr_amqp_confirm(w->splitter, err);
    if (rc != 0) {
        wr_amqp_close(w->splitter);
        return NULL;
    }
    return w->splitter;
}

/* Waits until publishes first..last of the split connection are confirmed.
 * 0, or WR_EIO / the connection's error. */
static int await_confirms(struct wr__worker *w, uint64_t first, uint64_t last, struct wr_err *err)
{
    bool acked[WR_RPC_BATCH_ITEMS_MAX] = {false};
    size_t n = (size_t)(last - first + 1), done = 0;
    long long until = wr_steady_ms() + w->cfg->connect_timeout_ms;
    while (done < n && wr_steady_ms() < until) {
        enum wr_amqp_event ev;
        struct wr_msg c;
        int rc = wr_amqp_poll(w->splitter, 100, &ev, &c, err);
        if (rc != 0)
            return rc;
        if (ev == WR_AMQP_NACKED || ev == WR_AMQP_RETURNED)
            return wr_err_set(err, WR_EIO, "the broker refused a split item");
        if (ev != WR_AMQP_ACKED)
            continue;
        for (uint64_t s = c.multiple ? first : c.delivery_tag; s <= c.delivery_tag; s++)
            if (s >= first && s <= last && !acked[s - first]) {
                acked[s - first] = true;
                done++;
            }
    }
    return done == n ? 0 : wr_err_set(err, WR_ETIMEDOUT, "split items not confirmed in time");
}

/* A redelivered batch: each item alone, back to the queue it came from. */
static int split(struct wr__worker *w, const struct wr_msg *m, const struct wr_batch *b,
                 unsigned long long *recno, struct wr_err *err)
{
    wr_amqp *a = splitter(w, err);
    if (a == NULL)
        return WR_ECLOSED;
    uint64_t first = w->split_seq + 1;
    size_t sent = 0;
    long long now = wr_steady_ms();
    for (size_t i = 0; i < b->n; i++) {
        struct wr_msg one = item_of(m, &b->items[i]);
        if (wr__deadline_passed(one.deadline_ms, now)) {
            /* nobody waits for it: recorded as not executed, as in v1 */
            int rc = wr__dispatch(w, &one, recno, err);
            if (rc != 0 || w->fatal)
                return rc;
            continue;
        }
        /* RabbitMQ refuses a user_id other than the publishing connection's:
         * a batch's verified publisher travels on as its principal instead */
        const char *user = wr_amqp_user(a);
        if (one.user_id != NULL && (user == NULL || strcmp(one.user_id, user) != 0)) {
            bool named = false;
            for (size_t h = 0; h < one.nhdrs; h++)
                named |= strcmp(one.hdrs[h].name, WR_HDR_PRINCIPAL) == 0;
            if (!named && one.nhdrs < WR_AMQP_MAX_HDRS)
                one.hdrs[one.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_PRINCIPAL, one.user_id};
            one.user_id = NULL;
        }
        if (one.deadline_ms > 0 &&
            (one.expiration_ms < 0 || one.deadline_ms - now < one.expiration_ms))
            one.expiration_ms = one.deadline_ms - now; /* what is left of its budget */
        int rc = wr_amqp_publish(a, m->routing_key, &one, false, err);
        if (rc != 0) {
            wr_amqp_close(a);
            return rc;
        }
        w->split_seq++;
        sent++;
    }
    int rc = sent > 0 ? await_confirms(w, first, first + sent - 1, err) : 0;
    if (rc != 0) {
        wr_amqp_close(a);
        return rc;
    }
    wr_info(m->message_id, "a redelivered batch of %zu split into single messages (%zu sent)", b->n,
            sent);
    return 0;
}

int wr__batch_dispatch(struct wr__worker *w, const struct wr_msg *m, unsigned long long *recno,
                       struct wr_err *err)
{
    struct wr_batch b;
    struct wr_err derr = {0};
    if (wr_batch_decode(m->body, m->len, false, &b, &derr) != 0)
        return refuse(w, m, derr.msg, recno, err);
    for (size_t i = 0; i < b.n; i++) /* a batch holds requests, never a batch or a record */
        if (wr__is_batch(&b.items[i]) || wr__is_audit(&b.items[i])) {
            wr_batch_release(&b);
            return refuse(w, m, "batch: an item's type must be an operation", recno, err);
        }
    int rc = 0;
    if (redelivered(m)) {
        rc = split(w, m, &b, recno, err);
        wr_batch_release(&b);
        return rc;
    }
    wr_batch_enc_reset(&w->batch_replies);
    w->collect = true;
    for (size_t i = 0; i < b.n && rc == 0 && !w->fatal; i++) {
        struct wr_msg one = item_of(m, &b.items[i]);
        rc = wr__dispatch(w, &one, recno, err);
    }
    w->collect = false;
    if (rc == 0 && m->reply_to != NULL)
        rc = flush(w, m->reply_to, err);
    wr_batch_enc_reset(&w->batch_replies);
    wr_batch_release(&b);
    return rc;
}
