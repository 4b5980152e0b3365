/* What every warren fuzz target shares: libFuzzer's entry point and a check
 * that aborts, so a violated property is a crash libFuzzer saves and
 * reports like any sanitizer finding. */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called by libFuzzer once per input; returns 0 (the input may be kept). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *what, const char *file, int line)
{
    (void)fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
    abort();
}

/* Aborts with the failed condition's text when cond is false. */
#define FUZZ_ASSERT(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

#endif
