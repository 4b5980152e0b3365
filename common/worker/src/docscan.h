/* A fast yes for the audit document check (audit.h, wr_audit_check_doc):
 * an edge's record read from warren.audit is judged in one pass over its
 * bytes, with no tree built, where jansson took about 8 µs a 559-byte record
 * (most of a worker's cost of a refused request under a flood). It says
 * yes only where jansson, read with JSON_REJECT_DUPLICATES, would accept
 * the document as an object with a string _id; for anything it is not
 * sure of (a key with an escape, more keys than it keeps, a number jansson
 * might find too large, \u0000, a duplicate key) it says no, and the caller
 * asks jansson. So the verdict is jansson's, and only its cost changes. */
#ifndef WARREN_WORKER_DOCSCAN_H
#define WARREN_WORKER_DOCSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the len bytes at doc are surely one JSON object with a string
 * "_id" member and no duplicate member names at any depth. Pure. */
bool wr__doc_surely_ok(const char *doc, size_t len);

#endif
