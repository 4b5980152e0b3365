/* The change events' SQLite side (see store.h, "Change events"): walking
 * a changeset's rows with SQLite's changeset iterator, and calling the
 * events hook with who writes the transaction, so that the outbox entry
 * carries the events rendered before its commit. */
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

void store_on_events(store *st, store_events_fn fn, void *arg)
{
    struct store_changes *ch = store__changes(st);
    ch->on_events = fn;
    ch->on_events_arg = arg;
}

void store_set_writer(store *st, const char *request_id, const char *principal)
{
    if (st == NULL)
        return;
    struct store_changes *ch = store__changes(st);
    (void)snprintf(ch->request_id, sizeof(ch->request_id), "%s", request_id ? request_id : "");
    ch->has_principal = principal != NULL;
    (void)snprintf(ch->principal, sizeof(ch->principal), "%s", principal ? principal : "");
}

int store__events_render(store *st, const void *changeset, size_t len, struct wr_buf *out,
                         struct wr_err *err)
{
    struct store_changes *ch = store__changes(st);
    if (ch->on_events == NULL)
        return 0;
    struct store_tx_info tx = {.position = ch->pending,
                               .at_ms = ch->pending_at,
                               .request_id = ch->request_id,
                               .principal = ch->has_principal ? ch->principal : NULL};
    int rc = ch->on_events(ch->on_events_arg, st, &tx, changeset, len, out, err);
    /* the next transaction names its own writer */
    ch->request_id[0] = '\0';
    ch->has_principal = false;
    return rc;
}

/* One value of the iterator (NULL: absent from the changeset) as ours. */
static struct value to_value(sqlite3_value *v)
{
    struct value out = {.kind = V_NULL};
    if (v == NULL)
        return out;
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        out.kind = V_INT;
        out.i = sqlite3_value_int64(v);
        break;
    case SQLITE_FLOAT:
        out.kind = V_REAL;
        out.d = sqlite3_value_double(v);
        break;
    case SQLITE_TEXT:
        out.kind = V_TEXT;
        out.s = (const char *)sqlite3_value_text(v);
        out.n = (size_t)sqlite3_value_bytes(v);
        break;
    case SQLITE_BLOB:
        out.kind = V_BLOB;
        out.s = sqlite3_value_blob(v);
        out.n = (size_t)sqlite3_value_bytes(v);
        break;
    default:
        break;
    }
    return out;
}

/* The row the iterator is at into cols (ncols of them). */
static int row_values(sqlite3_changeset_iter *it, int op, int ncols, struct value *cols)
{
    for (int i = 0; i < ncols; i++) {
        sqlite3_value *v = NULL;
        int rc = SQLITE_OK;
        if (op == SQLITE_DELETE) {
            rc = sqlite3changeset_old(it, i, &v);
        } else {
            rc = sqlite3changeset_new(it, i, &v);
            if (rc == SQLITE_OK && v == NULL && op == SQLITE_UPDATE)
                rc = sqlite3changeset_old(it, i, &v); /* unchanged: the key's */
        }
        if (rc != SQLITE_OK)
            return rc;
        cols[i] = to_value(v);
    }
    return SQLITE_OK;
}

int store_changeset_rows(const void *changeset, size_t len, store_row_fn_t fn, void *arg,
                         struct wr_err *err)
{
    if (len == 0)
        return 0;
    if (len > (size_t)0x7fffffff)
        return wr_err_set(err, WR_EINVAL, "changeset too large");
    sqlite3_changeset_iter *it = NULL;
    int rc = sqlite3changeset_start(&it, (int)len, (void *)changeset);
    struct value *cols = NULL;
    int cap = 0, result = 0;
    while (rc == SQLITE_OK && result == 0 && (rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
        const char *table = NULL;
        int ncols = 0, op = 0, indirect = 0;
        rc = sqlite3changeset_op(it, &table, &ncols, &op, &indirect);
        if (rc == SQLITE_OK && ncols > cap) {
            struct value *more = realloc(cols, sizeof(*cols) * (size_t)ncols);
            if (more == NULL) {
                result = wr_err_set(err, WR_ENOMEM, "out of memory");
                break;
            }
            cols = more;
            cap = ncols;
        }
        if (rc == SQLITE_OK)
            rc = row_values(it, op, ncols, cols);
        if (rc != SQLITE_OK)
            break;
        struct store_row r = {.table = table,
                              .op = op == SQLITE_INSERT   ? STORE_ROW_INSERT
                                    : op == SQLITE_DELETE ? STORE_ROW_DELETE
                                                          : STORE_ROW_UPDATE,
                              .cols = cols,
                              .ncols = (size_t)ncols};
        result = fn(arg, &r);
    }
    int frc = sqlite3changeset_finalize(it);
    free(cols);
    if (result != 0)
        return result;
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return wr_err_set(err, WR_EINVAL, "not a changeset: %s", sqlite3_errstr(rc));
    if (frc != SQLITE_OK)
        return wr_err_set(err, WR_EINVAL, "not a changeset: %s", sqlite3_errstr(frc));
    return 0;
}
