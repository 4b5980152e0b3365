/* The OpenAPI document's paths past the basic ones (see apidoc_int.h): one
 * related object (/api/<c>/{id}/<relation>/{related_id}: read, and unlink
 * where METHODS let it), HEAD and OPTIONS on every path, the Link header
 * of every page, and the parameters of keyset walks and full text. */
#include <stdio.h>
#include <string.h>

#include "ops/apidoc_int.h"

void apidoc__walk_parameters(json_t *p)
{
    json_object_set_new(
        p, "before",
        json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "name", "before", "in", "query", "description",
                  "a backward keyset cursor from a cursor page's Link rel=\"prev\": the page "
                  "before it (never with after)",
                  "schema", "type", "string", "pattern", "^[A-Za-z0-9_-]+$"));
    json_object_set_new(p, "related_id",
                        json_pack("{s:s,s:s,s:b,s:s,s:{s:s}}", "name", "related_id", "in", "path",
                                  "required", 1, "description",
                                  "the related object's primary key (composite keys joined by "
                                  "',')",
                                  "schema", "type", "string"));
}

void apidoc__related_object_path(json_t *paths, const schema *s, const struct collection *c,
                                 const struct relation *r)
{
    const struct collection *t = schema_at(s, r->target);
    char path[600], op_id[300];
    (void)snprintf(op_id, sizeof(op_id), "%.128s_%.128s", c->name, r->name);
    json_t *item = json_pack(
        "{s:o}", "get",
        apidoc__operation(
            "related_object", op_id, "One related object, when it is related (else a 404)",
            json_pack("[o,o,o,o]", apidoc__ref("parameters", "id"),
                      apidoc__ref("parameters", "related_id"), apidoc__ref("parameters", "depth"),
                      apidoc__ref("parameters", "fields")),
            apidoc__responses("200", "the related object", apidoc__ref("schemas", t->name))));
    /* unlinking writes the row that holds the key: the target's for a
     * to-many, this collection's for a to-one (ops/write_relations.c) */
    if (schema_allows(r->to_many ? t : c, METHOD_PATCH | METHOD_PUT))
        json_object_set_new(
            item, "delete",
            apidoc__operation("unlink", op_id,
                              "Take the related object out of the relation (its key set to "
                              "null; the object stays)",
                              json_pack("[o,o]", apidoc__ref("parameters", "id"),
                                        apidoc__ref("parameters", "related_id")),
                              apidoc__responses("204", "unlinked", NULL)));
    (void)snprintf(path, sizeof(path), "/api/%.128s/{id}/%.128s/{related_id}", c->name, r->name);
    json_object_set_new(paths, path, item);
}

/* Whether op's 200 answers a page (a <c>_page schema): it has a Link. */
static bool answers_page(json_t *op)
{
    json_t *ok = json_object_get(json_object_get(op, "responses"), "200");
    json_t *sch = json_object_get(
        json_object_get(json_object_get(ok, "content"), "application/json"), "schema");
    const char *ref = json_string_value(json_object_get(sch, "$ref"));
    size_t n = ref ? strlen(ref) : 0;
    return n > 5 && strcmp(ref + n - 5, "_page") == 0;
}

/* Every path: the Link header on pages, HEAD where there is GET (the same
 * answer without its body) and OPTIONS (CORS preflight, with Allow). */
void apidoc__head_options(json_t *paths)
{
    for (void *it = json_object_iter(paths); it != NULL; it = json_object_iter_next(paths, it)) {
        json_t *item = json_object_iter_value(it);
        json_t *get = json_object_get(item, "get");
        if (get != NULL && answers_page(get))
            json_object_set_new(
                json_object_get(json_object_get(get, "responses"), "200"), "headers",
                json_pack("{s:{s:s,s:{s:s}}}", "Link", "description",
                          "RFC 8288 links to the first, prev, next and last pages (next and prev "
                          "by keyset cursor on a walk: after=, before=), as Flask-Restless "
                          "writes them; absent for an empty list",
                          "schema", "type", "string"));
        const char *first_id = NULL;
        static const char *const methods[] = {"get", "post", "patch", "put", "delete"};
        for (size_t m = 0; m < 5 && first_id == NULL; m++)
            first_id = json_string_value(
                json_object_get(json_object_get(item, methods[m]), "operationId"));
        char id[400];
        if (get != NULL) {
            json_t *head = json_deep_copy(get);
            (void)snprintf(id, sizeof(id), "head_%.390s", first_id ? first_id : "");
            json_object_set_new(head, "operationId", json_string(id));
            json_object_set_new(head, "summary",
                                json_string("GET's status and headers, without the body"));
            json_t *resps = json_object_get(head, "responses");
            for (void *r = json_object_iter(resps); r != NULL; r = json_object_iter_next(resps, r))
                json_object_del(json_object_iter_value(r), "content");
            json_object_set_new(item, "head", head);
        }
        (void)snprintf(id, sizeof(id), "options_%.390s", first_id ? first_id : "");
        json_object_set_new(
            item, "options",
            json_pack(
                "{s:s,s:s,s:[],s:{s:{s:s,s:{s:{s:s,s:{s:s}}}}}}", "operationId", id, "summary",
                "CORS preflight and the methods this path takes (Allow); not audited", "parameters",
                "responses", "204", "description", "the methods, in Allow", "headers", "Allow",
                "description", "the methods this path takes", "schema", "type", "string"));
    }
}
