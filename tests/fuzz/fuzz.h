/* What every warren fuzz target shares: libFuzzer's entry point and a check
 * that aborts, so a violated property is a crash libFuzzer saves and
 * reports like any sanitizer finding. */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called by libFuzzer once per input; returns 0 (the input may be kept). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *what, const char *file, int line)
{
    (void)fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
    abort();
}

/* Aborts with the failed condition's text when cond is false. */
#define FUZZ_ASSERT(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

/* Whether jansson's error text names one of its own limits, not JSON's:
 * a number past its long long or double, a \u0000 in an object key.
 * Where jansson is the reference for a reader of ours that has none. */
static inline bool fuzz_jansson_limit(const char *text)
{
    return strstr(text, "too big") != NULL || strstr(text, "overflow") != NULL ||
           strstr(text, "NUL byte in object key") != NULL;
}

#endif
