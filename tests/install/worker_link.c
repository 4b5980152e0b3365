/* Proves that a program can compile and link against the installed worker
 * runtime (warren::worker, warren-worker.pc): its headers are complete and
 * its link line brings libwarren_worker, libwarren and their dependencies.
 * Exits 0 when an answer buffer takes a body. */
#include <warren/answer.h>

int main(void)
{
    struct wr_answer a;
    wr_answer_init(&a, 1024);
    int rc = wr_buf_append(&a.body, "{}", 2);
    wr_answer_release(&a);
    return rc == 0 ? 0 : 1;
}
