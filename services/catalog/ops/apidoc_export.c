/* The OpenAPI document's exports (see apidoc_int.h): a list's GET also
 * answers CSV and NDJSON, streamed, chosen by Accept or ?format=. */
#include "ops/apidoc_int.h"

#include "warren/proto.h"

void apidoc__export(json_t *list_get)
{
    json_t *ok = json_object_get(json_object_get(list_get, "responses"), "200");
    json_t *content = json_object_get(ok, "content");
    if (content == NULL)
        return;
    json_object_set_new(
        content, WR_MEDIA_CSV,
        json_pack("{s:{s:s,s:s}}", "schema", "type", "string", "description",
                  "every matching row (q applies; fields narrows the columns), streamed: RFC "
                  "4180, a header row of attribute names, columns in table order, NULL as an "
                  "empty field, BLOBs in base64; cut short by EXPORT_MAX_ROWS or "
                  "EXPORT_TIMEOUT_MS, the transfer ends without its last chunk"));
    json_object_set_new(
        content, WR_MEDIA_NDJSON,
        json_pack("{s:{s:s,s:s}}", "schema", "type", "string", "description",
                  "every matching row as one flat object a line, streamed; cut short, a last "
                  "line {\"error\": {\"code\": ..., \"message\": ...}}"));
    json_array_append_new(
        json_object_get(list_get, "parameters"),
        json_pack("{s:s,s:s,s:s,s:{s:s,s:[s,s]}}", "name", "format", "in", "query", "description",
                  "an export instead of a page, as Accept: text/csv or application/x-ndjson "
                  "asks (not with page, results_per_page or after)",
                  "schema", "type", "string", "enum", WR_FORMAT_CSV, WR_FORMAT_NDJSON));
    json_object_set_new(json_object_get(list_get, "responses"), "406",
                        apidoc__ref("responses", "Error"));
}
