/* The methods a collection takes (its METHODS setting): the words, their
 * bits in collection.methods, and the parser of a METHODS value. Pure. */
#ifndef CATALOG_METHODS_H
#define CATALOG_METHODS_H

#include <stdbool.h>
#include <stddef.h>

/* The words of a collection's METHODS (any case in the config), as bits
 * of collection.methods. GET is always allowed; PATCH_MANY and DELETE_MANY
 * opt in to writes of every object a search finds. */
enum method {
    METHOD_GET = 1u << 0,
    METHOD_POST = 1u << 1,
    METHOD_PATCH = 1u << 2,
    METHOD_PUT = 1u << 3,
    METHOD_DELETE = 1u << 4,
    METHOD_PATCH_MANY = 1u << 5,
    METHOD_DELETE_MANY = 1u << 6,
};
#define METHOD_COUNT 7

/* The word of the method at bit i (0 .. METHOD_COUNT-1): "GET", "POST",
 * "PATCH", "PUT", "DELETE", "PATCH_MANY", "DELETE_MANY"; the order the API
 * documents list them in. */
const char *schema_method_name(size_t i);
/* Parses a METHODS value ('GET, POST', any case, commas or spaces between
 * words) into *out (METHOD_GET always set). False on an unknown word, which
 * is copied into bad (cap bytes, cut short if longer). Pure. */
bool schema_methods_parse(const char *list, unsigned *out, char *bad, size_t cap);

#endif
