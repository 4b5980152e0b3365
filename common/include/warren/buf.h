/* Capped growable byte buffer with a sticky error.
 * Appends after the first failure (cap exceeded, out of memory) do nothing,
 * so a writer can append many pieces and check wr_buf_error() once. The data
 * is always NUL-terminated (the NUL is not counted in len).
 * A buffer is a plain struct the caller owns (wr_buf_init/wr_buf_release);
 * like any struct it belongs to one thread at a time. */
#ifndef WARREN_BUF_H
#define WARREN_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct wr_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* the most bytes len may reach */
    int err;    /* 0, or the first WR_E* seen */
};

/* Initialises an empty buffer that may hold at most max bytes. */
void wr_buf_init(struct wr_buf *b, size_t max);
/* Frees the data; the buffer may be initialised again. NULL-safe. */
void wr_buf_release(struct wr_buf *b);
/* Empties the buffer and clears its error, keeping the allocation. */
void wr_buf_reset(struct wr_buf *b);

/* Append n bytes / one byte / a C string / formatted text. Each returns 0 or
 * the buffer's sticky error (WR_ETOOBIG past max, WR_ENOMEM). wr_buf_append
 * and wr_buf_putc are inline when the bytes fit the allocation already:
 * JSON writers call them for every key and comma. */
static inline int wr_buf_append(struct wr_buf *b, const void *p, size_t n);
static inline int wr_buf_putc(struct wr_buf *b, char c);
static inline int wr_buf_puts(struct wr_buf *b, const char *s);
int wr_buf_printf(struct wr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wr_buf_vprintf(struct wr_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The sticky error: 0 when every append so far succeeded. */
int wr_buf_error(const struct wr_buf *b);

/* Copies src (NULL: none) into the cap bytes at dst (cap > 0), cut to
 * cap - 1 bytes and NUL-terminated: snprintf's "%s" without parsing a
 * format. Returns the bytes copied. */
size_t wr_str_copy(char *dst, size_t cap, const char *src);

/* Internal to libwarren's writers. The room for n more bytes and the NUL,
 * at data + len: grown as an append grows it, NULL when that would pass
 * max or memory is short, the buffer then left as it was (its error
 * untouched), so the caller can take the careful way. */
static inline char *wr__buf_room(struct wr_buf *b, size_t n);
/* The out-of-line halves of wr__buf_room, wr_buf_append and wr_buf_putc. */
char *wr__buf_room_grow(struct wr_buf *b, size_t n);
int wr__buf_append(struct wr_buf *b, const void *p, size_t n);
int wr__buf_putc(struct wr_buf *b, char c);

static inline char *wr__buf_room(struct wr_buf *b, size_t n)
{
    /* n < cap - len: n bytes and the NUL fit (data is set when cap > 0;
     * tested too, for the analysers) */
    if (b->err == 0 && b->data != NULL && n < b->cap - b->len && n <= b->max - b->len)
        return b->data + b->len;
    return wr__buf_room_grow(b, n);
}

static inline int wr_buf_append(struct wr_buf *b, const void *p, size_t n)
{
    /* n < cap - len: n bytes and the NUL fit */
    if (b->err != 0 || b->data == NULL || n >= b->cap - b->len || n > b->max - b->len)
        return wr__buf_append(b, p, n);
    if (n > 0)
        __builtin_memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static inline int wr_buf_putc(struct wr_buf *b, char c)
{
    if (b->err != 0 || b->data == NULL || b->cap - b->len < 2 || b->len >= b->max)
        return wr__buf_putc(b, c);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}

static inline int wr_buf_puts(struct wr_buf *b, const char *s)
{
    /* inline, so that a literal's length is known and its copy inline too */
    return wr_buf_append(b, s, __builtin_strlen(s));
}

/* Detaches the data and hands it to the caller, who frees it with free();
 * the buffer is left empty and may be used again. Returns NULL when the
 * buffer has an error. *len may be NULL. */
char *wr_buf_detach(struct wr_buf *b, size_t *len);

#endif
