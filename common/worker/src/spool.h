/* The audit spool: an append-only file of records (one JSON document a
 * line) with a durable "shipped up to here" offset beside it. The worker's
 * thread appends and syncs; the shipper thread reads complete, synced lines
 * from the offset and advances it once they are delivered. A worker claims
 * a free spool in the directory at start (a lock held for its life), so a
 * restarted worker takes over, and ships, what a dead one left. */
#ifndef WARREN_WORKER_SPOOL_H
#define WARREN_WORKER_SPOOL_H

#include <stddef.h>

#include "warren/buf.h"
#include "warren/err.h"

typedef struct wr_spool wr_spool;

/* Claims the first spool of dir that no live process holds (creating dir
 * and the file as needed), drops a torn last line, and clamps the offset.
 * NULL on error, with err. */
wr_spool *wr_spool_open(const char *dir, struct wr_err *err);
/* Claims another spool of dir that no live process holds and that still
 * has undelivered records: one a worker left when it stopped for good (the
 * deployment now runs fewer workers than spools). NULL when there is none
 * (err->code 0) or on error. The caller ships it and closes it. */
wr_spool *wr_spool_adopt(const char *dir, struct wr_err *err);
void wr_spool_close(wr_spool *s);
const char *wr_spool_path(const wr_spool *s);

/* Appends one line (the newline is added). Not durable until wr_spool_sync.
 * WR_EAGAIN when the disk is full (ENOSPC, EDQUOT): nothing of the line
 * stays in the file (a partial write is cut off again), so the caller may
 * keep it and append it later; WR_EIO on any other failure. */
int wr_spool_append(wr_spool *s, const char *line, size_t len, struct wr_err *err);
/* Makes every appended line durable (fsync). */
int wr_spool_sync(wr_spool *s, struct wr_err *err);

/* Copies up to max_lines synced, undelivered lines (at most max_bytes
 * unless one line is longer) into out, each ending in '\n'; *taken gets
 * the bytes to pass to wr_spool_advance. Returns the number of lines. */
size_t wr_spool_peek(wr_spool *s, struct wr_buf *out, size_t max_lines, size_t max_bytes,
                     size_t *taken);
/* Marks taken more bytes delivered (durably); empties the file once
 * everything in it is delivered. */
int wr_spool_advance(wr_spool *s, size_t taken, struct wr_err *err);
/* Bytes synced but not yet delivered. */
size_t wr_spool_backlog(wr_spool *s);

/* Without a sink, keeps about keep bytes of the newest records: when more
 * than keep bytes wait, the newest keep / 2 bytes of whole lines are moved
 * to the file's start and the file is cut there, so the disk holds at most
 * about keep bytes; the older records are discarded, by the caller's
 * choice (*dropped gets their bytes). A crash during the move may bring
 * back some discarded lines (and one cut line), never lose a kept one.
 * 0, or WR_EIO (nothing discarded). */
int wr_spool_keep(wr_spool *s, size_t keep, size_t *dropped, struct wr_err *err);

/* Keeps len bytes of lines the sink can never take in the spool's
 * dead-letter file, <spool>.dead beside it (appended, then synced), so
 * that they can be advanced past without being lost. 0 or WR_EIO. */
int wr_spool_dead_letter(wr_spool *s, const char *lines, size_t len, struct wr_err *err);
/* The dead-letter file's path. */
void wr_spool_dead_path(const wr_spool *s, char *out, size_t cap);

#endif
