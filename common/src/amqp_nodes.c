/* AMQP_URL as a list of broker nodes (see amqp.h): the one place that
 * splits the list and reads each URL (with rabbitmq-c's own parser, so
 * what the config check accepts is what connect reads), and the options
 * every process builds from its config. Part of the rabbitmq-c adapter;
 * pure: no I/O. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp_int.h"
#include "warren/cfg.h"

#define BLANKS " \t"

struct wr_amqp_tls wr_amqp_tls_from_cfg(const struct wr_cfg *cfg)
{
    return (struct wr_amqp_tls){.ca_path = cfg->amqp_tls_ca_path,
                                .cert_path = cfg->amqp_tls_cert_path,
                                .key_path = cfg->amqp_tls_key_path,
                                .key_password = cfg->amqp_tls_key_password,
                                .skip_verify_peer = !cfg->amqp_tls_verify_peer,
                                .skip_verify_hostname = !cfg->amqp_tls_verify_hostname};
}

struct wr_amqp_opts wr_amqp_opts_from_cfg(const struct wr_cfg *cfg, const char *name)
{
    return (struct wr_amqp_opts){.url = cfg->amqp_url,
                                 .heartbeat_s = cfg->heartbeat_s,
                                 .connect_timeout_ms = cfg->connect_timeout_ms,
                                 .name = name,
                                 .tls = wr_amqp_tls_from_cfg(cfg)};
}

void wr_amqp_nodes_release(struct wr_amqp_nodes *nodes)
{
    if (nodes == NULL)
        return;
    for (size_t i = 0; i < nodes->n; i++) {
        free(nodes->node[i].label);
        free(nodes->node[i].storage);
    }
    *nodes = (struct wr_amqp_nodes){0};
}

/* Whether s points into the n bytes at base: rabbitmq-c puts its default
 * "localhost" where the URL names no host, which we refuse. */
static bool inside(const char *s, const char *base, size_t n)
{
    return (uintptr_t)s >= (uintptr_t)base && (uintptr_t)s < (uintptr_t)base + n;
}

/* Reads the len bytes at text (one entry, trimmed) into node. */
static int parse_one(struct wr_amqp_node *node, const char *text, size_t len, size_t pos,
                     struct wr_err *err)
{
    *node = (struct wr_amqp_node){0};
    char *storage = malloc(len + 1);
    if (storage == NULL)
        return wr_err_set(err, WR_ENOMEM, "AMQP_URL: out of memory");
    memcpy(storage, text, len);
    storage[len] = '\0';
    /* amqp_parse_url writes into storage; the fields point into it. */
    struct amqp_connection_info ci;
    if (memchr(text, ' ', len) != NULL || memchr(text, '\t', len) != NULL ||
        amqp_parse_url(storage, &ci) != AMQP_STATUS_OK || ci.port == 0 ||
        !inside(ci.host, storage, len)) {
        free(storage);
        return wr_err_set(err, WR_EINVAL,
                          "AMQP_URL: entry %zu is not an amqp:// or amqps:// URL "
                          "(amqp[s]://user:password@host:port/vhost)",
                          pos);
    }
    bool v6 = strchr(ci.host, ':') != NULL;
    size_t cap = strlen(ci.host) + 24;
    char *label = malloc(cap);
    if (label == NULL) {
        free(storage);
        return wr_err_set(err, WR_ENOMEM, "AMQP_URL: out of memory");
    }
    (void)snprintf(label, cap, "%s://%s%s%s:%d", ci.ssl ? "amqps" : "amqp", v6 ? "[" : "", ci.host,
                   v6 ? "]" : "", ci.port);
    *node = (struct wr_amqp_node){.label = label,
                                  .user = ci.user,
                                  .password = ci.password,
                                  .host = ci.host,
                                  .vhost = ci.vhost,
                                  .port = ci.port,
                                  .tls = ci.ssl != 0,
                                  .storage = storage};
    return 0;
}

int wr_amqp_nodes_parse(struct wr_amqp_nodes *nodes, const char *list, struct wr_err *err)
{
    *nodes = (struct wr_amqp_nodes){0};
    size_t entries = 1;
    for (const char *c = list; *c != '\0'; c++)
        entries += *c == ',';
    if (entries > WR_AMQP_MAX_NODES)
        return wr_err_set(err, WR_EINVAL, "AMQP_URL: %zu nodes, more than %d", entries,
                          WR_AMQP_MAX_NODES);
    int rc = 0;
    const char *p = list;
    for (size_t pos = 1; rc == 0 && pos <= entries; pos++) {
        size_t n = strcspn(p, ",");
        const char *start = p + strspn(p, BLANKS);
        const char *end = p + n;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        p += n + (p[n] == ',');
        if (end <= start) {
            rc = entries > 1 ? wr_err_set(err, WR_EINVAL, "AMQP_URL: entry %zu is empty", pos)
                             : wr_err_set(err, WR_EINVAL, "AMQP_URL is empty");
            break;
        }
        rc = parse_one(&nodes->node[nodes->n], start, (size_t)(end - start), pos, err);
        if (rc == 0)
            nodes->n++;
    }
    for (size_t i = 1; rc == 0 && i < nodes->n; i++)
        if (nodes->node[i].tls != nodes->node[0].tls)
            rc = wr_err_set(err, WR_EINVAL,
                            "AMQP_URL: entry %zu is %s:// but entry 1 is %s://: every node must be "
                            "amqps:// or none, so a failover never drops TLS",
                            i + 1, nodes->node[i].tls ? "amqps" : "amqp",
                            nodes->node[0].tls ? "amqps" : "amqp");
    if (rc != 0) {
        wr_amqp_nodes_release(nodes);
        return rc;
    }
    nodes->tls = nodes->node[0].tls;
    return 0;
}
