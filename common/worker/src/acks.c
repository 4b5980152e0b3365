/* Held-back acknowledgements (see acks.h): a ring in delivery order. */
#include "acks.h"

#include <stdlib.h>

bool wr_acks_init(struct wr_acks *a, size_t cap)
{
    *a = (struct wr_acks){.cap = cap ? cap : 1};
    a->ring = calloc(a->cap, sizeof(*a->ring));
    return a->ring != NULL;
}

void wr_acks_release(struct wr_acks *a)
{
    free(a->ring);
    *a = (struct wr_acks){0};
}

void wr_acks_push(struct wr_acks *a, uint64_t tag, uint64_t recno)
{
    if (a->n == a->cap) {
        a->ring[(a->head + a->n - 1) % a->cap] = (struct wr_acks_entry){tag, recno};
        return;
    }
    a->ring[(a->head + a->n) % a->cap] = (struct wr_acks_entry){tag, recno};
    a->n++;
}

uint64_t wr_acks_take(struct wr_acks *a, uint64_t durable)
{
    uint64_t tag = 0;
    while (a->n > 0 && a->ring[a->head].recno <= durable) {
        tag = a->ring[a->head].tag;
        a->head = (a->head + 1) % a->cap;
        a->n--;
    }
    return tag;
}

bool wr_acks_empty(const struct wr_acks *a)
{
    return a->n == 0;
}

void wr_acks_clear(struct wr_acks *a)
{
    a->head = a->n = 0;
}
