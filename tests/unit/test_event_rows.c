/* Change events' pure parts: the changeset walk (store_changeset_rows)
 * over changesets SQLite's session extension records in a database in
 * memory, the outbox's event lines (events_next, events_count), and the
 * events' topology (wr_amqp_events_topology). */
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "changes/events.h"
#include "store/store.h"
#include "warren/amqp.h"
#include "run_suite.h"

/* ---- the changeset walk ---- */

#define MAX_ROWS 16

/* What the walk handed over, copied. */
struct seen {
    size_t n;
    char table[MAX_ROWS][32];
    enum store_row_op op[MAX_ROWS];
    size_t ncols[MAX_ROWS];
    struct value cols[MAX_ROWS][4];
    char text[MAX_ROWS][4][32];
};

static int on_row(void *arg, const struct store_row *r)
{
    struct seen *s = arg;
    ck_assert_uint_lt(s->n, MAX_ROWS);
    ck_assert_uint_le(r->ncols, 4);
    size_t i = s->n++;
    (void)snprintf(s->table[i], sizeof(s->table[i]), "%s", r->table);
    s->op[i] = r->op;
    s->ncols[i] = r->ncols;
    for (size_t c = 0; c < r->ncols; c++) {
        s->cols[i][c] = r->cols[c];
        if (r->cols[c].kind == V_TEXT) {
            (void)snprintf(s->text[i][c], sizeof(s->text[i][c]), "%s", r->cols[c].s);
            s->cols[i][c].s = s->text[i][c];
        }
    }
    return 0;
}

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT, n REAL);"
                                  "CREATE TABLE pair (x INTEGER, y TEXT, v INTEGER, "
                                  "PRIMARY KEY (y, x));"
                                  "INSERT INTO a VALUES (1, 'one', 1.5), (2, 'two', 2.5);"
                                  "INSERT INTO pair VALUES (1, 'p', 10);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

/* The changeset of sql run on db, malloc'd into *data. */
static int record(sqlite3 *db, const char *sql, void **data)
{
    sqlite3_session *s = NULL;
    ck_assert_int_eq(sqlite3session_create(db, "main", &s), SQLITE_OK);
    ck_assert_int_eq(sqlite3session_attach(s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    int n = 0;
    ck_assert_int_eq(sqlite3session_changeset(s, &n, data), SQLITE_OK);
    sqlite3session_delete(s);
    return n;
}

START_TEST(walk_gives_each_row_with_its_values)
{
    sqlite3 *db = open_db();
    void *data = NULL;
    int n = record(db,
                   "INSERT INTO a VALUES (3, 'three', NULL);"
                   "UPDATE a SET name = 'TWO' WHERE id = 2;"
                   "DELETE FROM a WHERE id = 1;"
                   "UPDATE pair SET v = 11;",
                   &data);
    struct seen s = {0};
    struct wr_err err = {0};
    ck_assert_int_eq(store_changeset_rows(data, (size_t)n, on_row, &s, &err), 0);
    ck_assert_uint_eq(s.n, 4);
    /* table a first (as attached), its rows in key order */
    ck_assert_str_eq(s.table[0], "a");
    size_t ins = 0, upd = 0, del = 0;
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(s.table[i], "a");
        ck_assert_uint_eq(s.ncols[i], 3);
        if (s.op[i] == STORE_ROW_INSERT)
            ins = i;
        else if (s.op[i] == STORE_ROW_UPDATE)
            upd = i;
        else
            del = i;
    }
    ck_assert_int_eq(s.cols[ins][0].i, 3);
    ck_assert_str_eq(s.cols[ins][1].s, "three");
    ck_assert_int_eq(s.cols[ins][2].kind, V_NULL);
    /* an update: the key (kept), the new value, V_NULL for the unchanged */
    ck_assert_int_eq(s.cols[upd][0].kind, V_INT);
    ck_assert_int_eq(s.cols[upd][0].i, 2);
    ck_assert_str_eq(s.cols[upd][1].s, "TWO");
    ck_assert_int_eq(s.cols[upd][2].kind, V_NULL);
    /* a delete: the old values */
    ck_assert_int_eq(s.cols[del][0].i, 1);
    ck_assert_str_eq(s.cols[del][1].s, "one");
    ck_assert_double_eq(s.cols[del][2].d, 1.5);
    /* a key of two columns: both there, in table order */
    ck_assert_str_eq(s.table[3], "pair");
    ck_assert_int_eq(s.op[3], STORE_ROW_UPDATE);
    ck_assert_int_eq(s.cols[3][0].i, 1);
    ck_assert_str_eq(s.cols[3][1].s, "p");
    ck_assert_int_eq(s.cols[3][2].i, 11);
    sqlite3_free(data);
    sqlite3_close(db);
}
END_TEST

START_TEST(walk_of_nothing_and_of_noise)
{
    sqlite3 *db = open_db();
    void *data = NULL;
    /* inserted and deleted in one transaction: no row at all */
    int n = record(db, "INSERT INTO a VALUES (9, 'x', 0); DELETE FROM a WHERE id = 9;", &data);
    struct seen s = {0};
    struct wr_err err = {0};
    ck_assert_int_eq(store_changeset_rows(data, (size_t)n, on_row, &s, &err), 0);
    ck_assert_uint_eq(s.n, 0);
    sqlite3_free(data);
    static const char noise[] = "T\x03\x01\x00a\x00\x12\x00\x01\x00\x05zzzz";
    ck_assert_int_eq(store_changeset_rows(noise, sizeof(noise) - 1, on_row, &s, &err), WR_EINVAL);
    ck_assert_int_eq(store_changeset_rows("", 0, on_row, &s, &err), 0);
    sqlite3_close(db);
}
END_TEST

static int stop_at_first(void *arg, const struct store_row *r)
{
    (void)r;
    (*(int *)arg)++;
    return WR_ECONFLICT;
}

START_TEST(walk_stops_at_a_callback_error)
{
    sqlite3 *db = open_db();
    void *data = NULL;
    int n = record(db, "DELETE FROM a;", &data);
    int calls = 0;
    struct wr_err err = {0};
    ck_assert_int_eq(store_changeset_rows(data, (size_t)n, stop_at_first, &calls, &err),
                     WR_ECONFLICT);
    ck_assert_int_eq(calls, 1);
    sqlite3_free(data);
    sqlite3_close(db);
}
END_TEST

/* ---- an outbox of the previous version ---- */

static int take_events(void *arg, const struct store_change *c)
{
    *(const char **)arg = c->events != NULL ? "some" : "none";
    return 0;
}

START_TEST(old_outbox_gets_the_events_column)
{
    char path[] = "/tmp/warren-events-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    (void)close(fd);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT);"
                                  "CREATE TABLE warren_outbox (position INTEGER PRIMARY KEY, "
                                  "at INTEGER NOT NULL, changeset BLOB NOT NULL, "
                                  "published INTEGER NOT NULL DEFAULT 0);"
                                  "INSERT INTO warren_outbox VALUES (7, 1, x'00', 0);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char uri[64];
    (void)snprintf(uri, sizeof(uri), "sqlite:///%s", path);
    struct wr_err err = {0};
    store *st = store_open_writer(uri, &err);
    ck_assert_msg(st != NULL, "%s", err.msg);
    ck_assert_int_eq(store_outbox_enable(st, &err), 0);
    ck_assert_int_eq(store_position(st), 7);
    /* the entry made before events has none; it is still read */
    const char *seen = NULL;
    ck_assert_int_eq(store_outbox_read(st, 0, 10, take_events, &seen, &err), 0);
    ck_assert_str_eq(seen, "none");
    store_free(st);
    /* opened again: the column is there already */
    st = store_open_writer(uri, &err);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(store_outbox_enable(st, &err), 0);
    store_free(st);
    (void)unlink(path);
}
END_TEST

/* ---- the outbox's lines ---- */

START_TEST(lines_split_at_the_last_tab_and_dot)
{
    static const char text[] = "Albums.created\t{\"a\":1}\n"
                               "my.coll.deleted\t{\"b\":\"x.y\"}\n"
                               "Artists.updated\t{}\n";
    size_t off = 0;
    struct event_line l;
    ck_assert(events_next(text, sizeof(text) - 1, &off, &l));
    ck_assert_int_eq((int)l.collection_len, 6);
    ck_assert(strncmp(l.collection, "Albums", 6) == 0);
    ck_assert(strncmp(l.op, "created", l.op_len) == 0 && l.op_len == 7);
    ck_assert(strncmp(l.body, "{\"a\":1}", l.body_len) == 0 && l.body_len == 7);
    ck_assert(events_next(text, sizeof(text) - 1, &off, &l));
    ck_assert(strncmp(l.collection, "my.coll", l.collection_len) == 0 && l.collection_len == 7);
    ck_assert(strncmp(l.op, "deleted", l.op_len) == 0);
    ck_assert(events_next(text, sizeof(text) - 1, &off, &l));
    ck_assert(strncmp(l.body, "{}", l.body_len) == 0 && l.body_len == 2);
    ck_assert(!events_next(text, sizeof(text) - 1, &off, &l));
    ck_assert_uint_eq(events_count(text, sizeof(text) - 1), 3);
}
END_TEST

START_TEST(lines_bad_or_absent_end_the_walk)
{
    size_t off = 0;
    struct event_line l;
    ck_assert(!events_next(NULL, 0, &off, &l));
    ck_assert_uint_eq(events_count(NULL, 0), 0);
    /* no newline at the end, no tab, no dot, an empty body */
    static const char *const bad[] = {"Albums.created\t{}", "Albums.created {}\n", "Albums\t{}\n",
                                      "Albums.created\t\n", ".created\t{}\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        off = 0;
        ck_assert_msg(!events_next(bad[i], strlen(bad[i]), &off, &l), "took %s", bad[i]);
        ck_assert_uint_eq(off, strlen(bad[i]));
    }
    ck_assert_uint_eq(events_count("A.created\t{}\nnonsense\nA.updated\t{}\n", 35), 1);
}
END_TEST

/* ---- the topology ---- */

START_TEST(topology_of_the_events)
{
    struct wr_amqp_object o[WR_AMQP_EVENTS_MAX];
    struct wr_err err = {0};
    ck_assert_int_eq(wr_amqp_events_topology("catalog", 1048576, "7D", o, &err),
                     WR_AMQP_EVENTS_MAX);
    ck_assert_int_eq(o[0].kind, WR_AMQP_EXCHANGE);
    ck_assert_str_eq(o[0].name, "warren.events");
    ck_assert_str_eq(o[0].type, "topic");
    ck_assert_int_eq(o[1].kind, WR_AMQP_QUEUE);
    ck_assert_str_eq(o[1].name, "warren.catalog.events");
    ck_assert_str_eq(o[1].args[0].str, "stream");
    ck_assert_int_eq(o[1].args[1].num, 1048576);
    ck_assert_str_eq(o[1].args[2].str, "7D");
    ck_assert_int_eq(o[2].kind, WR_AMQP_BINDING);
    ck_assert_str_eq(o[2].name, "warren.catalog.events");
    ck_assert_str_eq(o[2].source, "warren.events");
    ck_assert_str_eq(o[2].key, "catalog.#");
    /* every service declares the exchange too */
    struct wr_amqp_object all[WR_AMQP_TOPOLOGY_MAX];
    ck_assert_int_eq(wr_amqp_topology("catalog", all, &err), WR_AMQP_TOPOLOGY_MAX);
    ck_assert_str_eq(all[WR_AMQP_TOPOLOGY_MAX - 1].name, "warren.events");
    char longname[200];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_int_eq(wr_amqp_events_topology(longname, 1048576, "", o, &err), WR_EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, walk_gives_each_row_with_its_values);
    tcase_add_test(tc, walk_of_nothing_and_of_noise);
    tcase_add_test(tc, walk_stops_at_a_callback_error);
    tcase_add_test(tc, old_outbox_gets_the_events_column);
    tcase_add_test(tc, lines_split_at_the_last_tab_and_dot);
    tcase_add_test(tc, lines_bad_or_absent_end_the_walk);
    tcase_add_test(tc, topology_of_the_events);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(suite(), false);
}
