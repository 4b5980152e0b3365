/* What the two files of the OpenAPI document share (apidoc.c: reads,
 * objects, the components; apidoc_many.c: writes of many objects, bulk
 * creates and batches; apidoc_export.c: exports). jansson trees: each function returns a new
 * reference the caller owns (or hands to a json_*_new). */
#ifndef CATALOG_APIDOC_INT_H
#define CATALOG_APIDOC_INT_H

#include <jansson.h>

#include "model/schema.h"

/* {"$ref": "#/components/<kind>/<name>"} */
json_t *apidoc__ref(const char *kind, const char *name);
/* {"content": {"application/json": {"schema": body_schema}}}; takes body_schema. */
json_t *apidoc__json_body(json_t *body_schema);
/* ok_status with ok_schema (taken; NULL: no body), and the errors every
 * route can answer. */
json_t *apidoc__responses(const char *ok_status, const char *ok_what, json_t *ok_schema);
/* An operation: operationId <id>_<c>, its summary, parameters and
 * responses (both taken). */
json_t *apidoc__operation(const char *id, const char *c, const char *summary, json_t *parameters,
                          json_t *resp);

/* POST /api/<c>: one object or a list (a bulk create), the Prefer header,
 * the answers of both. */
json_t *apidoc__create(const struct collection *c);
/* Into paths, /api/_batch when some collection takes writes; into schemas
 * BatchOperation and BatchResults. */
void apidoc__batch(json_t *paths, json_t *schemas, const schema *s);
/* Into a list's GET operation (apidoc_export.c): its CSV and NDJSON
 * answers, the format parameter and the 406. */
void apidoc__export(json_t *list_get);
/* The parameters fields and Prefer into p (components.parameters). */
void apidoc__parameters(json_t *p);

/* apidoc_paths.c: the parameters before and related_id into p; */
void apidoc__walk_parameters(json_t *p);
/* into paths, /api/<c>/{id}/<r>/{related_id} (GET; DELETE, an unlink,
 * where the row holding the key takes PATCH or PUT); */
void apidoc__related_object_path(json_t *paths, const schema *s, const struct collection *c,
                                 const struct relation *r);
/* and, once every path is in, the Link header of pages and HEAD and
 * OPTIONS on every path. */
void apidoc__head_options(json_t *paths);

#endif
