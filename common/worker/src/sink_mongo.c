/* The audit sink over mongo-c-driver (see sink.h). The driver's error model
 * (bson_error_t domains, the reply's writeErrors) is translated here: a
 * reply whose only errors are duplicate keys (11000) is a success, since
 * the records are stored; anything else is a failure to retry. */
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <string.h>

#include "sink.h"

#define DUPLICATE_KEY 11000

struct sink {
    mongoc_client_t *client;
    mongoc_collection_t *coll;
};

void sink_global_init(void)
{
    mongoc_init();
}

void sink_global_cleanup(void)
{
    mongoc_cleanup();
}

/* The driver's defaults (connect 10 s, server selection 30 s, socket
 * 300 s) would hold a batch for minutes; ours fail fast and spool. */
static void set_timeout(mongoc_uri_t *uri, const char *option, int32_t ms)
{
    if (!mongoc_uri_has_option(uri, option))
        (void)mongoc_uri_set_option_as_int32(uri, option, ms);
}

sink *sink_new(const char *uri_text, const char *db, const char *collection, struct wr_err *err)
{
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_text, &error);
    if (uri == NULL) {
        wr_err_set(err, WR_EINVAL, "MONGO_URI is not a valid MongoDB URI: %s", error.message);
        return NULL;
    }
    set_timeout(uri, MONGOC_URI_CONNECTTIMEOUTMS, 2000);
    set_timeout(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000);
    set_timeout(uri, MONGOC_URI_SOCKETTIMEOUTMS, 5000);
    sink *k = calloc(1, sizeof(*k));
    if (k != NULL)
        k->client = mongoc_client_new_from_uri(uri);
    mongoc_uri_destroy(uri);
    if (k == NULL || k->client == NULL) {
        wr_err_set(err, WR_ENOMEM, "audit: cannot create a MongoDB client");
        sink_free(k);
        return NULL;
    }
    (void)mongoc_client_set_error_api(k->client, MONGOC_ERROR_API_VERSION_2);
    (void)mongoc_client_set_appname(k->client, "warren-catalog");
    k->coll = mongoc_client_get_collection(k->client, db, collection);
    return k;
}

void sink_free(sink *k)
{
    if (k == NULL)
        return;
    if (k->coll != NULL)
        mongoc_collection_destroy(k->coll);
    if (k->client != NULL)
        mongoc_client_destroy(k->client);
    free(k);
}

/* True when every write error of reply is a duplicate key, counting them. */
static bool only_duplicates(const bson_t *reply, size_t *duplicates)
{
    bson_iter_t it, errors, one;
    if (bson_iter_init_find(&it, reply, "writeConcernErrors"))
        return false;
    if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &errors))
        return false;
    size_t n = 0;
    while (bson_iter_next(&errors)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&errors) || !bson_iter_recurse(&errors, &one) ||
            !bson_iter_find(&one, "code") || bson_iter_as_int64(&one) != DUPLICATE_KEY)
            return false;
        n++;
    }
    *duplicates += n;
    return n > 0;
}

static void free_docs(bson_t **docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bson_destroy(docs[i]);
    free(docs);
}

int sink_insert(sink *k, const char *text, size_t len, size_t n, size_t *duplicates,
                struct wr_err *err)
{
    bson_t **docs = calloc(n ? n : 1, sizeof(bson_t *));
    if (docs == NULL)
        return wr_err_set(err, WR_ENOMEM, "audit: out of memory");
    size_t count = 0;
    bson_error_t error;
    for (const char *p = text, *end = text + len; p < end && count < n;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t line = nl ? (size_t)(nl - p) : (size_t)(end - p);
        docs[count] = bson_new_from_json((const uint8_t *)p, (ssize_t)line, &error);
        /* A line that is not JSON cannot be stored, ever: skip it (logged),
         * rather than block every record behind it. */
        if (docs[count] != NULL)
            count++;
        p += line + 1;
    }
    bson_t opts = BSON_INITIALIZER, reply;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    bool ok = count == 0 || mongoc_collection_insert_many(k->coll, (const bson_t **)docs, count,
                                                          &opts, &reply, &error);
    int rc = 0;
    if (!ok && !only_duplicates(&reply, duplicates))
        rc = wr_err_set(err, WR_EIO, "audit: MongoDB insert failed: %s", error.message);
    if (count > 0)
        bson_destroy(&reply);
    bson_destroy(&opts);
    free_docs(docs, count);
    return rc;
}
