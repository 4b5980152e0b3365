/* The words of METHODS (see methods.h). */
#include "model/methods.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "model/cfglist.h"

static const char *const method_names[METHOD_COUNT] = {"GET",    "POST",       "PATCH",      "PUT",
                                                       "DELETE", "PATCH_MANY", "DELETE_MANY"};

const char *schema_method_name(size_t i)
{
    return i < METHOD_COUNT ? method_names[i] : "";
}

bool schema_methods_parse(const char *list, unsigned *out, char *bad, size_t cap)
{
    *out = METHOD_GET;
    size_t len;
    const char *p = list;
    for (const char *e = cfglist_next(&p, &len); e != NULL; e = cfglist_next(&p, &len)) {
        size_t i = 0;
        while (i < METHOD_COUNT &&
               !(strlen(method_names[i]) == len && strncasecmp(e, method_names[i], len) == 0))
            i++;
        if (i == METHOD_COUNT) {
            (void)snprintf(bad, cap, "%.*s", (int)(len < 64 ? len : 64), e);
            return false;
        }
        *out |= 1u << i;
    }
    return true;
}
