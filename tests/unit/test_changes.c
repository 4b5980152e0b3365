/* The change log's SQLite side (store/changes_sqlite.c) on real files in a
 * temp dir: the writer's outbox (one entry per committed transaction, none
 * for a rolled back one, read in order, marked and pruned, positions going
 * on after a reopen), snapshots (their position and log), applying changes
 * to a replica's file with its position, and the divergences it must
 * refuse: a row changed by hand, a table the replica lacks. */
#include <check.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "warren/err.h"
#include "run_suite.h"

static char dir[] = "/tmp/warren-changes-XXXXXX";
static char path[128], uri[160], snap[128];
static int serial;

/* Runs sql on the file p directly (the test's own connection). */
static void sql_on(const char *p, const char *sql)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(p, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
}

/* The first integer of sql's first row in p (-1: no row). */
static long long int_on(const char *p, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    ck_assert_int_eq(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* Every row of items in p, as text (malloc'd). */
static char *items_of(const char *p)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    ck_assert_int_eq(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT coalesce(group_concat(id || '=' || name, ';'), '') "
                                        "FROM (SELECT * FROM items ORDER BY id)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    char *text = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return text;
}

static void setup(void)
{
    (void)snprintf(path, sizeof(path), "%s/w%d.db", dir, serial);
    (void)snprintf(snap, sizeof(snap), "%s/r%d.db", dir, serial++);
    (void)snprintf(uri, sizeof(uri), "sqlite:///%s", path);
    sql_on(path, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
                 "INSERT INTO items VALUES (1, 'one'), (2, 'two');");
}

/* One write transaction of sql on the writer (commit, or roll back). */
static void write_tx(store *w, const char *sql, bool commit)
{
    struct wr_err err = {0};
    ck_assert_msg(store_begin(w, &err) == 0, "%s", err.msg);
    ck_assert_msg(store_exec(w, sql, NULL, 0, NULL, &err) == 0, "%s: %s", sql, err.msg);
    if (commit)
        ck_assert_msg(store_commit(w, &err) == 0, "%s", err.msg);
    else
        store_rollback(w);
}

static store *open_writer(void)
{
    struct wr_err err = {0};
    store *w = store_open_writer(uri, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    ck_assert_msg(store_outbox_enable(w, &err) == 0, "%s", err.msg);
    return w;
}

static long long committed[8];
static int ncommitted;

static void on_commit(void *arg, long long position)
{
    (void)arg;
    if (ncommitted < 8)
        committed[ncommitted++] = position;
}

/* What store_outbox_read handed over: copies of the entries. */
struct entries {
    int n;
    long long position[16];
    void *data[16];
    size_t len[16];
};

static int collect(void *arg, const struct store_change *c)
{
    struct entries *e = arg;
    ck_assert_int_lt(e->n, 16);
    e->position[e->n] = c->position;
    e->len[e->n] = c->len;
    e->data[e->n] = malloc(c->len + 1);
    ck_assert_ptr_nonnull(e->data[e->n]);
    memcpy(e->data[e->n], c->data, c->len);
    e->n++;
    return 0;
}

static void entries_free(struct entries *e)
{
    for (int i = 0; i < e->n; i++)
        free(e->data[i]);
    e->n = 0;
}

static void read_outbox(store *w, long long after, struct entries *e)
{
    struct wr_err err = {0};
    entries_free(e);
    ck_assert_msg(store_outbox_read(w, after, 16, collect, e, &err) == 0, "%s", err.msg);
}

START_TEST(outbox_records_each_commit)
{
    store *w = open_writer();
    ncommitted = 0;
    store_on_commit(w, on_commit, NULL);
    ck_assert_int_eq(store_position(w), 0);
    write_tx(w, "INSERT INTO items VALUES (3, 'three')", true);
    write_tx(w, "UPDATE items SET name = 'uno' WHERE id = 1", true);
    write_tx(w, "DELETE FROM items WHERE id = 2", false); /* rolled back: no entry */
    ck_assert_int_eq(store_position(w), 2);
    ck_assert_int_eq(ncommitted, 2);
    ck_assert_int_eq(committed[0], 1);
    ck_assert_int_eq(committed[1], 2);
    struct entries e = {0};
    read_outbox(w, 0, &e);
    ck_assert_int_eq(e.n, 2);
    ck_assert_int_eq(e.position[0], 1);
    ck_assert_int_eq(e.position[1], 2);
    ck_assert_uint_gt(e.len[0], 0);
    read_outbox(w, 1, &e); /* past a position: only the later ones */
    ck_assert_int_eq(e.n, 1);
    ck_assert_int_eq(e.position[0], 2);
    /* marked: no longer handed over, pruned but the newest */
    struct wr_err err = {0};
    ck_assert_int_eq(store_outbox_mark(w, 1, &err), 0);
    read_outbox(w, 0, &e);
    ck_assert_int_eq(e.n, 1);
    ck_assert_int_eq(e.position[0], 2);
    ck_assert_int_eq(store_outbox_mark(w, 2, &err), 0);
    read_outbox(w, 0, &e);
    ck_assert_int_eq(e.n, 0);
    ck_assert_int_eq(int_on(path, "SELECT count(*) FROM warren_outbox"), 1);
    store_free(w);
    /* reopened: positions go on from the newest kept */
    w = open_writer();
    ck_assert_int_eq(store_position(w), 2);
    write_tx(w, "INSERT INTO items VALUES (4, 'four')", true);
    ck_assert_int_eq(store_position(w), 3);
    read_outbox(w, 0, &e);
    ck_assert_int_eq(e.n, 1);
    ck_assert_int_eq(e.position[0], 3);
    entries_free(&e);
    char log_id[40];
    ck_assert_int_eq(store_log_id(w, log_id, sizeof(log_id), &err), 0);
    ck_assert_uint_eq(strlen(log_id), 32);
    store_free(w);
}
END_TEST

/* A snapshot records the position its data is at and the writer's log;
 * the changes after it, applied in order, make the replica's rows the
 * writer's, each with its position. */
START_TEST(snapshot_then_apply_follows_the_writer)
{
    store *w = open_writer();
    write_tx(w, "INSERT INTO items VALUES (3, 'three')", true);
    long long at = -1;
    struct wr_err err = {0};
    ck_assert_msg(store_snapshot(uri, snap, &at, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(at, 1);
    ck_assert_int_eq(int_on(snap, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                  "'warren_outbox'"),
                     0);
    write_tx(w, "UPDATE items SET name = 'deux' WHERE id = 2", true);
    write_tx(w, "DELETE FROM items WHERE id = 1", true);
    write_tx(w, "INSERT INTO items VALUES (9, 'nine')", true);

    char snap_uri[160];
    (void)snprintf(snap_uri, sizeof(snap_uri), "sqlite:///%s", snap);
    struct store_replica_pos pos;
    store *r = store_open_replica(snap_uri, &pos, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_int_eq(pos.position, 1);
    ck_assert_int_eq(pos.stream_offset, -1);
    char log_id[40];
    ck_assert_int_eq(store_log_id(w, log_id, sizeof(log_id), &err), 0);
    ck_assert_str_eq(pos.log_id, log_id);

    struct entries e = {0};
    read_outbox(w, pos.position, &e);
    ck_assert_int_eq(e.n, 3);
    for (int i = 0; i < e.n; i++) {
        struct store_replica_pos next = pos;
        next.position = e.position[i];
        next.stream_offset = 100 + i;
        next.at_ms = 1000 + i;
        ck_assert_msg(store_apply(r, &next, e.data[i], e.len[i], &err) == 0, "%s", err.msg);
    }
    entries_free(&e);
    struct store_replica_pos now;
    ck_assert_int_eq(store_replica_position(r, &now, &err), 0);
    ck_assert_int_eq(now.position, 4);
    ck_assert_int_eq(now.stream_offset, 102);
    ck_assert_int_eq(now.at_ms, 1002);
    char *want = items_of(path), *got = items_of(snap);
    ck_assert_str_eq(got, want);
    ck_assert_str_eq(got, "2=deux;3=three;9=nine");
    free(want);
    free(got);
    /* the snapshot's path is never overwritten */
    long long again = 0;
    ck_assert_int_eq(store_snapshot(uri, snap, &again, &err), WR_EIO);
    store_free(r);
    store_free(w);
}
END_TEST

/* A replica whose rows were changed by hand, or that lacks a table, does
 * not take a change that does not fit: WR_ECONFLICT naming why, nothing
 * applied, its position kept. */
START_TEST(apply_refuses_a_divergence)
{
    store *w = open_writer();
    long long at = -1;
    struct wr_err err = {0};
    ck_assert_msg(store_snapshot(uri, snap, &at, &err) == 0, "%s", err.msg);
    char snap_uri[160];
    (void)snprintf(snap_uri, sizeof(snap_uri), "sqlite:///%s", snap);
    struct store_replica_pos pos;
    store *r = store_open_replica(snap_uri, &pos, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);

    sql_on(snap, "UPDATE items SET name = 'by hand' WHERE id = 1");
    write_tx(w, "UPDATE items SET name = 'through warren' WHERE id = 1", true);
    struct entries e = {0};
    read_outbox(w, pos.position, &e);
    ck_assert_int_eq(e.n, 1);
    struct store_replica_pos next = pos;
    next.position = e.position[0];
    ck_assert_int_eq(store_apply(r, &next, e.data[0], e.len[0], &err), WR_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(err.msg, "a changed row differs here"));
    ck_assert_int_eq(int_on(snap, "SELECT position FROM warren_replica"), pos.position);
    ck_assert_int_eq(int_on(snap, "SELECT count(*) FROM items WHERE name = 'by hand'"), 1);

    /* a row the replica lacks: a delete of it does not apply either */
    sql_on(snap, "DELETE FROM items WHERE id = 2");
    write_tx(w, "DELETE FROM items WHERE id = 2", true);
    read_outbox(w, next.position, &e);
    ck_assert_int_eq(e.n, 1);
    next.position = e.position[0];
    ck_assert_int_eq(store_apply(r, &next, e.data[0], e.len[0], &err), WR_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing here"));

    /* a table made after the snapshot (schema changes are not in changesets) */
    sql_on(path, "CREATE TABLE later (id INTEGER PRIMARY KEY, v TEXT)");
    store_free(w);
    w = open_writer();
    write_tx(w, "INSERT INTO later VALUES (1, 'x')", true);
    read_outbox(w, store_position(w) - 1, &e);
    ck_assert_int_eq(e.n, 1);
    next.position = e.position[0];
    ck_assert_int_eq(store_apply(r, &next, e.data[0], e.len[0], &err), WR_ECONFLICT);
    ck_assert_ptr_nonnull(strstr(err.msg, "table later is missing here"));
    ck_assert_int_eq(int_on(snap, "SELECT position FROM warren_replica"), pos.position);
    entries_free(&e);
    store_free(r);
    store_free(w);
}
END_TEST

/* A file that is no snapshot is refused as a replica's. */
START_TEST(replica_needs_a_snapshot)
{
    struct store_replica_pos pos;
    struct wr_err err = {0};
    ck_assert_ptr_null(store_open_replica(uri, &pos, &err));
    ck_assert_int_eq(err.code, WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "--snapshot"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("changes");
    TCase *tc = tcase_create("changes");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, outbox_records_each_commit);
    tcase_add_test(tc, snapshot_then_apply_follows_the_writer);
    tcase_add_test(tc, apply_refuses_a_divergence);
    tcase_add_test(tc, replica_needs_a_snapshot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    int rc = run_suite(suite(), false);
    DIR *d = opendir(dir); /* the files (and their -wal, -shm) go with the dir */
    for (struct dirent *f = d ? readdir(d) : NULL; f != NULL; f = readdir(d)) {
        char name[400];
        (void)snprintf(name, sizeof(name), "%s/%s", dir, f->d_name);
        if (f->d_name[0] != '.')
            (void)unlink(name);
    }
    if (d != NULL)
        closedir(d);
    (void)rmdir(dir);
    return rc;
}
