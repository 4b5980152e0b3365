/* A read request, normalised into its cache key (parameter order and
 * defaults make no new keys) and the tables whose data its answer holds,
 * as the names of their generation counters. Pure: no I/O. */
#ifndef CATALOG_REQKEY_H
#define CATALOG_REQKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/cache.h"
#include "model/schema.h"
#include "warren/buf.h"
#include "warren/rpc.h"

#define REQKEY_GEN_PREFIX "warren:gen:"

struct reqkey {
    struct wr_buf key;
    char deps[CACHE_MAX_DEPS][192];
    const char *dep_names[CACHE_MAX_DEPS];
    size_t ndeps;
};

struct reqkey_opts {
    const char *service;
    long default_per_page;
    long max_per_page;
    /* reqkey_schema_tag of the served model: workers whose names, hidden
     * fields, DEPTH or COUNT differ (a config change) never share replies */
    char schema_tag[17];
    long count_max; /* COUNT_MAX: where counts stop shapes pages too */
};

/* A fingerprint (16 hex) of everything in s that shapes answers. */
void reqkey_schema_tag(char out[17], const schema *s);

void reqkey_init(struct reqkey *k);
void reqkey_release(struct reqkey *k);

/* The page size req gets: its results_per_page, else default_per_page,
 * clamped to max_per_page. The handlers and the cache key both use it, so
 * two requests answered alike share a key. */
long reqkey_per_page(const struct wr_request *req, long default_per_page, long max_per_page);
/* The depth c's objects are written at for req: 0 when the collection's
 * DEPTH is 0 (no request lifts it), else the request's depth when given
 * (the worker clamped it to MAX_DEPTH), else DEPTH. */
int reqkey_depth(const struct collection *c, const struct wr_request *req);
/* Whether req's pages of c skip COUNT(*): the collection's COUNT is none,
 * or the request asks count=none. */
bool reqkey_uncounted(const struct collection *c, const struct wr_request *req);

/* Fills k for req, answered with base_url's links. False when the request
 * is not cacheable (unknown collection or relation, too many tables). */
bool reqkey_build(struct reqkey *k, const schema *s, const struct wr_request *req,
                  const char *base_url, const struct reqkey_opts *o);

/* The generation counter of table (for writers): "warren:gen:<table>". */
void reqkey_gen_name(char *out, size_t cap, const char *table);

#endif
