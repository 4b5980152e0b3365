/* Marks for the static-analysis gate (tests/gate.sh) where an analyser is
 * known to be wrong. Each use says, beside it, why the finding is false. */
#ifndef WARREN_ANALYZER_H
#define WARREN_ANALYZER_H

/* Around a function in which gcc 12's -fanalyzer reports a leak of memory
 * that is still owned: it forgets a pointer once it is stored through a
 * computed index or field offset (a "symbolic" store), as in
 * `c->cols[i].sql = strdup(...)`. Every other analyser rule stays on there,
 * and LeakSanitizer (the ASan build) still checks those functions. */
#if defined(__GNUC__) && !defined(__clang__)
#define WR_ANALYZER_LEAK_FALSE_BEGIN                                                               \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wanalyzer-malloc-leak\"")
#define WR_ANALYZER_LEAK_FALSE_END _Pragma("GCC diagnostic pop")
#else
#define WR_ANALYZER_LEAK_FALSE_BEGIN
#define WR_ANALYZER_LEAK_FALSE_END
#endif

#endif
