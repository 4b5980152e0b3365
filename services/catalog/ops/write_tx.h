/* One write transaction that several writes share: the operations of a
 * batch, or the objects of a bulk create. A handler_env copy carries it
 * (env->tx). In a deferred transaction (a batch's) the writes of
 * writes.h, write_many.h and write_relations.h neither begin nor commit
 * (write_tx_begin, write_tx_finish: the batch does both, once), and read
 * nothing back (reads_object notes what to read after the commit,
 * write_tx_defer_read). In any transaction the tables whose cache
 * generations a commit must bump are noted, and bumped once each after
 * the commit (write_tx_bump_all). Without env->tx every function here is
 * the plain write's step. */
#ifndef CATALOG_WRITE_TX_H
#define CATALOG_WRITE_TX_H

#include <stdbool.h>

#include "ops/op.h"

#define WRITE_TX_MAX_TABLES 64
#define WRITE_TX_KEY 1100

struct write_tx {
    bool deferred; /* a batch's: no begin, commit or read-back per write */
    const char *tables[WRITE_TX_MAX_TABLES]; /* to bump after the commit (borrowed) */
    size_t ntables;
    bool all_tables; /* more than WRITE_TX_MAX_TABLES: bump every table */
    /* the last write's read-back, noted by write_tx_defer_read */
    bool readback;
    const struct collection *readback_c;
    char readback_key[WRITE_TX_KEY];
};

/* write_begin_once, or 0 (nothing to begin) in a deferred transaction. */
int write_tx_begin(const struct handler_env *env, const struct collection *c,
                   const struct wr_request *req, const char *base_url, struct wr_answer *out,
                   struct wr_err *err);
/* write_finish, or in a deferred transaction: notes c's table for the
 * bump and returns 0 with out->status still 0 (the caller goes on as
 * after a commit). */
int write_tx_finish(const struct handler_env *env, const struct collection *c,
                    const struct wr_request *req, int status, const char *key, const char *location,
                    struct wr_answer *out, struct wr_err *err);
/* After a write's commit: bumps table's cache generation, or inside a
 * transaction notes it for write_tx_bump_all. */
void write_tx_bump(const struct handler_env *env, const char *table);
/* In a deferred transaction: notes c's object with key to be read back
 * after the commit, answers status (no body) into out and is true; else
 * false (the caller reads it now). */
bool write_tx_defer_read(const struct handler_env *env, const struct collection *c, const char *key,
                         int status, struct wr_answer *out);
/* After tx's commit: bumps every noted table once, on env's cache, but
 * skip (NULL: none), which the commit's write_finish bumped already. */
void write_tx_bump_all(const struct handler_env *env, const struct write_tx *tx, const char *skip);

#endif
