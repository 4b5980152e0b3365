/* The one way a warren test program runs its Check suite: every test, the
 * summary on stdout, exit status 0 only when all passed. Integration tests
 * share processes between tests, so they run unforked. */
#ifndef TESTS_RUN_SUITE_H
#define TESTS_RUN_SUITE_H

#include <check.h>
#include <stdbool.h>

static inline int run_suite(Suite *s, bool forked)
{
    SRunner *sr = srunner_create(s);
    if (!forked)
        srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

#endif
