/* Unit tests for the contract: keeps proto/warren/proto.h, the proto/ JSON Schemas,
 * proto/README.md and the names of proto/asyncapi.yaml in step, and the envelope codec
 * (common/src/rpc.c) in step with the request schema. The schemas are read at test time from
 * WARREN_PROTO_DIR and checked by a small validator of the keywords they use
 * (any other keyword fails the test, so no rule is skipped silently). */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/buf.h"
#include "warren/err.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/rpc_batch.h"
#include "run_suite.h"

#ifndef WARREN_PROTO_DIR
#error "WARREN_PROTO_DIR must name the proto folder"
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Every WR_CODE_*, WR_OP_* and WR_HDR_* of proto.h: add new ones here. */
static const char *const codes[] = {
    WR_CODE_BAD_REQUEST,
    WR_CODE_BAD_PARAMETER,
    WR_CODE_NOT_FOUND,
    WR_CODE_METHOD_NOT_ALLOWED,
    WR_CODE_NOT_IMPLEMENTED,
    WR_CODE_VERSION_NOT_SUPPORTED,
    WR_CODE_PAYLOAD_TOO_LARGE,
    WR_CODE_UNAVAILABLE,
    WR_CODE_TIMEOUT,
    WR_CODE_INTERNAL,
    WR_CODE_OVERLOADED,
    WR_CODE_UNSUPPORTED_VERSION,
    WR_CODE_CONFLICT,
    WR_CODE_UNSUPPORTED_MEDIA_TYPE,
    WR_CODE_VALIDATION_FAILED,
    WR_CODE_UNAUTHORIZED,
    WR_CODE_FORBIDDEN,
    WR_CODE_URI_TOO_LONG,
    WR_CODE_HEADERS_TOO_LARGE,
    WR_CODE_REQUEST_ID_REUSED,
    WR_CODE_NOT_ACCEPTABLE,
    WR_CODE_ROW_CAP,
    WR_CODE_CHUNK_FAILED,
    WR_CODE_SHUTTING_DOWN,
    WR_CODE_SEARCH_TOO_COMPLEX,
    WR_CODE_SEARCH_TOO_COSTLY,
    WR_CODE_RATE_LIMITED,
};
static const char *const ops[] = {WR_OP_LIST,    WR_OP_GET,    WR_OP_RELATED, WR_OP_FUNCTIONS,
                                  WR_OP_CREATE,  WR_OP_UPDATE, WR_OP_DELETE,  WR_OP_COLLECTIONS,
                                  WR_OP_OPENAPI, WR_OP_BATCH};
/* The ops of other services than the catalog (proto/README.md section 5). */
static const char *const service_ops[] = {WR_OP_RECORDS};
static const char *const services[] = {WR_SERVICE_AUDITLOG};
/* The members wr_request_decode_service accepts. */
static const char *const service_members[] = {"id", "op", "v"};
static const char *const headers[] = {WR_HDR_DEADLINE,       WR_HDR_BASE_URL,   WR_HDR_PRINCIPAL,
                                      WR_HDR_TRACEPARENT,    WR_HDR_TRACESTATE, WR_HDR_STATUS,
                                      WR_HDR_LINK,           WR_HDR_CACHE,      WR_HDR_MIN_POSITION,
                                      WR_HDR_REPLY_POSITION, WR_HDR_ROWS,       WR_HDR_NEXT};
/* The members wr_request_decode accepts (its `known` list). */
static const char *const members[] = {"after",      "before",   "body",       "collection",
                                      "count",      "depth",    "fields",     "format",
                                      "id",         "op",       "page",       "q",
                                      "related_id", "relation", "resolution", "results_per_page",
                                      "return",     "v"};
/* Required by every op; collection is required by all but the catalog ops. */
static const char *const required_members[] = {"op", "v"};

/* --- files --- */

static json_t *load_schema(const char *name)
{
    char path[512];
    (void)snprintf(path, sizeof(path), "%s/%s", WARREN_PROTO_DIR, name);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    ck_assert_msg(root != NULL, "%s: %s (line %d)", path, jerr.text, jerr.line);
    ck_assert_msg(json_is_object(root), "%s is not an object", path);
    ck_assert_str_eq(json_string_value(json_object_get(root, "$schema")),
                     "https://json-schema.org/draft/2020-12/schema");
    return root;
}

/* A file of the proto folder as text (free it). */
static char *read_text(const char *name)
{
    char path[512];
    (void)snprintf(path, sizeof(path), "%s/%s", WARREN_PROTO_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    struct wr_buf b;
    wr_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ck_assert_int_eq(wr_buf_append(&b, chunk, n), 0);
    ck_assert_int_eq(fclose(f), 0);
    char *text = wr_buf_detach(&b, NULL);
    ck_assert_ptr_nonnull(text);
    return text;
}

static char *read_readme(void)
{
    return read_text("README.md");
}

/* --- a validator for the subset of draft 2020-12 the schemas use --- */

static size_t code_points(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

static bool has_type(const char *type, json_t *inst)
{
    if (strcmp(type, "object") == 0)
        return json_is_object(inst);
    if (strcmp(type, "array") == 0)
        return json_is_array(inst);
    if (strcmp(type, "string") == 0)
        return json_is_string(inst);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(inst); /* as strict as the decoder: 1.0 is no integer */
    if (strcmp(type, "number") == 0)
        return json_is_number(inst);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(inst);
    if (strcmp(type, "null") == 0)
        return json_is_null(inst);
    ck_abort_msg("unknown type %s", type);
    return false;
}

static double number(json_t *v)
{
    ck_assert(json_is_number(v));
    return json_number_value(v);
}

static bool valid(json_t *root, json_t *schema, json_t *inst);

static bool valid_type(json_t *type, json_t *inst)
{
    if (json_is_string(type))
        return has_type(json_string_value(type), inst);
    size_t i;
    json_t *t;
    json_array_foreach(type, i, t) {
        if (has_type(json_string_value(t), inst))
            return true;
    }
    return false;
}

static bool valid_object(json_t *root, json_t *schema, json_t *inst)
{
    json_t *props = json_object_get(schema, "properties");
    json_t *additional = json_object_get(schema, "additionalProperties");
    json_t *required = json_object_get(schema, "required");
    size_t i;
    json_t *r;
    json_array_foreach(required, i, r) {
        if (json_object_get(inst, json_string_value(r)) == NULL)
            return false;
    }
    const char *name;
    json_t *value;
    json_object_foreach(inst, name, value) {
        json_t *sub = props ? json_object_get(props, name) : NULL;
        if (sub == NULL)
            sub = additional;
        if (sub != NULL && !valid(root, sub, value))
            return false;
    }
    return true;
}

/* The op pattern of service-request.schema.json, checked here by hand
 * rather than by the decoder's own wr_op_name_valid. */
#define OP_PATTERN "^[a-z][a-z0-9_]{0,31}$"
static bool op_word(const char *s, size_t len)
{
    if (len < 1 || len > 32 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool valid_string(json_t *schema, json_t *inst)
{
    const char *s = json_string_value(inst);
    size_t len = json_string_length(inst);
    json_t *min = json_object_get(schema, "minLength");
    json_t *max = json_object_get(schema, "maxLength");
    json_t *pattern = json_object_get(schema, "pattern");
    if (min && code_points(s, len) < (size_t)json_integer_value(min))
        return false;
    if (max && code_points(s, len) > (size_t)json_integer_value(max))
        return false;
    if (pattern && strcmp(json_string_value(pattern), OP_PATTERN) == 0)
        return op_word(s, len);
    if (pattern && strcmp(json_string_value(pattern), "^[0-9a-f]{32}$") == 0)
        return len == WR_REQUEST_ID_LEN && strspn(s, "0123456789abcdef") == len;
    if (pattern) {
        /* The only other pattern the schemas use: no NUL anywhere. */
        ck_assert_str_eq(json_string_value(pattern), "^[^\\u0000]*$");
        if (strlen(s) != len)
            return false;
    }
    return true;
}

static bool valid_keyword(json_t *root, const char *kw, json_t *arg, json_t *schema, json_t *inst)
{
    if (strcmp(kw, "type") == 0)
        return valid_type(arg, inst);
    if (strcmp(kw, "const") == 0)
        return json_equal(arg, inst);
    if (strcmp(kw, "enum") == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(arg, i, e) {
            if (json_equal(e, inst))
                return true;
        }
        return false;
    }
    if (strcmp(kw, "minimum") == 0)
        return !json_is_number(inst) || number(inst) >= number(arg);
    if (strcmp(kw, "maximum") == 0)
        return !json_is_number(inst) || number(inst) <= number(arg);
    if (strcmp(kw, "minLength") == 0 || strcmp(kw, "maxLength") == 0 || strcmp(kw, "pattern") == 0)
        return !json_is_string(inst) || valid_string(schema, inst);
    if (strcmp(kw, "required") == 0 || strcmp(kw, "properties") == 0 ||
        strcmp(kw, "additionalProperties") == 0)
        return !json_is_object(inst) || valid_object(root, schema, inst);
    if (strcmp(kw, "minItems") == 0)
        return !json_is_array(inst) || json_array_size(inst) >= (size_t)json_integer_value(arg);
    if (strcmp(kw, "maxItems") == 0)
        return !json_is_array(inst) || json_array_size(inst) <= (size_t)json_integer_value(arg);
    if (strcmp(kw, "maxProperties") == 0)
        return !json_is_object(inst) || json_object_size(inst) <= (size_t)json_integer_value(arg);
    if (strcmp(kw, "items") == 0) {
        size_t i;
        json_t *item;
        json_array_foreach(inst, i, item) {
            if (!valid(root, arg, item))
                return false;
        }
        return true;
    }
    if (strcmp(kw, "allOf") == 0 || strcmp(kw, "anyOf") == 0) {
        bool all = kw[1] == 'l';
        size_t i;
        json_t *sub;
        json_array_foreach(arg, i, sub) {
            if (valid(root, sub, inst) != all)
                return !all;
        }
        return all;
    }
    if (strcmp(kw, "not") == 0)
        return !valid(root, arg, inst);
    if (strcmp(kw, "if") == 0) {
        json_t *branch = json_object_get(schema, valid(root, arg, inst) ? "then" : "else");
        return branch == NULL || valid(root, branch, inst);
    }
    if (strcmp(kw, "$ref") == 0) {
        const char *ref = json_string_value(arg);
        ck_assert_msg(strncmp(ref, "#/$defs/", 8) == 0, "unsupported $ref %s", ref);
        json_t *target = json_object_get(json_object_get(root, "$defs"), ref + 8);
        ck_assert_msg(target != NULL, "dangling $ref %s", ref);
        return valid(root, target, inst);
    }
    static const char *const inert[] = {"$schema",     "$id",  "$defs", "title",
                                        "description", "then", "else"};
    for (size_t i = 0; i < COUNT(inert); i++)
        if (strcmp(kw, inert[i]) == 0)
            return true;
    ck_abort_msg("the test's validator does not know keyword %s", kw);
    return false;
}

static bool valid(json_t *root, json_t *schema, json_t *inst)
{
    if (json_is_boolean(schema)) /* `true` and `false` are schemas too */
        return json_is_true(schema);
    ck_assert(json_is_object(schema));
    const char *kw;
    json_t *arg;
    json_object_foreach(schema, kw, arg) {
        if (!valid_keyword(root, kw, arg, schema, inst))
            return false;
    }
    return true;
}

static bool valid_text(json_t *schema, const char *text)
{
    json_error_t jerr;
    json_t *inst = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    ck_assert_msg(inst != NULL, "not JSON: %s", text);
    bool ok = valid(schema, schema, inst);
    json_decref(inst);
    return ok;
}

/* --- helpers --- */

/* True when arr holds exactly the n strings of want, each once. */
static bool same_strings(json_t *arr, const char *const *want, size_t n)
{
    if (!json_is_array(arr) || json_array_size(arr) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t hits = 0;
        size_t j;
        json_t *v;
        json_array_foreach(arr, j, v) {
            if (json_is_string(v) && strcmp(json_string_value(v), want[i]) == 0)
                hits++;
        }
        if (hits != 1)
            return false;
    }
    return true;
}

static bool decodes(const char *body, size_t len)
{
    struct wr_request req;
    struct wr_err err = {0};
    int rc = wr_request_decode(&req, body, len, &err);
    if (rc == 0)
        wr_request_release(&req);
    return rc == 0;
}

static bool decodes_json(json_t *inst)
{
    char *text = json_dumps(inst, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    bool ok = decodes(text, strlen(text));
    free(text);
    return ok;
}

/* A valid envelope of op related with every member set. */
static json_t *full_envelope(void)
{
    json_t *e = json_pack("{s:s,s:s,s:i,s:s,s:s,s:i,s:s,s:i,s:i}", "collection", "Artists", "count",
                          "none", "depth", 0, "id", "1", "op", WR_OP_RELATED, "page", 2, "relation",
                          "albums", "results_per_page", 5, "v", WR_PROTO_VERSION);
    ck_assert_ptr_nonnull(e);
    return e;
}

/* The decoder and the schema both say `want` about inst. */
static void agree(json_t *schema, json_t *inst, bool want, const char *what)
{
    ck_assert_msg(decodes_json(inst) == want, "decoder on %s: expected %s", what,
                  want ? "accept" : "reject");
    ck_assert_msg(valid(schema, schema, inst) == want, "schema on %s: expected %s", what,
                  want ? "valid" : "invalid");
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* --- the tests --- */

START_TEST(error_codes_match_proto_h)
{
    json_t *s = load_schema("error.schema.json");
    json_t *props = json_object_get(s, "properties");
    ck_assert_msg(
        same_strings(json_object_get(json_object_get(props, "code"), "enum"), codes, COUNT(codes)),
        "error.schema.json's code enum differs from the WR_CODE_* of proto.h");
    static const char *const req[] = {"code", "message"};
    ck_assert(same_strings(json_object_get(s, "required"), req, COUNT(req)));
    ck_assert_uint_eq(json_object_size(props), 4); /* code, message, validation_errors, operation */
    ck_assert(json_is_object(json_object_get(props, "validation_errors")));
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(props, "operation"), "maximum")),
        WR_BATCH_MAX - 1);
    ck_assert(valid_text(s, "{\"code\":\"not_found\",\"message\":\"m\",\"operation\":1}"));
    ck_assert(!valid_text(s, "{\"code\":\"not_found\",\"message\":\"m\",\"operation\":100}"));
    ck_assert(json_is_false(json_object_get(s, "additionalProperties")));
    for (size_t i = 0; i < COUNT(codes); i++) {
        char body[128];
        (void)snprintf(body, sizeof(body), "{\"code\":\"%s\",\"message\":\"m\"}", codes[i]);
        ck_assert_msg(valid_text(s, body), "%s", body);
    }
    ck_assert(!valid_text(s, "{\"code\":\"nope\",\"message\":\"m\"}"));
    ck_assert(!valid_text(s, "{\"code\":\"not_found\"}"));
    ck_assert(!valid_text(s, "{\"code\":\"not_found\",\"message\":\"m\",\"x\":1}"));
    json_decref(s);
}
END_TEST

START_TEST(request_members_match_decoder)
{
    json_t *s = load_schema("request.schema.json");
    json_t *props = json_object_get(s, "properties");
    ck_assert(json_is_false(json_object_get(s, "additionalProperties")));
    ck_assert_uint_eq(json_object_size(props), COUNT(members));
    for (size_t i = 0; i < COUNT(members); i++)
        ck_assert_msg(json_object_get(props, members[i]) != NULL, "schema lacks %s", members[i]);
    ck_assert(
        same_strings(json_object_get(s, "required"), required_members, COUNT(required_members)));
    json_t *v = json_object_get(props, "v");
    ck_assert_str_eq(json_string_value(json_object_get(v, "type")), "integer");
    ck_assert(json_is_integer(json_object_get(v, "const")));
    ck_assert_int_eq(json_integer_value(json_object_get(v, "const")), WR_PROTO_VERSION);

    /* Every member together is accepted; one more is refused; each required
     * member is required by both. */
    json_t *e = full_envelope();
    agree(s, e, true, "every member");
    ck_assert_int_eq(json_object_set_new(e, "extra", json_integer(1)), 0);
    agree(s, e, false, "an unknown member");
    json_decref(e);
    for (size_t i = 0; i < COUNT(required_members); i++) {
        e = full_envelope();
        ck_assert_int_eq(json_object_del(e, required_members[i]), 0);
        agree(s, e, false, required_members[i]);
        json_decref(e);
    }
    e = full_envelope();
    ck_assert_int_eq(json_object_set_new(e, "v", json_integer(WR_PROTO_VERSION + 1)), 0);
    agree(s, e, false, "the next version");
    json_decref(e);
    json_decref(s);
}
END_TEST

START_TEST(ops_match_proto_h)
{
    json_t *s = load_schema("request.schema.json");
    json_t *op = json_object_get(json_object_get(s, "properties"), "op");
    ck_assert_msg(same_strings(json_object_get(op, "enum"), ops, COUNT(ops)),
                  "request.schema.json's op enum differs from the WR_OP_* of proto.h");
    for (size_t i = 0; i < COUNT(ops); i++) {
        json_t *e =
            json_pack("{s:s,s:s,s:i}", "collection", "Albums", "op", ops[i], "v", WR_PROTO_VERSION);
        bool batch = strcmp(ops[i], WR_OP_BATCH) == 0;
        if (strcmp(ops[i], WR_OP_COLLECTIONS) == 0 || strcmp(ops[i], WR_OP_OPENAPI) == 0 || batch) {
            agree(s, e, false, "a catalog op with a collection");
            ck_assert_int_eq(json_object_del(e, "collection"), 0);
            agree(s, e, !batch, ops[i]); /* a batch needs its body */
            ck_assert_int_eq(json_object_set_new(e, "body", json_string("[{}]")), 0);
            agree(s, e, batch, ops[i]); /* the others take none */
            json_decref(e);
            continue;
        }
        bool functions = strcmp(ops[i], WR_OP_FUNCTIONS) == 0;
        bool create = strcmp(ops[i], WR_OP_CREATE) == 0;
        if (create || strcmp(ops[i], WR_OP_UPDATE) == 0)
            ck_assert_int_eq(json_object_set_new(e, "body", json_string("{\"title\":\"x\"}")), 0);
        if (strcmp(ops[i], WR_OP_LIST) != 0 && !functions && !create)
            ck_assert_int_eq(json_object_set_new(e, "id", json_string("1")), 0);
        if (functions) /* needs a search naming its functions */
            ck_assert_int_eq(json_object_set_new(e, "q", json_string("{\"functions\":[]}")), 0);
        if (strcmp(ops[i], WR_OP_RELATED) == 0)
            ck_assert_int_eq(json_object_set_new(e, "relation", json_string("tracks")), 0);
        agree(s, e, true, ops[i]);
        json_decref(e);
    }
    json_t *e =
        json_pack("{s:s,s:s,s:i}", "collection", "Albums", "op", "remove", "v", WR_PROTO_VERSION);
    agree(s, e, false, "an unknown op");
    json_decref(e);
    /* one related object: related or delete, with id and relation */
    static const struct {
        const char *text;
        bool ok;
    } rel[] = {
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"delete\",\"related_id\":\"2\","
         "\"relation\":\"tracks\",\"v\":1}",
         true},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"related\",\"related_id\":\"2\","
         "\"relation\":\"tracks\",\"v\":1}",
         true},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"delete\",\"relation\":\"tracks\","
         "\"v\":1}",
         false},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"delete\",\"related_id\":\"2\","
         "\"v\":1}",
         false},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"get\",\"related_id\":\"2\","
         "\"relation\":\"tracks\",\"v\":1}",
         false},
    };
    for (size_t i = 0; i < COUNT(rel); i++) {
        json_t *x = json_loads(rel[i].text, 0, NULL);
        ck_assert_ptr_nonnull(x);
        agree(s, x, rel[i].ok, rel[i].text);
        json_decref(x);
    }
    json_decref(s);
}
END_TEST

/* The schema's string lengths and integer ranges are the decoder's. */
START_TEST(limits_match_decoder)
{
    json_t *s = load_schema("request.schema.json");
    json_t *props = json_object_get(s, "properties");
    static const char *const strings[] = {"collection", "id", "relation"};
    for (size_t i = 0; i < COUNT(strings); i++) {
        json_t *p = json_object_get(props, strings[i]);
        ck_assert_int_eq(json_integer_value(json_object_get(p, "minLength")), 1);
        size_t max = (size_t)json_integer_value(json_object_get(p, "maxLength"));
        ck_assert_uint_ge(max, 1);
        size_t lens[] = {0, 1, max, max + 1};
        for (size_t k = 0; k < COUNT(lens); k++) {
            json_t *e = full_envelope();
            char *str = repeat('a', lens[k]);
            ck_assert_int_eq(json_object_set_new(e, strings[i], json_string(str)), 0);
            char what[64];
            (void)snprintf(what, sizeof(what), "%s of %zu", strings[i], lens[k]);
            agree(s, e, lens[k] >= 1 && lens[k] <= max, what);
            free(str);
            json_decref(e);
        }
        json_t *e = full_envelope();
        ck_assert_int_eq(json_object_set_new(e, strings[i], json_stringn("a\0b", 3)), 0);
        agree(s, e, false, "a NUL");
        ck_assert_int_eq(json_object_set_new(e, strings[i], json_integer(1)), 0);
        agree(s, e, false, "a number for a string");
        json_decref(e);
    }
    static const char *const counts[] = {"page", "results_per_page"};
    for (size_t i = 0; i < COUNT(counts); i++) {
        json_t *p = json_object_get(props, counts[i]);
        ck_assert_str_eq(json_string_value(json_object_get(p, "type")), "integer");
        json_int_t min = json_integer_value(json_object_get(p, "minimum"));
        json_int_t max = json_integer_value(json_object_get(p, "maximum"));
        ck_assert_int_eq(min, 1);
        ck_assert_int_ge(max, min);
        json_int_t values[] = {min - 2, min - 1, min, max, max + 1};
        for (size_t k = 0; k < COUNT(values); k++) {
            json_t *e = full_envelope();
            ck_assert_int_eq(json_object_set_new(e, counts[i], json_integer(values[k])), 0);
            char what[64];
            (void)snprintf(what, sizeof(what), "%s = %lld", counts[i], (long long)values[k]);
            agree(s, e, values[k] >= min && values[k] <= max, what);
            json_decref(e);
        }
        json_t *e = full_envelope();
        ck_assert_int_eq(json_object_set_new(e, counts[i], json_string("2")), 0);
        agree(s, e, false, "a string for a count");
        json_decref(e);
    }
    json_decref(s);
}
END_TEST

/* Bodies on which the decoder and the schema must agree, including the op
 * rules (which op needs or forbids id and relation). */
START_TEST(decoder_and_schema_agree)
{
    static const struct {
        const char *body;
        bool ok;
    } cases[] = {
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1}", true},
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"page\":3,\"results_per_page\":100,\"v\":1}",
         true},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"list\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"relation\":\"tracks\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"get\",\"v\":1}", true},
        {"{\"collection\":\"PlaylistTrack\",\"id\":\"1,3402\",\"op\":\"get\",\"page\":1,\"v\":1}",
         true},
        {"{\"collection\":\"Albums\",\"op\":\"get\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"get\",\"relation\":\"tracks\",\"v\":1}",
         false},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"related\",\"relation\":\"tracks\",\"v\":"
         "1}",
         true},
        {"{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"related\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"op\":\"related\",\"relation\":\"tracks\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"op\":\"LIST\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"v\":0}", false},
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"v\":\"1\"}", false},
        {"{\"collection\":\"Albums\",\"op\":\"list\"}", false},
        {"{\"collection\":null,\"op\":\"list\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"page\":true,\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"page\":-1,\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"results_per_page\":0,\"v\":1}", false},
        {"{\"collection\":\"Alb\\u0000ums\",\"op\":\"list\",\"v\":1}", false},
        /* depth, count, after; the catalog ops take only op and v */
        {"{\"collection\":\"Albums\",\"depth\":0,\"op\":\"list\",\"v\":1}", true},
        {"{\"collection\":\"Albums\",\"depth\":1,\"id\":\"1\",\"op\":\"get\",\"v\":1}", true},
        {"{\"collection\":\"Albums\",\"depth\":2,\"op\":\"list\",\"v\":1}", true},
        {"{\"collection\":\"Albums\",\"depth\":3,\"op\":\"list\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"count\":\"estimated\",\"op\":\"list\",\"v\":1}", true},
        /* fields with the reads of objects; return and resolution with create */
        {"{\"collection\":\"Albums\",\"fields\":\"title,Artists.name\",\"op\":\"list\",\"v\":1}",
         true},
        {"{\"collection\":\"Albums\",\"fields\":\"title\",\"id\":\"1\",\"op\":\"get\",\"v\":1}",
         true},
        {"{\"collection\":\"Albums\",\"fields\":\"\",\"op\":\"list\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"fields\":\"title\",\"op\":\"functions\",\"q\":\"{}\",\"v\":"
         "1}",
         false},
        {"{\"body\":\"{}\",\"collection\":\"Albums\",\"fields\":\"title\",\"op\":\"create\","
         "\"v\":1}",
         false},
        {"{\"body\":\"[{}]\",\"collection\":\"Albums\",\"op\":\"create\",\"resolution\":"
         "\"merge-duplicates\",\"return\":\"minimal\",\"v\":1}",
         true},
        {"{\"body\":\"[{}]\",\"collection\":\"Albums\",\"op\":\"create\",\"return\":\"none\","
         "\"v\":1}",
         false},
        {"{\"body\":\"[{}]\",\"collection\":\"Albums\",\"op\":\"create\",\"resolution\":"
         "\"ignore-duplicates\",\"v\":1}",
         false},
        {"{\"body\":\"{}\",\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"update\",\"return\":"
         "\"minimal\",\"v\":1}",
         false},
        {"{\"collection\":\"Albums\",\"op\":\"list\",\"resolution\":\"merge-duplicates\",\"v\":1}",
         false},
        /* a batch: its body and nothing else */
        {"{\"body\":\"[]\",\"op\":\"batch\",\"v\":1}", true},
        {"{\"op\":\"batch\",\"v\":1}", false},
        {"{\"body\":\"[]\",\"collection\":\"Albums\",\"op\":\"batch\",\"v\":1}", false},
        {"{\"body\":\"[]\",\"op\":\"batch\",\"page\":1,\"v\":1}", false},
        {"{\"body\":\"[]\",\"op\":\"batch\",\"return\":\"minimal\",\"v\":1}", false},
        {"{\"body\":\"{}\",\"op\":\"openapi\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"depth\":-1,\"op\":\"list\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"depth\":\"0\",\"op\":\"list\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"count\":\"none\",\"op\":\"list\",\"v\":1}", true},
        {"{\"collection\":\"Albums\",\"count\":\"exact\",\"op\":\"list\",\"v\":1}", true},
        {"{\"collection\":\"Albums\",\"count\":\"some\",\"op\":\"list\",\"v\":1}", false},
        {"{\"after\":\"\",\"collection\":\"Albums\",\"op\":\"list\",\"v\":1}", true},
        {"{\"after\":\"eyJo-_\",\"collection\":\"Albums\",\"op\":\"list\",\"v\":1}", true},
        {"{\"after\":\"abc\",\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"get\",\"v\":1}",
         false},
        {"{\"before\":\"eyJo-_\",\"collection\":\"Albums\",\"op\":\"list\",\"v\":1}", true},
        {"{\"before\":\"\",\"collection\":\"Albums\",\"op\":\"list\",\"v\":1}", false},
        {"{\"before\":\"abc\",\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"get\",\"v\":1}",
         false},
        {"{\"op\":\"list\",\"v\":1}", false},
        {"{\"op\":\"collections\",\"v\":1}", true},
        {"{\"op\":\"openapi\",\"v\":1}", true},
        {"{\"op\":\"openapi\",\"page\":1,\"v\":1}", false},
        {"{\"depth\":0,\"op\":\"collections\",\"v\":1}", false},
        {"{\"collection\":\"Albums\",\"op\":\"collections\",\"v\":1}", false},
        {"{}", false},
        {"[]", false},
        {"\"list\"", false},
    };
    json_t *s = load_schema("request.schema.json");
    for (size_t i = 0; i < COUNT(cases); i++) {
        ck_assert_msg(decodes(cases[i].body, strlen(cases[i].body)) == cases[i].ok, "decoder on %s",
                      cases[i].body);
        ck_assert_msg(valid_text(s, cases[i].body) == cases[i].ok, "schema on %s", cases[i].body);
    }
    json_decref(s);
}
END_TEST

/* wr_request_encode writes envelopes the schema accepts, with every required
 * member and no other, and the decoder reads them back unchanged. */
START_TEST(encode_round_trip)
{
    const struct wr_request reqs[] = {
        {.op = WR_OP_LIST, .collection = "Albums"},
        {.op = WR_OP_LIST, .collection = "Albums", .page = 35, .results_per_page = 100},
        {.op = WR_OP_GET, .collection = "Albums", .key = "1"},
        {.op = WR_OP_GET, .collection = "PlaylistTrack", .key = "1,3402"},
        {.op = WR_OP_RELATED,
         .collection = "Employees",
         .key = "2",
         .relation = "employees_reports_to",
         .page = 1000000000,
         .results_per_page = 1},
        {.op = WR_OP_GET, .collection = "T\xc3\xa9st \"q\"", .key = "a/b\\c\n"},
        {.op = WR_OP_LIST,
         .collection = "Albums",
         .depth_given = true,
         .depth = 0,
         .count = "none",
         .after = "eyJo"},
        {.op = WR_OP_LIST, .collection = "Albums", .after = ""},
        {.op = WR_OP_LIST, .collection = "Albums", .before = "eyJo"},
        {.op = WR_OP_GET, .collection = "Albums", .key = "1", .depth_given = true, .depth = 1},
        {.op = WR_OP_COLLECTIONS},
        {.op = WR_OP_OPENAPI},
        {.op = WR_OP_LIST,
         .collection = "Albums",
         .depth_given = true,
         .depth = 2,
         .count = "estimated",
         .fields = "title,Artists.name"},
        {.op = WR_OP_CREATE,
         .collection = "Albums",
         .body = "[{\"title\":\"x\"}]",
         .prefer_return = "minimal",
         .resolution = "merge-duplicates"},
        {.op = WR_OP_BATCH, .body = "[{\"method\":\"DELETE\",\"path\":\"/api/Albums/1\"}]"},
    };
    json_t *s = load_schema("request.schema.json");
    json_t *props = json_object_get(s, "properties");
    for (size_t i = 0; i < COUNT(reqs); i++) {
        struct wr_buf b;
        wr_buf_init(&b, 1 << 16);
        ck_assert_int_eq(wr_request_encode(&reqs[i], &b), 0);
        json_error_t jerr;
        json_t *inst = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &jerr);
        ck_assert_msg(inst != NULL, "encoder wrote bad JSON: %s", b.data);
        for (size_t k = 0; k < COUNT(required_members); k++)
            ck_assert_msg(json_object_get(inst, required_members[k]) != NULL, "%s lacks %s", b.data,
                          required_members[k]);
        const char *name;
        json_t *value;
        json_object_foreach(inst, name, value) {
            ck_assert_msg(json_object_get(props, name) != NULL, "%s: extra member %s", b.data,
                          name);
        }
        ck_assert_msg(valid(s, s, inst), "schema refuses %s", b.data);

        struct wr_request back;
        struct wr_err err = {0};
        ck_assert_msg(wr_request_decode(&back, b.data, b.len, &err) == 0, "%s: %s", b.data,
                      err.msg);
        ck_assert_str_eq(back.op, reqs[i].op);
        ck_assert_pstr_eq(back.collection, reqs[i].collection);
        ck_assert_int_eq(back.depth_given, reqs[i].depth_given);
        ck_assert_int_eq(back.depth, reqs[i].depth);
        ck_assert_pstr_eq(back.after, reqs[i].after);
        ck_assert_pstr_eq(back.before, reqs[i].before);
        ck_assert_pstr_eq(back.count, reqs[i].count);
        ck_assert_pstr_eq(back.key, reqs[i].key);
        ck_assert_pstr_eq(back.relation, reqs[i].relation);
        ck_assert_int_eq(back.page, reqs[i].page);
        ck_assert_int_eq(back.results_per_page, reqs[i].results_per_page);
        ck_assert_pstr_eq(back.fields, reqs[i].fields);
        ck_assert_pstr_eq(back.body, reqs[i].body);
        ck_assert_pstr_eq(back.prefer_return, reqs[i].prefer_return);
        ck_assert_pstr_eq(back.resolution, reqs[i].resolution);
        wr_request_release(&back);
        json_decref(inst);
        wr_buf_release(&b);
    }
    json_decref(s);
}
END_TEST

static bool decodes_service(const char *body)
{
    struct wr_request req;
    struct wr_err err = {0};
    int rc = wr_request_decode_service(&req, NULL, body, strlen(body), &err);
    if (rc == 0)
        wr_request_release(&req);
    return rc == 0;
}

/* Another service's envelope: the schema and wr_request_decode_service
 * agree, members and limits included. */
START_TEST(service_envelope_matches_decoder)
{
    json_t *s = load_schema("service-request.schema.json");
    json_t *props = json_object_get(s, "properties");
    ck_assert(json_is_false(json_object_get(s, "additionalProperties")));
    ck_assert_uint_eq(json_object_size(props), COUNT(service_members));
    for (size_t i = 0; i < COUNT(service_members); i++)
        ck_assert_msg(json_object_get(props, service_members[i]) != NULL, "schema lacks %s",
                      service_members[i]);
    ck_assert(
        same_strings(json_object_get(s, "required"), required_members, COUNT(required_members)));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(props, "v"), "const")),
                     WR_PROTO_VERSION);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(props, "id"), "maxLength")),
                     1024);
    char *op32 = repeat('a', WR_OP_NAME_MAX), *op33 = repeat('a', WR_OP_NAME_MAX + 1);
    char *id1024 = repeat('7', 1024), *id1025 = repeat('7', 1025);
    char big[2][1200], opbody[2][100];
    (void)snprintf(big[0], sizeof(big[0]), "{\"id\":\"%s\",\"op\":\"records\",\"v\":1}", id1024);
    (void)snprintf(big[1], sizeof(big[1]), "{\"id\":\"%s\",\"op\":\"records\",\"v\":1}", id1025);
    (void)snprintf(opbody[0], sizeof(opbody[0]), "{\"op\":\"%s\",\"v\":1}", op32);
    (void)snprintf(opbody[1], sizeof(opbody[1]), "{\"op\":\"%s\",\"v\":1}", op33);
    const struct {
        const char *body;
        bool ok;
    } cases[] = {
        {"{\"op\":\"records\",\"v\":1}", true},
        {"{\"id\":\"0123456789abcdef0123456789abcdef\",\"op\":\"records\",\"v\":1}", true},
        {"{\"id\":\"x\",\"op\":\"a_1\",\"v\":1}", true},
        {big[0], true},
        {big[1], false},
        {opbody[0], true},
        {opbody[1], false},
        {"{\"id\":\"\",\"op\":\"records\",\"v\":1}", false},
        {"{\"id\":1,\"op\":\"records\",\"v\":1}", false},
        {"{\"id\":\"a\\u0000b\",\"op\":\"records\",\"v\":1}", false},
        {"{\"op\":\"Records\",\"v\":1}", false},
        {"{\"op\":\"1records\",\"v\":1}", false},
        {"{\"op\":\"rec-ords\",\"v\":1}", false},
        {"{\"op\":\"\",\"v\":1}", false},
        {"{\"op\":7,\"v\":1}", false},
        {"{\"v\":1}", false},
        {"{\"op\":\"records\"}", false},
        {"{\"op\":\"records\",\"v\":2}", false},
        {"{\"collection\":\"Albums\",\"op\":\"records\",\"v\":1}", false},
        {"{\"op\":\"records\",\"page\":1,\"v\":1}", false},
        {"[]", false},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        ck_assert_msg(decodes_service(cases[i].body) == cases[i].ok, "decoder on %.80s",
                      cases[i].body);
        ck_assert_msg(valid_text(s, cases[i].body) == cases[i].ok, "schema on %.80s",
                      cases[i].body);
    }
    /* The client API's encoder writes what the decoder reads. */
    struct wr_request r = {.op = WR_OP_RECORDS, .key = "0123456789abcdef0123456789abcdef"};
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    ck_assert_int_eq(wr_request_encode(&r, &b), 0);
    ck_assert_msg(decodes_service(b.data) && valid_text(s, b.data), "%s", b.data);
    wr_buf_release(&b);
    free(op32);
    free(op33);
    free(id1024);
    free(id1025);
    json_decref(s);
}
END_TEST

START_TEST(reply_list_schema)
{
    json_t *s = load_schema("reply-list.schema.json");
    static const char *const req[] = {"num_results", "objects", "page", "total_pages"};
    ck_assert(same_strings(json_object_get(s, "required"), req, COUNT(req)));
    /* and the flags of an estimated or truncated count */
    ck_assert_uint_eq(json_object_size(json_object_get(s, "properties")), COUNT(req) + 2);
    ck_assert(json_is_false(json_object_get(s, "additionalProperties")));
    /* What the worker writes: a page with to-one, null and to-many relations,
     * an empty table, and a page past the last. */
    ck_assert(valid_text(s, "{\"num_results\":347,\"objects\":[{\"Artists\":{\"artist_id\":1,"
                            "\"name\":\"AC/DC\"},\"album_id\":1,\"artist_id\":1,\"title\":\"x\","
                            "\"tracks\":[{\"bytes\":1,\"unit_price\":0.99}]}],\"page\":1,"
                            "\"total_pages\":35}"));
    ck_assert(valid_text(s, "{\"num_results\":1,\"objects\":[{\"Employees_reports_to\":null,"
                            "\"employees_reports_to\":[],\"reports_to\":null}],\"page\":1,"
                            "\"total_pages\":1}"));
    ck_assert(valid_text(s, "{\"num_results\":0,\"objects\":[],\"page\":1,\"total_pages\":0}"));
    ck_assert(valid_text(s, "{\"num_results\":3,\"objects\":[],\"page\":9,\"total_pages\":1}"));
    ck_assert(!valid_text(s, "{\"num_results\":0,\"objects\":[],\"page\":0,\"total_pages\":0}"));
    ck_assert(!valid_text(s, "{\"num_results\":0,\"objects\":[],\"page\":1}"));
    /* depth 2: a related object's own relations, flat; no deeper */
    ck_assert(valid_text(s, "{\"num_results\":1,\"objects\":[{\"a\":{\"b\":{},\"c\":[{\"d\":1}]}}],"
                            "\"page\":1,\"total_pages\":1}"));
    ck_assert(!valid_text(s, "{\"num_results\":1,\"objects\":[{\"a\":{\"b\":{\"c\":{}}}}],"
                             "\"page\":1,\"total_pages\":1}"));
    ck_assert(valid_text(s, "{\"num_results\":10000,\"num_results_truncated\":true,\"objects\":[],"
                            "\"page\":1001,\"total_pages\":1000}"));
    ck_assert(valid_text(s, "{\"num_results\":9999,\"num_results_estimated\":true,\"objects\":[],"
                            "\"page\":1,\"total_pages\":1000}"));
    ck_assert(!valid_text(s, "{\"num_results\":9,\"num_results_estimated\":false,\"objects\":[],"
                             "\"page\":1,\"total_pages\":1}"));
    json_decref(s);
}
END_TEST

/* The batch codec (common/src/rpc_batch.c) writes what the v2 schemas
 * allow, and they refuse what its decoder refuses. */
START_TEST(batch_schemas_match_codec)
{
    json_t *req = load_schema("batch.schema.json");
    json_t *rep = load_schema("batch-reply.schema.json");
    struct wr_batch_enc e;
    wr_batch_enc_init(&e, false, 1 << 20);
    static const char env[] = "{\"collection\":\"Albums\",\"op\":\"list\",\"v\":1}";
    struct wr_msg m = {.message_id = "0123456789abcdef0123456789abcdef",
                       .type = "list",
                       .expiration_ms = 5000,
                       .deadline_ms = 1796404394256LL,
                       .hdrs = {{"x-principal", "anonymous"}, {"x-base-url", "http://h"}},
                       .nhdrs = 2,
                       .body = env,
                       .len = strlen(env)};
    ck_assert_int_eq(wr_batch_enc_add(&e, &m), 0);
    m.expiration_ms = -1;
    m.deadline_ms = 0;
    m.nhdrs = 0;
    ck_assert_int_eq(wr_batch_enc_add(&e, &m), 0);
    size_t len;
    const char *body = wr_batch_enc_finish(&e, &len);
    ck_assert(valid_text(req, body));
    ck_assert(!valid_text(rep, body));
    wr_batch_enc_release(&e);
    wr_batch_enc_init(&e, true, 1 << 20);
    struct wr_msg r = {.correlation_id = "0123456789abcdef0123456789abcdef",
                       .status = 200,
                       .hdrs = {{"link", "</api/Albums?page=2>; rel=\"next\""}},
                       .nhdrs = 1,
                       .body = "a,b\n", /* not JSON: carried as "body" */
                       .len = 4};
    ck_assert_int_eq(wr_batch_enc_add(&e, &r), 0);
    r.body = "{\"num_results\":0,\"objects\":[]}"; /* JSON: carried as "json" */
    r.len = strlen(r.body);
    ck_assert_int_eq(wr_batch_enc_add(&e, &r), 0);
    body = wr_batch_enc_finish(&e, &len);
    ck_assert(strstr(body, "\"json\":{") != NULL && strstr(body, "\"body\":\"") != NULL);
    ck_assert(strstr(body, "\"json_bytes\":") != NULL);
    ck_assert(valid_text(rep, body));
    ck_assert(!valid_text(req, body));
    wr_batch_enc_release(&e);
    /* a reply's body once: as body or as json */
    static const char *const bad_rep[] = {
        "{\"replies\":[{\"body\":\"{}\",\"headers\":{},\"id\":"
        "\"0123456789abcdef0123456789abcdef\",\"json\":{},\"status\":200}],\"v\":2}",
        "{\"replies\":[{\"headers\":{},\"id\":\"0123456789abcdef0123456789abcdef\","
        "\"status\":200}],\"v\":2}",
        /* json_bytes only with json */
        "{\"replies\":[{\"headers\":{},\"id\":\"0123456789abcdef0123456789abcdef\","
        "\"json_bytes\":2,\"status\":200}],\"v\":2}",
        "{\"replies\":[{\"body\":\"{}\",\"headers\":{},\"id\":"
        "\"0123456789abcdef0123456789abcdef\",\"json_bytes\":2,\"status\":200}],\"v\":2}",
    };
    for (size_t i = 0; i < COUNT(bad_rep); i++) {
        struct wr_batch d;
        struct wr_err err = {0};
        ck_assert_msg(!valid_text(rep, bad_rep[i]), "the schema takes %s", bad_rep[i]);
        ck_assert_int_eq(wr_batch_decode(bad_rep[i], strlen(bad_rep[i]), true, &d, &err),
                         WR_EINVAL);
    }
    static const char *const bad[] = {
        "{\"batch\":[],\"v\":2}",
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,"
        "\"headers\":{},\"id\":\"ABC\",\"type\":\"list\"}],\"v\":2}",
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-1,"
        "\"headers\":{},\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"list\"}],"
        "\"v\":1}",
        "{\"batch\":[{\"deadline_ms\":0,\"envelope\":\"{}\",\"expiration_ms\":-2,"
        "\"headers\":{},\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"list\"}],"
        "\"v\":2}",
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        struct wr_batch d;
        struct wr_err err = {0};
        ck_assert_msg(!valid_text(req, bad[i]), "the schema takes %s", bad[i]);
        ck_assert_int_eq(wr_batch_decode(bad[i], strlen(bad[i]), false, &d, &err), WR_EINVAL);
    }
    json_decref(req);
    json_decref(rep);
}
END_TEST

START_TEST(readme_mentions_every_name)
{
    char *text = read_readme();
    char want[160];
    for (size_t i = 0; i < COUNT(codes); i++) {
        (void)snprintf(want, sizeof(want), "`%s`", codes[i]);
        ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    }
    for (size_t i = 0; i < COUNT(headers); i++) {
        (void)snprintf(want, sizeof(want), "`%s`", headers[i]);
        ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    }
    for (size_t i = 0; i < COUNT(ops); i++) {
        (void)snprintf(want, sizeof(want), "`%s`", ops[i]);
        ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    }
    for (size_t i = 0; i < COUNT(service_ops); i++) {
        (void)snprintf(want, sizeof(want), "`%s`", service_ops[i]);
        ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    }
    for (size_t i = 0; i < COUNT(services); i++) {
        (void)snprintf(want, sizeof(want), "`" WR_QUEUE_PREFIX "%s`", services[i]);
        ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    }
    (void)snprintf(want, sizeof(want), "`[a-z][a-z0-9_]{0,%d}`", WR_OP_NAME_MAX - 1);
    ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    (void)snprintf(want, sizeof(want), "at most %d (`WR_AUDITLOG_MAX_RECORDS`)",
                   WR_AUDITLOG_MAX_RECORDS);
    ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    const char *names[] = {WR_QUEUE_PREFIX "<service>",
                           WR_QUEUE_PREFIX "<service>" WR_QUEUE_WRITE_SUFFIX,
                           WR_DLX_EXCHANGE,
                           WR_DEAD_QUEUE,
                           WR_AUDIT_QUEUE,
                           WR_MSG_TYPE_AUDIT,
                           WR_MSG_TYPE_AUDIT_BATCH,
                           WR_REPLY_TO,
                           WR_CONTENT_TYPE,
                           "x-queue-type=quorum",
                           "x-dead-letter-exchange=" WR_DLX_EXCHANGE,
                           "fanout"};
    for (size_t i = 0; i < COUNT(names); i++) {
        (void)snprintf(want, sizeof(want), "`%s`", names[i]);
        ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    }
    (void)snprintf(want, sizeof(want), "1 to %d of them (`WR_AUDIT_BATCH_DOCS_MAX`)",
                   WR_AUDIT_BATCH_DOCS_MAX);
    ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    (void)snprintf(want, sizeof(want), "`x-delivery-limit=%d`", WR_DELIVERY_LIMIT);
    ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    (void)snprintf(want, sizeof(want), "\"v\": %d", WR_PROTO_VERSION);
    ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    (void)snprintf(want, sizeof(want), "%d lowercase hex", WR_REQUEST_ID_LEN);
    ck_assert_msg(strstr(text, want) != NULL, "README.md does not mention %s", want);
    free(text);
}
END_TEST

/* proto/asyncapi.yaml names what proto.h names: the channels' addresses,
 * the queue arguments, the header properties. (tests/asyncapi/ parses and
 * validates the document itself.) */
START_TEST(asyncapi_names_match_proto_h)
{
    char *text = read_text("asyncapi.yaml");
    char want[160];
    const char *addresses[] = {WR_QUEUE_PREFIX "{service}",
                               WR_QUEUE_PREFIX "{service}" WR_QUEUE_WRITE_SUFFIX,
                               WR_AUDIT_QUEUE,
                               WR_DLX_EXCHANGE,
                               WR_DEAD_QUEUE,
                               WR_REPLY_TO};
    for (size_t i = 0; i < COUNT(addresses); i++) {
        (void)snprintf(want, sizeof(want), "\n    address: %s\n", addresses[i]);
        ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml has no channel %s", addresses[i]);
    }
    for (size_t i = 0; i < COUNT(headers); i++) {
        (void)snprintf(want, sizeof(want), "\n        %s:\n          type: ", headers[i]);
        ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml does not describe header %s",
                      headers[i]);
    }
    (void)snprintf(want, sizeof(want), "x-delivery-limit: %d\n", WR_DELIVERY_LIMIT);
    ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml: %s", want);
    (void)snprintf(want, sizeof(want), "x-max-length: %d\n", WR_DEAD_MAX_LENGTH);
    ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml: %s", want);
    (void)snprintf(want, sizeof(want), "x-dead-letter-exchange: %s\n", WR_DLX_EXCHANGE);
    ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml: %s", want);
    (void)snprintf(want, sizeof(want), "AMQP `type` = `%s`", WR_MSG_TYPE_AUDIT);
    ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml: %s", want);
    (void)snprintf(want, sizeof(want), "AMQP `type` = `%s`", WR_MSG_TYPE_RPC_BATCH);
    ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml: %s", want);
    (void)snprintf(want, sizeof(want), "AMQP `type` = `%s`", WR_MSG_TYPE_AUDIT_BATCH);
    ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml: %s", want);
    (void)snprintf(want, sizeof(want), "(%d lowercase hex characters)", WR_REQUEST_ID_LEN);
    ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml: %s", want);
    (void)snprintf(want, sizeof(want), "\n  version: '%d'\n", WR_PROTO_VERSION);
    ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml: %s", want);
    /* every payload is a schema of proto/, referenced */
    const char *refs[] = {"request", "service-request", "reply-list",
                          "error",   "batch",           "batch-reply"};
    for (size_t i = 0; i < COUNT(refs); i++) {
        (void)snprintf(want, sizeof(want), "$ref: ./%s.schema.json\n", refs[i]);
        ck_assert_msg(strstr(text, want) != NULL, "asyncapi.yaml does not reference %s", want);
    }
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("proto");
    tcase_add_test(tc, error_codes_match_proto_h);
    tcase_add_test(tc, request_members_match_decoder);
    tcase_add_test(tc, ops_match_proto_h);
    tcase_add_test(tc, limits_match_decoder);
    tcase_add_test(tc, decoder_and_schema_agree);
    tcase_add_test(tc, encode_round_trip);
    tcase_add_test(tc, service_envelope_matches_decoder);
    tcase_add_test(tc, reply_list_schema);
    tcase_add_test(tc, batch_schemas_match_codec);
    tcase_add_test(tc, readme_mentions_every_name);
    tcase_add_test(tc, asyncapi_names_match_proto_h);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
