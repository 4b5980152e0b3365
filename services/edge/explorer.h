/* The browser explorer: a static page (HTML, CSS, JavaScript from
 * services/edge/explorer/, compiled into the binary) at / and /explorer/,
 * with its files under /explorer/. Only these paths are the explorer's;
 * every other answer of the edge is untouched by it, and only its answers
 * carry its Content-Security-Policy. */
#ifndef EDGE_EXPLORER_H
#define EDGE_EXPLORER_H

#include <stdbool.h>

#include "respond.h"

/* Whether path is the explorer's: "/", "/explorer" or "/explorer/...". */
bool explorer_claims(const char *path);

/* Answers a->req for an explorer path (explorer_claims was true): the
 * file with its Content-Type, ETag (304 when If-None-Match names it),
 * Cache-Control and security headers; HEAD without the body; a JSON 404
 * for a file the explorer lacks, then a JSON 405 (Allow: GET, HEAD) for
 * any other method. Counts the answer in a->metrics under a->route.
 * a->req is freed afterwards (answered). */
void explorer_serve(const struct ask *a, const char *path);

#endif
