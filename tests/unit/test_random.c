/* The ids' random bytes (common/src/random.h): pooled per thread, never
 * handed out twice, in two threads, nor in a parent and its forked child. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "random.h"
#include "run_suite.h"
#include "warren/rpc.h"

#define IDS ((size_t)4096)

static char ids[2 * IDS][WR_REQUEST_ID_LEN + 1]; /* a thread's, then another's */

static int cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void *make_ids(void *arg)
{
    char(*out)[WR_REQUEST_ID_LEN + 1] = arg;
    for (size_t i = 0; i < IDS; i++)
        wr_request_id_new(out[i]);
    return NULL;
}

/* Two threads, many pools' worth each: every id well-formed and none twice. */
START_TEST(ids_are_distinct_across_threads)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, make_ids, ids + IDS), 0);
    make_ids(ids);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    for (size_t i = 0; i < 2 * IDS; i++)
        ck_assert(wr_request_id_valid(ids[i]));
    qsort(ids, 2 * IDS, sizeof(ids[0]), cmp);
    for (size_t i = 1; i < 2 * IDS; i++)
        ck_assert_str_ne(ids[i - 1], ids[i]);
}
END_TEST

/* After a fork, the child does not hand out what is left of the parent's
 * pool: its next bytes differ from the parent's next bytes. */
START_TEST(a_forked_child_has_its_own_bytes)
{
    unsigned char first[8], parent[32], child[32];
    wr__random(first, sizeof(first)); /* the pool is full now */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wr__random(child, sizeof(child));
        _exit(write(fds[1], child, sizeof(child)) == (ssize_t)sizeof(child) ? 0 : 1);
    }
    wr__random(parent, sizeof(parent));
    ck_assert_int_eq(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert(memcmp(parent, child, sizeof(parent)) != 0);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* A whole pool at once, then more: each call's bytes are new. */
START_TEST(pool_sized_reads)
{
    unsigned char a[WR__RANDOM_POOL], b[WR__RANDOM_POOL];
    wr__random(a, sizeof(a));
    wr__random(b, sizeof(b));
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("random");
    TCase *t = tcase_create("random");
    tcase_add_test(t, ids_are_distinct_across_threads);
    tcase_add_test(t, a_forked_child_has_its_own_bytes);
    tcase_add_test(t, pool_sized_reads);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
