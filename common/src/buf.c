/* Capped growable byte buffer (see buf.h): grows by doubling up to its cap,
 * remembers the first failure so writers check once. */
#include "warren/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/err.h"

void wr_buf_init(struct wr_buf *b, size_t max)
{
    *b = (struct wr_buf){.max = max};
}

void wr_buf_release(struct wr_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    wr_buf_init(b, b->max);
}

void wr_buf_reset(struct wr_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Makes room for n more bytes plus the terminating NUL. */
static int reserve(struct wr_buf *b, size_t n)
{
    if (b->err != 0)
        return b->err;
    if (n > b->max - b->len) {
        b->err = WR_ETOOBIG;
        return b->err;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap && b->data != NULL)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->err = WR_ENOMEM;
        return b->err;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

char *wr__buf_room_grow(struct wr_buf *b, size_t n)
{
    if (b->err != 0 || n > b->max - b->len)
        return NULL;
    if (n >= b->cap - b->len || b->data == NULL) {
        if (reserve(b, n) != 0) {
            b->err = 0; /* out of memory: the careful way reports it */
            return NULL;
        }
    }
    return b->data + b->len;
}

int wr__buf_append(struct wr_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int wr__buf_putc(struct wr_buf *b, char c)
{
    return wr__buf_append(b, &c, 1);
}

int wr_buf_vprintf(struct wr_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        if (b->err == 0)
            b->err = WR_EINVAL;
        return b->err;
    }
    int rc = reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    (void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int wr_buf_printf(struct wr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = wr_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int wr_buf_error(const struct wr_buf *b)
{
    return b->err;
}

char *wr_buf_detach(struct wr_buf *b, size_t *len)
{
    if (b->err != 0)
        return NULL;
    if (b->data == NULL) {
        if (reserve(b, 0) != 0)
            return NULL;
        b->data[0] = '\0';
    }
    char *p = b->data;
    if (len != NULL)
        *len = b->len;
    wr_buf_init(b, b->max);
    return p;
}

size_t wr_str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src != NULL ? src : "", n);
    dst[n] = '\0';
    return n;
}
