/* Keyset cursors (see cursor.h): canonical JSON of the key, a MAC under
 * CURSOR_SECRET, base64url around it. */
#include "ops/cursor.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "warren/codec.h"
#include "warren/json.h"
#include "warren/proto.h"

/* The key as canonical JSON: [1,"a",2.5,null]. WR_EINVAL for a BLOB. */
static int key_json(struct wr_buf *b, const struct value *key, size_t n)
{
    wr_buf_putc(b, '[');
    for (size_t k = 0; k < n; k++) {
        if (k > 0)
            wr_buf_putc(b, ',');
        if (key[k].kind == V_NULL)
            wr_json_null(b);
        else if (key[k].kind == V_INT)
            wr_json_int(b, key[k].i);
        else if (key[k].kind == V_REAL)
            wr_json_real(b, key[k].d);
        else if (key[k].kind == V_TEXT)
            wr_json_str(b, key[k].s, key[k].n);
        else
            return WR_EINVAL;
    }
    wr_buf_putc(b, ']');
    return wr_buf_error(b);
}

#define MAC_BYTES 16 /* h: HMAC-SHA-256 cut to 128 bits (RFC 2104 allows half) */
#define MAC_HEX ((size_t)2 * MAC_BYTES)

void cursor_key_init(struct cursor_key *k, const char *secret, size_t n)
{
    wr_hmac_key_init(&k->mac, secret, n);
}

void cursor_key_release(struct cursor_key *k)
{
    if (k != NULL)
        memset(k, 0, sizeof(*k));
}

void cursor_key_mix(const struct cursor_key *k, char tag[17])
{
    static const char what[] = "warren cursor key fingerprint";
    struct wr_sha256 s;
    unsigned char id[WR_SHA256_LEN];
    wr_hmac_start(&k->mac, &s);
    wr_sha256_update(&s, what, sizeof(what));
    wr_hmac_finish(&k->mac, &s, id);
    uint64_t h = wr_fnv1a64(WR_FNV1A64_INIT, tag, strlen(tag));
    h = wr_fnv1a64(h, id, 8);
    (void)snprintf(tag, 17, "%016" PRIx64, h);
}

/* h of a cursor: the fields NUL-separated (no field holds a NUL: names
 * and q are checked for them, k is JSON), after a label that keeps these
 * MACs apart from any other use of the secret. */
static void mac(char out[MAC_HEX + 1], const struct cursor_key *key, bool before,
                const struct collection *c, const char *q, long per_page, const struct wr_buf *k,
                long page)
{
    static const char after_label[] = "warren cursor v2";
    static const char before_label[] = "warren cursor v2 before";
    const char *label = before ? before_label : after_label;
    size_t label_len = before ? sizeof(before_label) : sizeof(after_label);
    char nums[64];
    int n = snprintf(nums, sizeof(nums), "%ld%c%ld", per_page, '\0', page);
    struct wr_sha256 s;
    wr_hmac_start(&key->mac, &s);
    wr_sha256_update(&s, label, label_len);
    wr_sha256_update(&s, c->name, strlen(c->name) + 1);
    wr_sha256_update(&s, q ? q : "", (q ? strlen(q) : 0) + 1);
    wr_sha256_update(&s, k->data, k->len);
    wr_sha256_update(&s, "", 1);
    wr_sha256_update(&s, nums, n > 0 ? (size_t)n : 0);
    unsigned char d[WR_SHA256_LEN];
    wr_hmac_finish(&key->mac, &s, d);
    wr_hex_encode(out, d, MAC_BYTES);
}

static int encode(struct wr_buf *out, const struct cursor_key *ck, bool before,
                  const struct collection *c, const char *q, long per_page, const struct value *key,
                  size_t n, long page)
{
    struct wr_buf k, doc;
    wr_buf_init(&k, CURSOR_MAX);
    wr_buf_init(&doc, CURSOR_MAX);
    int rc = key_json(&k, key, n);
    if (rc == 0) {
        char h[MAC_HEX + 1];
        mac(h, ck, before, c, q, per_page, &k, page);
        wr_buf_printf(&doc, "{\"h\":\"%s\",\"k\":", h);
        wr_buf_append(&doc, k.data, k.len);
        wr_buf_printf(&doc, ",\"p\":%ld}", page);
        rc = wr_buf_error(&doc);
    }
    if (rc == 0)
        wr_base64_append(out, doc.data, doc.len, true);
    wr_buf_release(&k);
    wr_buf_release(&doc);
    return rc != 0 ? rc : wr_buf_error(out);
}

int cursor_encode(struct wr_buf *out, const struct cursor_key *ck, const struct collection *c,
                  const char *q, long per_page, const struct value *key, size_t n, long page)
{
    return encode(out, ck, false, c, q, per_page, key, n, page);
}

int cursor_encode_before(struct wr_buf *out, const struct cursor_key *ck,
                         const struct collection *c, const char *q, long per_page,
                         const struct value *key, size_t n, long page)
{
    return encode(out, ck, true, c, q, per_page, key, n, page);
}

/* The value of column col of c from JSON v: null, an integer for an
 * INTEGER column, else a string or a number; text is copied into scratch. */
static bool key_value(const struct collection *c, size_t col, json_t *v, struct value *out,
                      char *scratch, size_t cap, size_t *used)
{
    bool integer = c->cols[col].type == COL_INTEGER;
    if (json_is_null(v)) {
        *out = (struct value){.kind = V_NULL};
        return true;
    }
    if (json_is_integer(v)) {
        *out = (struct value){.kind = V_INT, .i = json_integer_value(v)};
        return true;
    }
    if (integer)
        return false;
    if (json_is_real(v)) {
        *out = (struct value){.kind = V_REAL, .d = json_real_value(v)};
        return true;
    }
    size_t n = json_string_length(v);
    if (!json_is_string(v) || n + 1 > cap - *used)
        return false;
    memcpy(scratch + *used, json_string_value(v), n + 1);
    *out = (struct value){.kind = V_TEXT, .s = scratch + *used, .n = n};
    *used += n + 1;
    return true;
}

static bool read_doc(json_t *doc, const struct cursor_key *ck, bool before,
                     const struct collection *c, const size_t *cols, size_t n, const char *q,
                     long per_page, struct value *key, long *page, char *scratch, size_t cap)
{
    /* a forward cursor leads to page 2 or later, a backward one to 1 or later */
    long long min_page = before ? 1 : 2;
    json_t *h = json_object_get(doc, "h"), *k = json_object_get(doc, "k"),
           *p = json_object_get(doc, "p");
    if (!json_is_object(doc) || json_object_size(doc) != 3 || !json_is_string(h) ||
        json_string_length(h) != MAC_HEX || !json_is_array(k) || json_array_size(k) != n ||
        !json_is_integer(p) || json_integer_value(p) < min_page ||
        json_integer_value(p) > WR_PAGE_MAX)
        return false;
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (!key_value(c, cols[i], json_array_get(k, i), &key[i], scratch, cap, &used))
            return false;
    *page = (long)json_integer_value(p);
    struct wr_buf kj;
    wr_buf_init(&kj, CURSOR_MAX);
    char want[MAC_HEX + 1] = "";
    bool ok = key_json(&kj, key, n) == 0;
    if (ok)
        mac(want, ck, before, c, q, per_page, &kj, *page);
    wr_buf_release(&kj);
    /* constant time: a client must not learn the MAC byte by byte */
    return ok && wr_bytes_equal(json_string_value(h), want, MAC_HEX);
}

static bool decode(const char *text, const struct cursor_key *ck, bool before,
                   const struct collection *c, const size_t *cols, size_t n, const char *q,
                   long per_page, struct value *key, long *page, char *scratch, size_t cap)
{
    unsigned char raw[CURSOR_MAX];
    size_t len = 0;
    if (strlen(text) > CURSOR_MAX || n == 0 ||
        !wr_base64url_decode(text, strlen(text), raw, sizeof(raw), &len))
        return false;
    json_t *doc = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
    bool ok =
        doc != NULL && read_doc(doc, ck, before, c, cols, n, q, per_page, key, page, scratch, cap);
    json_decref(doc);
    return ok;
}

bool cursor_decode(const char *text, const struct cursor_key *ck, const struct collection *c,
                   const size_t *cols, size_t n, const char *q, long per_page, struct value *key,
                   long *page, char *scratch, size_t cap)
{
    return decode(text, ck, false, c, cols, n, q, per_page, key, page, scratch, cap);
}

bool cursor_decode_before(const char *text, const struct cursor_key *ck, const struct collection *c,
                          const size_t *cols, size_t n, const char *q, long per_page,
                          struct value *key, long *page, char *scratch, size_t cap)
{
    return decode(text, ck, true, c, cols, n, q, per_page, key, page, scratch, cap);
}
