/* Proto v2's batch envelope: the encoder (see warren/rpc_batch.h; the
 * decoder is rpc_batch_dec.c). Members are written in sorted order, as the
 * canonical writer does everywhere; strings through wr_json_str, which is
 * byte-exact for well-formed UTF-8 without NUL, hence the checks before.
 * A reply body that is one JSON value goes in as it is ("json"): escaping
 * it cost more than checking it (callgrind), and the message is shorter. */
#include "warren/rpc_batch.h"

#include <stdlib.h>
#include <string.h>

#include "warren/codec.h"
#include "warren/json.h"
#include "warren/json_scan.h"
#include "warren/rpc.h"

#define HDR_NAME_MAX 64
#define CLOSE "],\"v\":2}" /* the list's end and the version */

void wr_batch_enc_init(struct wr_batch_enc *e, bool reply, size_t max_bytes)
{
    *e = (struct wr_batch_enc){.reply = reply};
    wr_buf_init(&e->buf, max_bytes);
}

void wr_batch_enc_release(struct wr_batch_enc *e)
{
    wr_buf_release(&e->buf);
    e->n = 0;
}

void wr_batch_enc_reset(struct wr_batch_enc *e)
{
    wr_buf_reset(&e->buf);
    e->n = 0;
}

static bool text_ok(const char *s, size_t n)
{
    return s != NULL && memchr(s, '\0', n) == NULL && wr_utf8_valid(s, n);
}

bool wr_batch_hdr_name_ok(const char *s)
{
    return wr_lower_word(s, HDR_NAME_MAX, '-');
}

/* Whether a reply batch may carry m's body as JSON, byte for byte (the
 * member's text between its colon and what follows it): checked, or
 * vouched for by the caller (body_json). */
static bool body_is_json(const struct wr_batch_enc *e, const struct wr_msg *m)
{
    return e->reply && m->body != NULL && (m->body_json || wr_json_is_one_value(m->body, m->len));
}

static bool item_ok(const struct wr_batch_enc *e, const struct wr_msg *m, bool json)
{
    const char *id = e->reply ? m->correlation_id : m->message_id;
    if (id == NULL || !wr_request_id_valid(id) || (!json && !text_ok(m->body, m->len)) ||
        m->nhdrs > WR_AMQP_MAX_HDRS)
        return false;
    if (e->reply
            ? m->status < 100 || m->status > 599
            : m->type == NULL || !wr_op_name_valid(m->type) || m->deadline_ms < 0 ||
                  m->deadline_ms > WR_RPC_BATCH_INT_MAX || m->expiration_ms > WR_RPC_BATCH_INT_MAX)
        return false;
    for (size_t i = 0; i < m->nhdrs; i++)
        if (!wr_batch_hdr_name_ok(m->hdrs[i].name) || m->hdrs[i].value == NULL ||
            !text_ok(m->hdrs[i].value, strlen(m->hdrs[i].value)))
            return false;
    return true;
}

size_t wr_batch_item_bytes(const struct wr_msg *m)
{
    size_t n = 256 + m->len * 6; /* \u00xx: 6 bytes for one at most */
    for (size_t i = 0; i < m->nhdrs; i++)
        n += 8 + strlen(m->hdrs[i].name) + strlen(m->hdrs[i].value) * 6;
    return n;
}

static void put_headers(struct wr_buf *b, const struct wr_msg *m)
{
    wr_json_key(b, "headers");
    wr_buf_putc(b, '{');
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (i > 0)
            wr_buf_putc(b, ',');
        wr_json_key(b, m->hdrs[i].name);
        wr_json_cstr(b, m->hdrs[i].value);
    }
    wr_buf_putc(b, '}');
}

/* A reply item's members: the body as a string, or (json) as itself. */
static void put_reply(struct wr_buf *b, const struct wr_msg *m, bool json)
{
    if (!json) {
        wr_json_key(b, "body");
        wr_json_str(b, m->body, m->len);
        wr_buf_putc(b, ',');
    }
    put_headers(b, m);
    wr_buf_putc(b, ',');
    wr_json_key(b, "id");
    wr_json_cstr(b, m->correlation_id);
    if (json) { /* its length first: a reader may take it unread */
        wr_buf_putc(b, ',');
        wr_json_key(b, "json_bytes");
        wr_json_int(b, (long long)m->len);
        wr_buf_putc(b, ',');
        wr_json_key(b, "json");
        wr_buf_append(b, m->body, m->len);
    }
    wr_buf_putc(b, ',');
    wr_json_key(b, "status");
    wr_json_int(b, m->status);
}

int wr_batch_enc_add(struct wr_batch_enc *e, const struct wr_msg *m)
{
    bool json = body_is_json(e, m);
    if (e->n >= WR_RPC_BATCH_ITEMS_MAX || !item_ok(e, m, json))
        return WR_EINVAL;
    struct wr_buf *b = &e->buf;
    size_t before = b->len;
    if (e->n == 0)
        wr_buf_puts(b, e->reply ? "{\"replies\":[" : "{\"batch\":[");
    else
        wr_buf_putc(b, ',');
    wr_buf_putc(b, '{');
    if (e->reply) {
        put_reply(b, m, json);
    } else {
        wr_json_key(b, "deadline_ms");
        wr_json_int(b, m->deadline_ms);
        wr_buf_putc(b, ',');
        wr_json_key(b, "envelope");
        wr_json_str(b, m->body, m->len);
        wr_buf_putc(b, ',');
        wr_json_key(b, "expiration_ms");
        wr_json_int(b, m->expiration_ms < 0 ? -1 : m->expiration_ms);
        wr_buf_putc(b, ',');
        put_headers(b, m);
        wr_buf_putc(b, ',');
        wr_json_key(b, "id");
        wr_json_cstr(b, m->message_id);
        wr_buf_putc(b, ',');
        wr_json_key(b, "type");
        wr_json_cstr(b, m->type);
    }
    wr_buf_putc(b, '}');
    /* room for the closing bytes too, so finish cannot fail on size */
    if (wr_buf_error(b) != 0 || wr_buf_append(b, CLOSE, sizeof(CLOSE) - 1) != 0) {
        b->len = before;
        b->err = 0;
        return WR_ENOMEM;
    }
    b->len -= sizeof(CLOSE) - 1;
    e->n++;
    return 0;
}

const char *wr_batch_enc_finish(struct wr_batch_enc *e, size_t *len)
{
    *len = 0;
    if (e->n == 0 || wr_buf_append(&e->buf, CLOSE, sizeof(CLOSE) - 1) != 0)
        return NULL;
    *len = e->buf.len;
    return e->buf.data;
}
