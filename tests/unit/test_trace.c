/* W3C Trace Context: traceparent and tracestate accepted exactly as the
 * specification's grammar allows (its own examples among them) and
 * refused otherwise; a refused traceparent starts a new trace and drops
 * tracestate; new ids are lowercase hex, never zero, never repeated. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "run_suite.h"
#include "warren/trace.h"

#define TID "0af7651916cd43dd8448eb211c80319c"
#define PID "b7ad6b7169203331"

START_TEST(traceparent_valid)
{
    struct wr_trace t = {0};
    ck_assert(wr_traceparent_parse("00-" TID "-" PID "-01", &t));
    ck_assert_str_eq(t.trace_id, TID);
    ck_assert_str_eq(t.span_id, PID);
    ck_assert_uint_eq(t.flags, 1);
    ck_assert(wr_traceparent_parse("00-" TID "-" PID "-00", &t));
    ck_assert_uint_eq(t.flags, 0);
    /* flags other than sampled are not passed on */
    ck_assert(wr_traceparent_parse("00-" TID "-" PID "-ff", &t));
    ck_assert_uint_eq(t.flags, 1);
    ck_assert(wr_traceparent_parse("00-" TID "-" PID "-02", &t));
    ck_assert_uint_eq(t.flags, 0);
    /* a later version: 55 characters, or more after a '-' */
    ck_assert(wr_traceparent_parse("01-" TID "-" PID "-01", &t));
    ck_assert(wr_traceparent_parse("cc-" TID "-" PID "-01-what-comes-next", &t));
}
END_TEST

START_TEST(traceparent_invalid)
{
    static const char *const bad[] = {
        "",
        "00",
        "00-" TID "-" PID "-0",                           /* 54 characters */
        "00-" TID "-" PID "-01-",                         /* version 00 is 55 exactly */
        "00-" TID "-" PID "-011",                         /* likewise */
        "ff-" TID "-" PID "-01",                          /* version ff is invalid */
        "0g-" TID "-" PID "-01",                          /* not hex */
        "00-0AF7651916CD43DD8448EB211C80319C-" PID "-01", /* upper case */
        "00-" TID "-B7AD6B7169203331-01",                 /* upper case */
        "00-00000000000000000000000000000000-" PID "-01", /* zero trace id */
        "00-" TID "-0000000000000000-01",                 /* zero parent id */
        "00_" TID "-" PID "-01",                          /* separators */
        "00-" TID "_" PID "-01",
        "00-" TID "-" PID "_01",
        "00-" TID "-" PID "-0x",                                   /* flags not hex */
        "01-" TID "-" PID "-01x",                                  /* later version, no '-' */
        " 00-" TID "-" PID "-01",                                  /* spaces are not trimmed here */
        "00-0af7651916cd43dd8448eb211c80319-cb7ad6b7169203331-01", /* shifted dash */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct wr_trace t = {.trace_id = "untouched"};
        ck_assert_msg(!wr_traceparent_parse(bad[i], &t), "accepted '%s'", bad[i]);
        ck_assert_str_eq(t.trace_id, "untouched");
    }
    struct wr_trace t;
    ck_assert(!wr_traceparent_parse(NULL, &t));
}
END_TEST

START_TEST(tracestate_valid)
{
    static const char *const good[] = {
        "rojo=00f067aa0ba902b7",
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
        "congo=t61rcWkgMzE , rojo=00f067aa0ba902b7",
        "fw529a3039@dt=ffffffff00000000",
        "a=1,,\t, b=2",
        "",
        " , ",
        "key_-*/09=v a l u e",
        "a=x  ", /* trailing spaces are whitespace around the member */
        "a1b2c3@s_-*/9=~!\"#$%&'()*+-./:;<>?@[]^_`{|}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(wr_tracestate_valid(good[i]), "refused '%s'", good[i]);
    /* 32 members are allowed, 33 are not */
    char list[600] = "";
    size_t len = 0;
    for (int i = 0; i < 32; i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%sk%d=v", i ? "," : "", i);
    ck_assert(wr_tracestate_valid(list));
    (void)snprintf(list + len, sizeof(list) - len, ",x=y");
    ck_assert(!wr_tracestate_valid(list));
}
END_TEST

START_TEST(tracestate_invalid)
{
    char long_key[300], long_value[300], long_list[600];
    memset(long_key, 'k', 257);
    (void)snprintf(long_key + 257, sizeof(long_key) - 257, "=v");
    (void)snprintf(long_value, sizeof(long_value), "k=");
    memset(long_value + 2, 'v', 257);
    long_value[259] = '\0';
    memset(long_list, 'v', 520);
    memcpy(long_list, "k=", 2);
    long_list[520] = '\0';
    const char *const bad[] = {
        "Rojo=1",           /* upper case key */
        "1abc=1",           /* a simple key starts with a letter */
        "rojo",             /* no value */
        "rojo=",            /* empty value */
        "=1",               /* empty key */
        "rojo=1,rojo=2",    /* a key twice */
        "rojo=a=b",         /* '=' in a value */
        "rojo=\x01",        /* a control character */
        "rojo=caf\xc3\xa9", /* not ASCII */
        "t@S=1",            /* system id starts with a letter */
        "t@=1",
        "@s=1",
        "t@sssssssssssssss=1", /* system id over 14 */
        "a@b@c=1",
        long_key,
        long_value,
        long_list, /* over WR_TRACESTATE_MAX */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!wr_tracestate_valid(bad[i]), "accepted '%s'", bad[i]);
    ck_assert(!wr_tracestate_valid(NULL));
    char tenant[300];
    memset(tenant, 't', 242);
    (void)snprintf(tenant + 242, sizeof(tenant) - 242, "@s=1");
    ck_assert(!wr_tracestate_valid(tenant)); /* tenant id over 241 */
    tenant[241] = '@';
    tenant[242] = 's';
    tenant[243] = '=';
    tenant[244] = '1';
    tenant[245] = '\0';
    ck_assert(wr_tracestate_valid(tenant));
}
END_TEST

static bool lower_hex(const char *s, size_t n)
{
    if (strlen(s) != n || strspn(s, "0") == n)
        return false;
    return strspn(s, "0123456789abcdef") == n;
}

START_TEST(accept_continues_or_starts)
{
    struct wr_trace t;
    ck_assert(wr_trace_accept(&t, "00-" TID "-" PID "-01", "rojo=1"));
    ck_assert_str_eq(t.trace_id, TID);
    ck_assert_str_ne(t.span_id, PID); /* this hop's own span */
    ck_assert(lower_hex(t.span_id, WR_SPAN_ID_LEN));
    ck_assert_str_eq(t.tracestate, "rojo=1");
    ck_assert_uint_eq(t.flags, 1);
    char out[WR_TRACEPARENT_LEN + 1];
    wr_traceparent_format(&t, out);
    ck_assert_uint_eq(strlen(out), WR_TRACEPARENT_LEN);
    ck_assert(strncmp(out, "00-" TID "-", 36) == 0);
    ck_assert_str_eq(out + 52, "-01");
    struct wr_trace back;
    ck_assert(wr_traceparent_parse(out, &back));
    ck_assert_str_eq(back.span_id, t.span_id);
    /* a bad tracestate is dropped, the trace goes on */
    ck_assert(wr_trace_accept(&t, "00-" TID "-" PID "-00", "Rojo=1"));
    ck_assert_str_eq(t.tracestate, "");
    ck_assert_uint_eq(t.flags, 0);
    wr_traceparent_format(&t, out);
    ck_assert_uint_eq(strlen(out), WR_TRACEPARENT_LEN);
    ck_assert(strncmp(out, "00-" TID "-", 36) == 0);
    ck_assert(strncmp(out + 36, t.span_id, WR_SPAN_ID_LEN) == 0);
    ck_assert_str_eq(out + 52, "-00");
    /* a bad traceparent starts a new trace and ignores tracestate */
    ck_assert(!wr_trace_accept(&t, "00-" TID "-" PID "-0", "rojo=1"));
    ck_assert_str_ne(t.trace_id, TID);
    ck_assert(lower_hex(t.trace_id, WR_TRACE_ID_LEN));
    ck_assert_str_eq(t.tracestate, "");
    ck_assert(!wr_trace_accept(&t, NULL, NULL));
    /* a later version is continued, and passed on as version 00 */
    ck_assert(wr_trace_accept(&t, "7f-" TID "-" PID "-01-more", NULL));
    wr_traceparent_format(&t, out);
    ck_assert(strncmp(out, "00-" TID "-", 36) == 0);
}
END_TEST

START_TEST(new_ids_differ)
{
    struct wr_trace a, b;
    wr_trace_new(&a);
    wr_trace_new(&b);
    ck_assert(lower_hex(a.trace_id, WR_TRACE_ID_LEN));
    ck_assert(lower_hex(a.span_id, WR_SPAN_ID_LEN));
    ck_assert_str_ne(a.trace_id, b.trace_id);
    ck_assert_str_ne(a.span_id, b.span_id);
    ck_assert_uint_eq(a.flags, 0);
    char id[WR_TRACE_ID_LEN + 1];
    memcpy(id, a.trace_id, sizeof(id));
    wr_trace_new_span(&a);
    ck_assert_str_eq(a.trace_id, id);
    ck_assert_str_ne(a.span_id, b.span_id);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("trace");
    tcase_add_test(tc, traceparent_valid);
    tcase_add_test(tc, traceparent_invalid);
    tcase_add_test(tc, tracestate_valid);
    tcase_add_test(tc, tracestate_invalid);
    tcase_add_test(tc, accept_continues_or_starts);
    tcase_add_test(tc, new_ids_differ);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
