/* Proto v2's batch envelope: encoder and strict decoder (see
 * warren/rpc_batch.h). Members are written in sorted order, as the
 * canonical writer does everywhere; strings through wr_json_str, which is
 * byte-exact for well-formed UTF-8 without NUL, hence the checks before. */
#include "warren/rpc_batch.h"

#include <stdlib.h>
#include <string.h>

#include "warren/codec.h"
#include "warren/json.h"
#include "warren/rpc.h"

#define HDR_NAME_MAX 64
#define INT_MAX_JSON 9007199254740991LL /* 2^53 - 1: every JSON reader holds it */
#define CLOSE "],\"v\":2}"              /* the list's end and the version */

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

/* [a-z0-9-]{1,64}: the header names warren sends, all lower case. */
static bool hdr_name_ok(const char *s)
{
    size_t n = s != NULL ? strnlen(s, HDR_NAME_MAX + 1) : 0;
    return n > 0 && n <= HDR_NAME_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static bool item_ok(const struct wr_batch_enc *e, const struct wr_msg *m)
{
    const char *id = e->reply ? m->correlation_id : m->message_id;
    if (id == NULL || !wr_request_id_valid(id) || !text_ok(m->body, m->len) ||
        m->nhdrs > WR_AMQP_MAX_HDRS)
        return false;
    if (e->reply ? m->status < 100 || m->status > 599
                 : m->type == NULL || !wr_op_name_valid(m->type) || m->deadline_ms < 0 ||
                       m->deadline_ms > INT_MAX_JSON || m->expiration_ms > INT_MAX_JSON)
        return false;
    for (size_t i = 0; i < m->nhdrs; i++)
        if (!hdr_name_ok(m->hdrs[i].name) || m->hdrs[i].value == NULL ||
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

int wr_batch_enc_add(struct wr_batch_enc *e, const struct wr_msg *m)
{
    if (e->n >= WR_RPC_BATCH_ITEMS_MAX || !item_ok(e, m))
        return WR_EINVAL;
    struct wr_buf *b = &e->buf;
    size_t before = b->len;
    if (e->n == 0)
        wr_buf_puts(b, e->reply ? "{\"replies\":[" : "{\"batch\":[");
    else
        wr_buf_putc(b, ',');
    wr_buf_putc(b, '{');
    if (e->reply) {
        wr_json_key(b, "body");
        wr_json_str(b, m->body, m->len);
        wr_buf_putc(b, ',');
        put_headers(b, m);
        wr_buf_putc(b, ',');
        wr_json_key(b, "id");
        wr_json_cstr(b, m->correlation_id);
        wr_buf_putc(b, ',');
        wr_json_key(b, "status");
        wr_json_int(b, m->status);
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

/* ---- decoding ---- */

static int bad(struct wr_err *err, size_t i, const char *what)
{
    if (i == (size_t)-1)
        return wr_err_set(err, WR_EINVAL, "batch: %s", what);
    return wr_err_set(err, WR_EINVAL, "batch: item %zu: %s", i, what);
}

/* A string member without NUL; NULL when it is not one. */
static const char *str_of(const json_t *v, size_t *len)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (memchr(s, '\0', n) != NULL)
        return NULL;
    if (len != NULL)
        *len = n;
    return s;
}

static bool int_in(const json_t *v, long long lo, long long hi, long long *out)
{
    if (!json_is_integer(v))
        return false;
    long long x = json_integer_value(v);
    if (x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

static int decode_headers(const json_t *h, struct wr_msg *m, size_t i, struct wr_err *err)
{
    if (!json_is_object(h) || json_object_size(h) > WR_AMQP_MAX_HDRS)
        return bad(err, i, "headers must be an object of at most 8 strings");
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)h, name, v) {
        const char *s = str_of(v, NULL);
        if (!hdr_name_ok(name) || s == NULL)
            return bad(err, i, "a header must be [a-z0-9-]{1,64} naming a string without NUL");
        m->hdrs[m->nhdrs++] = (struct wr_amqp_hdr){name, s};
    }
    return 0;
}

static int decode_item(const json_t *it, bool reply, struct wr_msg *m, size_t i, struct wr_err *err)
{
    if (!json_is_object(it))
        return bad(err, i, "must be an object");
    const char *const req_keys[] = {"deadline_ms", "envelope", "expiration_ms",
                                    "headers",     "id",       "type"};
    const char *const rep_keys[] = {"body", "headers", "id", "status"};
    const char *const *keys = reply ? rep_keys : req_keys;
    size_t nkeys = reply ? 4 : 6;
    if (json_object_size(it) != nkeys)
        return bad(err, i,
                   reply ? "needs exactly body, headers, id and status"
                         : "needs exactly deadline_ms, envelope, expiration_ms, "
                           "headers, id and type");
    for (size_t k = 0; k < nkeys; k++)
        if (json_object_get(it, keys[k]) == NULL)
            return bad(err, i, "a member is missing or unknown");
    const char *id = str_of(json_object_get(it, "id"), NULL);
    if (id == NULL || !wr_request_id_valid(id))
        return bad(err, i, "id must be a request id (32 lowercase hex)");
    *m = (struct wr_msg){.correlation_id = id, .expiration_ms = -1};
    size_t len = 0;
    const char *body = str_of(json_object_get(it, reply ? "body" : "envelope"), &len);
    if (body == NULL)
        return bad(err, i, reply ? "body must be a string" : "envelope must be a string");
    m->body = body;
    m->len = len;
    if (reply) {
        long long st;
        if (!int_in(json_object_get(it, "status"), 100, 599, &st))
            return bad(err, i, "status must be an integer from 100 to 599");
        m->status = (int)st;
    } else {
        m->message_id = id;
        m->type = str_of(json_object_get(it, "type"), NULL);
        if (m->type == NULL || !wr_op_name_valid(m->type))
            return bad(err, i, "type must be an op name");
        if (!int_in(json_object_get(it, "deadline_ms"), 0, INT_MAX_JSON, &m->deadline_ms))
            return bad(err, i, "deadline_ms must be an integer from 0 (none)");
        if (!int_in(json_object_get(it, "expiration_ms"), -1, INT_MAX_JSON, &m->expiration_ms))
            return bad(err, i, "expiration_ms must be an integer from -1 (none)");
    }
    return decode_headers(json_object_get(it, "headers"), m, i, err);
}

int wr_batch_decode(const void *body, size_t len, bool reply, struct wr_batch *out,
                    struct wr_err *err)
{
    *out = (struct wr_batch){0};
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return wr_err_set(err, WR_EINVAL, "batch: not JSON: %s", jerr.text);
    const char *list_key = reply ? "replies" : "batch";
    const json_t *list = json_object_get(root, list_key);
    long long v = 0;
    int rc = 0;
    if (!json_is_object(root) || json_object_size(root) != 2 ||
        !int_in(json_object_get(root, "v"), WR_RPC_BATCH_VERSION, WR_RPC_BATCH_VERSION, &v))
        rc = bad(err, (size_t)-1, "must be an object of exactly \"v\": 2 and its list");
    else if (!json_is_array(list) || json_array_size(list) == 0 ||
             json_array_size(list) > WR_RPC_BATCH_ITEMS_MAX)
        rc = wr_err_set(err, WR_EINVAL, "batch: %s must be a list of 1 to %d items", list_key,
                        WR_RPC_BATCH_ITEMS_MAX);
    if (rc != 0) {
        json_decref(root);
        return rc;
    }
    size_t n = json_array_size(list);
    struct wr_msg *items = calloc(n, sizeof(*items));
    if (items == NULL) {
        json_decref(root);
        return wr_err_set(err, WR_ENOMEM, "batch: out of memory");
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = decode_item(json_array_get(list, i), reply, &items[i], i, err);
    if (rc != 0) {
        free(items);
        json_decref(root);
        return rc;
    }
    *out = (struct wr_batch){.root = root, .items = items, .n = n};
    return 0;
}

void wr_batch_release(struct wr_batch *b)
{
    if (b == NULL)
        return;
    free(b->items);
    json_decref(b->root);
    *b = (struct wr_batch){0};
}
