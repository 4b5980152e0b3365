/* The OpenAPI document's writes of many objects (see apidoc_int.h): the
 * create that takes a list and the Prefer header, and POST /api/_batch;
 * and the parameters fields and Prefer. */
#include "ops/apidoc_int.h"

void apidoc__parameters(json_t *p)
{
    json_object_set_new(
        p, "fields",
        json_pack("{s:s,s:s,s:s,s:{s:s}}", "name", "fields", "in", "query", "description",
                  "the fields shown, narrowing what the config shows: attributes and relations "
                  "separated by ',', relation.attribute for a relation's objects (at depth 2 "
                  "relation.relation too); a hidden or unknown name is a 400",
                  "schema", "type", "string"));
    json_object_set_new(
        p, "Prefer",
        json_pack("{s:s,s:s,s:s,s:{s:s}}", "name", "Prefer", "in", "header", "description",
                  "return=minimal: answer {\"num_created\": n} (and num_updated) instead of the "
                  "objects; resolution=merge-duplicates: insert or update each object by its "
                  "primary key (an upsert, which needs PATCH or PUT in METHODS too)",
                  "schema", "type", "string"));
}

json_t *apidoc__create(const struct collection *c)
{
    json_t *one = apidoc__ref("schemas", c->name);
    json_t *many =
        json_pack("{s:s,s:o,s:s}", "type", "array", "items", apidoc__ref("schemas", c->name),
                  "description", "a bulk create: at most MAX_BULK objects, in one transaction");
    json_t *count =
        json_pack("{s:s,s:[s],s:{s:{s:s},s:{s:s}}}", "type", "object", "required", "num_created",
                  "properties", "num_created", "type", "integer", "num_updated", "type", "integer");
    json_t *answers = json_pack(
        "{s:[o,o,o]}", "oneOf", apidoc__ref("schemas", c->name),
        json_pack("{s:s,s:o}", "type", "array", "items", apidoc__ref("schemas", c->name)), count);
    json_t *params = json_pack("[o]", apidoc__ref("parameters", "Prefer"));
    json_t *op = apidoc__operation(
        "create", c->name,
        "Create an object, or a list of objects (all or none); with Prefer, upsert or "
        "answer a count",
        params,
        apidoc__responses("201",
                          "the new object (a list for a list; with Prefer: "
                          "return=minimal the count)",
                          answers));
    json_t *body = json_pack("{s:b}", "required", 1);
    json_object_update_new(body, apidoc__json_body(json_pack("{s:[o,o]}", "oneOf", one, many)));
    json_object_set_new(op, "requestBody", body);
    return op;
}

void apidoc__batch(json_t *paths, json_t *schemas, const schema *s)
{
    if (!schema_writable(s))
        return;
    json_object_set_new(
        schemas, "BatchOperation",
        json_pack("{s:s,s:[ss],s:b,s:{s:{s:s,s:[ssss]},s:{s:s,s:s},s:{s:s}}}", "type", "object",
                  "required", "method", "path", "additionalProperties", 0, "properties", "method",
                  "type", "string", "enum", "POST", "PATCH", "PUT", "DELETE", "path", "type",
                  "string", "description",
                  "/api/<c> (POST one object; PATCH, PUT, DELETE every object: PATCH_MANY, "
                  "DELETE_MANY), /api/<c>/<id> (PATCH, PUT, DELETE), "
                  "/api/<c>/<id>/<relation>/<related id> (DELETE); no query",
                  "body", "type", "object"));
    json_object_set_new(schemas, "BatchResults",
                        json_pack("{s:s,s:[s],s:{s:{s:s,s:{s:s,s:[ss],s:{s:{},s:{s:s}}}}}}", "type",
                                  "object", "required", "results", "properties", "results", "type",
                                  "array", "items", "type", "object", "required", "body", "status",
                                  "properties", "body", "status", "type", "integer"));
    json_t *op = apidoc__operation(
        "batch", "api",
        "Apply up to 100 writes in one transaction, all or nothing (a failed operation's error "
        "is the answer, with its index as operation; nothing is applied)",
        json_array(),
        apidoc__responses("200", "each operation's status and body, in order",
                          apidoc__ref("schemas", "BatchResults")));
    json_t *body = json_pack("{s:b}", "required", 1);
    json_object_update_new(
        body,
        apidoc__json_body(json_pack("{s:s,s:i,s:i,s:o}", "type", "array", "minItems", 1, "maxItems",
                                    100, "items", apidoc__ref("schemas", "BatchOperation"))));
    json_object_set_new(op, "requestBody", body);
    json_object_set_new(paths, "/api/_batch", json_pack("{s:o}", "post", op));
}
