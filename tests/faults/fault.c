/* The fault suite's shared helpers (see fault.h). */
#include "fault.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        (void)unlink(path);
    }
    closedir(d);
}

void f_fleet_init(struct fleet *f, const char *service)
{
    *f = (struct fleet){.service = service};
    (void)snprintf(f->spool_dir, sizeof(f->spool_dir), "%s/spool-%s", h_env("WRT_STATE_DIR"),
                   service);
    (void)mkdir(f->spool_dir, 0755);
    empty_dir(f->spool_dir);
}

static size_t add_env(const char **env, size_t n, size_t cap, const char *const *extra)
{
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < cap; i++)
        env[n++] = extra[i];
    return n;
}

void f_worker(struct fleet *f, size_t i)
{
    ck_assert(i < F_MAX_PROCS && f->nlogs < F_MAX_PROCS * 2);
    char spool[600], tag[64];
    (void)snprintf(spool, sizeof(spool), "WARREN_AUDIT_SPOOL_DIR=%s", f->spool_dir);
    (void)snprintf(tag, sizeof(tag), "%s-w%zu-%zu", f->service, i, f->nlogs);
    const char *env[32] = {spool, "WARREN_LOG_LEVEL=debug", "WARREN_HEARTBEAT_S=2",
                           "WARREN_RECONNECT_MAX_MS=1000"};
    size_t n = add_env(env, 4, 32, f->worker_env);
    env[n] = NULL;
    h_spawn_warren(&f->workers[i], WARREN_CATALOG_BIN, tag, 0, f->service, env);
    memcpy(f->logs[f->nlogs++], f->workers[i].log, sizeof(f->logs[0])); /* both char[256] */
    if (i >= f->nworkers)
        f->nworkers = i + 1;
}

void f_edge(struct fleet *f)
{
    char tag[64];
    (void)snprintf(tag, sizeof(tag), "%s-edge", f->service);
    const char *env[32] = {"WARREN_LOG_LEVEL=debug", "WARREN_HEARTBEAT_S=2",
                           "WARREN_RECONNECT_MAX_MS=1000"};
    size_t n = add_env(env, 3, 32, f->edge_env);
    env[n] = NULL;
    f->port = h_spawn_edge(&f->edge, tag, f->service, env);
    ck_assert_msg(h_wait_ready(f->port, 20000), "edge not ready (see %s)", f->edge.log);
}

void f_fleet_stop(struct fleet *f)
{
    if (f->edge.pid > 0)
        h_stop(&f->edge, SIGTERM);
    for (size_t i = 0; i < f->nworkers; i++)
        if (f->workers[i].pid > 0) {
            kill(f->workers[i].pid, SIGCONT); /* a frozen one cannot stop */
            h_stop(&f->workers[i], SIGTERM);
        }
}

void f_collect(struct fleet *f, checker *c)
{
    for (size_t i = 0; i < f->nlogs; i++)
        chk_scan_log(c, f->logs[i]);
    chk_scan_spools(c, f->spool_dir);
}

struct load_req *f_album_reads(size_t n)
{
    struct load_req *r = calloc(n, sizeof(*r));
    static char expect[347][32];
    ck_assert_ptr_nonnull(r);
    for (size_t i = 0; i < n; i++) {
        int album = (int)(i % 347) + 1;
        (void)snprintf(r[i].path, sizeof(r[i].path), "/api/Albums/%d", album);
        (void)snprintf(expect[album - 1], sizeof(expect[0]), "\"album_id\":%d,", album);
        r[i].expect = expect[album - 1];
    }
    return r;
}

void f_copy_db(const char *name, char *path, size_t path_cap, char *uri, size_t uri_cap)
{
    h_copy_db(name, path, path_cap);
    (void)snprintf(uri, uri_cap, "WARREN_DATABASE_URI=sqlite:///%s", path);
}

static void *run_faults(void *arg)
{
    struct f_faults *s = arg;
    for (size_t i = 0; i < s->n; i++) {
        long long wait = s->t0 + s->steps[i].at_ms - h_now_ms();
        if (wait > 0)
            usleep((useconds_t)wait * 1000);
        s->steps[i].fn(s->steps[i].arg);
        s->steps[i].done_ms = h_now_ms();
    }
    return NULL;
}

void f_faults_start(struct f_faults *s)
{
    s->t0 = h_now_ms();
    ck_assert_int_eq(pthread_create(&s->thread, NULL, run_faults, s), 0);
}

void f_faults_join(struct f_faults *s)
{
    pthread_join(s->thread, NULL);
}

long f_rss_kb(pid_t pid)
{
    char path[64], line[256];
    (void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kb;
}

size_t f_count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}
