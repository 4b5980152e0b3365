/* A write's method and body checked against the collection (see
 * write_body.h). */
#include "ops/write_body.h"

#include <stdio.h>
#include <string.h>

#include "warren/json.h"

/* The Allow header of a 405: the HTTP methods METHODS lists (not its
 * PATCH_MANY / DELETE_MANY opt-ins), GET always. */
static void allow_header(const struct collection *c, struct wr_answer *out)
{
    static const unsigned http = METHOD_POST | METHOD_PATCH | METHOD_PUT | METHOD_DELETE;
    size_t n = (size_t)snprintf(out->allow, sizeof(out->allow), "GET");
    for (size_t i = 1; i < METHOD_COUNT && n < sizeof(out->allow); i++)
        if ((1u << i) & http & c->methods)
            n += (size_t)snprintf(out->allow + n, sizeof(out->allow) - n, ", %s",
                                  schema_method_name(i));
}

bool write_allowed(const struct handler_env *env, const struct collection *c, unsigned mask,
                   struct wr_answer *out)
{
    if (!schema_allows(c, mask)) {
        wr_answer_error(out, 405, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
        allow_header(c, out);
        return false;
    }
    if (env->writer == NULL) {
        wr_answer_error(out, 503, WR_CODE_UNAVAILABLE, "the database cannot be written here");
        return false;
    }
    return true;
}

static const struct column *find_column(const struct collection *c, const char *attr, size_t *idx)
{
    for (size_t i = 0; i < c->ncols; i++) {
        if (!c->cols[i].hidden && strcmp(c->cols[i].attr, attr) == 0) {
            *idx = i;
            return &c->cols[i];
        }
    }
    return NULL;
}

/* Whether v has the shape a relation member takes: to-one an object or
 * null; to-many a list of objects (set) or {"add": [...], "remove": [...]}. */
static const char *rel_shape(const struct relation *r, json_t *v)
{
    if (!r->to_many)
        return json_is_object(v) || json_is_null(v) ? NULL : "must be an object or null";
    json_t *lists[2] = {v, NULL};
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (strcmp(k, "add") != 0 && strcmp(k, "remove") != 0)
                return "takes only add and remove";
        }
        lists[0] = json_object_get(v, "add");
        lists[1] = json_object_get(v, "remove");
    } else if (!json_is_array(v)) {
        return "must be a list of objects, or {\"add\": [...], \"remove\": [...]}";
    }
    for (size_t l = 0; l < 2; l++) {
        if (lists[l] == NULL)
            continue;
        size_t i;
        json_t *o;
        if (!json_is_array(lists[l]))
            return "add and remove must be lists of objects";
        json_array_foreach(lists[l], i, o) {
            if (!json_is_object(o))
                return "must hold objects";
        }
    }
    return NULL;
}

void write_invalid(json_t *errors, const char *name, const char *why)
{
    if (json_object_get(errors, name) == NULL)
        (void)json_object_set_new(errors, name, json_string(why));
}

/* A relation member: its shape checked, then kept for later. */
static void take_relation(const struct relation *rel, const char *name, json_t *v,
                          struct assignment *a, json_t *errors)
{
    const char *why = rel_shape(rel, v);
    if (why != NULL)
        write_invalid(errors, name, why);
    else if (a->nrels == WRITE_MAX_RELS)
        write_invalid(errors, name, "too many relations in one body");
    else
        a->rels[a->nrels++] = (struct rel_member){rel, v};
}

void write_body_object(const struct collection *c, json_t *obj, bool update, bool rels,
                       struct assignment *a, json_t *errors)
{
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v) {
        size_t idx = 0;
        const struct column *col = find_column(c, name, &idx);
        const struct relation *rel = col == NULL ? schema_relation(c, name) : NULL;
        bool is_key = false;
        for (size_t k = 0; col != NULL && k < c->npk; k++)
            is_key = is_key || c->pk[k] == idx;
        if (rel != NULL && !rel->hidden && rels) {
            take_relation(rel, name, v, a, errors);
            continue;
        }
        const char *why = NULL;
        if (col == NULL)
            why = rel != NULL && !rel->hidden ? "relations can be nested one level only"
                                              : "is not an attribute of this collection";
        else if (update && is_key)
            why = "is the primary key, which cannot change";
        else if (a->n == WRITE_MAX_VALUES)
            why = "too many members";
        else
            why = value_from_json(col->type, v, VALUE_STORE, &a->values[a->n], a->scratch[a->n]);
        if (why != NULL) {
            write_invalid(errors, name, why);
            continue;
        }
        a->idx[a->n++] = idx;
    }
}

void write_reply_invalid(struct wr_answer *out, json_t *errors)
{
    wr_answer_reset(out);
    out->status = 400;
    struct wr_buf *b = &out->body;
    wr_buf_puts(b, "{\"code\":\"" WR_CODE_VALIDATION_FAILED "\",\"message\":");
    wr_json_cstr(b, "the body is not valid: see validation_errors");
    wr_buf_puts(b, ",\"validation_errors\":");
    wr_json_value(b, errors);
    wr_buf_puts(b, "}\n");
}

int write_body_parse(const struct collection *c, const char *body, bool update,
                     struct assignment *a, struct wr_answer *out)
{
    json_error_t jerr;
    a->root = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
    a->n = 0;
    a->nrels = 0;
    if (!json_is_object(a->root)) {
        wr_answer_error(out, 400, WR_CODE_BAD_REQUEST, "body: must be one JSON object");
        return WR_EINVAL;
    }
    json_t *errors = json_object();
    write_body_object(c, a->root, update, true, a, errors);
    int rc = 0;
    if (errors == NULL || json_object_size(errors) > 0) {
        write_reply_invalid(out, errors);
        rc = WR_EINVAL;
    }
    json_decref(errors);
    return rc;
}

void write_body_release(struct assignment *a)
{
    if (a == NULL)
        return;
    json_decref(a->root);
    a->root = NULL;
}
