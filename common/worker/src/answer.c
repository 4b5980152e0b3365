/* An operation's answer (see answer.h). */
#include "warren/answer.h"

#include "warren/json.h"

void wr_answer_init(struct wr_answer *a, size_t max_body)
{
    *a = (struct wr_answer){.status = 0};
    wr_buf_init(&a->body, max_body);
    /* a search's q rides in its links, up to 3 bytes a character, twice */
    wr_buf_init(&a->link, (size_t)512 * 1024);
}

void wr_answer_reset(struct wr_answer *a)
{
    a->location[0] = '\0';
    a->allow[0] = '\0';
    a->status = 0;
    a->cache = NULL;
    a->rows = 0;
    wr_buf_reset(&a->body);
    wr_buf_reset(&a->link);
}

void wr_answer_release(struct wr_answer *a)
{
    if (a == NULL)
        return;
    wr_buf_release(&a->body);
    wr_buf_release(&a->link);
}

void wr_answer_error(struct wr_answer *a, int status, const char *code, const char *message)
{
    wr_answer_reset(a);
    a->status = status;
    wr_json_error(&a->body, code, message);
    wr_buf_putc(&a->body, '\n');
}
