/* What the fault suite's programs share on top of the integration harness:
 * workers that log every execution (LOG_LEVEL=debug) into logs the checker
 * reads, a private audit spool per test, the edge, request sets, a copy of
 * the Chinook database to write to, and a thread that injects faults on a
 * schedule while the load runs. */
#ifndef TESTS_FAULTS_FAULT_H
#define TESTS_FAULTS_FAULT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "checker.h"
#include "harness.h"
#include "load.h"

#define F_MAX_PROCS 8

/* One scenario's processes: an edge and up to F_MAX_PROCS - 1 workers.
 * Every worker logs at debug level into its own log (never reused), so the
 * checker can count executions across restarts. */
struct fleet {
    const char *service;
    int port; /* the edge's HTTP port, from h_spawn_edge (f_edge) */
    char spool_dir[512];
    const char *const *edge_env;   /* extra WARREN_* for the edge, or NULL */
    const char *const *worker_env; /* extra WARREN_* for workers, or NULL */
    struct proc edge;
    struct proc workers[F_MAX_PROCS];
    char logs[F_MAX_PROCS * 2][256]; /* every worker log ever started */
    size_t nlogs;
    size_t nworkers;
};

/* Sets the fleet up (an empty spool folder of its own). */
void f_fleet_init(struct fleet *f, const char *service);
/* Starts worker i (restarting into a fresh log when it ran before). */
void f_worker(struct fleet *f, size_t i);
/* Starts the edge on a free port (f->port) and waits until it is ready. */
void f_edge(struct fleet *f);
/* Stops everything still running (SIGTERM). */
void f_fleet_stop(struct fleet *f);
/* Counts executions (worker logs) and audit records (spools) into c. */
void f_collect(struct fleet *f, checker *c);

/* n reads of albums 1..347 in turn, each checking its own album_id. */
struct load_req *f_album_reads(size_t n);

/* Copies the Chinook database to WRT_STATE_DIR/<name>.db (removing any old
 * copy and its -wal/-shm) and fills uri with "sqlite:///<path>" for
 * WARREN_DATABASE_URI; path gets the file's path. */
void f_copy_db(const char *name, char *path, size_t path_cap, char *uri, size_t uri_cap);

/* A schedule of faults run by a thread while the load runs: each step
 * waits until at_ms after f_faults_start, then calls fn(arg). */
struct f_step {
    long at_ms;
    void (*fn)(void *arg);
    void *arg;
    long long done_ms; /* monotonic time when fn returned */
};
struct f_faults {
    struct f_step *steps;
    size_t n;
    long long t0;
    pthread_t thread;
};
void f_faults_start(struct f_faults *s);
void f_faults_join(struct f_faults *s);

/* The resident set size of a process in kB (from /proc), or -1. */
long f_rss_kb(pid_t pid);
/* How many lines of the file at path contain needle. */
size_t f_count_lines(const char *path, const char *needle);

#endif
