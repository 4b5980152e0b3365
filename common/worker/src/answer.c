/* An operation's answer (see answer.h). */
#include "warren/answer.h"

#include <string.h>

#include "warren/json.h"

#define ABOUT_MAX 1024 /* bytes of one string of about */

void wr_answer_init(struct wr_answer *a, size_t max_body)
{
    *a = (struct wr_answer){.status = 0};
    wr_buf_init(&a->body, max_body);
    /* a search's q rides in its links, up to 3 bytes a character, twice */
    wr_buf_init(&a->link, (size_t)512 * 1024);
    wr_buf_init(&a->about_text, (size_t)4 * (ABOUT_MAX + 1));
    wr_buf_init(&a->detail, WR_ANSWER_DETAIL_MAX);
}

/* Empties what the reply carries, keeping about. */
static void reset_reply(struct wr_answer *a)
{
    a->location[0] = '\0';
    a->allow[0] = '\0';
    a->status = 0;
    a->cache = NULL;
    a->rows = 0;
    a->position = 0;
    a->chunk = false;
    a->next[0] = '\0';
    wr_buf_reset(&a->body);
    a->body_json = false;
    wr_buf_reset(&a->link);
}

void wr_answer_reset(struct wr_answer *a)
{
    reset_reply(a);
    a->about = (struct wr_answer_about){0};
    wr_buf_reset(&a->about_text);
    wr_buf_reset(&a->detail);
}

void wr_answer_release(struct wr_answer *a)
{
    if (a == NULL)
        return;
    wr_buf_release(&a->body);
    wr_buf_release(&a->link);
    wr_buf_release(&a->about_text);
    wr_buf_release(&a->detail);
}

void wr_answer_error(struct wr_answer *a, int status, const char *code, const char *message)
{
    reset_reply(a);
    a->status = status;
    wr_json_error(&a->body, code, message);
    wr_buf_putc(&a->body, '\n');
}

/* Copies s (cut at ABOUT_MAX bytes) with its NUL into a->about_text; its
 * offset there, or -1 for NULL (or when the buffer failed). */
static long keep(struct wr_answer *a, const char *s)
{
    if (s == NULL)
        return -1;
    size_t n = strnlen(s, ABOUT_MAX);
    long at = (long)a->about_text.len;
    if (wr_buf_append(&a->about_text, s, n) != 0 || wr_buf_putc(&a->about_text, '\0') != 0)
        return -1;
    return at;
}

static const char *text_at(const struct wr_answer *a, long offset)
{
    return offset < 0 ? NULL : a->about_text.data + offset;
}

void wr_answer_describe(struct wr_answer *a, const struct wr_answer_about *about)
{
    /* Offsets first, pointers after the last append: appends may move the
     * buffer. */
    wr_buf_reset(&a->about_text);
    long op = keep(a, about->op), coll = keep(a, about->collection);
    long key = keep(a, about->key), rel = keep(a, about->relation);
    a->about = (struct wr_answer_about){.op = text_at(a, op),
                                        .collection = text_at(a, coll),
                                        .key = text_at(a, key),
                                        .relation = text_at(a, rel),
                                        .page = about->page,
                                        .per_page = about->per_page};
}
