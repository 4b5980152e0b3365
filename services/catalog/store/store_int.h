/* What the SQLite adapter's files share: store_sqlite.c (opening,
 * statements, transactions) calls the change log's hooks in
 * changes_sqlite.c at each write transaction's begin, commit and rollback;
 * introspect_sqlite.c fills the definitions the store keeps. Internal to
 * the adapter. */
#ifndef CATALOG_STORE_INT_H
#define CATALOG_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

struct sqlite3;

/* A writer's change log: with outbox set, each write transaction records
 * its changes (a session) and its commit adds them to warren_outbox. */
struct store_changes {
    bool outbox;
    void *session;             /* the sqlite3_session of the open transaction, or NULL */
    long long pending;         /* the position the open transaction's commit takes */
    long long position;        /* the position of the last commit; 0 before the first */
    long long pending_at;      /* its commit time, epoch ms */
    store_commit_fn on_commit; /* told each committed position, or NULL */
    void *on_commit_arg;
    store_events_fn on_events; /* renders each transaction's events, or NULL */
    void *on_events_arg;
    char request_id[64]; /* who writes the open transaction (store_set_writer) */
    char principal[256];
    bool has_principal;
};

/* Introspected definitions and the strings they point to, owned by the
 * store (store__defs_free frees them). */
struct store_defs {
    struct schema_table_def *tables;
    size_t n;
    char **strings;
    size_t nstrings;
    bool nomem; /* a copy failed: some definition lacks a string */
};

struct sqlite3 *store__db(store *st);
struct store_defs *store__defs(store *st);
/* Empties d, freeing what it holds; d may be filled again. */
void store__defs_free(struct store_defs *d);
/* The one translation of a SQLite result code rc to WR_E* (what names the
 * statement in the message): busy, constraint, interrupt (deadline or
 * budget) and all else as WR_EIO. Returns the WR_E* code. */
int store__db_error(store *st, int rc, const char *what, struct wr_err *err);
struct store_changes *store__changes(store *st);
/* store_open's worker: read-only, or read-write without creating. */
store *store__open(const char *uri, bool writer, struct wr_err *err);

/* After BEGIN: starts recording (when st logs changes). 0 or WR_E*. */
int store__changes_begin(store *st, struct wr_err *err);
/* Before COMMIT: adds the recorded changes to warren_outbox at the next
 * position. 0 or WR_E*. */
int store__changes_record(store *st, struct wr_err *err);
/* Inside the transaction, at position: its events (changes_events.c)
 * into out, nothing without a hook. 0 or WR_E*. */
int store__events_render(store *st, const void *changeset, size_t len, struct wr_buf *out,
                         struct wr_err *err);

/* After COMMIT (committed true) or a rollback: stops recording; a commit
 * makes the pending position the store's. */
void store__changes_end(store *st, bool committed);

#endif
