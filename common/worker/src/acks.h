/* Acknowledgements held back until the audit records of their requests are
 * durable: (delivery tag, record number) pairs in delivery order; the
 * newest pair whose record is durable is acknowledged with "multiple",
 * which covers every delivery before it. Pure: no I/O. */
#ifndef CATALOG_ACKS_H
#define CATALOG_ACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acks_entry {
    uint64_t tag;
    uint64_t recno;
};

struct acks {
    struct acks_entry *ring;
    size_t cap, head, n;
};

/* Room for cap pairs; false when out of memory. */
bool acks_init(struct acks *a, size_t cap);
void acks_release(struct acks *a);
/* Holds tag until record recno is durable. When full, the newest pair is
 * replaced (its tag and record are newer, so nothing is acknowledged early). */
void acks_push(struct acks *a, uint64_t tag, uint64_t recno);
/* The newest tag whose record number is at most durable, removing it and
 * the pairs before it; 0 when none is ready. */
uint64_t acks_take(struct acks *a, uint64_t durable);
bool acks_empty(const struct acks *a);
/* Forgets every pair (their channel is gone). */
void acks_clear(struct acks *a);

#endif
