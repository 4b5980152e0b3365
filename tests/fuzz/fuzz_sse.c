/* Fuzzes the edge's Server-Sent Events rules (sse_wire.h) with what a
 * client or the stream controls: the input's first byte picks the
 * Last-Event-ID parser (an accepted id formats back to the same mark), the
 * collections filter (every name kept is a plain one) or an event's text
 * for a body (one event: its only blank line is its last). */
#include <string.h>

#include "fuzz.h"
#include "sse_wire.h"

static void mark(const char *s)
{
    struct sse_mark m, again;
    if (sse_mark_parse(s, &m) != 0)
        return;
    FUZZ_ASSERT(m.pos >= 0 && m.k >= 0);
    char text[64];
    (void)snprintf(text, sizeof(text), m.k == SSE_WHOLE ? "%lld" : "%lld:%lld", m.pos, m.k);
    FUZZ_ASSERT(sse_mark_parse(text, &again) == 0);
    FUZZ_ASSERT(again.pos == m.pos && again.k == m.k);
}

static void filter(const char *s)
{
    struct sse_filter f;
    char msg[160];
    if (sse_filter_parse(s, &f, msg, sizeof(msg)) != 0)
        return;
    FUZZ_ASSERT(f.n >= 1 && f.n <= SSE_FILTER_MAX);
    for (size_t i = 0; i < f.n; i++) {
        size_t n = strlen(f.name[i]);
        FUZZ_ASSERT(n >= 1 && n <= SSE_NAME_MAX);
        FUZZ_ASSERT(strspn(f.name[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_-") == n);
        FUZZ_ASSERT(sse_filter_has(&f, f.name[i]));
    }
}

static void event(const char *body, size_t len)
{
    struct wr_buf b;
    wr_buf_init(&b, len * 8 + 256);
    struct sse_mark m = {1, 0};
    if (sse_event_format(&b, "updated", &m, 2, body, len) == 0) {
        FUZZ_ASSERT(b.len >= 2 && b.data[b.len - 1] == '\n' && b.data[b.len - 2] == '\n');
        for (size_t i = 0; i + 2 < b.len; i++)
            FUZZ_ASSERT(!(b.data[i] == '\n' && b.data[i + 1] == '\n'));
        FUZZ_ASSERT(memchr(b.data, '\r', b.len) == NULL);
    }
    wr_buf_release(&b);
    struct sse_known k = {0};
    (void)sse_known_parse(&k, body, len);
    sse_known_release(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *s = malloc(size);
    if (s == NULL)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0:
        mark(s);
        break;
    case 1:
        filter(s);
        break;
    default:
        event(s, size - 1);
    }
    free(s);
    return 0;
}
