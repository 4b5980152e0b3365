/* The batch codec alone, for counting its instructions with callgrind:
 * ROUNDS times, N replies whose body is the file's bytes (a page as a
 * worker sends it, its final newline too) are encoded into one reply
 * batch and, unless the mode is "encode", decoded again as the edge
 * reads it (wr_batch_decode_skim) and checked byte for byte. Prints the
 * batch's size. Run the two modes under
 *   valgrind --tool=callgrind batch_codec FILE ROUNDS [encode|both] [N]
 * and divide by ROUNDS x N: instructions per item to encode (the worker's
 * part) and, from the difference, to decode (the edge's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/rpc_batch.h"

#define BODY_MAX (1 << 20)

static size_t read_body(const char *path, char *body)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(body, 1, BODY_MAX, f);
    (void)fclose(f);
    return n;
}

/* One round: the batch's size, or 0 when a step failed. */
static size_t round_trip(struct wr_batch_enc *e, const char *body, size_t n, int items, bool decode)
{
    wr_batch_enc_reset(e);
    for (int i = 0; i < items; i++) {
        struct wr_msg m = {
            .correlation_id = "0123456789abcdef0123456789abcdef",
            .status = 200,
            .hdrs = {{"link", "</api/Albums?page=2>; rel=\"next\""}, {"x-cache", "skip"}},
            .nhdrs = 2,
            .body = body,
            .len = n};
        if (wr_batch_enc_add(e, &m) != 0)
            return 0;
    }
    size_t len;
    const char *batch = wr_batch_enc_finish(e, &len);
    if (batch == NULL || !decode)
        return batch != NULL ? len : 0;
    struct wr_batch d;
    struct wr_err err = {0};
    bool same = wr_batch_decode_skim(batch, len, &d, &err) == 0 && d.n == (size_t)items &&
                d.items[items - 1].len == n && memcmp(d.items[items - 1].body, body, n) == 0;
    wr_batch_release(&d);
    return same ? len : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        (void)fprintf(stderr, "usage: %s FILE ROUNDS [encode|both] [N]\n", argv[0]);
        return 2;
    }
    static char body[BODY_MAX];
    size_t n = read_body(argv[1], body);
    long rounds = strtol(argv[2], NULL, 10);
    bool decode = argc < 4 || strcmp(argv[3], "encode") != 0;
    long items = argc > 4 ? strtol(argv[4], NULL, 10) : 8;
    if (n == 0 || rounds < 1 || items < 1 || items > WR_RPC_BATCH_ITEMS_MAX) {
        (void)fprintf(stderr, "%s: no body, or ROUNDS or N out of range\n", argv[0]);
        return 2;
    }
    struct wr_batch_enc e;
    wr_batch_enc_init(&e, true, (size_t)64 << 20);
    size_t len = 0;
    for (long r = 0; r < rounds; r++) {
        len = round_trip(&e, body, n, (int)items, decode);
        if (len == 0) {
            (void)fprintf(stderr, "%s: the batch did not round-trip\n", argv[0]);
            return 1;
        }
    }
    wr_batch_enc_release(&e);
    printf("%ld replies of %zu bytes: a batch of %zu bytes\n", items, n, len);
    return 0;
}
