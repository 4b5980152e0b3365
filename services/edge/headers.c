/* A response's header list as libevent 2.1 writes it (see headers.h). */
#include <sys/queue.h> /* before libevent's headers: TAILQ's operations */

#include "headers.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "head.h"
#include "httpdate.h"

/* Response headers. libevent prints each entry of a response's header
 * list with a printf of its own and keeps two heap copies of it: ~2.3k
 * instructions a header, a quarter of the edge's instructions a request
 * (callgrind, README "Benchmark"). So the headers share one entry, first
 * in the list, whose value goes on with the next lines ("Sat, 05 Dec
 * 2026 ... GMT\r\nName: value"): the same bytes on the wire, one printf.
 * It is keyed Date, and starts with the edge's date (httpdate.h): libevent
 * looks for a Date before it formats one, and finds it. The edge tells
 * libevent to add no Content-Type of its own (edge.c), so that one folds
 * too. The names libevent reads or adds (framing, below) stay entries of
 * their own. libevent no longer checks what is folded, so this does: a
 * name is an RFC 9110 token, a value holds no CR or LF. */

/* An answer's headers take ~300-450 bytes (a page's: Content-Type, ETag,
 * Cache-Control, Link, Vary, X-Cache, X-Request-Id): once the entry holds
 * more than the arrival's lines, it grows to this at least, in one step
 * where doubling took three (each ~470 instructions, callgrind). */
#define ANSWER_ROOM 512

/* The response headers libevent reads (http.c, 2.1) other than Date and
 * Content-Type, name of n bytes; by length first, since every header
 * asks. */
static bool libevent_reads(const char *name, size_t n)
{
    switch (n) {
    case 6:
        return strcasecmp(name, "Expect") == 0;
    case 10:
        return strcasecmp(name, "Connection") == 0 || strcasecmp(name, "Keep-Alive") == 0;
    case 14:
        return strcasecmp(name, "Content-Length") == 0;
    case 16:
        return strcasecmp(name, "Proxy-Connection") == 0;
    case 17:
        return strcasecmp(name, "Transfer-Encoding") == 0;
    default:
        return false;
    }
}

/* RFC 9110 5.1: a field name is a token. */
static bool token_ok(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!head_tchar((unsigned char)*s))
            return false;
    return true;
}

/* h's folded entry, made (first in h, libevent frees key and value) when
 * missing, with room for `room` bytes after the date: exactly the first
 * line to come, which a request in flight keeps. NULL when out of
 * memory. */
static struct evkeyval *folded(struct evkeyvalq *h, size_t room)
{
    struct evkeyval *kv = TAILQ_FIRST(h);
    if (kv != NULL && strcmp(kv->key, "Date") == 0)
        return kv;
    kv = calloc(1, sizeof(*kv));
    if (kv == NULL)
        return NULL;
    kv->key = strdup("Date");
    const char *date = httpdate_now();
    size_t d = strlen(date);
    kv->value = malloc(d + 1 + room);
    if (kv->value != NULL)
        memcpy(kv->value, date, d + 1);
    if (kv->key == NULL || kv->value == NULL) {
        free(kv->key);
        free(kv->value);
        free(kv);
        return NULL;
    }
    TAILQ_INSERT_HEAD(h, kv, next);
    return kv;
}

/* Appends "\r\nname: value" (name of n bytes) to h's folded entry,
 * growing its value only when full, to twice its size, or ANSWER_ROOM
 * past the arrival's lines (out of memory: dropped). The X-Trace-Id of a
 * request is folded when it arrives, the rest when it is answered: what a
 * request holds while in flight stays small. */
static void fold(struct evkeyvalq *h, const char *name, size_t n, const char *value)
{
    const char *part[4] = {"\r\n", name, ": ", value};
    size_t len[4] = {2, n, 2, strlen(value)};
    size_t line = len[0] + len[1] + len[2] + len[3];
    struct evkeyval *kv = folded(h, line);
    if (kv == NULL)
        return;
    size_t have = strlen(kv->value), need = have + 1 + line;
    size_t room = malloc_usable_size(kv->value);
    if (need > room) {
        size_t want = 2 * room;
        if (have > HTTPDATE_LEN && want < ANSWER_ROOM) /* answering */
            want = ANSWER_ROOM;
        char *grown = realloc(kv->value, need > want ? need : want);
        if (grown == NULL)
            return;
        kv->value = grown;
    }
    char *p = kv->value + have;
    for (size_t i = 0; i < 4; p += len[i++])
        memcpy(p, part[i], len[i]);
    *p = '\0';
}

void headers_add(struct evkeyvalq *h, const char *name, const char *value)
{
    size_t n = strlen(name);
    if (libevent_reads(name, n)) {
        evhttp_add_header(h, name, value);
        return;
    }
    if (n == 4 && strcasecmp(name, "Date") == 0) { /* the edge's own: see above */
        (void)folded(h, 0);
        return;
    }
    if (!token_ok(name) || strpbrk(value, "\r\n") != NULL)
        return; /* dropped, as libevent drops an invalid one */
    fold(h, name, n, value);
}

void headers_date(struct evkeyvalq *h)
{
    (void)folded(h, 0);
}
