/* The explorer's files as the build compiled them into the edge
 * (explorer/embed.cmake writes the definitions from services/edge/explorer/):
 * read-only data, no I/O. */
#ifndef EDGE_EXPLORER_ASSETS_H
#define EDGE_EXPLORER_ASSETS_H

#include <stddef.h>

struct explorer_asset {
    const char *name;          /* the file's name in explorer/, e.g. "app.js" */
    const unsigned char *data; /* its bytes (not NUL-terminated) */
    size_t len;
    const char *etag; /* a strong ETag, quotes included: a hash of the bytes */
};

extern const struct explorer_asset explorer_assets[];
extern const size_t explorer_asset_count;

#endif
