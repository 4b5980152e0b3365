/* Configuration (see cfg.h): one key table drives the defaults, the
 * Flask-style file, the WARREN_* environment, wr_cfg_keys() and release.
 * Parsing collects every problem instead of stopping at the first, and never
 * echoes a string value: some (AMQP_URL) carry passwords. */
#include "warren/cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/analyzer.h"
#include "warren/codec.h"
#include "warren/err.h"

#define WR_CFG_MAX_FILE (1u << 20)              /* bytes of config file read */
#define WR_CFG_MAX_PROBLEMS ((size_t)64 * 1024) /* bytes of problems printed */
#define WR_CFG_ENV_PREFIX "WARREN_"

extern char **environ;

enum key_type { T_STR, T_INT, T_BOOL };
#define STR_NAME "str"
#define INT_NAME "int"
#define BOOL_NAME "bool"

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

/* The one table: X(NAME, field, type, default as text, min, max, choices,
 * help). min and max bound int keys; choices (NULL-terminated) limit a str
 * key. It is expanded three times below, so nothing can drift apart. */
#define WR_CFG_TABLE(X)                                                                            \
    X(DATABASE_URI, database_uri, STR, "sqlite:///../shared/data/chinook.db", 0, 0, NULL,          \
      "the SQLite database: sqlite:///relative or sqlite:////absolute")                            \
    X(COLLECTIONS, collections, STR, "", 0, 0, NULL,                                               \
      "the tables to serve, comma-separated; empty serves every table")                            \
    X(AMQP_URL, amqp_url, STR, "amqp://guest:guest@127.0.0.1:5672/%2f", 0, 0, NULL,                \
      "the RabbitMQ broker")                                                                       \
    X(REDIS_URL, redis_url, STR, "", 0, 0, NULL,                                                   \
      "the result cache, redis://host:port[/db]; empty turns caching off")                         \
    X(REDIS_TIMEOUT_MS, redis_timeout_ms, INT, "50", 1, 10000, NULL,                               \
      "the longest a cache command may take before the request bypasses the cache")                \
    X(CACHE_TTL_S, cache_ttl_s, INT, "300", 1, 86400L * 30, NULL,                                  \
      "how long a cached reply lives (up to 10% less, at random, so keys expire apart)")           \
    X(MONGO_URI, mongo_uri, STR, "", 0, 0, NULL,                                                   \
      "the audit trail's MongoDB; empty keeps audit records in the local spool")                   \
    X(AUDIT_DB, audit_db, STR, "warren", 0, 0, NULL, "the audit trail's database")                 \
    X(AUDIT_COLLECTION, audit_collection, STR, "audit", 0, 0, NULL,                                \
      "the audit trail's collection")                                                              \
    X(AUDIT_SPOOL_DIR, audit_spool_dir, STR, "audit-spool", 0, 0, NULL,                            \
      "where each worker spools audit records until MongoDB has them")                             \
    X(SERVICE, service, STR, "catalog", 0, 0, NULL, "the queue suffix: warren.<SERVICE>")          \
    X(HTTP_HOST, http_host, STR, "127.0.0.1", 0, 0, NULL, "the address the HTTP edge listens on")  \
    X(HTTP_PORT, http_port, INT, "8080", 1, 65535, NULL, "the port the HTTP edge listens on")      \
    X(CORS_ORIGINS, cors_origins, STR, "", 0, 0, NULL,                                             \
      "origins browsers may call from: '*', or a comma-separated list; '' turns CORS off")         \
    X(CACHE_CONTROL, cache_control, STR, "", 0, 0, NULL,                                           \
      "the Cache-Control header of successful reads, e.g. 'max-age=60'; '' sends none")            \
    X(REQUEST_TIMEOUT_MS, request_timeout_ms, INT, "5000", 1, 600000, NULL,                        \
      "each request's deadline")                                                                   \
    X(MAX_IN_FLIGHT, max_in_flight, INT, "10000", 1, 1000000, NULL,                                \
      "the requests the edge holds at once")                                                       \
    X(HTTP_TIMEOUT_S, http_timeout_s, INT, "10", 1, 3600, NULL,                                    \
      "the idle, header and body timeout per connection")                                          \
    X(MAX_BODY_BYTES, max_body_bytes, INT, "1048576", 0, 1L << 30, NULL,                           \
      "the largest request body")                                                                  \
    X(MAX_HEADER_BYTES, max_header_bytes, INT, "8192", 256, 1L << 20, NULL,                        \
      "the largest block of request headers (431 beyond)")                                         \
    X(MAX_URI_BYTES, max_uri_bytes, INT, "8192", 256, 1L << 20, NULL,                              \
      "the longest request target, path and query (414 beyond)")                                   \
    X(MAX_CONNECTIONS, max_connections, INT, "4096", 1, 1000000, NULL,                             \
      "the client connections the edge holds at once; beyond, new ones get 503 and are closed")    \
    X(MAX_JSON_DEPTH, max_json_depth, INT, "16", 1, 1000, NULL,                                    \
      "the deepest nesting of arrays and objects in q and in request bodies")                      \
    X(MAX_IN_VALUES, max_in_values, INT, "500", 1, 30000, NULL,                                    \
      "the most values one in / not_in filter may list")                                           \
    X(API_KEYS, api_keys, STR, "", 0, 0, NULL,                                                     \
      "'name:key, ...': the keys writes need (Authorization: Bearer <key>); secret")               \
    X(PREFETCH, prefetch, INT, "256", 1, 65535, NULL, "the unacknowledged deliveries per worker")  \
    X(RESULTS_PER_PAGE, results_per_page, INT, "10", 1, 100000, NULL, "the default page size")     \
    X(MAX_RESULTS_PER_PAGE, max_results_per_page, INT, "100", 1, 100000, NULL,                     \
      "the largest page size; larger requests are clamped")                                        \
    X(HEARTBEAT_S, heartbeat_s, INT, "10", 0, 3600, NULL, "the AMQP heartbeat; 0 turns it off")    \
    X(CONNECT_TIMEOUT_MS, connect_timeout_ms, INT, "2000", 1, 600000, NULL,                        \
      "the AMQP connect timeout")                                                                  \
    X(RECONNECT_MAX_MS, reconnect_max_ms, INT, "5000", 1, 600000, NULL,                            \
      "the cap on the AMQP reconnect backoff")                                                     \
    X(DEBUG, debug, BOOL, "False", 0, 0, NULL, "debug mode")                                       \
    X(LOG_LEVEL, log_level, STR, "info", 0, 0, log_levels,                                         \
      "the least severe level logged: debug, info, warn or error")

struct key {
    const char *name;
    enum key_type type;
    const char *def; /* parsed like an environment value */
    size_t off;      /* of the field in struct wr_cfg */
    long min, max;
    const char *const *choices;
};

#define KEY_ENTRY(name, field, type, def, lo, hi, choices, help)                                   \
    {#name, T_##type, def, offsetof(struct wr_cfg, field), lo, hi, choices},
#define KEY_DOC(name, field, type, def, lo, hi, choices, help) {#name, type##_NAME, def, help},
/* A table row whose type disagrees with its field fails to compile. */
#define KEY_CHECK(name, field, type, def, lo, hi, choices, help)                                   \
    _Static_assert(_Generic(((struct wr_cfg *)NULL)->field, char *: T_STR, long: T_INT,            \
                            bool: T_BOOL) == T_##type,                                             \
                   #name " does not match the type of its field");

static const struct key keys[] = {WR_CFG_TABLE(KEY_ENTRY)};
static const struct wr_cfg_key docs[] = {WR_CFG_TABLE(KEY_DOC){NULL, NULL, NULL, NULL}};
WR_CFG_TABLE(KEY_CHECK)

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const struct wr_cfg_key *wr_cfg_keys(void)
{
    return docs;
}

/* State of one wr_cfg_parse: where we are, for the problem lines. */
struct parser {
    struct wr_cfg *cfg;
    struct wr_buf *problems; /* may be NULL */
    const char *where;       /* the origin, "environment" or "default" */
    size_t line;             /* 0 outside a file */
    const char *subj;        /* the key or variable at fault, or NULL */
    size_t subj_len;
    size_t count; /* problems so far */
    size_t colls_cap;
    bool nomem;
};

/* Names come from files and the environment: control bytes must not reach
 * the terminal or the log, and a huge name is cut short. */
static void put_printable(struct wr_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n && i < 80; i++)
        (void)wr_buf_putc(b, (char)(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?'));
    if (n > 80)
        (void)wr_buf_puts(b, "...");
}

static void __attribute__((format(printf, 2, 3))) problem(struct parser *p, const char *fmt, ...)
{
    p->count++;
    struct wr_buf *b = p->problems;
    if (b == NULL)
        return;
    if (p->line > 0)
        (void)wr_buf_printf(b, "%s:%zu: ", p->where, p->line);
    else
        (void)wr_buf_printf(b, "%s: ", p->where);
    if (p->subj != NULL) {
        put_printable(b, p->subj, p->subj_len);
        (void)wr_buf_puts(b, ": ");
    }
    va_list ap;
    va_start(ap, fmt);
    (void)wr_buf_vprintf(b, fmt, ap);
    va_end(ap);
    (void)wr_buf_putc(b, '\n');
}

static void out_of_memory(struct parser *p)
{
    if (!p->nomem)
        problem(p, "out of memory");
    p->nomem = true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f';
}

static const char *skip_space(const char *s, const char *end)
{
    while (s < end && is_space(*s))
        s++;
    return s;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || is_digit(c);
}

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || is_digit(s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_ident_char(s[i]))
            return false;
    return true;
}

static bool equals(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* [+-]?[0-9]+ to a long. Returns 0, WR_EINVAL (not a decimal integer) or
 * WR_ETOOBIG (does not fit). */
static int parse_long(const char *s, size_t n, long *out)
{
    size_t sign = n > 0 && (s[0] == '+' || s[0] == '-');
    if (n == sign)
        return WR_EINVAL;
    for (size_t i = sign; i < n; i++)
        if (!is_digit(s[i]))
            return WR_EINVAL;
    char tmp[32]; /* strtol needs a NUL; more digits than this cannot fit */
    if (n >= sizeof(tmp))
        return WR_ETOOBIG;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol(tmp, &end, 10);
    if (errno == ERANGE)
        return WR_ETOOBIG;
    if (errno != 0 || end != tmp + n)
        return WR_EINVAL;
    *out = v;
    return 0;
}

static const struct key *find_key(const char *name, size_t n)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (equals(name, n, keys[i].name))
            return &keys[i];
    return NULL;
}

static void *slot(struct wr_cfg *cfg, const struct key *k)
{
    return (char *)cfg + k->off;
}

static bool is_choice(const char *const *choices, const char *s, size_t n)
{
    for (; *choices != NULL; choices++)
        if (equals(s, n, *choices))
            return true;
    return false;
}

static void bad_choice(struct parser *p, const char *const *choices)
{
    struct wr_buf list;
    wr_buf_init(&list, 256);
    for (size_t i = 0; choices[i] != NULL; i++)
        (void)wr_buf_printf(&list, "%s%s", i > 0 ? ", " : "", choices[i]);
    problem(p, "expected one of %s", list.data != NULL ? list.data : "");
    wr_buf_release(&list);
}

/* The copy is stored through the key table's field offset, which gcc's
 * analyzer loses track of; wr_cfg_release frees it. */
WR_ANALYZER_LEAK_FALSE_BEGIN
static void set_str(struct parser *p, const struct key *k, const char *s, size_t n)
{
    if (k->choices != NULL && !is_choice(k->choices, s, n)) {
        bad_choice(p, k->choices);
        return;
    }
    char *copy = dup_n(s, n);
    if (copy == NULL) {
        out_of_memory(p);
        return;
    }
    char **field = slot(p->cfg, k);
    free(*field);
    *field = copy;
}
WR_ANALYZER_LEAK_FALSE_END

static void set_int(struct parser *p, const struct key *k, long v)
{
    if (v < k->min || v > k->max) {
        problem(p, "%ld is out of range %ld..%ld", v, k->min, k->max);
        return;
    }
    long *field = slot(p->cfg, k);
    *field = v;
}

static void set_bool(struct parser *p, const struct key *k, bool v)
{
    bool *field = slot(p->cfg, k);
    *field = v;
}

static void set_parsed_int(struct parser *p, const struct key *k, const char *s, size_t n)
{
    long v = 0;
    int rc = parse_long(s, n, &v);
    if (rc == WR_EINVAL)
        problem(p, "expected an integer");
    else if (rc != 0)
        problem(p, "integer is out of range %ld..%ld", k->min, k->max);
    else
        set_int(p, k, v);
}

/* An environment value (or a table default): raw text, no quotes. Booleans
 * also take the spellings other tools write into environments. */
static void apply_raw(struct parser *p, const struct key *k, const char *text)
{
    size_t n = strlen(text);
    if (k->type == T_STR)
        set_str(p, k, text, n);
    else if (k->type == T_INT)
        set_parsed_int(p, k, text, n);
    else if (equals(text, n, "True") || equals(text, n, "true") || equals(text, n, "1"))
        set_bool(p, k, true);
    else if (equals(text, n, "False") || equals(text, n, "false") || equals(text, n, "0"))
        set_bool(p, k, false);
    else
        problem(p, "expected True, False, true, false, 1 or 0");
}

static int grow_colls(struct parser *p)
{
    size_t cap = p->colls_cap ? p->colls_cap * 2 : 8;
    if (cap > SIZE_MAX / sizeof(struct wr_cfg_coll))
        return WR_ENOMEM;
    struct wr_cfg_coll *c = realloc(p->cfg->colls, cap * sizeof(*c));
    if (c == NULL)
        return WR_ENOMEM;
    p->cfg->colls = c;
    p->colls_cap = cap;
    return 0;
}

static void add_coll(struct parser *p, const char *coll, size_t coll_len, const char *setting,
                     size_t setting_len, const char *value, size_t value_len)
{
    struct wr_cfg *cfg = p->cfg;
    if (cfg->ncolls == p->colls_cap && grow_colls(p) != 0) {
        out_of_memory(p);
        return;
    }
    struct wr_cfg_coll c = {dup_n(coll, coll_len), dup_n(setting, setting_len),
                            dup_n(value, value_len)};
    if (c.collection == NULL || c.setting == NULL || c.value == NULL) {
        free(c.collection);
        free(c.setting);
        free(c.value);
        out_of_memory(p);
        return;
    }
    cfg->colls[cfg->ncolls++] = c;
}

/* Checks the two halves of a dotted key; returns false after a problem. */
static bool coll_key_ok(struct parser *p, const char *coll, size_t coll_len, const char *setting,
                        size_t setting_len)
{
    if (!is_ident(coll, coll_len)) {
        problem(p, "the collection must be an identifier");
        return false;
    }
    static const char *const settings[] = {"NAME",    "EXCLUDE", "INCLUDE", "RENAME",
                                           "METHODS", "DEPTH",   "COUNT"};
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (equals(setting, setting_len, settings[i]))
            return true;
    problem(p,
            "unknown setting (expected NAME, EXCLUDE, INCLUDE, RENAME, METHODS, DEPTH or COUNT)");
    return false;
}

/* The settings with a closed set of values: DEPTH 0 or 1, COUNT exact or
 * none. False after a problem. */
static bool coll_value_ok(struct parser *p, const char *setting, size_t setting_len,
                          const char *value, size_t value_len)
{
    if (equals(setting, setting_len, "DEPTH") && !equals(value, value_len, "0") &&
        !equals(value, value_len, "1")) {
        problem(p, "expected 0 or 1");
        return false;
    }
    if (equals(setting, setting_len, "COUNT") && !equals(value, value_len, "exact") &&
        !equals(value, value_len, "none")) {
        problem(p, "expected 'exact' or 'none'");
        return false;
    }
    return true;
}

/* One Python literal from the file. */
enum lit_kind { LIT_STR, LIT_INT, LIT_BOOL, LIT_OTHER };
struct lit {
    enum lit_kind kind;
    struct wr_buf str; /* LIT_STR: the decoded text */
    long num;          /* LIT_INT */
    bool overflow;     /* LIT_INT too large for a long */
    bool truth;        /* LIT_BOOL */
    const char *why;   /* set when scanning fails with WR_EINVAL */
};

/* Python's \xHH is the code point U+00HH, which the Python app would encode
 * as UTF-8; do the same so both read one file alike. */
static int put_code_point(struct lit *lit, unsigned cp)
{
    if (cp == 0) {
        lit->why = "NUL characters are not allowed";
        return WR_EINVAL;
    }
    if (cp < 0x80)
        return wr_buf_putc(&lit->str, (char)cp);
    (void)wr_buf_putc(&lit->str, (char)(0xc0 | (cp >> 6)));
    return wr_buf_putc(&lit->str, (char)(0x80 | (cp & 0x3f)));
}

/* *pp is just past a backslash inside a string. */
static int scan_escape(const char **pp, const char *end, struct lit *lit)
{
    const char *s = *pp;
    char c = '\0';
    if (s < end)
        c = *s++;
    *pp = s;
    switch (c) {
    case '\\':
    case '\'':
    case '"':
        return wr_buf_putc(&lit->str, c);
    case 'n':
        return wr_buf_putc(&lit->str, '\n');
    case 't':
        return wr_buf_putc(&lit->str, '\t');
    case 'r':
        return wr_buf_putc(&lit->str, '\r');
    case 'x':
        break;
    default:
        lit->why = "unsupported escape sequence";
        return WR_EINVAL;
    }
    int hi = end - s >= 2 ? wr_hex_value(s[0]) : -1;
    int lo = end - s >= 2 ? wr_hex_value(s[1]) : -1;
    if (hi < 0 || lo < 0) {
        lit->why = "\\x needs two hex digits";
        return WR_EINVAL;
    }
    *pp = s + 2;
    return put_code_point(lit, (unsigned)(hi * 16 + lo));
}

static int scan_string(const char **pp, const char *end, struct lit *lit)
{
    const char *s = *pp;
    char quote = *s++;
    lit->kind = LIT_STR;
    while (s < end && *s != quote) {
        char c = *s++;
        int rc = 0;
        if (c == '\\')
            rc = scan_escape(&s, end, lit);
        else if (c != '\0')
            rc = wr_buf_putc(&lit->str, c);
        else
            rc = put_code_point(lit, 0); /* says why NUL is refused */
        if (rc != 0)
            return rc == WR_EINVAL ? rc : WR_ENOMEM;
    }
    if (s == end) {
        lit->why = "unterminated string";
        return WR_EINVAL;
    }
    *pp = s + 1;
    return 0;
}

/* Python rejects "007"; so do we, rather than guess octal or decimal. */
static bool leading_zero(const char *s, size_t n)
{
    size_t i = n > 0 && (s[0] == '+' || s[0] == '-');
    if (i >= n || s[i] != '0')
        return false;
    for (; i < n; i++)
        if (s[i] != '0')
            return true;
    return false;
}

/* Scans a literal at *pp and moves *pp past it. Returns 0 (an unrecognised
 * token is LIT_OTHER, for the caller to name the expected type), WR_EINVAL
 * with lit->why, or WR_ENOMEM. */
static int scan_literal(const char **pp, const char *end, struct lit *lit)
{
    const char *s = *pp;
    if (s < end && (*s == '\'' || *s == '"'))
        return scan_string(pp, end, lit);
    const char *t = s;
    while (t < end && !is_space(*t) && *t != '#')
        t++;
    *pp = t;
    size_t n = (size_t)(t - s);
    if (n == 0) {
        lit->why = "missing value";
        return WR_EINVAL;
    }
    if (equals(s, n, "True") || equals(s, n, "False")) {
        lit->kind = LIT_BOOL;
        lit->truth = n == 4;
        return 0;
    }
    int rc = parse_long(s, n, &lit->num);
    if (rc == WR_EINVAL)
        return 0; /* LIT_OTHER */
    if (leading_zero(s, n)) {
        lit->why = "leading zeros are not allowed in integers";
        return WR_EINVAL;
    }
    lit->kind = LIT_INT;
    lit->overflow = rc != 0;
    return 0;
}

/* The value after `=`: one literal, then only a comment. Returns false after
 * reporting a problem. */
static bool scan_value(struct parser *p, const char *s, const char *end, struct lit *lit)
{
    int rc = scan_literal(&s, end, lit);
    if (rc == 0) {
        s = skip_space(s, end);
        if (s < end && *s != '#') {
            lit->why = "unexpected text after the value";
            rc = WR_EINVAL;
        }
    }
    if (rc == WR_EINVAL)
        problem(p, "%s", lit->why);
    else if (rc != 0)
        out_of_memory(p);
    return rc == 0;
}

static void apply_lit(struct parser *p, const struct key *k, const struct lit *lit)
{
    if (k->type == T_STR && lit->kind != LIT_STR)
        problem(p, "expected a quoted string");
    else if (k->type == T_STR)
        set_str(p, k, lit->str.data, lit->str.len);
    else if (k->type == T_INT && lit->kind != LIT_INT)
        problem(p, "expected an integer");
    else if (k->type == T_INT && lit->overflow)
        problem(p, "integer is out of range %ld..%ld", k->min, k->max);
    else if (k->type == T_INT)
        set_int(p, k, lit->num);
    else if (lit->kind != LIT_BOOL)
        problem(p, "expected True or False");
    else
        set_bool(p, k, lit->truth);
}

static void file_key(struct parser *p, const char *name, size_t n, const char *s, const char *end)
{
    const struct key *k = find_key(name, n);
    if (k == NULL) {
        problem(p, "unknown key %.*s", (int)n, name);
        return;
    }
    struct lit lit = {.kind = LIT_OTHER};
    wr_buf_init(&lit.str, (size_t)(end - s));
    p->subj = name;
    p->subj_len = n;
    if (scan_value(p, s, end, &lit))
        apply_lit(p, k, &lit);
    p->subj = NULL;
    wr_buf_release(&lit.str);
}

static void file_coll(struct parser *p, const char *name, size_t n, const char *s, const char *end)
{
    const char *dot = memchr(name, '.', n);
    size_t coll_len = (size_t)(dot - name);
    struct lit lit = {.kind = LIT_OTHER};
    wr_buf_init(&lit.str, (size_t)(end - s));
    p->subj = name;
    p->subj_len = n;
    const char *setting = dot + 1;
    size_t setting_len = n - coll_len - 1;
    if (coll_key_ok(p, name, coll_len, setting, setting_len) && scan_value(p, s, end, &lit)) {
        /* DEPTH may be written as a number: Albums.DEPTH = 0 */
        if (lit.kind == LIT_INT && equals(setting, setting_len, "DEPTH") && !lit.overflow &&
            (lit.num == 0 || lit.num == 1))
            add_coll(p, name, coll_len, setting, setting_len, lit.num ? "1" : "0", 1);
        else if (lit.kind != LIT_STR)
            problem(p, "expected a quoted string");
        else if (coll_value_ok(p, setting, setting_len, lit.str.data, lit.str.len))
            add_coll(p, name, coll_len, setting, setting_len, lit.str.data, lit.str.len);
    }
    p->subj = NULL;
    wr_buf_release(&lit.str);
}

static void parse_line(struct parser *p, const char *s, const char *end)
{
    s = skip_space(s, end);
    if (s == end || *s == '#')
        return;
    const char *name = s;
    while (s < end && (is_ident_char(*s) || *s == '.'))
        s++;
    size_t n = (size_t)(s - name);
    s = skip_space(s, end);
    if (n == 0 || s == end || *s != '=') {
        problem(p, "expected KEY = value");
        return;
    }
    s = skip_space(s + 1, end);
    if (memchr(name, '.', n) != NULL)
        file_coll(p, name, n, s, end);
    else
        file_key(p, name, n, s, end);
}

static void parse_text(struct parser *p, const char *text, size_t len)
{
    if (len == 0)
        return;
    const char *s = text;
    const char *end = text + len;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3; /* a UTF-8 byte order mark, which Python skips too */
    for (p->line = 1; s < end; p->line++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *eol = nl != NULL ? nl : end;
        parse_line(p, s, eol);
        s = nl != NULL ? nl + 1 : end;
    }
    p->line = 0;
}

/* The last "__" splits a dotted key: settings never contain one, while a
 * collection name may end in an underscore. */
static const char *last_double_underscore(const char *s, size_t n)
{
    for (size_t i = n; i >= 2; i--)
        if (s[i - 2] == '_' && s[i - 1] == '_')
            return s + i - 2;
    return NULL;
}

/* name is the variable less its WARREN_ prefix; p->subj the whole variable. */
static void env_entry(struct parser *p, const char *name, size_t n, const char *value)
{
    const char *sep = last_double_underscore(name, n);
    if (sep != NULL) {
        size_t coll_len = (size_t)(sep - name);
        const char *setting = sep + 2;
        size_t setting_len = n - coll_len - 2;
        if (coll_key_ok(p, name, coll_len, setting, setting_len) &&
            coll_value_ok(p, setting, setting_len, value, strlen(value)))
            add_coll(p, name, coll_len, setting, setting_len, value, strlen(value));
        return;
    }
    const struct key *k = find_key(name, n);
    if (k == NULL)
        problem(p, "unknown key");
    else
        apply_raw(p, k, value);
}

static void parse_env(struct parser *p, char *const *env)
{
    const size_t prefix = strlen(WR_CFG_ENV_PREFIX);
    p->where = "environment";
    for (; *env != NULL; env++) {
        const char *e = *env;
        if (strncmp(e, WR_CFG_ENV_PREFIX, prefix) != 0)
            continue;
        const char *eq = strchr(e, '=');
        p->subj = e;
        p->subj_len = eq != NULL ? (size_t)(eq - e) : strlen(e);
        if (eq == NULL)
            problem(p, "no '=' in the environment entry");
        else
            env_entry(p, e + prefix, (size_t)(eq - e) - prefix, eq + 1);
    }
    p->subj = NULL;
}

static void apply_defaults(struct parser *p)
{
    p->where = "default";
    for (size_t i = 0; i < NKEYS; i++) {
        p->subj = keys[i].name;
        p->subj_len = strlen(keys[i].name);
        apply_raw(p, &keys[i], keys[i].def);
    }
    p->subj = NULL;
}

static bool loopback(const char *host, size_t n)
{
    return (n == 9 && strncmp(host, "127.0.0.1", n) == 0) ||
           (n == 9 && strncmp(host, "localhost", n) == 0) ||
           (n == 3 && strncmp(host, "::1", n) == 0) || (n == 5 && strncmp(host, "[::1]", n) == 0);
}

/* Production hygiene, for every binary: DEBUG only while the edge listens
 * on loopback, and RabbitMQ's default guest account only over loopback
 * (the broker refuses it beyond, with a less clear error). */
static void check_production(struct parser *p)
{
    const struct wr_cfg *c = p->cfg;
    p->line = 0;
    p->subj = NULL;
    p->where = "config";
    if (c->debug && !loopback(c->http_host, strlen(c->http_host)))
        problem(p, "DEBUG is on while HTTP_HOST is not loopback: refusing to start");
    const char *url = c->amqp_url;
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    if (at == NULL || strncmp(scheme + 3, "guest:", 6) != 0)
        return;
    const char *host = at + 1;
    size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
    if (!loopback(host, n))
        problem(p, "AMQP_URL uses RabbitMQ's default guest account beyond loopback: "
                   "give warren its own user");
}

static bool key_char(char c)
{
    return c > 0x20 && c < 0x7f && c != ',';
}

const char *wr_cfg_api_key_next(const char *p, struct wr_api_key *k)
{
    *k = (struct wr_api_key){0};
    p += strspn(p, " \t,");
    if (*p == '\0')
        return NULL;
    size_t n = strcspn(p, ",");
    const char *end = p + n;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char *colon = memchr(p, ':', (size_t)(end - p));
    k->name = p;
    k->name_len = colon != NULL ? (size_t)(colon - p) : 0;
    k->key = colon != NULL ? colon + 1 : end;
    k->key_len = (size_t)(end - k->key);
    bool ok = k->name_len >= 1 && k->name_len <= WR_API_KEY_NAME_MAX &&
              k->key_len >= WR_API_KEY_MIN && k->key_len <= WR_API_KEY_MAX;
    for (size_t i = 0; ok && i < k->name_len; i++)
        ok = is_ident_char(p[i]) || p[i] == '-' || p[i] == '.';
    for (size_t i = 0; ok && i < k->key_len; i++)
        ok = key_char(k->key[i]);
    k->ok = ok;
    return p + n;
}

/* API_KEYS: every entry well-formed, no name or key given twice. The
 * problems name entries by position: a key is a secret and never echoed. */
static void check_api_keys(struct parser *p)
{
    struct wr_api_key a, b;
    size_t i = 0;
    for (const char *s = wr_cfg_api_key_next(p->cfg->api_keys, &a); s != NULL;
         s = wr_cfg_api_key_next(s, &a)) {
        i++;
        if (!a.ok) {
            problem(p,
                    "API_KEYS: entry %zu is not name:key (a name of 1 to %d letters, digits, "
                    "'_', '-' or '.'; a key of %d to %d printable characters, no ',' or space)",
                    i, WR_API_KEY_NAME_MAX, WR_API_KEY_MIN, WR_API_KEY_MAX);
            continue;
        }
        size_t j = 0;
        for (const char *t = wr_cfg_api_key_next(p->cfg->api_keys, &b); j + 1 < i && t != NULL;
             t = wr_cfg_api_key_next(t, &b), j++) {
            if (b.ok && b.name_len == a.name_len && memcmp(a.name, b.name, a.name_len) == 0)
                problem(p, "API_KEYS: entries %zu and %zu have the same name", j + 1, i);
            if (b.ok && b.key_len == a.key_len && memcmp(a.key, b.key, a.key_len) == 0)
                problem(p, "API_KEYS: entries %zu and %zu have the same key", j + 1, i);
        }
    }
}

int wr_cfg_parse(struct wr_cfg *cfg, const char *origin, const char *text, size_t len,
                 char *const *env, struct wr_buf *problems)
{
    *cfg = (struct wr_cfg){0};
    struct parser p = {.cfg = cfg, .problems = problems};
    apply_defaults(&p);
    p.where = origin != NULL ? origin : "config";
    parse_text(&p, text, len);
    if (env != NULL)
        parse_env(&p, env);
    if (p.count == 0) {
        check_production(&p);
        check_api_keys(&p);
    }
    if (p.count == 0)
        return 0;
    wr_cfg_release(cfg);
    return p.nomem ? WR_ENOMEM : WR_EINVAL;
}

static int load_expanded(struct wr_cfg *cfg, const char *path, bool required, char *const *env,
                         struct wr_buf *problems);

/* Reads the whole of path into out (capped). Returns 0, WR_ENOTFOUND,
 * WR_ETOOBIG, WR_ENOMEM or WR_EIO; errno tells why for the last two. */
static int read_all(const char *path, struct wr_buf *out)
{
    /* Flawfinder: ignore - the operator's own --config file, only read */
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? WR_ENOTFOUND : WR_EIO;
    char chunk[16384];
    int rc = 0;
    while (rc == 0) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        rc = wr_buf_append(out, chunk, n);
        if (rc == 0 && n < sizeof(chunk)) {
            rc = ferror(f) ? WR_EIO : 0;
            break;
        }
    }
    int saved = errno;
    (void)fclose(f);
    errno = saved;
    return rc;
}

static void report_read(struct wr_buf *problems, const char *path, int rc, int saved_errno)
{
    if (problems == NULL)
        return;
    if (rc == WR_ETOOBIG)
        (void)wr_buf_printf(problems, "%s: larger than %u bytes\n", path, WR_CFG_MAX_FILE);
    else if (rc == WR_ENOMEM)
        (void)wr_buf_printf(problems, "%s: out of memory\n", path);
    else
        (void)wr_buf_printf(problems, "%s: cannot read: %s\n", path, strerror(saved_errno));
}

/* The environment with every WARREN_<KEY>_FILE=/path replaced by
 * WARREN_<KEY>=<the file's content> (one trailing newline dropped), so that
 * secrets can come from files (Docker and Kubernetes secrets) rather than the
 * environment. Files are read here, once, at start-up; their content is
 * never echoed. */
struct env_copy {
    char **env;   /* NULL-terminated */
    char **owned; /* the replaced entries, freed with the copy */
    size_t nowned;
};

static void env_copy_release(struct env_copy *c)
{
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->env);
    *c = (struct env_copy){0};
}

static bool env_has(char *const *env, const char *name, size_t n)
{
    for (; *env != NULL; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return true;
    return false;
}

/* entry is `WARREN_X_FILE=/path`, name_len the length of `WARREN_X`. */
static char *secret_entry(const char *entry, size_t name_len, struct wr_buf *problems)
{
    const char *path = strchr(entry, '=') + 1;
    struct wr_buf text;
    wr_buf_init(&text, 65536);
    int rc = read_all(path, &text);
    int saved = errno;
    size_t n = text.len;
    if (n > 0 && text.data[n - 1] == '\n')
        n--;
    if (n > 0 && text.data[n - 1] == '\r')
        n--;
    char *out = NULL;
    if (rc != 0)
        (void)wr_buf_printf(problems, "environment: %.*s_FILE: cannot read it: %s\n", (int)name_len,
                            entry, rc == WR_ETOOBIG ? "larger than 64 KiB" : strerror(saved));
    else if (memchr(text.data ? text.data : "", '\0', n) != NULL ||
             memchr(text.data ? text.data : "", '\n', n) != NULL)
        (void)wr_buf_printf(problems, "environment: %.*s_FILE: the file holds more than one line\n",
                            (int)name_len, entry);
    else
        out = malloc(name_len + n + 2);
    if (out != NULL) {
        memcpy(out, entry, name_len);
        out[name_len] = '=';
        if (n > 0)
            memcpy(out + name_len + 1, text.data, n);
        out[name_len + 1 + n] = '\0';
    }
    wr_buf_release(&text);
    return out;
}

/* Returns the number of problems added (an unreadable file, a variable also
 * given directly); c holds the environment to parse. */
static size_t expand_secret_files(char *const *env, struct env_copy *c, struct wr_buf *problems)
{
    size_t n = 0, bad = 0;
    while (env[n] != NULL)
        n++;
    c->env = calloc(n + 1, sizeof(char *));
    c->owned = calloc(n + 1, sizeof(char *));
    if (c->env == NULL || c->owned == NULL) {
        (void)wr_buf_puts(problems, "environment: out of memory\n");
        return 1;
    }
    for (size_t i = 0, j = 0; i < n; i++) {
        const char *e = env[i];
        const char *eq = strchr(e, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - e) : 0;
        bool file = strncmp(e, WR_CFG_ENV_PREFIX, strlen(WR_CFG_ENV_PREFIX)) == 0 &&
                    name_len > strlen(WR_CFG_ENV_PREFIX) + 5 && memcmp(eq - 5, "_FILE", 5) == 0;
        if (!file) {
            c->env[j++] = env[i];
            continue;
        }
        name_len -= 5;
        char *entry = NULL;
        if (env_has(env, e, name_len))
            (void)wr_buf_printf(problems, "environment: %.*s and %.*s_FILE are both set\n",
                                (int)name_len, e, (int)name_len, e);
        else
            entry = secret_entry(e, name_len, problems);
        if (entry == NULL) {
            bad++;
            continue;
        }
        c->owned[c->nowned++] = entry;
        c->env[j++] = entry;
    }
    return bad;
}

int wr_cfg_load(struct wr_cfg *cfg, const char *path, bool required, char *const *env,
                struct wr_buf *problems)
{
    struct env_copy copy = {0};
    struct wr_buf sink; /* when the caller wants no problem lines */
    wr_buf_init(&sink, 4096);
    size_t bad = env != NULL ? expand_secret_files(env, &copy, problems ? problems : &sink) : 0;
    int rc = load_expanded(cfg, path, required, copy.env, problems);
    env_copy_release(&copy);
    wr_buf_release(&sink);
    if (rc == 0 && bad > 0) {
        wr_cfg_release(cfg);
        rc = WR_EINVAL;
    }
    return rc;
}

static int load_expanded(struct wr_cfg *cfg, const char *path, bool required, char *const *env,
                         struct wr_buf *problems)
{
    struct wr_buf text;
    wr_buf_init(&text, WR_CFG_MAX_FILE);
    int rc = read_all(path, &text);
    int saved_errno = errno;
    bool failed = rc != 0 && (rc != WR_ENOTFOUND || required);
    if (failed)
        report_read(problems, path, rc, saved_errno);
    /* Parse even after a failure, so environment problems are listed too. */
    rc = wr_cfg_parse(cfg, path, text.data, rc == 0 ? text.len : 0, env, problems);
    wr_buf_release(&text);
    if (rc == 0 && failed) {
        wr_cfg_release(cfg);
        rc = WR_EINVAL;
    }
    return rc;
}

/* Takes --config PATH or --config=PATH; returns how many problems it added. */
static size_t scan_args(int argc, char **argv, const char **path, bool *required,
                        struct wr_buf *problems)
{
    size_t bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *given = NULL;
        if (strcmp(a, "--config") == 0 && i + 1 < argc)
            given = argv[++i];
        else if (strncmp(a, "--config=", 9) == 0 && a[9] != '\0')
            given = a + 9;
        if (given != NULL) {
            *path = given;
            *required = true;
            continue;
        }
        bad++;
        (void)wr_buf_puts(problems, "arguments: ");
        put_printable(problems, a, strlen(a));
        (void)wr_buf_puts(problems, strcmp(a, "--config") == 0 || strcmp(a, "--config=") == 0
                                        ? ": needs a path\n"
                                        : ": unknown argument (expected --config PATH)\n");
    }
    return bad;
}

static void print_problems(const struct wr_buf *problems, int rc)
{
    if (problems->len > 0)
        (void)fwrite(problems->data, 1, problems->len, stderr);
    if (wr_buf_error(problems) != 0)
        (void)fputs("(more configuration problems not shown)\n", stderr);
    else if (problems->len == 0)
        (void)fprintf(stderr, "configuration: %s\n", wr_err_str(rc));
}

int wr_cfg_from_args(struct wr_cfg *cfg, int argc, char **argv)
{
    struct wr_buf problems;
    wr_buf_init(&problems, WR_CFG_MAX_PROBLEMS);
    const char *path = "config.cfg";
    bool required = false;
    size_t bad = scan_args(argc, argv, &path, &required, &problems);
    int rc = wr_cfg_load(cfg, path, required, environ, &problems);
    if (rc == 0 && bad > 0) {
        wr_cfg_release(cfg);
        rc = WR_EINVAL;
    }
    if (rc != 0)
        print_problems(&problems, rc);
    wr_buf_release(&problems);
    return rc == 0 ? 0 : 2;
}

void wr_cfg_release(struct wr_cfg *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].type == T_STR) {
            char **field = slot(cfg, &keys[i]);
            free(*field);
        }
    }
    for (size_t i = 0; i < cfg->ncolls; i++) {
        free(cfg->colls[i].collection);
        free(cfg->colls[i].setting);
        free(cfg->colls[i].value);
    }
    free(cfg->colls);
    *cfg = (struct wr_cfg){0};
}

const char *wr_cfg_coll_get(const struct wr_cfg *cfg, const char *collection, const char *setting)
{
    for (size_t i = cfg->ncolls; i > 0; i--) {
        const struct wr_cfg_coll *c = &cfg->colls[i - 1];
        if (strcmp(c->collection, collection) == 0 && strcmp(c->setting, setting) == 0)
            return c->value;
    }
    return NULL;
}
