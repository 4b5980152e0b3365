/* What a write asks, checked before anything is written: whether the
 * collection's METHODS let the method write it (405 with Allow, or 503
 * when the database cannot be written), and the body, one JSON object of
 * the collection's attributes and relations, validated member by member
 * into the columns and values it sets (every problem at once, in a 400
 * validation_failed's validation_errors). Values are converted by
 * model/values.h's rule. Pure: no I/O. */
#ifndef CATALOG_WRITE_BODY_H
#define CATALOG_WRITE_BODY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/values.h"
#include "ops/op.h"

#define WRITE_MAX_VALUES 256 /* columns one body sets */
#define WRITE_MAX_RELS 32    /* relation members of one body */

/* A relation member of a body, applied before (to-one) or after (to-many)
 * the row itself; v is borrowed from the body. */
struct rel_member {
    const struct relation *rel;
    json_t *v;
};

/* The columns and values a body sets. Large (about 40 KiB): allocate it.
 * Text values point into root's strings or into scratch. */
struct assignment {
    json_t *root;                 /* the parsed body, owned: write_body_release frees it */
    size_t idx[WRITE_MAX_VALUES]; /* column indices, in the body's order */
    struct value values[WRITE_MAX_VALUES];
    size_t n;
    struct rel_member rels[WRITE_MAX_RELS];
    size_t nrels;
    char scratch[WRITE_MAX_VALUES][VALUE_SCRATCH]; /* Flawfinder: ignore - values.h's bound */
};

/* Whether one of the methods in mask (enum method bits) may write c here;
 * when not, answers 405 (with the Allow header: GET and the HTTP methods
 * METHODS lists) or 503 (no writer) into out and is false. */
bool write_allowed(const struct handler_env *env, const struct collection *c, unsigned mask,
                   struct wr_answer *out);

/* Parses body (NUL-terminated text) for c into a (whose root it sets;
 * release with write_body_release even on failure). update: a PATCH,
 * where the key may not change. 0, or WR_EINVAL after answering 400
 * (bad_request when body is not one JSON object, else validation_failed
 * naming every wrong member) into out. */
int write_body_parse(const struct collection *c, const char *body, bool update,
                     struct assignment *a, struct wr_answer *out);

/* Checks obj's members against c into a (appending to its values), each
 * problem recorded in errors under the member's name. Relation members are
 * taken when rels is true (a top-level body) and refused otherwise (a
 * nested object). obj is borrowed and must outlive a's values. */
void write_body_object(const struct collection *c, json_t *obj, bool update, bool rels,
                       struct assignment *a, json_t *errors);

/* Records why under name in errors, unless name has a problem already. */
void write_invalid(json_t *errors, const char *name, const char *why);

/* Answers 400 validation_failed with {"validation_errors": errors} (out
 * is reset first; errors is borrowed and may be NULL when out of memory). */
void write_reply_invalid(struct wr_answer *out, json_t *errors);

/* Frees a's body; a itself is the caller's. NULL-safe. */
void write_body_release(struct assignment *a);

#endif
