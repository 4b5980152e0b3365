/* The cores the edge is given (see cores.h). */
#include "cores.h"

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CORES_MAX 64
#define DIR_MAX 4096 /* PATH_MAX (the edge's limits.h shadows <limits.h>) */

/* One of the kernel's files under /proc or /sys, to read. */
static FILE *kernel_file(const char *path)
{
    /* Flawfinder: ignore - the kernel's own files, read only, never written */
    return fopen(path, "re");
}

/* Reads up to two integers from the first line of dir/name into *a and *b:
 * how many it read (0 when there is no such file, or it begins with a
 * word such as "max"). */
static int read_nums(const char *dir, const char *name, long long *a, long long *b)
{
    char file[DIR_MAX + 32], line[128];
    (void)snprintf(file, sizeof(file), "%s/%s", dir, name);
    FILE *f = kernel_file(file);
    bool got = f != NULL && fgets(line, sizeof(line), f) != NULL;
    if (f != NULL)
        (void)fclose(f);
    if (!got)
        return 0;
    char *end;
    *a = strtoll(line, &end, 10);
    if (end == line)
        return 0;
    const char *next = end;
    *b = strtoll(next, &end, 10);
    return end == next ? 1 : 2;
}

/* The quota set in dir, in cores rounded up: 0 for none (v2 "max", v1 -1,
 * or no file). */
static long dir_quota(const char *dir)
{
    long long quota = -1, period = 0, unused = 0;
    if (read_nums(dir, "cpu.max", &quota, &period) != 2 && /* v2: "<quota> <period>" */
        (read_nums(dir, "cpu.cfs_quota_us", &quota, &unused) != 1 ||
         read_nums(dir, "cpu.cfs_period_us", &period, &unused) != 1))
        return 0;
    if (quota <= 0 || period <= 0)
        return 0;
    long long cores = (quota + period - 1) / period;
    return cores > CORES_MAX ? CORES_MAX : (long)cores;
}

long cores_quota(const char *root, const char *path)
{
    char dir[DIR_MAX];
    int n = snprintf(dir, sizeof(dir), "%s%s", root, path[0] == '/' ? path : "");
    if (n < 0 || (size_t)n >= sizeof(dir))
        return 0;
    size_t rootlen = strlen(root);
    long best = 0;
    for (;;) { /* the cgroup, then each parent up to the mount */
        long q = dir_quota(dir);
        if (q > 0 && (best == 0 || q < best))
            best = q;
        char *slash = strrchr(dir, '/');
        if (slash == NULL || (size_t)(slash - dir) < rootlen)
            break;
        *slash = '\0';
    }
    return best;
}

/* This process's cgroup quota from /proc/self/cgroup: v2's line "0::PATH",
 * or v1's line whose controllers include "cpu". 0 when none. */
static long own_quota(void)
{
    FILE *f = kernel_file("/proc/self/cgroup");
    if (f == NULL)
        return 0;
    char line[4096];
    long q = 0;
    while (q == 0 && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *ctl = strchr(line, ':');
        char *path = ctl != NULL ? strchr(ctl + 1, ':') : NULL;
        if (path == NULL)
            continue;
        *path++ = '\0';
        ctl++;
        if (strcmp(line, "0") == 0 && ctl[0] == '\0') {
            q = cores_quota("/sys/fs/cgroup", path);
        } else {
            char list[256];
            (void)snprintf(list, sizeof(list), ",%s,", ctl);
            if (strstr(list, ",cpu,") != NULL)
                q = cores_quota("/sys/fs/cgroup/cpu", path);
        }
    }
    (void)fclose(f);
    return q;
}

long cores_given(const char **why)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    long n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
    const char *said = "the CPUs it may run on";
    if (n < 1) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        said = "the CPUs online";
    }
    long q = own_quota();
    if (q > 0 && (n < 1 || q < n)) {
        n = q;
        said = "its cgroup's CPU quota";
    }
    if (why != NULL)
        *why = said;
    return n < 1 ? 1 : n > CORES_MAX ? CORES_MAX : n;
}
