/* Proto v2's batch envelope (proto/README.md section 13): read requests
 * for one queue packed into one message, and their replies packed into one
 * message back, each item correlated by its own request id. The encoder
 * appends items to a buffer; the decoder parses a whole message (strictly)
 * into struct wr_msg items that borrow from it. Envelopes travel as JSON
 * strings; a reply body as itself when it is one JSON value
 * (warren/json_scan.h), else as a JSON string: each arrives byte for byte
 * as sent. Pure: no I/O; thread-safe (no state but the caller's). */
#ifndef WARREN_RPC_BATCH_H
#define WARREN_RPC_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/amqp.h"
#include "warren/buf.h"
#include "warren/err.h"
#include "warren/proto.h"

/* The largest integer a batch carries (deadlines, expirations): 2^53 - 1,
 * which every JSON reader holds exactly. */
#define WR_RPC_BATCH_INT_MAX 9007199254740991LL

/* A batch being written: requests (reply false) or replies. */
struct wr_batch_enc {
    struct wr_buf buf;
    size_t n; /* items so far */
    bool reply;
};

/* An empty batch whose body may grow to max_bytes. */
void wr_batch_enc_init(struct wr_batch_enc *e, bool reply, size_t max_bytes);
void wr_batch_enc_release(struct wr_batch_enc *e);
/* Empties it for the next batch. */
void wr_batch_enc_reset(struct wr_batch_enc *e);
/* Appends m as one item. A request item carries m's message_id (its id),
 * type, deadline_ms, expiration_ms, string headers and body (the v1
 * envelope); a reply item m's correlation_id (its id), status (100-599),
 * string headers and body (as "json" when it is one JSON value with only
 * white space around it, else as "body"). 0; WR_EINVAL when m cannot travel byte for byte
 * in a batch (an id that is not a request id, a body or header that is not
 * UTF-8 or holds a NUL, a type that is no op name, a status out of range)
 * or the batch is full (WR_RPC_BATCH_ITEMS_MAX); WR_ENOMEM when the body
 * would pass max_bytes. On any error the batch is as it was before. */
int wr_batch_enc_add(struct wr_batch_enc *e, const struct wr_msg *m);
/* Whether s is a header name a batch item may carry: [a-z0-9-]{1,64}, the
 * names warren sends, all lower case. */
bool wr_batch_hdr_name_ok(const char *s);
/* The bytes an item for m would add at most (its strings escaped), for a
 * caller that flushes before a batch grows past its cap. */
size_t wr_batch_item_bytes(const struct wr_msg *m);
/* Closes the batch and gives its body (owned by e, valid until the next
 * reset); *len its length. NULL when empty or out of memory. */
const char *wr_batch_enc_finish(struct wr_batch_enc *e, size_t *len);

/* A decoded batch: items[0..n) borrow their strings from store. */
struct wr_batch {
    char *store;
    struct wr_msg *items;
    size_t n;
};

/* Decodes a batch body (reply false: requests; true: replies): an object
 * of exactly "v" (2) and "batch" (requests) or "replies", a list of 1 to
 * WR_RPC_BATCH_ITEMS_MAX items, each an object of exactly the members
 * wr_batch_enc_add writes (a reply's body once: "body" or "json", the
 * latter after its length "json_bytes", which may be left out), every
 * one well formed (a request id, at most
 * WR_AMQP_MAX_HDRS headers of strings without NUL, an op name for type,
 * integers in range). Request items get message_id and correlation_id
 * (the id), type, deadline_ms, expiration_ms, hdrs, body and len; reply
 * items correlation_id, status, hdrs, body and len. 0, or WR_EINVAL with
 * err saying what is wrong (the whole batch is refused: items are
 * correlated by their ids, so a malformed one cannot be answered alone),
 * or WR_ENOMEM. out holds nothing to release on error. */
int wr_batch_decode(const void *body, size_t len, bool reply, struct wr_batch *out,
                    struct wr_err *err);
/* wr_batch_decode of replies for a reader that trusts the writer's JSON:
 * a "json" member after a "json_bytes" is taken as that many bytes
 * unread, once a ',' or '}' follows them (wr_batch_decode checks that the
 * text is one JSON value of that length). Everything else is checked as
 * there. For the edge, whose workers check what they send. */
int wr_batch_decode_skim(const void *body, size_t len, struct wr_batch *out, struct wr_err *err);
/* Frees what wr_batch_decode made. NULL-safe; safe twice. */
void wr_batch_release(struct wr_batch *b);

#endif
