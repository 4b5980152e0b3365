/* Unit tests for the cores the edge is given (cores.h): the CPU quota read
 * from cgroup v2 and v1 files, in a directory tree made here the way the
 * kernel lays them out; and the count on this machine, which no quota may
 * raise above its CPUs. */
#include <check.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cores.h"
#include "run_suite.h"

static char root[64];

static void make_root(void)
{
    (void)snprintf(root, sizeof(root), "/tmp/warren-cores.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_root(void)
{
    ck_assert_int_eq(nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Writes text to root/dir/file, making the directories. */
static void put(const char *dir, const char *file, const char *text)
{
    char path[512];
    (void)snprintf(path, sizeof(path), "%s%s", root, dir);
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(path, 0700);
            *p = '/';
        }
    }
    (void)mkdir(path, 0700);
    (void)snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", file);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(v2_quota_rounds_up)
{
    put("/kubepods/pod1", "cpu.max", "150000 100000\n");
    ck_assert_int_eq(cores_quota(root, "/kubepods/pod1"), 2);
    put("/kubepods/pod1", "cpu.max", "100000 100000\n");
    ck_assert_int_eq(cores_quota(root, "/kubepods/pod1"), 1);
    put("/kubepods/pod1", "cpu.max", "50000 100000\n"); /* half a core: one loop */
    ck_assert_int_eq(cores_quota(root, "/kubepods/pod1"), 1);
}
END_TEST

START_TEST(v2_max_is_no_quota)
{
    put("/a", "cpu.max", "max 100000\n");
    ck_assert_int_eq(cores_quota(root, "/a"), 0);
    ck_assert_int_eq(cores_quota(root, "/nowhere/at/all"), 0);
    put("/b", "cpu.max", "garbage\n");
    ck_assert_int_eq(cores_quota(root, "/b"), 0);
}
END_TEST

/* A parent's quota caps its children: the smallest on the way up counts,
 * the mount's own directory included. */
START_TEST(v2_smallest_on_the_way_up)
{
    put("/kubepods", "cpu.max", "300000 100000\n");
    put("/kubepods/pod1", "cpu.max", "max 100000\n");
    put("/kubepods/pod1/c1", "cpu.max", "800000 100000\n");
    ck_assert_int_eq(cores_quota(root, "/kubepods/pod1/c1"), 3);
    put("", "cpu.max", "200000 100000\n");
    ck_assert_int_eq(cores_quota(root, "/kubepods/pod1/c1"), 2);
    /* a host's path the container cannot see: its own mount still counts */
    ck_assert_int_eq(cores_quota(root, "/system.slice/docker-1.scope"), 2);
    ck_assert_int_eq(cores_quota(root, "/"), 2);
}
END_TEST

START_TEST(v1_cfs_quota)
{
    put("/docker/abc", "cpu.cfs_quota_us", "250000\n");
    put("/docker/abc", "cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(cores_quota(root, "/docker/abc"), 3);
    put("/docker/abc", "cpu.cfs_quota_us", "-1\n");
    ck_assert_int_eq(cores_quota(root, "/docker/abc"), 0);
}
END_TEST

START_TEST(huge_quota_is_capped)
{
    put("/big", "cpu.max", "100000000 1000\n");
    ck_assert_int_eq(cores_quota(root, "/big"), 64);
}
END_TEST

/* On this machine: at least one, never more than the CPUs it may use. */
START_TEST(given_within_the_affinity)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
    const char *why = NULL;
    long n = cores_given(&why);
    ck_assert_int_ge(n, 1);
    ck_assert_int_le(n, CPU_COUNT(&set));
    ck_assert_ptr_nonnull(why);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cores");
    TCase *tc = tcase_create("cores");
    tcase_add_checked_fixture(tc, make_root, remove_root);
    tcase_add_test(tc, v2_quota_rounds_up);
    tcase_add_test(tc, v2_max_is_no_quota);
    tcase_add_test(tc, v2_smallest_on_the_way_up);
    tcase_add_test(tc, v1_cfs_quota);
    tcase_add_test(tc, huge_quota_is_capped);
    tcase_add_test(tc, given_within_the_affinity);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
