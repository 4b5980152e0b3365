/* W3C Trace Context (see trace.h): the two headers parsed by the
 * specification's grammar, and random ids from the kernel. */
#include "warren/trace.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "random.h"
#include "warren/codec.h"

static bool lchex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* n lowercase hex digits at s, not all '0' when nonzero is set. */
static bool hex_field(const char *s, size_t n, bool nonzero)
{
    bool zero = true;
    for (size_t i = 0; i < n; i++) {
        if (!lchex(s[i]))
            return false;
        zero = zero && s[i] == '0';
    }
    return !(nonzero && zero);
}

bool wr_traceparent_parse(const char *s, struct wr_trace *out)
{
    if (s == NULL)
        return false;
    size_t n = strnlen(s, WR_TRACEPARENT_LEN + 1);
    if (n < WR_TRACEPARENT_LEN || !hex_field(s, 2, false) || strncmp(s, "ff", 2) == 0)
        return false;
    /* version 00 is exactly 55 characters; a later version may add fields
     * after a '-' (the specification's forward compatibility) */
    bool v00 = strncmp(s, "00", 2) == 0;
    if ((v00 && n != WR_TRACEPARENT_LEN) || (!v00 && n > WR_TRACEPARENT_LEN && s[55] != '-'))
        return false;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-' || !hex_field(s + 3, WR_TRACE_ID_LEN, true) ||
        !hex_field(s + 36, WR_SPAN_ID_LEN, true) || !hex_field(s + 53, 2, false))
        return false;
    memcpy(out->trace_id, s + 3, WR_TRACE_ID_LEN);
    out->trace_id[WR_TRACE_ID_LEN] = '\0';
    memcpy(out->span_id, s + 36, WR_SPAN_ID_LEN);
    out->span_id[WR_SPAN_ID_LEN] = '\0';
    out->flags = (unsigned)wr_hex_value(s[54]) & 1u; /* sampled; later flags are not ours */
    return true;
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
           c == '/';
}

/* simple-key, or tenant-id "@" system-id. */
static bool key_ok(const char *k, size_t n)
{
    const char *at = memchr(k, '@', n);
    for (size_t i = 0; i < n; i++)
        if (k + i != at && !key_char(k[i]))
            return false;
    if (at == NULL)
        return n >= 1 && n <= 256 && k[0] >= 'a' && k[0] <= 'z';
    size_t tenant = (size_t)(at - k), system = n - tenant - 1;
    return tenant >= 1 && tenant <= 241 && system >= 1 && system <= 14 && at[1] >= 'a' &&
           at[1] <= 'z';
}

/* 1 to 256 of chr, the last not a space. */
static bool value_ok(const char *v, size_t n)
{
    if (n < 1 || n > 256 || v[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x20 || v[i] > 0x7e || v[i] == ',' || v[i] == '=')
            return false;
    return true;
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

bool wr_tracestate_valid(const char *s)
{
    if (s == NULL || strnlen(s, WR_TRACESTATE_MAX + 1) > WR_TRACESTATE_MAX)
        return false;
    const char *keys[WR_TRACESTATE_MEMBERS];
    size_t key_lens[WR_TRACESTATE_MEMBERS];
    size_t members = 0, nkeys = 0;
    for (const char *p = s;; p++) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        if (++members > WR_TRACESTATE_MEMBERS)
            return false;
        while (p < end && ows(*p))
            p++;
        const char *last = end;
        while (last > p && ows(last[-1]))
            last--;
        if (last > p) { /* an empty member is allowed */
            const char *eq = memchr(p, '=', (size_t)(last - p));
            if (eq == NULL || !key_ok(p, (size_t)(eq - p)) ||
                !value_ok(eq + 1, (size_t)(last - eq - 1)))
                return false;
            for (size_t i = 0; i < nkeys; i++)
                if (key_lens[i] == (size_t)(eq - p) && memcmp(keys[i], p, key_lens[i]) == 0)
                    return false; /* a key given twice */
            keys[nkeys] = p;
            key_lens[nkeys++] = (size_t)(eq - p);
        }
        if (*end == '\0')
            return true;
        p = end;
    }
}

/* n random bytes as 2n hex digits, never all zero (the specification's
 * invalid value). */
static void random_hex(char *out, size_t n)
{
    unsigned char raw[16];
    wr__random(raw, n);
    raw[n - 1] |= raw[0] == 0 && raw[n - 1] == 0 ? 1 : 0;
    wr_hex_encode(out, raw, n);
}

void wr_trace_new_span(struct wr_trace *t)
{
    random_hex(t->span_id, WR_SPAN_ID_LEN / 2);
}

void wr_trace_new(struct wr_trace *t)
{
    random_hex(t->trace_id, WR_TRACE_ID_LEN / 2);
    wr_trace_new_span(t);
    t->flags = 0;
    t->tracestate[0] = '\0';
}

bool wr_trace_accept(struct wr_trace *t, const char *traceparent, const char *tracestate)
{
    if (!wr_traceparent_parse(traceparent, t)) {
        wr_trace_new(t);
        return false;
    }
    t->tracestate[0] = '\0';
    if (tracestate != NULL && wr_tracestate_valid(tracestate))
        (void)snprintf(t->tracestate, sizeof(t->tracestate), "%s", tracestate);
    wr_trace_new_span(t);
    return true;
}

void wr_traceparent_format(const struct wr_trace *t, char out[WR_TRACEPARENT_LEN + 1])
{
    /* Copied, not printed (snprintf cost ~1,400 instructions a request);
     * ids shorter than their length (never made here) go through it. */
    if (strnlen(t->trace_id, WR_TRACE_ID_LEN + 1) != WR_TRACE_ID_LEN ||
        strnlen(t->span_id, WR_SPAN_ID_LEN + 1) != WR_SPAN_ID_LEN) {
        (void)snprintf(out, WR_TRACEPARENT_LEN + 1, "00-%s-%s-%02x", t->trace_id, t->span_id,
                       t->flags & 1u);
        return;
    }
    char *o = out;
    *o++ = '0';
    *o++ = '0';
    *o++ = '-';
    memcpy(o, t->trace_id, WR_TRACE_ID_LEN);
    o += WR_TRACE_ID_LEN;
    *o++ = '-';
    memcpy(o, t->span_id, WR_SPAN_ID_LEN);
    o += WR_SPAN_ID_LEN;
    memcpy(o, (t->flags & 1u) != 0 ? "-01" : "-00", 4);
}
