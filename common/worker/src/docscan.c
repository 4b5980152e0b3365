/* The audit document's fast check (see docscan.h). The grammar, UTF-8 and
 * the nesting bound are json_scan's (wr_json_is_one_value); this pass then
 * walks the valid text for what that scanner does not look at: member
 * names, each compared with the names before it in its object, and the
 * numbers jansson could refuse. */
#include "docscan.h"

#include <stdint.h>
#include <string.h>

#include "warren/json_scan.h"

/* Member names kept at once, over every open object: an edge's record has
 * about twenty. Beyond, jansson judges (it also bounds the quadratic
 * comparison a crafted object of many names would cost). */
#define KEYS_MAX 128
/* The longest number token taken without asking jansson: 18 digits fit a
 * json_int_t, and with at most two exponent digits no real overflows. */
#define NUMBER_MAX 18
#define ARRAY UINT32_MAX /* an open array's frame */

struct walk {
    const char *key[KEYS_MAX];
    uint32_t key_len[KEYS_MAX];
    uint32_t nkeys;
    uint32_t frame[WR_JSON_DEPTH_MAX]; /* each open level: its first key, or ARRAY */
    int depth;
};

/* The closing quote of the string whose contents start at i, of the n
 * bytes at s (valid JSON: one is there); *escaped when it holds an escape. */
static size_t string_end(const char *s, size_t i, size_t n, bool *escaped)
{
    /* most strings hold no escape: the next quote ends them */
    const char *quote = memchr(s + i, '"', n - i);
    *escaped = memchr(s + i, '\\', (size_t)(quote - (s + i))) != NULL;
    if (!*escaped)
        return (size_t)(quote - s);
    for (;;) {
        if (s[i] == '"')
            return i;
        if (s[i] == '\\') {
            *escaped = true;
            i++; /* the escaped byte; \uXXXX's hex digits are never '"' or '\\' */
        }
        i++;
    }
}

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Whether a name of the innermost object (the keys from its frame on)
 * equals the len bytes at k. */
static bool seen(const struct walk *w, const char *k, uint32_t len)
{
    for (uint32_t i = w->frame[w->depth - 1]; i < w->nkeys; i++)
        if (w->key_len[i] == len && memcmp(w->key[i], k, len) == 0)
            return true;
    return false;
}

static bool in_number(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* The number token at i: its end, or 0 when jansson might refuse it. */
static size_t number_end(const char *s, size_t i, size_t n)
{
    size_t start = i, exp_digits = 0;
    bool in_exp = false;
    for (; i < n && in_number(s[i]); i++) {
        if (s[i] == 'e' || s[i] == 'E')
            in_exp = true;
        else if (in_exp && s[i] >= '0' && s[i] <= '9')
            exp_digits++;
    }
    return i - start > NUMBER_MAX || exp_digits > 2 ? 0 : i;
}

/* Whether the value after the ':' before i is a string. */
static bool value_is_string(const char *s, size_t i, size_t n)
{
    i = skip_ws(s, i, n);
    return i < n && s[i] == '"';
}

/* A member name from start to its closing quote at end, in the innermost
 * object: false when jansson must judge. */
static bool add_key(struct walk *w, const char *s, size_t start, size_t end, bool escaped)
{
    uint32_t len = (uint32_t)(end - start);
    if (escaped || w->nkeys == KEYS_MAX || seen(w, s + start, len))
        return false;
    w->key[w->nkeys] = s + start;
    w->key_len[w->nkeys++] = len;
    return true;
}

bool wr__doc_surely_ok(const char *s, size_t n)
{
    if (!wr_json_is_one_value(s, n) || memmem(s, n, "\\u0000", 6) != NULL)
        return false;
    size_t i = skip_ws(s, 0, n);
    if (s[i] != '{')
        return false;
    struct walk w = {.nkeys = 0, .depth = 0};
    bool id = false;
    while (i < n) {
        char c = s[i];
        if (c == '{' || c == '[') {
            w.frame[w.depth++] = c == '{' ? w.nkeys : ARRAY;
            i++;
        } else if (c == '}' || c == ']') {
            uint32_t f = w.frame[--w.depth];
            if (f != ARRAY)
                w.nkeys = f; /* the closed object's names go */
            i++;
        } else if (c == '"') {
            bool escaped;
            size_t end = string_end(s, i + 1, n, &escaped);
            size_t next = skip_ws(s, end + 1, n);
            if (next < n && s[next] == ':') {
                if (!add_key(&w, s, i + 1, end, escaped))
                    return false;
                if (w.depth == 1 && end - i - 1 == 3 && memcmp(s + i + 1, "_id", 3) == 0)
                    id = value_is_string(s, next + 1, n);
                next++;
            }
            i = next;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            i = number_end(s, i, n);
            if (i == 0)
                return false;
        } else {
            i++; /* white space, ',', ':' and the letters of true, false, null */
        }
    }
    return id;
}
