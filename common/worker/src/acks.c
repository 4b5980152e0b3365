/* Held-back acknowledgements (see acks.h): a ring in delivery order. */
#include "acks.h"

#include <stdlib.h>

bool acks_init(struct acks *a, size_t cap)
{
    *a = (struct acks){.cap = cap ? cap : 1};
    a->ring = calloc(a->cap, sizeof(*a->ring));
    return a->ring != NULL;
}

void acks_release(struct acks *a)
{
    free(a->ring);
    *a = (struct acks){0};
}

void acks_push(struct acks *a, uint64_t tag, uint64_t recno)
{
    if (a->n == a->cap) {
        a->ring[(a->head + a->n - 1) % a->cap] = (struct acks_entry){tag, recno};
        return;
    }
    a->ring[(a->head + a->n) % a->cap] = (struct acks_entry){tag, recno};
    a->n++;
}

uint64_t acks_take(struct acks *a, uint64_t durable)
{
    uint64_t tag = 0;
    while (a->n > 0 && a->ring[a->head].recno <= durable) {
        tag = a->ring[a->head].tag;
        a->head = (a->head + 1) % a->cap;
        a->n--;
    }
    return tag;
}

bool acks_empty(const struct acks *a)
{
    return a->n == 0;
}

void acks_clear(struct acks *a)
{
    a->head = a->n = 0;
}
