/* GET /api and /api/openapi.json (see apidoc.h). Names are at most 128
 * bytes in the document (the edge routes no longer ones). The collection index is
 * written with the canonical writer; the OpenAPI document is built as a
 * jansson tree (it is large, nested and has no floats) and dumped with
 * sorted keys. */
#include "ops/apidoc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/apidoc_int.h"
#include "ops/render.h"
#include "warren/json.h"
#include "warren/proto.h"

/* The collections' indices in name order. The caller frees. */
static size_t *by_name(const schema *s)
{
    size_t n = schema_count(s);
    size_t *order = calloc(n + 1, sizeof(*order));
    if (order == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i;
             j > 0 && strcmp(schema_at(s, order[j - 1])->name, schema_at(s, order[j])->name) > 0;
             j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    return order;
}

int apidoc_collections(struct wr_buf *out, const schema *s, const char *base_url)
{
    size_t *order = by_name(s);
    if (order == NULL)
        return WR_ENOMEM;
    struct wr_buf url;
    wr_buf_init(&url, 4096);
    wr_buf_puts(out, "{\"collections\":[");
    for (size_t i = 0; i < schema_count(s); i++) {
        const struct collection *c = schema_at(s, order[i]);
        wr_buf_puts(out, i > 0 ? ",{\"methods\":[" : "{\"methods\":[");
        bool first = true;
        for (size_t m = 0; m < METHOD_COUNT; m++) {
            if (!schema_allows(c, 1u << m))
                continue;
            if (!first)
                wr_buf_putc(out, ',');
            first = false;
            wr_json_cstr(out, schema_method_name(m));
        }
        wr_buf_puts(out, "],\"name\":");
        wr_json_cstr(out, c->name);
        wr_buf_puts(out, ",\"url\":");
        wr_buf_reset(&url);
        render_collection_url(&url, base_url, c->name);
        wr_json_str(out, url.data ? url.data : "", url.len);
        wr_buf_putc(out, '}');
    }
    wr_buf_puts(out, "]}\n");
    wr_buf_release(&url);
    free(order);
    return wr_buf_error(out);
}

/* --- OpenAPI --- */

json_t *apidoc__ref(const char *kind, const char *name)
{
    char r[340];
    (void)snprintf(r, sizeof(r), "#/components/%.16s/%.299s", kind, name);
    return json_pack("{s:s}", "$ref", r);
}

static json_t *column_schema(const struct column *col)
{
    switch (col->type) {
    case COL_INTEGER:
        return json_pack("{s:[ss]}", "type", "integer", "null");
    case COL_REAL:
        return json_pack("{s:[ss]}", "type", "number", "null");
    case COL_TEXT:
        return json_pack("{s:[ss]}", "type", "string", "null");
    case COL_DATETIME:
        return json_pack("{s:[ss],s:s}", "type", "string", "null", "format", "date-time");
    case COL_DATE:
        return json_pack("{s:[ss],s:s}", "type", "string", "null", "format", "date");
    case COL_BLOB:
        return json_pack("{s:[ss],s:s}", "type", "string", "null", "contentEncoding", "base64");
    case COL_ANY:
        break;
    }
    return json_object(); /* any value */
}

/* <c>_flat: the visible columns; <c>: those and the visible relations. */
static void collection_schemas(json_t *schemas, const schema *s, const struct collection *c)
{
    json_t *flat = json_object(), *deep = json_object(), *key = json_array();
    for (size_t i = 0; i < c->nflat; i++) {
        const struct column *col = &c->cols[c->flat[i].index];
        json_object_set_new(flat, col->attr, column_schema(col));
        json_object_set_new(deep, col->attr, column_schema(col));
    }
    for (size_t i = 0; i < c->nrels; i++) {
        const struct relation *r = &c->rels[i];
        if (r->hidden)
            continue;
        char name[300];
        (void)snprintf(name, sizeof(name), "%.128s_flat", schema_at(s, r->target)->name);
        json_t *one =
            r->to_many
                ? json_pack("{s:s,s:o}", "type", "array", "items", apidoc__ref("schemas", name))
                : json_pack("{s:[o,{s:s}]}", "anyOf", apidoc__ref("schemas", name), "type", "null");
        json_object_set_new(deep, r->name, one);
    }
    for (size_t k = 0; k < c->npk; k++)
        json_array_append_new(key, json_string(c->cols[c->pk[k]].attr));
    char name[300];
    (void)snprintf(name, sizeof(name), "%.128s_flat", c->name);
    json_object_set_new(schemas, name,
                        json_pack("{s:s,s:o}", "type", "object", "properties", flat));
    json_object_set_new(schemas, c->name,
                        json_pack("{s:s,s:o,s:o,s:s}", "type", "object", "properties", deep,
                                  "x-primary-key", key, "description",
                                  "An object: its attributes and, at depth 1, its relations "
                                  "(to-one: an object or null; to-many: an array)"));
    (void)snprintf(name, sizeof(name), "%.128s_page", c->name);
    json_object_set_new(
        schemas, name,
        json_pack("{s:s,s:[ssss],s:{s:{s:[ss]},s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:o},s:{s:s,s:i},"
                  "s:{s:[ss]}}}",
                  "type", "object", "required", "num_results", "objects", "page", "total_pages",
                  "properties", "num_results", "type", "integer", "null", "num_results_estimated",
                  "type", "boolean", "description",
                  "true when num_results is sqlite_stat1's estimate (count=estimated)",
                  "num_results_truncated", "type", "boolean", "description",
                  "true when the count stopped at COUNT_MAX: num_results and total_pages are "
                  "lower bounds",
                  "objects", "type", "array", "items", apidoc__ref("schemas", c->name), "page",
                  "type", "integer", "minimum", 1, "total_pages", "type", "integer", "null"));
}

json_t *apidoc__json_body(json_t *body_schema)
{
    return json_pack("{s:{s:{s:o}}}", "content", "application/json", "schema", body_schema);
}

/* 200 with body schema, and the errors every route can answer. */
json_t *apidoc__responses(const char *ok_status, const char *ok_what, json_t *ok_schema)
{
    json_t *r = json_object();
    json_t *ok = ok_schema ? apidoc__json_body(ok_schema) : json_object();
    json_object_set_new(ok, "description", json_string(ok_what));
    json_object_set_new(r, ok_status, ok);
    static const char *const errors[] = {"400", "404", "405", "413", "503", "504"};
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        json_object_set_new(r, errors[i], apidoc__ref("responses", "Error"));
    return r;
}

static json_t *params(const char *const *names, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, apidoc__ref("parameters", names[i]));
    return a;
}

json_t *apidoc__operation(const char *id, const char *c, const char *summary, json_t *parameters,
                          json_t *resp)
{
    char op_id[300];
    (void)snprintf(op_id, sizeof(op_id), "%.32s_%.257s", id, c);
    return json_pack("{s:s,s:s,s:o,s:o}", "operationId", op_id, "summary", summary, "parameters",
                     parameters, "responses", resp);
}

static const char *const list_params[] = {"page",  "results_per_page", "q",     "depth", "count",
                                          "after", "before",           "fields"};
static const char *const page_params[] = {"page", "results_per_page", "depth", "count", "fields"};
static const char *const id_params[] = {"id", "depth", "fields"};
static const char *const write_params[] = {"id"};
#define N_PARAMS(a) (sizeof(a) / sizeof((a)[0]))

static void write_ops(json_t *item, const struct collection *c)
{
    if (schema_allows(c, METHOD_PATCH))
        json_object_set_new(item, "patch",
                            apidoc__operation("update", c->name, "Change attributes of an object",
                                              params(write_params, 1),
                                              apidoc__responses("200", "the object",
                                                                apidoc__ref("schemas", c->name))));
    if (schema_allows(c, METHOD_PUT))
        json_object_set_new(item, "put",
                            apidoc__operation("replace", c->name,
                                              "Change attributes of an object (as PATCH)",
                                              params(write_params, 1),
                                              apidoc__responses("200", "the object",
                                                                apidoc__ref("schemas", c->name))));
    if (schema_allows(c, METHOD_DELETE))
        json_object_set_new(item, "delete",
                            apidoc__operation("delete", c->name, "Delete an object",
                                              params(write_params, 1),
                                              apidoc__responses("204", "deleted", NULL)));
    json_t *body = json_pack("{s:b}", "required", 1);
    json_object_update_new(body, apidoc__json_body(apidoc__ref("schemas", c->name)));
    if (json_object_get(item, "patch"))
        json_object_set(json_object_get(item, "patch"), "requestBody", body);
    if (json_object_get(item, "put"))
        json_object_set(json_object_get(item, "put"), "requestBody", body);
    json_decref(body);
}

/* PATCH, PUT and DELETE of every object a q finds, where METHODS opts in. */
static void many_ops(json_t *item, const struct collection *c)
{
    static const char *const q_param[] = {"q"};
    json_t *count = json_pack("{s:s,s:{s:{s:s}}}", "type", "object", "properties", "num_modified",
                              "type", "integer");
    if (schema_allows(c, METHOD_PATCH_MANY)) {
        static const char *const verbs[] = {"patch", "put"};
        for (size_t i = 0; i < 2; i++) {
            json_t *op = apidoc__operation(
                i == 0 ? "update_many" : "replace_many", c->name,
                "Change attributes of every object q finds (no q: all)", params(q_param, 1),
                apidoc__responses("200", "{\"num_modified\": n}", json_incref(count)));
            json_t *body = json_pack("{s:b}", "required", 1);
            json_object_update_new(body, apidoc__json_body(apidoc__ref("schemas", c->name)));
            json_object_set_new(op, "requestBody", body);
            json_object_set_new(item, verbs[i], op);
        }
    }
    json_decref(count);
    if (schema_allows(c, METHOD_DELETE_MANY))
        json_object_set_new(
            item, "delete",
            apidoc__operation(
                "delete_many", c->name, "Delete every object q finds (no q: all)",
                params(q_param, 1),
                apidoc__responses("200", "{\"num_deleted\": n}",
                                  json_pack("{s:s,s:{s:{s:s}}}", "type", "object", "properties",
                                            "num_deleted", "type", "integer"))));
}

static void collection_paths(json_t *paths, const schema *s, const struct collection *c)
{
    char path[600], page[300];
    (void)snprintf(page, sizeof(page), "%.128s_page", c->name);
    json_t *list = json_object();
    json_object_set_new(
        list, "get",
        apidoc__operation("list", c->name, "A page of the collection's objects",
                          params(list_params, N_PARAMS(list_params)),
                          apidoc__responses("200", "a page", apidoc__ref("schemas", page))));
    apidoc__export(json_object_get(list, "get"));
    if (schema_allows(c, METHOD_POST))
        json_object_set_new(list, "post", apidoc__create(c));
    many_ops(list, c);
    (void)snprintf(path, sizeof(path), "/api/%.128s", c->name);
    json_object_set_new(paths, path, list);

    json_t *one = json_object();
    json_object_set_new(
        one, "get",
        apidoc__operation("get", c->name, "One object by its primary key",
                          params(id_params, N_PARAMS(id_params)),
                          apidoc__responses("200", "the object", apidoc__ref("schemas", c->name))));
    write_ops(one, c);
    (void)snprintf(path, sizeof(path), "/api/%.128s/{id}", c->name);
    json_object_set_new(paths, path, one);

    for (size_t i = 0; i < c->nrels; i++) {
        const struct relation *r = &c->rels[i];
        if (r->hidden)
            continue;
        const struct collection *t = schema_at(s, r->target);
        char target[300], op_id[300];
        (void)snprintf(target, sizeof(target), r->to_many ? "%.128s_page" : "%.128s", t->name);
        (void)snprintf(op_id, sizeof(op_id), "%.128s_%.128s", c->name, r->name);
        /* a to-many is a page: its parameters hold depth and fields once */
        json_t *rel_params = r->to_many ? params(write_params, N_PARAMS(write_params))
                                        : params(id_params, N_PARAMS(id_params));
        if (r->to_many) {
            json_t *more = params(page_params, N_PARAMS(page_params));
            json_array_extend(rel_params, more);
            json_decref(more);
        }
        json_t *ok = r->to_many ? apidoc__ref("schemas", target)
                                : json_pack("{s:[o,{s:s}]}", "anyOf",
                                            apidoc__ref("schemas", target), "type", "null");
        (void)snprintf(path, sizeof(path), "/api/%.128s/{id}/%.128s", c->name, r->name);
        json_object_set_new(
            paths, path,
            json_pack("{s:o}", "get",
                      apidoc__operation("related", op_id,
                                        r->to_many ? "A page of the related objects"
                                                   : "The related object, or null",
                                        rel_params, apidoc__responses("200", "related", ok))));
        apidoc__related_object_path(paths, s, c, r);
    }

    json_t *eval_params = json_pack("[{s:s,s:s,s:b,s:s,s:{s:s}}]", "name", "q", "in", "query",
                                    "required", 1, "description",
                                    "{\"functions\":[{\"name\":\"sum\",\"field\":\"...\"}], "
                                    "\"filters\":[...]} (count, sum, avg, min, max)",
                                    "schema", "type", "string");
    (void)snprintf(path, sizeof(path), "/api/eval/%.128s", c->name);
    json_object_set_new(
        paths, path,
        json_pack(
            "{s:o}", "get",
            apidoc__operation(
                "functions", c->name, "Functions over the rows a search leaves", eval_params,
                apidoc__responses("200", "{\"<function>__<field>\": value, ...}",
                                  json_pack("{s:s,s:{s:[ss]}}", "type", "object",
                                            "additionalProperties", "type", "number", "null")))));
}

static json_t *components(void)
{
    json_t *p = json_object();
    json_object_set_new(p, "page",
                        json_pack("{s:s,s:s,s:s,s:{s:s,s:i,s:I}}", "name", "page", "in", "query",
                                  "description", "the page, from 1", "schema", "type", "integer",
                                  "minimum", 1, "maximum", (json_int_t)WR_PAGE_MAX));
    json_object_set_new(
        p, "results_per_page",
        json_pack("{s:s,s:s,s:s,s:{s:s,s:i,s:I}}", "name", "results_per_page", "in", "query",
                  "description", "the page size (default 10, above the maximum clamped)", "schema",
                  "type", "integer", "minimum", 1, "maximum", (json_int_t)WR_PAGE_MAX));
    json_object_set_new(p, "q",
                        json_pack("{s:s,s:s,s:s,s:{s:s}}", "name", "q", "in", "query",
                                  "description",
                                  "a Flask-Restless search as JSON: filters, order_by, group_by, "
                                  "limit, offset, single; the operator match searches a "
                                  "collection's FTS5 index ({\"name\": \"title\" or \"*\", "
                                  "\"op\": \"match\", \"val\": \"rock OR roll\"}) and "
                                  "order_by {\"field\": \"_rank\"} orders by its rank",
                                  "schema", "type", "string"));
    json_object_set_new(p, "depth",
                        json_pack("{s:s,s:s,s:s,s:{s:s,s:[iii]}}", "name", "depth", "in", "query",
                                  "description",
                                  "0: objects without their relations; 1 (or absent): the "
                                  "collection's DEPTH; 2: the related objects with their own "
                                  "relations (clamped to MAX_DEPTH; DEPTH 0 stays 0)",
                                  "schema", "type", "integer", "enum", 0, 1, 2));
    json_object_set_new(
        p, "count",
        json_pack("{s:s,s:s,s:s,s:{s:s,s:[sss]}}", "name", "count", "in", "query", "description",
                  "exact: count, at most COUNT_MAX rows (beyond: "
                  "num_results_truncated); none: skip counting (num_results and "
                  "total_pages are null); estimated: sqlite_stat1's estimate of "
                  "a whole table (num_results_estimated), else as exact",
                  "schema", "type", "string", "enum", "exact", "none", "estimated"));
    json_object_set_new(p, "after",
                        json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "name", "after", "in", "query",
                                  "description",
                                  "a keyset cursor from a Link header's rel=\"next\"; empty "
                                  "starts a walk",
                                  "schema", "type", "string", "pattern", "^[A-Za-z0-9_-]*$"));
    json_object_set_new(p, "id",
                        json_pack("{s:s,s:s,s:b,s:s,s:{s:s}}", "name", "id", "in", "path",
                                  "required", 1, "description",
                                  "the primary key; composite keys joined by ',' in key order",
                                  "schema", "type", "string"));
    apidoc__parameters(p);
    apidoc__walk_parameters(p);
    json_t *error = json_pack(
        "{s:s,s:[ss],s:{s:{s:s},s:{s:s},s:{s:s,s:s},s:{s:s,s:s}}}", "type", "object", "required",
        "code", "message", "properties", "code", "type", "string", "message", "type", "string",
        "validation_errors", "type", "object", "description",
        "validation_failed: what is wrong, by member (by object index for a list)", "operation",
        "type", "integer", "description", "a batch: the index of the operation that failed");
    json_t *err_resp = json_pack("{s:s}", "description", "an error: {\"code\", \"message\"}");
    json_object_update_new(err_resp, apidoc__json_body(apidoc__ref("schemas", "Error")));
    return json_pack("{s:o,s:{s:o},s:{s:o}}", "parameters", p, "schemas", "Error", error,
                     "responses", "Error", err_resp);
}

static json_t *catalog_paths(void)
{
    return json_pack("{s:{s:o},s:{s:o}}", "/api", "get",
                     apidoc__operation("collections", "api",
                                       "The collections: names, URLs, methods", json_array(),
                                       apidoc__responses("200", "{\"collections\": [...]}",
                                                         json_pack("{s:s}", "type", "object"))),
                     "/api/openapi.json", "get",
                     apidoc__operation("openapi", "api", "This document", json_array(),
                                       apidoc__responses("200", "an OpenAPI 3.1 document",
                                                         json_pack("{s:s}", "type", "object"))));
}

int apidoc_openapi(struct wr_buf *out, const schema *s, const char *base_url)
{
    json_t *doc = json_pack("{s:s,s:{s:s,s:s,s:s},s:o,s:o}", "openapi", "3.1.0", "info", "title",
                            "warren", "version", "1", "description",
                            "A SQLite database as Flask-Restless 0.17's REST API", "paths",
                            catalog_paths(), "components", components());
    if (doc == NULL)
        return WR_ENOMEM;
    if (base_url != NULL)
        json_object_set_new(doc, "servers", json_pack("[{s:s}]", "url", base_url));
    json_t *paths = json_object_get(doc, "paths");
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    for (size_t i = 0; i < schema_count(s); i++) {
        collection_schemas(schemas, s, schema_at(s, i));
        collection_paths(paths, s, schema_at(s, i));
    }
    apidoc__batch(paths, schemas, s);
    apidoc__head_options(paths);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (text == NULL)
        return WR_ENOMEM;
    wr_buf_puts(out, text);
    wr_buf_putc(out, '\n');
    free(text);
    return wr_buf_error(out);
}
