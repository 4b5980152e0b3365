/* The runtime's MongoDB adapter over mongo-c-driver: the audit sink (see
 * sink.h) and the trail read back (warren/auditdb.h). The driver's error
 * model (bson_error_t domains, the reply's writeErrors) is translated
 * here: a reply whose only errors are duplicate keys (11000) is a success,
 * since the records are stored; anything else is a failure to retry. */
#include <jansson.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <string.h>

#include "sink.h"
#include "warren/auditdb.h"
#include "warren/json.h"

#define DUPLICATE_KEY 11000

/* A client and its collection: the sink's and the reader's. */
struct coll {
    mongoc_client_t *client;
    mongoc_collection_t *coll;
};

struct wr_sink {
    struct coll c;
};

struct wr_auditdb {
    struct coll c;
};

void wr_sink_global_init(void)
{
    mongoc_init();
}

void wr_sink_global_cleanup(void)
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

static void coll_close(struct coll *c)
{
    if (c->coll != NULL)
        mongoc_collection_destroy(c->coll);
    if (c->client != NULL)
        mongoc_client_destroy(c->client);
    *c = (struct coll){0};
}

/* The first host of uri the driver could never reach, or NULL when each
 * can be tried. mongo-c-driver 1.23 parses "mongodb://[nope" as the host
 * "[nope" (an IPv6 literal's bracket left open) rather than refusing it; a
 * host it parsed whole holds no bracket (it strips a literal's pair). A
 * mongodb+srv:// URI names no hosts, its SRV record does. */
static const char *unusable_host(const mongoc_uri_t *uri)
{
    const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri);
    if (h == NULL)
        return mongoc_uri_get_srv_hostname(uri) != NULL ? NULL : "";
    for (; h != NULL; h = h->next)
        if (h->host[0] == '\0' || strpbrk(h->host, "[]") != NULL)
            return h->host;
    return NULL;
}

/* Opens c's client for uri_text (no I/O yet: the driver connects on first
 * use). 0, WR_EINVAL (not a MongoDB URI, or a host list that is empty or
 * malformed) or WR_ENOMEM. */
static int coll_open(struct coll *c, const char *uri_text, const char *db, const char *collection,
                     const char *appname, struct wr_err *err)
{
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_text, &error);
    if (uri == NULL)
        return wr_err_set(err, WR_EINVAL, "MONGO_URI is not a valid MongoDB URI: %s",
                          error.message);
    const char *bad = unusable_host(uri);
    if (bad != NULL) {
        /* bad points into uri: the message is written before it goes */
        int rc =
            bad[0] == '\0'
                ? wr_err_set(err, WR_EINVAL, "MONGO_URI is not a valid MongoDB URI: no host")
                : wr_err_set(err, WR_EINVAL,
                             "MONGO_URI is not a valid MongoDB URI: host '%s' is malformed", bad);
        mongoc_uri_destroy(uri);
        return rc;
    }
    set_timeout(uri, MONGOC_URI_CONNECTTIMEOUTMS, 2000);
    set_timeout(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000);
    set_timeout(uri, MONGOC_URI_SOCKETTIMEOUTMS, 5000);
    c->client = mongoc_client_new_from_uri(uri);
    mongoc_uri_destroy(uri);
    if (c->client == NULL)
        return wr_err_set(err, WR_ENOMEM, "audit: cannot create a MongoDB client");
    (void)mongoc_client_set_error_api(c->client, MONGOC_ERROR_API_VERSION_2);
    (void)mongoc_client_set_appname(c->client, appname ? appname : "warren");
    c->coll = mongoc_client_get_collection(c->client, db, collection);
    return 0;
}

wr_sink *wr_sink_new(const char *uri, const char *db, const char *collection, const char *appname,
                     struct wr_err *err)
{
    wr_sink *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        wr_err_set(err, WR_ENOMEM, "audit: out of memory");
        return NULL;
    }
    if (coll_open(&k->c, uri, db, collection, appname, err) != 0) {
        wr_sink_free(k);
        return NULL;
    }
    return k;
}

void wr_sink_free(wr_sink *k)
{
    if (k == NULL)
        return;
    coll_close(&k->c);
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

/* What an insert checks of a document, checked first, so that one
 * document the driver would refuse never holds up its batch (the driver
 * refuses the whole batch). */
#define INSERT_CHECKS                                                                              \
    (BSON_VALIDATE_UTF8 | BSON_VALIDATE_EMPTY_KEYS | BSON_VALIDATE_DOT_KEYS |                      \
     BSON_VALIDATE_DOLLAR_KEYS)

/* The line as a document MongoDB takes, or NULL. */
static bson_t *document(const char *line, size_t len)
{
    bson_error_t error;
    bson_t *doc = bson_new_from_json((const uint8_t *)line, (ssize_t)len, &error);
    if (doc != NULL && !bson_validate_with_error(doc, INSERT_CHECKS, &error)) {
        bson_destroy(doc);
        doc = NULL;
    }
    return doc;
}

int wr_sink_insert(wr_sink *k, const char *text, size_t len, size_t n, size_t *duplicates,
                   struct wr_buf *rejected, struct wr_err *err)
{
    bson_t **docs = calloc(n ? n : 1, sizeof(bson_t *));
    if (docs == NULL)
        return wr_err_set(err, WR_ENOMEM, "audit: out of memory");
    size_t count = 0;
    bson_error_t error;
    for (const char *p = text, *end = text + len; p < end && count < n;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t line = nl ? (size_t)(nl - p) : (size_t)(end - p);
        docs[count] = document(p, line);
        /* A line MongoDB cannot take, ever: handed back to be kept apart,
         * rather than block every record behind it. */
        if (docs[count] != NULL)
            count++;
        else
            wr_buf_append(rejected, p, nl != NULL ? line + 1 : line);
        p += line + 1;
    }
    bson_t opts = BSON_INITIALIZER, reply;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    bool ok = count == 0 || mongoc_collection_insert_many(k->c.coll, (const bson_t **)docs, count,
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

wr_auditdb *wr_auditdb_new(const struct wr_auditdb_opts *o, struct wr_err *err)
{
    wr_auditdb *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        wr_err_set(err, WR_ENOMEM, "audit: out of memory");
        return NULL;
    }
    if (coll_open(&d->c, o->uri, o->db, o->collection, o->appname, err) != 0) {
        wr_auditdb_free(d);
        return NULL;
    }
    return d;
}

void wr_auditdb_free(wr_auditdb *d)
{
    if (d == NULL)
        return;
    coll_close(&d->c);
    free(d);
}

/* Appends doc canonically: relaxed Extended JSON read back by jansson
 * (numbers as the driver wrote them become doubles and integers again, so
 * the canonical writer prints each the shortest way). */
static int append_doc(struct wr_buf *out, const bson_t *doc, struct wr_err *err)
{
    size_t len = 0;
    char *text = bson_as_relaxed_extended_json(doc, &len);
    json_error_t jerr;
    json_t *j = text != NULL ? json_loadb(text, len, 0, &jerr) : NULL;
    bson_free(text);
    if (j == NULL)
        return wr_err_set(err, WR_EIO, "audit: a stored document cannot be read back");
    wr_json_value(out, j);
    json_decref(j);
    return wr_buf_error(out) != 0 ? wr_err_set(err, wr_buf_error(out), "audit: answer too large")
                                  : 0;
}

int wr_auditdb_find(wr_auditdb *d, const char *request_id, size_t max, struct wr_buf *out,
                    size_t *n, struct wr_err *err)
{
    *n = 0;
    bson_t *filter = BCON_NEW("request_id", BCON_UTF8(request_id));
    bson_t *opts =
        BCON_NEW("sort", "{", "time", BCON_INT32(1), "}", "limit", BCON_INT64((int64_t)max));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(d->c.coll, filter, opts, NULL);
    const bson_t *doc;
    int rc = 0;
    while (rc == 0 && *n < max && mongoc_cursor_next(cur, &doc)) {
        if (*n > 0)
            wr_buf_putc(out, ',');
        rc = append_doc(out, doc, err);
        (*n)++;
    }
    bson_error_t error;
    if (rc == 0 && mongoc_cursor_error(cur, &error))
        rc = wr_err_set(err, WR_EIO, "audit: MongoDB query failed: %s", error.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    bson_destroy(filter);
    return rc;
}
