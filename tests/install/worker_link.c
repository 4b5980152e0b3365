/* Proves that a program can compile and link against the installed worker
 * runtime (warren::worker, warren-worker.pc): its headers are complete and
 * its link line brings libwarren_worker, libwarren and their dependencies
 * (mongo-c-driver among them), the whole runtime a service is built on:
 * wr_worker_run's address is taken, so the linker must resolve it and all
 * it calls. Exits 0 when an answer buffer takes a body. */
#include <warren/answer.h>
#include <warren/worker.h>

int main(void)
{
    int (*run)(const struct wr_cfg *, const struct wr_service *) = wr_worker_run;
    struct wr_answer a;
    wr_answer_init(&a, 1024);
    int rc = wr_buf_append(&a.body, "{}", 2);
    wr_answer_release(&a);
    return rc == 0 && run != 0 ? 0 : 1;
}
