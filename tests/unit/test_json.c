/* Unit tests for the canonical JSON writers. Expected bytes are what Python 3's
 * json.dumps(obj, sort_keys=True, separators=(",", ":")) and repr(float)
 * printed, and the golden file is a body Flask-Restless 0.17 really sent. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/buf.h"
#include "warren/codec.h"
#include "warren/err.h"
#include "warren/json.h"
#include "run_suite.h"

#ifndef WARREN_REFERENCE_DIR
#error "WARREN_REFERENCE_DIR must name the directory of the golden files"
#endif

/* The n bytes at s as a JSON string, in a buffer the caller releases. */
static void dump_str(struct wr_buf *b, const char *s, size_t n)
{
    wr_buf_init(b, 1 << 20);
    wr_json_str(b, s, n);
    ck_assert_int_eq(wr_buf_error(b), 0);
}

#define ck_assert_str_dumps(lit, want)                                                             \
    do {                                                                                           \
        struct wr_buf b_;                                                                          \
        dump_str(&b_, (lit), sizeof(lit) - 1);                                                     \
        ck_assert_str_eq(b_.data, (want));                                                         \
        wr_buf_release(&b_);                                                                       \
    } while (0)

START_TEST(ascii_escapes)
{
    ck_assert_str_dumps("", "\"\"");
    ck_assert_str_dumps("AC/DC", "\"AC/DC\"");
    ck_assert_str_dumps("a\"b\\c", "\"a\\\"b\\\\c\"");
    ck_assert_str_dumps("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
    ck_assert_str_dumps("\x01\x1f", "\"\\u0001\\u001f\"");
    ck_assert_str_dumps("a\0b", "\"a\\u0000b\"");
}
END_TEST

START_TEST(del_is_escaped)
{
    ck_assert_str_dumps("a\x7f", "\"a\\u007f\"");
}
END_TEST

START_TEST(non_ascii_is_escaped)
{
    ck_assert_str_dumps("Ant\xc3\xb4nio", "\"Ant\\u00f4nio\"");
    ck_assert_str_dumps("\xe2\x82\xac", "\"\\u20ac\"");
    ck_assert_str_dumps("\xef\xbf\xbf", "\"\\uffff\"");
    ck_assert_str_dumps("\xdf\xbf", "\"\\u07ff\"");
}
END_TEST

START_TEST(astral_is_surrogate_pair)
{
    ck_assert_str_dumps("\xf0\x9f\x98\x80", "\"\\ud83d\\ude00\"");
    ck_assert_str_dumps("\xf4\x8f\xbf\xbf", "\"\\udbff\\udfff\"");
    ck_assert_str_dumps("\xf0\x90\x80\x80", "\"\\ud800\\udc00\"");
}
END_TEST

START_TEST(invalid_utf8_is_replaced_per_byte)
{
    ck_assert_str_dumps("a\x80z", "\"a\\ufffdz\"");
    ck_assert_str_dumps("\xc0\xaf", "\"\\ufffd\\ufffd\"");
    ck_assert_str_dumps("\xe2\x82", "\"\\ufffd\\ufffd\"");
    ck_assert_str_dumps("\xe2\x82z", "\"\\ufffd\\ufffdz\"");
    ck_assert_str_dumps("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    ck_assert_str_dumps("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
    ck_assert_str_dumps("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    ck_assert_str_dumps("\xf5\xff", "\"\\ufffd\\ufffd\"");
    ck_assert_str_dumps("\xc3", "\"\\ufffd\"");
}
END_TEST

START_TEST(long_plain_run)
{
    char s[5000];
    memset(s, 'x', sizeof s);
    s[2500] = '\n';
    struct wr_buf b;
    dump_str(&b, s, sizeof s);
    ck_assert_uint_eq(b.len, sizeof s + 3);
    ck_assert(memcmp(b.data + 2500, "x\\nx", 4) == 0);
    wr_buf_release(&b);
}
END_TEST

/* The escaping json.h promises, a byte at a time: what the writer's fast
 * paths (a plain string straight into the buffer, eight bytes at a time,
 * escapes into the buffer or through the stack near its cap) must match. */
static size_t slow_escape(const unsigned char *p, size_t n, char *o)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    o[k++] = '"';
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        uint32_t cp = c;
        size_t len = 1;
        if (c >= 0x80) {
            len = wr_utf8_decode(p + i, n - i, &cp);
            if (len == 0) {
                cp = 0xfffd;
                len = 1;
            }
        }
        i += len;
        if (cp >= 0x20 && cp < 0x7f && cp != '"' && cp != '\\') {
            o[k++] = (char)cp;
            continue;
        }
        const char *short_esc = cp == '"'    ? "\\\""
                                : cp == '\\' ? "\\\\"
                                : cp == '\n' ? "\\n"
                                : cp == '\r' ? "\\r"
                                : cp == '\t' ? "\\t"
                                : cp == '\b' ? "\\b"
                                : cp == '\f' ? "\\f"
                                             : NULL;
        if (short_esc != NULL) {
            memcpy(o + k, short_esc, 2);
            k += 2;
            continue;
        }
        uint32_t units[2] = {cp, 0};
        int nu = 1;
        if (cp >= 0x10000) {
            units[0] = 0xd800 | ((cp - 0x10000) >> 10);
            units[1] = 0xdc00 | ((cp - 0x10000) & 0x3ff);
            nu = 2;
        }
        for (int u = 0; u < nu; u++) {
            o[k++] = '\\';
            o[k++] = 'u';
            for (int d = 12; d >= 0; d -= 4)
                o[k++] = hex[(units[u] >> d) & 0xf];
        }
    }
    o[k++] = '"';
    return k;
}

/* Strings of every length to 700 (past a chunk of 256), plain or with
 * escapes, UTF-8, invalid bytes at varied places, written after varied
 * prefixes (so the allocation's edge falls anywhere) and as keys; and
 * each in a buffer capped at exactly its length (fits) and one byte less
 * (WR_ETOOBIG), where the worst case does not fit but the text may. */
START_TEST(fast_paths_match_bytewise)
{
    static const char *const pieces[] = {
        "x",    "\"",   "\\", "\n", "\x01", "\x7f", "\xc3\xb4", "\xe2\x82\xac", "\xf0\x9f\x8e\xb8",
        "\xc3", "\xff", "/"};
    unsigned seed = 12345;
    unsigned char s[700];
    char *want = malloc(6 * sizeof s + 8);
    ck_assert_ptr_nonnull(want);
    for (size_t n = 0; n <= sizeof s - 4; n++) {
        for (int kind = 0; kind < 3; kind++) {
            size_t len = 0;
            while (len < n) {
                seed = seed * 1103515245u + 12345u;
                /* kind 0: all plain; 1: an escape now and then; 2: many */
                unsigned r = (seed >> 16) % 64;
                const char *piece = kind == 0 || (kind == 1 && r > 2) || (kind == 2 && r > 40)
                                        ? "a"
                                        : pieces[r % (sizeof pieces / sizeof pieces[0])];
                size_t pl = strlen(piece);
                memcpy(s + len, piece, pl);
                len += pl;
            }
            size_t want_len = slow_escape(s, len, want);
            for (size_t prefix = 0; prefix < 40; prefix += 13) {
                struct wr_buf b;
                wr_buf_init(&b, 1 << 20);
                for (size_t i = 0; i < prefix + (n * 7) % 250; i++)
                    wr_buf_putc(&b, '.');
                size_t at = b.len;
                wr_json_str(&b, (const char *)s, len);
                ck_assert_int_eq(wr_buf_error(&b), 0);
                ck_assert_uint_eq(b.len - at, want_len);
                ck_assert(memcmp(b.data + at, want, want_len) == 0);
                ck_assert_int_eq(b.data[b.len], '\0');
                wr_buf_release(&b);
            }
            /* as a key (NUL-free only) */
            if (memchr(s, '\0', len) == NULL) {
                char key[sizeof s + 1];
                memcpy(key, s, len);
                key[len] = '\0';
                struct wr_buf b;
                wr_buf_init(&b, 1 << 20);
                wr_json_key(&b, key);
                ck_assert_uint_eq(b.len, want_len + 1);
                ck_assert(memcmp(b.data, want, want_len) == 0 && b.data[want_len] == ':');
                wr_buf_release(&b);
            }
            /* capped at exactly the text, then one byte short */
            for (size_t cut = 0; cut <= 1; cut++) {
                struct wr_buf b;
                wr_buf_init(&b, want_len - cut);
                wr_json_str(&b, (const char *)s, len);
                if (cut == 0) {
                    ck_assert_int_eq(wr_buf_error(&b), 0);
                    ck_assert_uint_eq(b.len, want_len);
                    ck_assert(memcmp(b.data, want, want_len) == 0);
                } else {
                    ck_assert_int_eq(wr_buf_error(&b), WR_ETOOBIG);
                }
                wr_buf_release(&b);
            }
        }
    }
    free(want);
}
END_TEST

/* Python 3.11's repr() of each value, printed by /usr/bin/python3. */
static const struct {
    double v;
    const char *repr;
} reals[] = {
    {0.99, "0.99"},
    {1.98, "1.98"},
    {13.86, "13.86"},
    {0.1 + 0.2, "0.30000000000000004"},
    {1e16, "1e+16"},
    {1e15, "1000000000000000.0"},
    {123456789012345678.0, "1.2345678901234568e+17"},
    {1e-5, "1e-05"},
    {0.0001, "0.0001"},
    {5e-324, "5e-324"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
    {175.0028818443804, "175.0028818443804"},
    {2.5, "2.5"},
    {-3.0, "-3.0"},
    {-0.0, "-0.0"},
    {0.0, "0.0"},
    {1.0, "1.0"},
    {100.0, "100.0"},
    {1e21, "1e+21"},
    {1e-7, "1e-07"},
    {1.5e-7, "1.5e-07"},
    {1e100, "1e+100"},
    {9999999999999998.0, "9999999999999998.0"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {0.00012345, "0.00012345"},
    {123.456, "123.456"},
    /* Powers of two, where the nearest 16-digit decimal does not read back
     * but the next one up does. */
    {0x1p-1017, "7.120236347223045e-307"},
    {0x1p976, "6.386688990511104e+293"},
    {0x1p-1022, "2.2250738585072014e-308"},
    {0x1p1023, "8.98846567431158e+307"},
};

START_TEST(real_is_python_repr)
{
    struct wr_buf b;
    wr_buf_init(&b, 64);
    wr_json_real(&b, reals[_i].v);
    ck_assert_int_eq(wr_buf_error(&b), 0);
    ck_assert_str_eq(b.data, reals[_i].repr);
    wr_buf_release(&b);
}
END_TEST

/* The significant digits of a positional or scientific repr. */
static int repr_digits(const char *s)
{
    int n = 0, lead = 1, pending = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (lead && *s == '0')
            continue;
        lead = 0;
        if (*s == '0') {
            pending++;
            continue;
        }
        n += pending + 1;
        pending = 0;
    }
    return n > 0 ? n : 1;
}

/* Short decimals (prices, durations: m x 10^-k) take a quicker path than
 * other reals: over many of each kind, and their neighbours one ulp away,
 * every repr reads back as its value and one digit fewer never does (the
 * nearest shorter decimal, printed by %e, misses v). Powers of two are
 * left out: there a shorter decimal one step up may read back, which the
 * table above covers. */
START_TEST(real_repr_reads_back_and_is_shortest)
{
    static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7};
    struct wr_buf b;
    wr_buf_init(&b, 64);
    unsigned long long x = 88172645463325252ull;
    for (int i = 0; i < 15000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v = (double)(x % 100000000000ull) / scale[(x >> 40) % 8];
        if (i % 3 == 1)
            v = nextafter(v, INFINITY);
        if (i % 3 == 2)
            memcpy(&v, &x, sizeof v);
        int e2 = 0;
        if (!isfinite(v) || v == 0 || frexp(fabs(v), &e2) == 0.5)
            continue;
        wr_buf_reset(&b);
        wr_json_real(&b, v);
        ck_assert_msg(strtod(b.data, NULL) == v, "%s does not read back as %.17g", b.data, v);
        int n = repr_digits(b.data);
        if (n > 1) {
            char shorter[40];
            snprintf(shorter, sizeof shorter, "%.*e", n - 2, v);
            ck_assert_msg(strtod(shorter, NULL) != v, "%s is shorter than %s", shorter, b.data);
        }
    }
    wr_buf_release(&b);
}
END_TEST

START_TEST(non_finite_real_is_null)
{
    struct wr_buf b;
    wr_buf_init(&b, 64);
    wr_json_real(&b, NAN);
    wr_buf_putc(&b, ',');
    wr_json_real(&b, INFINITY);
    wr_buf_putc(&b, ',');
    wr_json_real(&b, -INFINITY);
    ck_assert_str_eq(b.data, "null,null,null");
    wr_buf_release(&b);
}
END_TEST

START_TEST(scalars)
{
    struct wr_buf b;
    wr_buf_init(&b, 256);
    wr_json_int(&b, 0);
    wr_buf_putc(&b, ',');
    wr_json_int(&b, -42);
    wr_buf_putc(&b, ',');
    wr_json_int(&b, INT64_MAX);
    wr_buf_putc(&b, ',');
    wr_json_int(&b, INT64_MIN);
    wr_buf_putc(&b, ',');
    wr_json_null(&b);
    wr_buf_putc(&b, ',');
    wr_json_bool(&b, 1);
    wr_buf_putc(&b, ',');
    wr_json_bool(&b, 0);
    wr_buf_putc(&b, ',');
    wr_json_key(&b, "k\xc3\xa9");
    wr_json_cstr(&b, "v");
    ck_assert_str_eq(b.data, "0,-42,9223372036854775807,-9223372036854775808,null,true,false,"
                             "\"k\\u00e9\":\"v\"");
    wr_buf_release(&b);
}
END_TEST

/* Integers of every length and sign, straight into the buffer or, capped
 * at exactly their length or one byte less, the careful way. */
START_TEST(ints_at_every_length)
{
    int64_t v = 1;
    for (int digits = 1; digits <= 19; digits++) {
        const int64_t cases[] = {v, -v, v - 1, digits == 19 ? INT64_MAX : v * 9};
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char want[32];
            int n = snprintf(want, sizeof(want), "%lld", (long long)cases[i]);
            struct wr_buf b;
            wr_buf_init(&b, 1024);
            wr_buf_putc(&b, '[');
            wr_json_int(&b, cases[i]);
            ck_assert_str_eq(b.data + 1, want);
            wr_buf_release(&b);
            wr_buf_init(&b, (size_t)n);
            wr_json_int(&b, cases[i]);
            ck_assert_int_eq(wr_buf_error(&b), 0);
            ck_assert_str_eq(b.data, want);
            wr_buf_release(&b);
            wr_buf_init(&b, (size_t)n - 1);
            wr_json_int(&b, cases[i]);
            ck_assert_int_eq(wr_buf_error(&b), WR_ETOOBIG);
            wr_buf_release(&b);
        }
        if (digits < 19)
            v = v * 10 + (digits + 1) % 10;
    }
}
END_TEST

START_TEST(key_cmp_is_byte_order)
{
    const char *keys[] = {"b", "\xc3\xa9", "B", "a", "ab", "_", ""};
    qsort(keys, sizeof keys / sizeof keys[0], sizeof keys[0], wr_json_key_cmp);
    ck_assert_str_eq(keys[0], "");
    ck_assert_str_eq(keys[1], "B");
    ck_assert_str_eq(keys[2], "_");
    ck_assert_str_eq(keys[3], "a");
    ck_assert_str_eq(keys[4], "ab");
    ck_assert_str_eq(keys[5], "b");
    ck_assert_str_eq(keys[6], "\xc3\xa9");
}
END_TEST

START_TEST(value_sorts_keys)
{
    const char *text = "{\"z\":[1,2.5,\"s\",null,true,false,{}],\"a\":{\"y\":-1,\"b\":0.1,"
                       "\"\\u00e9\":\"\\u00f4\"},\"M\":[],\"_\":1e16}";
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    ck_assert_ptr_nonnull(v);
    struct wr_buf b;
    wr_buf_init(&b, 1024);
    wr_json_value(&b, v);
    ck_assert_int_eq(wr_buf_error(&b), 0);
    /* python3 -c 'import json; print(json.dumps(json.loads(text),
     *     separators=(",", ":"), sort_keys=True))' */
    ck_assert_str_eq(b.data,
                     "{\"M\":[],\"_\":1e+16,\"a\":{\"b\":0.1,\"y\":-1,\"\\u00e9\":\"\\u00f4\"},"
                     "\"z\":[1,2.5,\"s\",null,true,false,{}]}");
    wr_buf_release(&b);
    json_decref(v);
}
END_TEST

START_TEST(value_with_many_keys)
{
    json_t *v = json_object();
    for (int i = 99; i >= 0; i--) {
        char key[8];
        snprintf(key, sizeof key, "k%02d", i);
        json_object_set_new(v, key, json_integer(i));
    }
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    wr_json_value(&b, v);
    ck_assert_int_eq(wr_buf_error(&b), 0);
    ck_assert(strncmp(b.data, "{\"k00\":0,\"k01\":1,", 17) == 0);
    ck_assert_str_eq(b.data + b.len - 9, "\"k99\":99}");
    wr_buf_release(&b);
    json_decref(v);
}
END_TEST

START_TEST(value_over_cap_is_sticky)
{
    json_t *v = json_pack("{s:s,s:[i,i,i]}", "name", "Accept", "ids", 1, 2, 3);
    struct wr_buf b;
    wr_buf_init(&b, 10);
    wr_json_value(&b, v);
    ck_assert_int_eq(wr_buf_error(&b), WR_ETOOBIG);
    ck_assert_ptr_null(wr_buf_detach(&b, NULL));
    wr_buf_release(&b);
    json_decref(v);
}
END_TEST

/* Reads a whole file into a NUL-terminated heap string the caller frees. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    struct wr_buf b;
    wr_buf_init(&b, 1 << 24);
    char chunk[4096];
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n == 0)
            break;
        wr_buf_append(&b, chunk, n);
    }
    fclose(f);
    return wr_buf_detach(&b, len);
}

START_TEST(golden_albums_page)
{
    const char *path = WARREN_REFERENCE_DIR "/albums_page1.json";
    json_error_t jerr;
    json_t *v = json_load_file(path, 0, &jerr);
    ck_assert_msg(v != NULL, "%s: %s", path, jerr.text);
    size_t want_len = 0;
    char *want = read_file(path, &want_len);
    ck_assert_ptr_nonnull(want);
    struct wr_buf b;
    wr_buf_init(&b, 1 << 20);
    wr_json_value(&b, v);
    wr_buf_putc(&b, '\n');
    ck_assert_int_eq(wr_buf_error(&b), 0);
    ck_assert_uint_eq(b.len, want_len);
    ck_assert(memcmp(b.data, want, want_len) == 0);
    wr_buf_release(&b);
    free(want);
    json_decref(v);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
    TCase *tc = tcase_create(name);
    tcase_add_test(tc, test);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("json");
    add_case(s, "ascii_escapes", ascii_escapes);
    add_case(s, "del_is_escaped", del_is_escaped);
    add_case(s, "non_ascii_is_escaped", non_ascii_is_escaped);
    add_case(s, "astral_is_surrogate_pair", astral_is_surrogate_pair);
    add_case(s, "invalid_utf8_is_replaced_per_byte", invalid_utf8_is_replaced_per_byte);
    add_case(s, "long_plain_run", long_plain_run);
    add_case(s, "fast_paths_match_bytewise", fast_paths_match_bytewise);
    TCase *tc = tcase_create("real_is_python_repr");
    tcase_add_loop_test(tc, real_is_python_repr, 0, (int)(sizeof reals / sizeof reals[0]));
    suite_add_tcase(s, tc);
    add_case(s, "non_finite_real_is_null", non_finite_real_is_null);
    add_case(s, "real_repr_reads_back_and_is_shortest", real_repr_reads_back_and_is_shortest);
    add_case(s, "scalars", scalars);
    add_case(s, "ints_at_every_length", ints_at_every_length);
    add_case(s, "key_cmp_is_byte_order", key_cmp_is_byte_order);
    add_case(s, "value_sorts_keys", value_sorts_keys);
    add_case(s, "value_with_many_keys", value_with_many_keys);
    add_case(s, "value_over_cap_is_sticky", value_over_cap_is_sticky);
    add_case(s, "golden_albums_page", golden_albums_page);
    return run_suite(s, true);
}
