/* The checks across keys, run once a parse found no problem (see
 * cfg_int.h): production hygiene (DEBUG), the broker's node list (guest
 * account, TLS settings), the API_KEYS entries and the SERVICES names; and
 * the readers of those list values (cfg.h). Problems name list entries by position, never by value.
 */
#include <string.h>

#include "cfg_int.h"
#include "warren/amqp.h"

static bool loopback(const char *host, size_t n)
{
    return (n == 9 && strncmp(host, "127.0.0.1", n) == 0) ||
           (n == 9 && strncmp(host, "localhost", n) == 0) ||
           (n == 3 && strncmp(host, "::1", n) == 0) || (n == 5 && strncmp(host, "[::1]", n) == 0);
}

/* Production hygiene, for every binary: DEBUG only while the edge listens
 * on loopback. */
static void check_production(struct wr__parser *p)
{
    const struct wr_cfg *c = p->cfg;
    if (c->debug && !loopback(c->http_host, strlen(c->http_host)))
        wr__problem(p, "DEBUG is on while HTTP_HOST is not loopback: refusing to start");
}

/* AMQP_URL: a list of nodes connect can read (amqp_nodes.c), none using
 * RabbitMQ's default guest account beyond loopback (the broker refuses it
 * there, with a less clear error); and TLS settings that mean something:
 * given for amqps:// nodes only (set for an amqp:// URL they would be
 * silently unused, so the plain connection is refused instead), a
 * certificate with its key, a hostname check on a verified chain. */
static void check_amqp(struct wr__parser *p)
{
    const struct wr_cfg *c = p->cfg;
    struct wr_amqp_nodes nodes;
    struct wr_err err = {0};
    if (wr_amqp_nodes_parse(&nodes, c->amqp_url, &err) != 0) {
        wr__problem(p, "%s", err.msg);
        return;
    }
    for (size_t i = 0; i < nodes.n; i++) {
        const struct wr_amqp_node *nd = &nodes.node[i];
        if (strcmp(nd->user, "guest") == 0 && !loopback(nd->host, strlen(nd->host)))
            wr__problem(p, "AMQP_URL uses RabbitMQ's default guest account beyond loopback: "
                           "give warren its own user");
    }
    bool tls = nodes.tls;
    wr_amqp_nodes_release(&nodes);
    bool tls_set = c->amqp_tls_ca_path[0] != '\0' || c->amqp_tls_cert_path[0] != '\0' ||
                   c->amqp_tls_key_path[0] != '\0' || c->amqp_tls_key_password[0] != '\0' ||
                   !c->amqp_tls_verify_peer || !c->amqp_tls_verify_hostname;
    if (tls_set && !tls)
        wr__problem(p, "AMQP_TLS_* settings are given but AMQP_URL's nodes are amqp://, not "
                       "amqps://: refusing to connect without TLS");
    if ((c->amqp_tls_cert_path[0] != '\0') != (c->amqp_tls_key_path[0] != '\0'))
        wr__problem(p, "AMQP_TLS_CERT_PATH and AMQP_TLS_KEY_PATH go together: give both or none");
    if (c->amqp_tls_key_password[0] != '\0' && c->amqp_tls_key_path[0] == '\0')
        wr__problem(p, "AMQP_TLS_KEY_PASSWORD is given without AMQP_TLS_KEY_PATH");
    if (c->amqp_tls_verify_hostname && !c->amqp_tls_verify_peer)
        wr__problem(p, "AMQP_TLS_VERIFY_HOSTNAME needs AMQP_TLS_VERIFY_PEER (a name in an "
                       "unverified certificate proves nothing): set both False, or keep both");
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
        ok = wr__is_ident_char(p[i]) || p[i] == '-' || p[i] == '.';
    for (size_t i = 0; ok && i < k->key_len; i++)
        ok = key_char(k->key[i]);
    k->ok = ok;
    return p + n;
}

/* API_KEYS: every entry well-formed, no name or key given twice. A key is
 * a secret: entries are named by position. */
static void check_api_keys(struct wr__parser *p)
{
    struct wr_api_key a, b;
    size_t i = 0;
    for (const char *s = wr_cfg_api_key_next(p->cfg->api_keys, &a); s != NULL;
         s = wr_cfg_api_key_next(s, &a)) {
        i++;
        if (!a.ok) {
            wr__problem(p,
                        "API_KEYS: entry %zu is not name:key (a name of 1 to %d letters, digits, "
                        "'_', '-' or '.'; a key of %d to %d printable characters, no ',' or space)",
                        i, WR_API_KEY_NAME_MAX, WR_API_KEY_MIN, WR_API_KEY_MAX);
            continue;
        }
        size_t j = 0;
        for (const char *t = wr_cfg_api_key_next(p->cfg->api_keys, &b); j + 1 < i && t != NULL;
             t = wr_cfg_api_key_next(t, &b), j++) {
            if (b.ok && b.name_len == a.name_len && memcmp(a.name, b.name, a.name_len) == 0)
                wr__problem(p, "API_KEYS: entries %zu and %zu have the same name", j + 1, i);
            if (b.ok && b.key_len == a.key_len && memcmp(a.key, b.key, a.key_len) == 0)
                wr__problem(p, "API_KEYS: entries %zu and %zu have the same key", j + 1, i);
        }
    }
}

const char *wr_cfg_list_next(const char *p, const char **item, size_t *len)
{
    p += strspn(p, WR_CFG_LIST_SEPARATORS);
    *item = p;
    *len = strcspn(p, WR_CFG_LIST_SEPARATORS);
    return *len > 0 ? p + *len : NULL;
}

bool wr_cfg_service_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > WR_SERVICE_NAME_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

bool wr_cfg_service_listed(const struct wr_cfg *cfg, const char *name, size_t n)
{
    const char *item;
    size_t len;
    for (const char *s = wr_cfg_list_next(cfg->services, &item, &len); s != NULL;
         s = wr_cfg_list_next(s, &item, &len))
        if (len == n && memcmp(item, name, n) == 0)
            return true;
    return false;
}

/* SERVICES: names the edge may forward /svc/ requests to, each a queue
 * name's suffix; SERVICE itself is served by /api/ and listing it would
 * give it a second route. */
static void check_services(struct wr__parser *p)
{
    const char *item;
    size_t len, i = 0;
    for (const char *s = wr_cfg_list_next(p->cfg->services, &item, &len); s != NULL;
         s = wr_cfg_list_next(s, &item, &len)) {
        i++;
        if (!wr_cfg_service_name_ok(item, len))
            wr__problem(p,
                        "SERVICES: entry %zu is not a service name (a lower-case letter, then up "
                        "to %d lower-case letters, digits or '-')",
                        i, WR_SERVICE_NAME_MAX - 1);
        else if (wr__equals(item, len, p->cfg->service))
            wr__problem(p, "SERVICES: entry %zu is SERVICE itself, which /api/ serves", i);
    }
}

/* AUDIT_SPOOL_KEEP_BYTES discards records: only where nothing ships them,
 * and below AUDIT_SPOOL_MAX_BYTES, which would stop the worker first. */
static void check_spool(struct wr__parser *p)
{
    const struct wr_cfg *c = p->cfg;
    if (c->audit_spool_keep_bytes > 0 && c->mongo_uri[0] != '\0')
        wr__problem(p, "AUDIT_SPOOL_KEEP_BYTES discards audit records: it is for runs without "
                       "MONGO_URI");
    if (c->audit_spool_keep_bytes > 0 && c->audit_spool_max_bytes > 0 &&
        c->audit_spool_keep_bytes >= c->audit_spool_max_bytes)
        wr__problem(p, "AUDIT_SPOOL_KEEP_BYTES must be below AUDIT_SPOOL_MAX_BYTES");
}

/* CHANGES_MAX_AGE: a RabbitMQ duration (digits, then one of YMDhms), or
 * '' for none; the broker would refuse anything else at declaration. */
static void check_max_age(struct wr__parser *p)
{
    const char *s = p->cfg->changes_max_age;
    size_t digits = strspn(s, "0123456789");
    if (s[0] != '\0' && (digits == 0 || digits > 9 || s[digits] == '\0' ||
                         strchr("YMDhms", s[digits]) == NULL || s[digits + 1] != '\0'))
        wr__problem(p, "CHANGES_MAX_AGE must be a number and Y, M, D, h, m or s (e.g. '7D')");
}

void wr__check(struct wr__parser *p)
{
    p->line = 0;
    p->subj = NULL;
    p->where = "config";
    check_production(p);
    check_amqp(p);
    check_api_keys(p);
    check_services(p);
    check_spool(p);
    check_max_age(p);
}
