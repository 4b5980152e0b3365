/* libFuzzer target for wr_cfg_parse (common/include/warren/cfg.h) on the
 * input as a config file's text, no environment. Refused: nothing left to
 * free and at least one problem; accepted: every string key set and no
 * problem. Problems are printable lines either way; release frees all. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/err.h"

#define PROBLEMS_MAX (64u * 1024) /* as wr_cfg_from_args */

/* The string keys; checked against wr_cfg_keys() so a new one is not missed. */
static const struct {
    const char *name;
    size_t off;
} str_keys[] = {
    {"DATABASE_URI", offsetof(struct wr_cfg, database_uri)},
    {"COLLECTIONS", offsetof(struct wr_cfg, collections)},
    {"AMQP_URL", offsetof(struct wr_cfg, amqp_url)},
    {"REDIS_URL", offsetof(struct wr_cfg, redis_url)},
    {"MONGO_URI", offsetof(struct wr_cfg, mongo_uri)},
    {"AUDIT_DB", offsetof(struct wr_cfg, audit_db)},
    {"AUDIT_COLLECTION", offsetof(struct wr_cfg, audit_collection)},
    {"AUDIT_SPOOL_DIR", offsetof(struct wr_cfg, audit_spool_dir)},
    {"CORS_ORIGINS", offsetof(struct wr_cfg, cors_origins)},
    {"CACHE_CONTROL", offsetof(struct wr_cfg, cache_control)},
    {"SERVICE", offsetof(struct wr_cfg, service)},
    {"SERVICES", offsetof(struct wr_cfg, services)},
    {"HTTP_HOST", offsetof(struct wr_cfg, http_host)},
    {"LOG_LEVEL", offsetof(struct wr_cfg, log_level)},
    {"API_KEYS", offsetof(struct wr_cfg, api_keys)},
    {"CURSOR_SECRET", offsetof(struct wr_cfg, cursor_secret)},
    {"CHANGES_MAX_AGE", offsetof(struct wr_cfg, changes_max_age)},
    {"LOG_FORMAT", offsetof(struct wr_cfg, log_format)},
    {"ADMIN_HOST", offsetof(struct wr_cfg, admin_host)},
    {"AMQP_TLS_CA_PATH", offsetof(struct wr_cfg, amqp_tls_ca_path)},
    {"AMQP_TLS_CERT_PATH", offsetof(struct wr_cfg, amqp_tls_cert_path)},
    {"AMQP_TLS_KEY_PATH", offsetof(struct wr_cfg, amqp_tls_key_path)},
    {"AMQP_TLS_KEY_PASSWORD", offsetof(struct wr_cfg, amqp_tls_key_password)},
};
#define NSTR (sizeof(str_keys) / sizeof(str_keys[0]))

static void check_key_table(void)
{
    size_t n = 0;
    for (const struct wr_cfg_key *k = wr_cfg_keys(); k->name != NULL; k++) {
        if (strcmp(k->type, "str") != 0)
            continue;
        bool listed = false;
        for (size_t i = 0; i < NSTR && !listed; i++)
            listed = strcmp(str_keys[i].name, k->name) == 0;
        if (!listed) {
            (void)fprintf(stderr, "%s:%d: property violated: string key %s is not in str_keys\n",
                          __FILE__, __LINE__, k->name);
            abort();
        }
        n++;
    }
    FUZZ_ASSERT(n == NSTR);
}

static char *str_field(const struct wr_cfg *cfg, size_t i)
{
    char *const *field = (char *const *)(const void *)((const char *)cfg + str_keys[i].off);
    return *field;
}

static void check_empty(const struct wr_cfg *cfg)
{
    for (size_t i = 0; i < NSTR; i++)
        FUZZ_ASSERT(str_field(cfg, i) == NULL);
    FUZZ_ASSERT(cfg->colls == NULL && cfg->ncolls == 0);
}

static void check_loaded(const struct wr_cfg *cfg)
{
    for (size_t i = 0; i < NSTR; i++)
        FUZZ_ASSERT(str_field(cfg, i) != NULL);
    FUZZ_ASSERT(cfg->ncolls == 0 || cfg->colls != NULL);
    for (size_t i = 0; i < cfg->ncolls; i++) {
        const struct wr_cfg_coll *c = &cfg->colls[i];
        FUZZ_ASSERT(c->collection != NULL && c->setting != NULL && c->value != NULL);
        FUZZ_ASSERT(c->collection[0] != '\0');
        FUZZ_ASSERT(strcmp(c->setting, "NAME") == 0 || strcmp(c->setting, "EXCLUDE") == 0 ||
                    strcmp(c->setting, "INCLUDE") == 0 || strcmp(c->setting, "RENAME") == 0 ||
                    strcmp(c->setting, "METHODS") == 0 || strcmp(c->setting, "DEPTH") == 0 ||
                    strcmp(c->setting, "COUNT") == 0);
        /* the settings with a closed set of values hold one of them */
        if (strcmp(c->setting, "DEPTH") == 0)
            FUZZ_ASSERT(strcmp(c->value, "0") == 0 || strcmp(c->value, "1") == 0);
        if (strcmp(c->setting, "COUNT") == 0)
            FUZZ_ASSERT(strcmp(c->value, "exact") == 0 || strcmp(c->value, "none") == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool table_checked;
    if (!table_checked) {
        check_key_table();
        table_checked = true;
    }
    struct wr_cfg cfg;
    memset(&cfg, 0xa5, sizeof(cfg)); /* wr_cfg_parse must not read what it was given */
    struct wr_buf problems;
    wr_buf_init(&problems, PROBLEMS_MAX);
    int rc = wr_cfg_parse(&cfg, "fuzz.cfg", (const char *)data, size, NULL, &problems);
    if (rc != 0) {
        FUZZ_ASSERT(rc == WR_EINVAL || rc == WR_ENOMEM);
        check_empty(&cfg);
        FUZZ_ASSERT(problems.len > 0);
    } else {
        check_loaded(&cfg);
        FUZZ_ASSERT(problems.len == 0);
    }
    /* Problems reach terminals and logs: one printable line each. */
    for (size_t i = 0; i < problems.len; i++)
        FUZZ_ASSERT((problems.data[i] >= 0x20 && problems.data[i] < 0x7f) ||
                    problems.data[i] == '\n');
    FUZZ_ASSERT(problems.len == 0 || wr_buf_error(&problems) != 0 ||
                problems.data[problems.len - 1] == '\n');
    wr_cfg_release(&cfg);
    check_empty(&cfg);
    wr_cfg_release(&cfg); /* a released cfg may be released (or loaded) again */
    wr_buf_release(&problems);
    return 0;
}
