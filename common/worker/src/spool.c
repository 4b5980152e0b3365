/* The audit spool (see spool.h). One mutex guards the sizes: the worker's
 * thread appends and syncs, the shipper thread reads and advances. The
 * offset file holds the delivered offset as decimal text; a crash between a
 * delivery and its offset update re-sends records, which the sink counts as
 * duplicates, never as losses. */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_SPOOLS 64
#define PUNCH_STEP ((size_t)1 << 20)

struct wr_spool {
    int fd;
    int offset_fd;
    char path[4096];
    pthread_mutex_t lock;
    size_t written;   /* bytes in the file */
    size_t synced;    /* bytes known durable */
    size_t delivered; /* bytes shipped */
    size_t punched;   /* bytes of the delivered prefix given back to the disk */
};

static int sys_error(struct wr_err *err, const char *what, const char *path)
{
    return wr_err_set(err, WR_EIO, "spool: %s %s: %s", what, path, strerror(errno));
}

static size_t read_offset(int fd)
{
    char text[32] = {0};
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    return n > 0 ? (size_t)strtoull(text, NULL, 10) : 0;
}

static int write_offset(wr_spool *s, size_t offset, struct wr_err *err)
{
    char text[32];
    /* Fixed width, so the file never holds a longer old tail. */
    int n = snprintf(text, sizeof(text), "%020zu\n", offset);
    if (pwrite(s->offset_fd, text, (size_t)n, 0) != n || fdatasync(s->offset_fd) != 0)
        return sys_error(err, "writing the offset of", s->path);
    return 0;
}

/* Drops a torn last line: it was never synced, so its request was never
 * acknowledged and will be recorded again when redelivered. */
static int drop_torn_tail(wr_spool *s, struct wr_err *err)
{
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return sys_error(err, "stat", s->path);
    size_t size = (size_t)st.st_size;
    char c = '\n';
    while (size > 0 && pread(s->fd, &c, 1, (off_t)size - 1) == 1 && c != '\n')
        size--;
    if (size != (size_t)st.st_size && ftruncate(s->fd, (off_t)size) != 0)
        return sys_error(err, "truncating", s->path);
    s->written = s->synced = size;
    return 0;
}

/* Opens and locks spool number i; 1 when another process holds it (or,
 * with existing, when there is no such file). */
static int claim(wr_spool *s, const char *dir, int i, bool existing, struct wr_err *err)
{
    char offset_path[4200];
    (void)snprintf(s->path, sizeof(s->path), "%s/audit-%02d.spool", dir, i);
    (void)snprintf(offset_path, sizeof(offset_path), "%s.offset", s->path);
    int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (existing ? 0 : O_CREAT);
    /* Flawfinder: ignore - our own spool directory (config); O_NOFOLLOW refuses links */
    s->fd = open(s->path, flags, 0600);
    if (s->fd < 0 && existing && errno == ENOENT)
        return 1;
    if (s->fd < 0)
        return sys_error(err, "opening", s->path);
    if (flock(s->fd, LOCK_EX | LOCK_NB) != 0) {
        close(s->fd);
        s->fd = -1;
        return errno == EWOULDBLOCK ? 1 : sys_error(err, "locking", s->path);
    }
    /* Flawfinder: ignore - our own spool directory (config); O_NOFOLLOW refuses links */
    s->offset_fd = open(offset_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->offset_fd < 0)
        return sys_error(err, "opening", offset_path);
    int rc = drop_torn_tail(s, err);
    s->delivered = read_offset(s->offset_fd);
    if (s->delivered > s->written) /* emptied before the offset was reset */
        s->delivered = s->written;
    return rc;
}

static wr_spool *spool_alloc(struct wr_err *err)
{
    wr_spool *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        wr_err_set(err, WR_ENOMEM, "spool: out of memory");
        return NULL;
    }
    s->fd = s->offset_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

wr_spool *wr_spool_open(const char *dir, struct wr_err *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        sys_error(err, "creating", dir);
        return NULL;
    }
    wr_spool *s = spool_alloc(err);
    int rc = s ? 1 : WR_ENOMEM;
    for (int i = 0; s != NULL && i < MAX_SPOOLS && rc == 1; i++)
        rc = claim(s, dir, i, false, err);
    if (rc == 1)
        wr_err_set(err, WR_EBUSY, "spool: all %d spools in %s are in use", MAX_SPOOLS, dir);
    if (rc != 0) {
        wr_spool_close(s);
        return NULL;
    }
    return s;
}

wr_spool *wr_spool_adopt(const char *dir, struct wr_err *err)
{
    for (int i = 0; i < MAX_SPOOLS; i++) {
        wr_spool *s = spool_alloc(err);
        if (s == NULL)
            return NULL;
        int rc = claim(s, dir, i, true, err);
        if (rc == 0 && wr_spool_backlog(s) > 0)
            return s;
        wr_spool_close(s); /* held by its worker, absent, empty, or unreadable */
        if (rc < 0)
            return NULL;
    }
    return NULL;
}

void wr_spool_close(wr_spool *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd); /* releases the lock */
    if (s->offset_fd >= 0)
        close(s->offset_fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const char *wr_spool_path(const wr_spool *s)
{
    return s->path;
}

int wr_spool_append(wr_spool *s, const char *line, size_t len, struct wr_err *err)
{
    struct iovec iov[2] = {{(void *)line, len}, {"\n", 1}};
    pthread_mutex_lock(&s->lock);
    ssize_t n = writev(s->fd, iov, 2);
    bool whole = n == (ssize_t)(len + 1);
    int saved = n < 0 ? errno : ENOSPC; /* a short write: the disk filled up */
    /* Part of a line would read as a torn record, and the next line would
     * run into it: cut it off (cutting needs no space). */
    bool cut = whole || n <= 0 || ftruncate(s->fd, (off_t)s->written) == 0;
    if (whole)
        s->written += (size_t)n;
    pthread_mutex_unlock(&s->lock);
    if (whole)
        return 0;
    bool full = (saved == ENOSPC || saved == EDQUOT) && cut;
    return wr_err_set(err, full ? WR_EAGAIN : WR_EIO, "spool: appending to %s: %s", s->path,
                      strerror(saved));
}

int wr_spool_sync(wr_spool *s, struct wr_err *err)
{
    pthread_mutex_lock(&s->lock);
    size_t written = s->written;
    bool due = s->synced < written;
    pthread_mutex_unlock(&s->lock);
    if (!due)
        return 0;
    if (fdatasync(s->fd) != 0)
        return sys_error(err, "syncing", s->path);
    pthread_mutex_lock(&s->lock);
    if (s->synced < written)
        s->synced = written;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

size_t wr_spool_peek(wr_spool *s, struct wr_buf *out, size_t max_lines, size_t max_bytes,
                     size_t *taken)
{
    pthread_mutex_lock(&s->lock);
    size_t from = s->delivered, to = s->synced;
    pthread_mutex_unlock(&s->lock);
    wr_buf_reset(out);
    *taken = 0;
    size_t want = to - from < max_bytes ? to - from : max_bytes;
    if (want == 0 || wr_buf_append(out, NULL, 0) != 0)
        return 0;
    char chunk[65536];
    size_t lines = 0, done = 0;
    while (done < want && lines < max_lines) {
        size_t ask = want - done < sizeof(chunk) ? want - done : sizeof(chunk);
        ssize_t n = pread(s->fd, chunk, ask, (off_t)(from + done));
        if (n <= 0)
            break;
        /* memchr, not a loop over bytes: this runs after every fsync */
        const char *p = chunk, *end = chunk + n, *nl;
        while (lines < max_lines && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lines++;
            *taken = done + (size_t)(nl + 1 - chunk);
            p = nl + 1;
        }
        done += (size_t)n;
        wr_buf_append(out, chunk, (size_t)n);
    }
    out->len = *taken; /* only whole lines */
    if (out->data != NULL)
        out->data[out->len] = '\0';
    return lines;
}

int wr_spool_advance(wr_spool *s, size_t taken, struct wr_err *err)
{
    pthread_mutex_lock(&s->lock);
    s->delivered += taken;
    size_t delivered = s->delivered;
    /* Everything delivered and nothing appended since: start the file over. */
    if (delivered == s->written && delivered == s->synced && delivered > 0) {
        if (ftruncate(s->fd, 0) == 0) {
            s->written = s->synced = s->delivered = delivered = 0;
            s->punched = 0;
        }
    }
    /* Under steady traffic that moment may never come: give the delivered
     * prefix's blocks back to the file system instead (offsets stay valid,
     * the file is sparse). */
    size_t whole = delivered & ~(size_t)(PUNCH_STEP - 1);
    if (whole >= s->punched + PUNCH_STEP &&
        fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)whole) == 0)
        s->punched = whole;
    pthread_mutex_unlock(&s->lock);
    return write_offset(s, delivered, err);
}

void wr_spool_dead_path(const wr_spool *s, char *out, size_t cap)
{
    (void)snprintf(out, cap, "%s.dead", s->path);
}

int wr_spool_dead_letter(wr_spool *s, const char *lines, size_t len, struct wr_err *err)
{
    char path[4200];
    wr_spool_dead_path(s, path, sizeof(path));
    /* Flawfinder: ignore - beside our own spool (config); O_NOFOLLOW refuses links */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return sys_error(err, "opening", path);
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, lines + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    int rc = done == len && fdatasync(fd) == 0 ? 0 : sys_error(err, "writing", path);
    close(fd);
    return rc;
}

/* The offset of the first line that starts at or after from (to, when
 * none does before to). */
static size_t line_start(int fd, size_t from, size_t to)
{
    if (from == 0)
        return 0;
    char chunk[4096];
    for (size_t at = from - 1; at < to;) {
        size_t ask = to - at < sizeof(chunk) ? to - at : sizeof(chunk);
        ssize_t n = pread(fd, chunk, ask, (off_t)at);
        if (n <= 0)
            return to;
        const char *nl = memchr(chunk, '\n', (size_t)n);
        if (nl != NULL)
            return at + (size_t)(nl - chunk) + 1;
        at += (size_t)n;
    }
    return to;
}

/* Copies bytes [from, from + n) of the file to its start, through a
 * descriptor without O_APPEND (Linux appends pwrite's data under it). */
static int copy_to_start(wr_spool *s, size_t from, size_t n, struct wr_err *err)
{
    /* Flawfinder: ignore - our own spool (config); O_NOFOLLOW refuses links */
    int out = open(s->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (out < 0)
        return sys_error(err, "opening", s->path);
    char chunk[65536];
    size_t done = 0;
    while (done < n) {
        size_t ask = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
        ssize_t r = pread(s->fd, chunk, ask, (off_t)(from + done));
        if (r <= 0 || pwrite(out, chunk, (size_t)r, (off_t)done) != r)
            break;
        done += (size_t)r;
    }
    int rc = done == n && fdatasync(out) == 0 ? 0 : sys_error(err, "compacting", s->path);
    close(out);
    return rc;
}

int wr_spool_keep(wr_spool *s, size_t keep, size_t *dropped, struct wr_err *err)
{
    *dropped = 0;
    pthread_mutex_lock(&s->lock);
    size_t end = s->written;
    int rc = 0;
    /* only synced lines move; the newest keep / 2 stay, which lie past
     * keep / 2 (end > keep), so copying them to the start overwrites none */
    if (keep > 0 && s->synced == end && end - s->delivered > keep) {
        size_t from = line_start(s->fd, end - keep / 2, end);
        rc = copy_to_start(s, from, end - from, err);
        /* From here a crash rereads the copy, then older lines up to the
         * originals: some discarded lines come back, no kept one is lost. */
        if (rc == 0)
            rc = write_offset(s, 0, err);
        if (rc == 0 && (ftruncate(s->fd, (off_t)(end - from)) != 0 || fdatasync(s->fd) != 0))
            rc = sys_error(err, "cutting", s->path);
        if (rc == 0) {
            *dropped = from - s->delivered;
            s->written = s->synced = end - from;
            s->delivered = s->punched = 0;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

size_t wr_spool_backlog(wr_spool *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->synced - s->delivered;
    pthread_mutex_unlock(&s->lock);
    return n;
}
