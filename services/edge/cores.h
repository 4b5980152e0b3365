/* The cores the edge is given, for EDGE_THREADS 0: the CPUs it may run on
 * (its affinity), or fewer when its cgroup's CPU quota allows fewer. A
 * container limited to 2 CPUs on a 32-core node sees 32 CPUs and a quota
 * of 2: 32 loops there would each hold a broker connection and be
 * throttled by the kernel in turn. */
#ifndef EDGE_CORES_H
#define EDGE_CORES_H

/* The cores given to this process, 1 to 64. Reads /proc/self/cgroup and
 * the quota files under /sys/fs/cgroup (cgroup v2 `cpu.max`, v1
 * `cpu.cfs_quota_us` over `cpu.cfs_period_us`); *why* (may be NULL) is
 * set to a phrase for the log saying which bound applied. */
long cores_given(const char **why);

/* The CPU quota in cores, rounded up, of the cgroup `path` ("/a/b", as in
 * /proc/self/cgroup) under the hierarchy mounted at `root`: the smallest
 * over the cgroup and its ancestors (each caps its children), the mount's
 * own directory included (what a container sees of its own cgroup when
 * the path names the host's). 0 when no quota is set or none is readable. */
long cores_quota(const char *root, const char *path);

#endif
