/* The API's own documents, made from the introspected schema and the
 * config: GET /api (the collections, their URLs and methods) and GET
 * /api/openapi.json (an OpenAPI 3.1 description of every route the edge
 * serves for them). Pure: no I/O. */
#ifndef CATALOG_APIDOC_H
#define CATALOG_APIDOC_H

#include <stdbool.h>

#include "model/schema.h"
#include "warren/buf.h"
#include "warren/cfg.h"

/* `{"collections":[{"methods":["GET",...],"name":"Albums","url":"<base>/api/Albums"},...]}`
 * (methods: the METHODS words the collection takes, in a fixed order)
 * and a newline, sorted by name; base_url may be NULL (bare paths). 0 or
 * out's error (WR_ENOMEM, WR_ETOOBIG). */
int apidoc_collections(struct wr_buf *out, const schema *s, const char *base_url);

/* The OpenAPI 3.1 document and a newline (keys sorted). Paths: /api,
 * /api/openapi.json, /api/_batch (when a collection takes writes), and per
 * collection /api/<c> (list, and create (one object or a list, Prefer),
 * update and delete of many as METHODS allows), /api/<c>/{id} (get;
 * update, delete as allowed), /api/<c>/{id}/<relation> per visible
 * relation, /api/eval/<c>. Component schemas: per collection `<c>` (an
 * object at depth 1, with `x-primary-key`, the key's attributes),
 * `<c>_flat` (depth 0), `<c>_page`; `Error`, `BatchOperation`,
 * `BatchResults`. 0 or an error as above. */
int apidoc_openapi(struct wr_buf *out, const schema *s, const char *base_url);

#endif
