/* Keyset cursors for deep pages (`?after=`): the sort key of a page's last
 * row (its primary key, or with a q order_by the ordered columns and then
 * the key) and the number of the page that follows it, so the next page is
 * `WHERE (key) > (?)` instead of an OFFSET that reads every row before it.
 *
 * The text is base64url (no padding) of `{"h":"<32 hex>","k":[key...],"p":N}`.
 * It is opaque to clients but not secret (k is readable): h is an
 * HMAC-SHA-256, cut to 128 bits, under CURSOR_SECRET over the collection,
 * the search q, the page size, k and p, so a cursor that was edited, cut
 * short, forged, or used with another collection, search or page size is
 * refused (a 400) rather than read as another position. Every worker of a
 * deployment shares the secret, so a cursor one made another reads. The
 * key's values are only ever bound.
 *
 * A backward cursor (`?before=`, a Link rel="prev") holds the sort key of
 * a page's first row and the number of the page before it (1 or more);
 * its MAC is under another label, so a forward cursor is no backward one
 * and the other way round. Pure: no I/O. */
#ifndef CATALOG_CURSOR_H
#define CATALOG_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"
#include "warren/codec.h"

#define CURSOR_MAX 2048 /* characters of a cursor; the edge's limit too */

/* CURSOR_SECRET, prepared once (HMAC's padded key blocks). */
struct cursor_key {
    struct wr_hmac_key mac;
};
/* The secret of DEBUG runs without CURSOR_SECRET: public, written here and
 * in the README, so cursors still work across a developer's workers. */
#define CURSOR_DEV_SECRET "warren-development-cursor-secret-not-for-production"
/* The shortest CURSOR_SECRET accepted (characters): 256 bits of letters. */
#define CURSOR_SECRET_MIN 32

/* Prepares k from n bytes of secret. */
void cursor_key_init(struct cursor_key *k, const char *secret, size_t n);
/* Wipes k. NULL-safe. */
void cursor_key_release(struct cursor_key *k);
/* Mixes a public fingerprint of k (a MAC of a constant, never the secret)
 * into the 16 hex digits of a cache tag, so workers with different secrets
 * never serve each other's cached Link headers. */
void cursor_key_mix(const struct cursor_key *k, char tag[17]);

/* Appends the cursor of key (n values: null, integers, reals or text) and
 * page, signed with k, for a list of c with search q (NULL for none) and
 * page size per_page. WR_EINVAL for a BLOB value (no cursor), else 0 or
 * out's error. */
int cursor_encode(struct wr_buf *out, const struct cursor_key *k, const struct collection *c,
                  const char *q, long per_page, const struct value *key, size_t n, long page);

/* cursor_encode and cursor_decode for a backward cursor: key is a page's
 * first row, page the number of the page before it (1 or more). */
int cursor_encode_before(struct wr_buf *out, const struct cursor_key *k, const struct collection *c,
                         const char *q, long per_page, const struct value *key, size_t n,
                         long page);
bool cursor_decode_before(const char *text, const struct cursor_key *k, const struct collection *c,
                          const size_t *cols, size_t n, const char *q, long per_page,
                          struct value *key, long *page, char *scratch, size_t cap);

/* Reads text back into key (one value per column cols[0..n) of c, typed
 * by the column; text points into scratch, cap bytes) and *page. False
 * when text is not a cursor this list made under k. */
bool cursor_decode(const char *text, const struct cursor_key *k, const struct collection *c,
                   const size_t *cols, size_t n, const char *q, long per_page, struct value *key,
                   long *page, char *scratch, size_t cap);

#endif
