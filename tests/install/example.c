/* A program of a warren user, built outside warren's tree against an
 * installed copy (tests/install/check.sh builds it with pkg-config and with
 * find_package): one RPC call, GET Albums/1, straight to the catalog's
 * queue. Prints the status and the body; exits 0 only for a 200 that is
 * album 1.
 *   example AMQP_URL SERVICE */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <warren/rpc.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        (void)fprintf(stderr, "usage: %s AMQP_URL SERVICE\n", argv[0]);
        return 2;
    }
    struct wr_rpc_opts opts = {.amqp_url = argv[1], .service = argv[2], .timeout_ms = 30000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&opts, &err);
    if (rpc == NULL) {
        (void)fprintf(stderr, "cannot connect to %s: %s\n", argv[1], err.msg);
        return 1;
    }
    struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = "1"};
    struct wr_reply reply = {0};
    int rc = wr_rpc_call(rpc, &req, &reply, &err);
    if (rc != 0)
        (void)fprintf(stderr, "GET Albums/1: %s\n", err.msg);
    (void)printf("%d\n%s\n", reply.status, reply.body != NULL ? reply.body : "");
    /* album 1 itself, not merely some 200 */
    bool album = rc == 0 && reply.status == 200 && reply.body != NULL &&
                 strstr(reply.body, "\"album_id\":1,") != NULL &&
                 strstr(reply.body, "\"title\":\"For Those About To Rock We Salute You\"") != NULL;
    wr_reply_release(&reply);
    wr_rpc_free(rpc);
    return album ? 0 : 1;
}
