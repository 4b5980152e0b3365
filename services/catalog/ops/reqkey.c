/* Cache keys and dependencies of read requests (see reqkey.h). Key parts
 * are length-prefixed, so no id or name can make two requests collide. */
#include "ops/reqkey.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "warren/codec.h"
#include "warren/json.h"

void reqkey_init(struct reqkey *k)
{
    wr_buf_init(&k->key, 8192);
    k->ndeps = 0;
}

void reqkey_release(struct reqkey *k)
{
    wr_buf_release(&k->key);
}

void reqkey_gen_name(char *out, size_t cap, const char *table)
{
    static const char prefix[] = REQKEY_GEN_PREFIX;
    size_t n = strlen(table);
    if (cap < sizeof prefix) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    /* cut like snprintf would; every request builds a few (no printf) */
    if (n > cap - sizeof prefix)
        n = cap - sizeof prefix;
    memcpy(out, prefix, sizeof prefix - 1);
    memcpy(out + sizeof prefix - 1, table, n);
    out[sizeof prefix - 1 + n] = '\0';
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return wr_fnv1a64(h, s, strlen(s) + 1);
}

static uint64_t fnv_int(uint64_t h, long long v)
{
    return wr_fnv1a64(h, &v, sizeof(v));
}

void reqkey_schema_tag(char out[17], const schema *s)
{
    uint64_t h = WR_FNV1A64_INIT;
    for (size_t i = 0; i < schema_count(s); i++) {
        const struct collection *c = schema_at(s, i);
        h = fnv_int(
            fnv_int(fnv_int(fnv_str(fnv_str(h, c->name), c->table), c->depth), c->count_none),
            c->count_estimated);
        for (size_t k = 0; k < c->ncols; k++)
            h = fnv_int(
                fnv_int(fnv_str(fnv_str(h, c->cols[k].sql), c->cols[k].attr), c->cols[k].type),
                c->cols[k].hidden);
        for (size_t k = 0; k < c->nrels; k++) {
            const struct relation *r = &c->rels[k];
            h = fnv_int(fnv_int(fnv_int(fnv_int(fnv_str(h, r->name), r->hidden), r->to_many),
                                (long long)r->target),
                        r->narrowed);
            size_t ncols = schema_at(s, r->target)->ncols;
            for (size_t j = 0; r->col_hidden != NULL && j < ncols; j++)
                h = fnv_int(h, r->col_hidden[j]);
        }
    }
    (void)snprintf(out, 17, "%016" PRIx64, h);
}

/* A number then sep. Keys are built for every read: appends, not printf,
 * which cost a third of a cached reply's instructions. */
static void num(struct wr_buf *b, long long v, char sep)
{
    wr_json_int(b, v);
    wr_buf_putc(b, sep);
}

static void part(struct wr_buf *b, const char *s)
{
    s = s ? s : "";
    size_t n = strlen(s);
    num(b, (long long)n, ':');
    wr_buf_append(b, s, n);
    wr_buf_putc(b, '|');
}

/* Adds table's counter unless present; false when there is no room. */
static bool add_dep(struct reqkey *k, const char *table)
{
    char name[192];
    reqkey_gen_name(name, sizeof(name), table);
    for (size_t i = 0; i < k->ndeps; i++)
        if (strcmp(k->deps[i], name) == 0)
            return true;
    if (k->ndeps == CACHE_MAX_DEPS || strlen(name) + 1 > sizeof(k->deps[0]))
        return false;
    memcpy(k->deps[k->ndeps], name, strlen(name) + 1);
    k->dep_names[k->ndeps] = k->deps[k->ndeps];
    k->ndeps++;
    return true;
}

/* c's table and those of the relations its objects carry at depth (at
 * depth 2, the relations of those too). */
static bool add_object_deps(struct reqkey *k, const schema *s, const struct collection *c,
                            int depth)
{
    bool ok = add_dep(k, c->table);
    for (size_t i = 0; i < c->nrels && ok && depth > 0; i++)
        if (!c->rels[i].hidden)
            ok = add_object_deps(k, s, schema_at(s, c->rels[i].target), depth - 1);
    return ok;
}

long reqkey_per_page(const struct wr_request *req, long default_per_page, long max_per_page)
{
    long per_page = req->results_per_page ? req->results_per_page : default_per_page;
    return per_page > max_per_page ? max_per_page : per_page;
}

int reqkey_depth(const struct collection *c, const struct wr_request *req)
{
    if (c->depth == 0)
        return 0;
    return req->depth_given ? req->depth : c->depth;
}

bool reqkey_uncounted(const struct collection *c, const struct wr_request *req)
{
    return c->count_none || (req->count != NULL && strcmp(req->count, "none") == 0);
}

bool reqkey_build(struct reqkey *k, const schema *s, const struct wr_request *req,
                  const char *base_url, const struct reqkey_opts *o)
{
    wr_buf_reset(&k->key);
    k->ndeps = 0;
    const struct collection *c = req->collection ? schema_find(s, req->collection) : NULL;
    if (c == NULL)
        return false;
    bool ok = add_object_deps(k, s, c, req->relation != NULL ? 1 : reqkey_depth(c, req));
    /* A search may filter through relations of relations: its answer
     * depends on every table. */
    for (size_t i = 0; req->q != NULL && i < schema_count(s) && ok; i++)
        ok = add_dep(k, schema_at(s, i)->table);
    /* depth and count as the worker applies them, to the objects answered */
    const struct collection *shown = c;
    if (req->relation != NULL) {
        const struct relation *r = schema_relation(c, req->relation);
        if (r == NULL)
            return false;
        shown = schema_at(s, r->target);
        ok = ok && add_object_deps(k, s, shown, reqkey_depth(shown, req));
    }
    long per_page = reqkey_per_page(req, o->default_per_page, o->max_per_page);
    wr_buf_puts(&k->key, "warren:v");
    num(&k->key, WR_PROTO_VERSION, ':');
    part(&k->key, o->service);
    part(&k->key, o->schema_tag);
    part(&k->key, req->op);
    part(&k->key, c->name);
    part(&k->key, req->key);
    part(&k->key, req->relation);
    part(&k->key, req->related_id);
    part(&k->key, req->q);
    /* A single object's answer does not depend on paging. */
    bool paged = strcmp(req->op, WR_OP_GET) != 0;
    num(&k->key, paged ? (req->page ? req->page : 1) : 0, '|');
    num(&k->key, paged ? per_page : 0, '|');
    part(&k->key, base_url);
    /* the parameters links repeat as given, then what the worker applies */
    wr_buf_putc(&k->key, 'd');
    wr_buf_putc(&k->key, req->depth_given ? '1' : '0');
    num(&k->key, req->depth, '|');
    wr_buf_putc(&k->key, 'c');
    wr_json_int(&k->key, reqkey_depth(shown, req));
    part(&k->key, req->count);
    num(&k->key, reqkey_uncounted(shown, req) ? 1 : 0, '|');
    num(&k->key, o->count_max, '|');
    part(&k->key, req->fields);
    if (req->after != NULL) /* "" (start a walk) differs from no cursor */
        part(&k->key, req->after);
    else
        wr_buf_puts(&k->key, "-|");
    if (req->before != NULL) { /* a walk back: its own pages */
        wr_buf_puts(&k->key, "<|");
        part(&k->key, req->before);
    }
    return ok && wr_buf_error(&k->key) == 0;
}
