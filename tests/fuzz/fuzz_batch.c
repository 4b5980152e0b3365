/* libFuzzer target for proto v2's batch codec (warren/rpc_batch.h): the
 * first byte says requests or replies; a batch wr_batch_decode accepts
 * is JSON to jansson too (the decoder reads JSON by hand, for speed; a
 * reply's "json" body may pass jansson's own limits) and
 * re-encodes (wr_batch_enc_add, item by item) to one it accepts again with
 * the same items, byte for byte in every string, and from then on to the
 * same bytes; a refused one leaves the batch empty with a message. The
 * edge's skimming reader of replies (wr_batch_decode_skim) takes the same
 * items from every batch the strict one accepts, and from any other only
 * bodies within the input. Leaks are LeakSanitizer's to find. */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "warren/rpc_batch.h"

static bool same_bytes(const void *a, size_t an, const void *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_same(const struct wr_msg *a, const struct wr_msg *b)
{
    FUZZ_ASSERT(same_str(a->correlation_id, b->correlation_id));
    FUZZ_ASSERT(same_str(a->message_id, b->message_id));
    FUZZ_ASSERT(same_str(a->type, b->type));
    FUZZ_ASSERT(a->status == b->status && a->deadline_ms == b->deadline_ms &&
                a->expiration_ms == b->expiration_ms);
    FUZZ_ASSERT(same_bytes(a->body, a->len, b->body, b->len));
    FUZZ_ASSERT(a->nhdrs == b->nhdrs);
    for (size_t i = 0; i < a->nhdrs; i++)
        FUZZ_ASSERT(same_str(a->hdrs[i].name, b->hdrs[i].name) &&
                    same_str(a->hdrs[i].value, b->hdrs[i].value));
}

/* Encodes b's items; the body (owned by e) and its length. */
static const char *encode(const struct wr_batch *b, bool reply, struct wr_batch_enc *e, size_t *len)
{
    wr_batch_enc_init(e, reply, (size_t)64 << 20);
    for (size_t i = 0; i < b->n; i++)
        FUZZ_ASSERT(wr_batch_enc_add(e, &b->items[i]) == 0);
    const char *body = wr_batch_enc_finish(e, len);
    FUZZ_ASSERT(body != NULL);
    return body;
}

/* The skimming reader on the same input: agrees with the strict one's
 * items (strict, when it accepted), else takes bodies from the input. */
static void skim(const uint8_t *data, size_t size, const struct wr_batch *strict)
{
    struct wr_batch k = {0};
    struct wr_err err = {0};
    int rc = wr_batch_decode_skim(data, size, &k, &err);
    if (strict != NULL) {
        FUZZ_ASSERT(rc == 0 && k.n == strict->n);
        for (size_t i = 0; i < k.n; i++)
            check_same(&strict->items[i], &k.items[i]);
    } else if (rc == 0) {
        FUZZ_ASSERT(k.n >= 1 && k.n <= WR_RPC_BATCH_ITEMS_MAX);
        for (size_t i = 0; i < k.n; i++)
            FUZZ_ASSERT(k.items[i].len < size &&
                        ((const char *)k.items[i].body)[k.items[i].len] == '\0');
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0' && k.n == 0 && k.store == NULL);
    }
    wr_batch_release(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool reply = (data[0] & 1) != 0;
    struct wr_batch b = {0};
    struct wr_err err = {0};
    int rc = wr_batch_decode(data + 1, size - 1, reply, &b, &err);
    if (reply)
        skim(data + 1, size - 1, rc == 0 ? &b : NULL);
    if (rc != 0) {
        FUZZ_ASSERT(rc == WR_EINVAL || rc == WR_ENOMEM);
        FUZZ_ASSERT(err.msg[0] != '\0');
        FUZZ_ASSERT(b.n == 0 && b.store == NULL && b.items == NULL);
        return 0;
    }
    FUZZ_ASSERT(b.n >= 1 && b.n <= WR_RPC_BATCH_ITEMS_MAX);
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data + 1, size - 1, JSON_ALLOW_NUL, &jerr);
    FUZZ_ASSERT(j != NULL || fuzz_jansson_limit(jerr.text));
    json_decref(j);
    struct wr_batch_enc e1, e2;
    size_t len1, len2;
    const char *first = encode(&b, reply, &e1, &len1);
    struct wr_batch again = {0};
    rc = wr_batch_decode(first, len1, reply, &again, &err);
    FUZZ_ASSERT(rc == 0);
    FUZZ_ASSERT(again.n == b.n);
    for (size_t i = 0; i < b.n; i++)
        check_same(&b.items[i], &again.items[i]);
    const char *second = encode(&again, reply, &e2, &len2);
    FUZZ_ASSERT(same_bytes(first, len1, second, len2));
    wr_batch_enc_release(&e2);
    wr_batch_enc_release(&e1);
    wr_batch_release(&again);
    wr_batch_release(&b);
    return 0;
}
