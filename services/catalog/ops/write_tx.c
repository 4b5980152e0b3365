/* Shared write transactions (see write_tx.h). */
#include "ops/write_tx.h"

#include <stdio.h>
#include <string.h>

#include "ops/write_ledger.h"

static bool deferred(const struct handler_env *env)
{
    return env->tx != NULL && env->tx->deferred;
}

int write_tx_begin(const struct handler_env *env, const struct collection *c,
                   const struct wr_request *req, const char *base_url, struct wr_answer *out,
                   struct wr_err *err)
{
    return deferred(env) ? 0 : write_begin_once(env, c, req, base_url, out, err);
}

int write_tx_finish(const struct handler_env *env, const struct collection *c,
                    const struct wr_request *req, int status, const char *key, const char *location,
                    struct wr_answer *out, struct wr_err *err)
{
    if (!deferred(env))
        return write_finish(env, c, req, status, key, location, out, err);
    write_tx_bump(env, c->table);
    return 0;
}

void write_tx_bump(const struct handler_env *env, const char *table)
{
    struct write_tx *tx = env->tx;
    if (tx == NULL) {
        cache_bump(env->cache, table, store_position(env->writer));
        return;
    }
    for (size_t i = 0; i < tx->ntables; i++)
        if (strcmp(tx->tables[i], table) == 0)
            return;
    if (tx->ntables == WRITE_TX_MAX_TABLES)
        tx->all_tables = true;
    else
        tx->tables[tx->ntables++] = table;
}

bool write_tx_defer_read(const struct handler_env *env, const struct collection *c, const char *key,
                         int status, struct wr_answer *out)
{
    if (!deferred(env))
        return false;
    struct write_tx *tx = env->tx;
    tx->readback = true;
    tx->readback_c = c;
    (void)snprintf(tx->readback_key, sizeof(tx->readback_key), "%s", key);
    wr_answer_reset(out);
    out->status = status;
    return true;
}

void write_tx_bump_all(const struct handler_env *env, const struct write_tx *tx, const char *skip)
{
    if (tx->all_tables) {
        for (size_t i = 0; i < schema_count(env->schema); i++) {
            const char *t = schema_at(env->schema, i)->table;
            if (skip == NULL || strcmp(t, skip) != 0)
                cache_bump(env->cache, t, store_position(env->writer));
        }
        return;
    }
    for (size_t i = 0; i < tx->ntables; i++)
        if (skip == NULL || strcmp(tx->tables[i], skip) != 0)
            cache_bump(env->cache, tx->tables[i], store_position(env->writer));
}
