/* Acknowledgements held back until the audit records of their requests are
 * durable: (delivery tag, record number) pairs in delivery order; the
 * newest pair whose record is durable is acknowledged with "multiple",
 * which covers every delivery before it. Pure: no I/O. */
#ifndef WARREN_WORKER_ACKS_H
#define WARREN_WORKER_ACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wr_acks_entry {
    uint64_t tag;
    uint64_t recno;
};

struct wr_acks {
    struct wr_acks_entry *ring;
    size_t cap, head, n;
};

/* Room for cap pairs; false when out of memory. */
bool wr_acks_init(struct wr_acks *a, size_t cap);
void wr_acks_release(struct wr_acks *a);
/* Holds tag until record recno is durable. When full, the newest pair is
 * replaced (its tag and record are newer, so nothing is acknowledged early). */
void wr_acks_push(struct wr_acks *a, uint64_t tag, uint64_t recno);
/* The newest tag whose record number is at most durable, removing it and
 * the pairs before it; 0 when none is ready. */
uint64_t wr_acks_take(struct wr_acks *a, uint64_t durable);
bool wr_acks_empty(const struct wr_acks *a);
/* Forgets every pair (their channel is gone). */
void wr_acks_clear(struct wr_acks *a);

#endif
