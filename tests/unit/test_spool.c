/* Unit tests for the audit spool, on files in a temporary folder: lines
 * come back in order and only once synced, the offset survives a reopen,
 * a torn last line is dropped, a delivered file starts over, a spool
 * held by a live process is not claimed twice, and dead letters are kept
 * beside it. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_suite.h"
#include "spool.h"

static char dir[64];

static void make_dir(void)
{
    (void)snprintf(dir, sizeof(dir), "/tmp/warren-spool-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd_path[128];
    for (int i = 0; i < 4; i++) {
        (void)snprintf(cmd_path, sizeof(cmd_path), "%s/audit-%02d.spool", dir, i);
        (void)unlink(cmd_path);
        (void)snprintf(cmd_path, sizeof(cmd_path), "%s/audit-%02d.spool.offset", dir, i);
        (void)unlink(cmd_path);
        (void)snprintf(cmd_path, sizeof(cmd_path), "%s/audit-%02d.spool.dead", dir, i);
        (void)unlink(cmd_path);
    }
    (void)rmdir(dir);
}

static wr_spool *open_ok(void)
{
    struct wr_err err = {0};
    wr_spool *s = wr_spool_open(dir, &err);
    ck_assert_msg(s != NULL, "wr_spool_open: %s", err.msg);
    return s;
}

static void append(wr_spool *s, const char *line)
{
    struct wr_err err = {0};
    ck_assert_int_eq(wr_spool_append(s, line, strlen(line), &err), 0);
}

START_TEST(only_synced_lines_are_read_in_order)
{
    wr_spool *s = open_ok();
    struct wr_buf out;
    wr_buf_init(&out, 1 << 20);
    size_t taken = 0;
    append(s, "{\"a\":1}");
    append(s, "{\"a\":2}");
    ck_assert_uint_eq(wr_spool_peek(s, &out, 10, 1 << 20, &taken), 0);
    struct wr_err err = {0};
    ck_assert_int_eq(wr_spool_sync(s, &err), 0);
    ck_assert_uint_eq(wr_spool_peek(s, &out, 10, 1 << 20, &taken), 2);
    ck_assert_str_eq(out.data, "{\"a\":1}\n{\"a\":2}\n");
    ck_assert_uint_eq(wr_spool_peek(s, &out, 1, 1 << 20, &taken), 1);
    ck_assert_str_eq(out.data, "{\"a\":1}\n");
    ck_assert_int_eq(wr_spool_advance(s, taken, &err), 0);
    ck_assert_uint_eq(wr_spool_peek(s, &out, 10, 1 << 20, &taken), 1);
    ck_assert_str_eq(out.data, "{\"a\":2}\n");
    wr_buf_release(&out);
    wr_spool_close(s);
}
END_TEST

START_TEST(offset_survives_reopen_and_torn_tail_is_dropped)
{
    wr_spool *s = open_ok();
    struct wr_err err = {0};
    struct wr_buf out;
    wr_buf_init(&out, 1 << 20);
    size_t taken = 0;
    append(s, "one");
    append(s, "two");
    ck_assert_int_eq(wr_spool_sync(s, &err), 0);
    ck_assert_uint_eq(wr_spool_peek(s, &out, 1, 1 << 20, &taken), 1);
    ck_assert_int_eq(wr_spool_advance(s, taken, &err), 0);
    char path[256];
    (void)snprintf(path, sizeof(path), "%s", wr_spool_path(s));
    wr_spool_close(s);
    /* A crash mid-append leaves half a line. */
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "thr", 3), 3);
    close(fd);
    s = open_ok();
    ck_assert_uint_eq(wr_spool_peek(s, &out, 10, 1 << 20, &taken), 1);
    ck_assert_str_eq(out.data, "two\n");
    ck_assert_uint_eq(wr_spool_backlog(s), 4);
    wr_buf_release(&out);
    wr_spool_close(s);
}
END_TEST

START_TEST(delivered_spool_starts_over)
{
    wr_spool *s = open_ok();
    struct wr_err err = {0};
    struct wr_buf out;
    wr_buf_init(&out, 1 << 20);
    size_t taken = 0;
    append(s, "x");
    ck_assert_int_eq(wr_spool_sync(s, &err), 0);
    ck_assert_uint_eq(wr_spool_peek(s, &out, 10, 1 << 20, &taken), 1);
    ck_assert_int_eq(wr_spool_advance(s, taken, &err), 0);
    ck_assert_uint_eq(wr_spool_backlog(s), 0);
    FILE *f = fopen(wr_spool_path(s), "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    ck_assert_int_eq(ftell(f), 0);
    fclose(f);
    append(s, "y");
    ck_assert_int_eq(wr_spool_sync(s, &err), 0);
    ck_assert_uint_eq(wr_spool_peek(s, &out, 10, 1 << 20, &taken), 1);
    ck_assert_str_eq(out.data, "y\n");
    wr_buf_release(&out);
    wr_spool_close(s);
}
END_TEST

START_TEST(held_spool_is_not_claimed_twice)
{
    wr_spool *a = open_ok();
    wr_spool *b = open_ok();
    ck_assert_str_ne(wr_spool_path(a), wr_spool_path(b));
    char held[256];
    (void)snprintf(held, sizeof(held), "%s", wr_spool_path(a));
    wr_spool_close(a);
    wr_spool *c = open_ok(); /* the released one is free again */
    ck_assert_str_eq(wr_spool_path(c), held);
    wr_spool_close(b);
    wr_spool_close(c);
}
END_TEST

/* Under steady traffic the file never empties, so delivered blocks are
 * given back to the disk (the README promises bounded spool growth). */
START_TEST(delivered_blocks_are_freed_under_steady_load)
{
    wr_spool *s = open_ok();
    struct wr_err err = {0};
    struct wr_buf out;
    wr_buf_init(&out, 8 << 20);
    char line[1024];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    for (int i = 0; i < 4096; i++) /* 4 MiB */
        append(s, line);
    ck_assert_int_eq(wr_spool_sync(s, &err), 0);
    size_t taken = 0;
    ck_assert_uint_gt(wr_spool_peek(s, &out, 100000, 8 << 20, &taken), 0);
    append(s, "one more, not yet synced"); /* so the file cannot start over */
    ck_assert_int_eq(wr_spool_advance(s, taken, &err), 0);
    struct stat st;
    ck_assert_int_eq(stat(wr_spool_path(s), &st), 0);
    ck_assert_int_ge(st.st_size, 4 << 20);                    /* offsets stay valid */
    ck_assert_int_lt((long long)st.st_blocks * 512, 1 << 20); /* the blocks are gone */
    ck_assert_int_eq(wr_spool_sync(s, &err), 0);
    ck_assert_uint_eq(wr_spool_peek(s, &out, 10, 8 << 20, &taken), 1);
    ck_assert_str_eq(out.data, "one more, not yet synced\n");
    wr_buf_release(&out);
    wr_spool_close(s);
}
END_TEST

/* Lines the sink refuses are appended to <spool>.dead, which grows. */
START_TEST(dead_letters_kept_beside_the_spool)
{
    wr_spool *s = open_ok();
    struct wr_err err = {0};
    ck_assert_int_eq(wr_spool_dead_letter(s, "{\"a\":1}\n", 8, &err), 0);
    ck_assert_int_eq(wr_spool_dead_letter(s, "{\"b\":2}\n{\"c\":3}\n", 16, &err), 0);
    char path[4300];
    wr_spool_dead_path(s, path, sizeof(path));
    ck_assert_ptr_nonnull(strstr(path, "audit-00.spool.dead"));
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char text[64] = "";
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    ck_assert_uint_eq(n, 24);
    ck_assert_str_eq(text, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
    wr_spool_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spool");
    TCase *tc = tcase_create("spool");
    tcase_add_checked_fixture(tc, make_dir, remove_dir);
    tcase_add_test(tc, only_synced_lines_are_read_in_order);
    tcase_add_test(tc, offset_survives_reopen_and_torn_tail_is_dropped);
    tcase_add_test(tc, delivered_spool_starts_over);
    tcase_add_test(tc, held_spool_is_not_claimed_twice);
    tcase_add_test(tc, delivered_blocks_are_freed_under_steady_load);
    tcase_add_test(tc, dead_letters_kept_beside_the_spool);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
