/* libFuzzer target for wr_json_str (common/include/warren/json.h) on any
 * bytes: the output is printable ASCII, at most 6 bytes per input byte plus
 * the quotes, and jansson reads it as one string; that string is the input
 * itself when the input is valid UTF-8, and has a U+FFFD when it is not.
 * And for wr_json_value_len (warren/json_scan.h), with jansson as the
 * reference: what it takes whole jansson reads, and what jansson reads it
 * takes whole, as far as the two promise the same. */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "warren/buf.h"
#include "warren/json.h"
#include "warren/json_scan.h"

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether n bytes at s open at most WR_JSON_DEPTH_MAX arrays and objects
 * (counting brackets inside strings too: the bound is what matters). */
static bool shallow(const char *s, size_t n)
{
    size_t opens = 0;
    for (size_t i = 0; i < n; i++)
        opens += s[i] == '[' || s[i] == '{';
    return opens <= WR_JSON_DEPTH_MAX;
}

static void check_scan(const char *s, size_t n)
{
    size_t got = wr_json_value_len(s, n);
    FUZZ_ASSERT(got <= n);
    json_error_t jerr;
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (n > 0 && got == n)
        FUZZ_ASSERT(j != NULL || fuzz_jansson_limit(jerr.text));
    /* jansson reads a NUL byte as the end of its input */
    if (j != NULL && !is_ws(s[0]) && !is_ws(s[n - 1]) && shallow(s, n) &&
        memchr(s, '\0', n) == NULL)
        FUZZ_ASSERT(got == n);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct wr_buf b;
    wr_buf_init(&b, 6 * size + 2); /* \u00xx or \ufffd per byte at worst */
    wr_json_str(&b, s, size);
    FUZZ_ASSERT(wr_buf_error(&b) == 0);
    FUZZ_ASSERT(b.len >= 2 && b.data[0] == '"' && b.data[b.len - 1] == '"');
    for (size_t i = 0; i < b.len; i++)
        FUZZ_ASSERT(b.data[i] >= 0x20 && b.data[i] < 0x7f);

    json_error_t jerr;
    json_t *out = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (out == NULL)
        (void)fprintf(stderr, "jansson: %s\n%s\n", jerr.text, b.data);
    FUZZ_ASSERT(out != NULL);
    FUZZ_ASSERT(json_is_string(out));
    /* jansson's own UTF-8 check is the reference: NULL when size bytes at s
     * are not valid UTF-8. */
    json_t *in = size > 0 ? json_stringn(s, size) : json_string("");
    if (in != NULL)
        FUZZ_ASSERT(json_equal(in, out));
    else
        FUZZ_ASSERT(strstr(b.data, "\\ufffd") != NULL);
    json_decref(in);
    json_decref(out);
    wr_buf_release(&b);
    check_scan(s, size);
    return 0;
}
