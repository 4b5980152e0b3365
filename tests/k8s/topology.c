/* Prints the broker topology warren declares (amqp.h, wr_amqp_topology),
 * one JSON object a line, for tests/k8s/check.sh to compare with the
 * Messaging Topology Operator's objects in deploy/k8s.
 *   topology CONFIG SERVICE[+changes]...
 * CONFIG is the catalog's config file (its CHANGES_MAX_BYTES and
 * CHANGES_MAX_AGE are the streams' arguments); "+changes" adds what the
 * service's writer declares: its change stream, warren.<service>.changes,
 * and its change events' stream warren.<service>.events with its binding
 * to warren.events. */
#include <stdio.h>
#include <string.h>

#include "warren/amqp.h"
#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/json.h"
#include "warren/proto.h"

static void print_args(struct wr_buf *b, const struct wr_amqp_object *o)
{
    wr_buf_putc(b, '{');
    for (size_t i = 0; i < o->nargs; i++) {
        const struct wr_amqp_arg *a = &o->args[i];
        if (i > 0)
            wr_buf_putc(b, ',');
        wr_json_key(b, a->key);
        if (a->str != NULL)
            wr_json_cstr(b, a->str);
        else if (a->is_bool)
            wr_json_bool(b, a->num != 0);
        else
            wr_json_int(b, a->num);
    }
    wr_buf_putc(b, '}');
}

static int print(const struct wr_amqp_object *o)
{
    static const char *const kinds[] = {"exchange", "queue", "binding"};
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    wr_buf_puts(&b, "{\"kind\":");
    wr_json_cstr(&b, kinds[o->kind]);
    wr_buf_puts(&b, o->kind == WR_AMQP_BINDING ? ",\"destination\":" : ",\"name\":");
    wr_json_cstr(&b, o->name);
    if (o->kind == WR_AMQP_BINDING) {
        wr_buf_puts(&b, ",\"source\":");
        wr_json_cstr(&b, o->source);
        wr_buf_puts(&b, ",\"key\":");
        wr_json_cstr(&b, o->key);
    }
    if (o->kind == WR_AMQP_EXCHANGE) {
        wr_buf_puts(&b, ",\"type\":");
        wr_json_cstr(&b, o->type);
    }
    wr_buf_puts(&b, ",\"arguments\":");
    print_args(&b, o);
    wr_buf_puts(&b, "}\n");
    int rc = wr_buf_error(&b) != 0 || fwrite(b.data, 1, b.len, stdout) != b.len ? 1 : 0;
    wr_buf_release(&b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        (void)fprintf(stderr, "usage: topology CONFIG SERVICE[+changes]...\n");
        return 2;
    }
    struct wr_cfg cfg;
    struct wr_buf problems;
    wr_buf_init(&problems, 1 << 16);
    if (wr_cfg_load(&cfg, argv[1], true, NULL, &problems) != 0) {
        (void)fprintf(stderr, "%s: %.*s", argv[1], (int)problems.len,
                      problems.data ? problems.data : "");
        wr_buf_release(&problems);
        return 2;
    }
    wr_buf_release(&problems);
    int status = 0;
    for (int i = 2; i < argc && status == 0; i++) {
        char service[64];
        const char *plus = strchr(argv[i], '+');
        size_t n = plus != NULL ? (size_t)(plus - argv[i]) : strlen(argv[i]);
        if (n >= sizeof(service) || (plus != NULL && strcmp(plus, "+changes") != 0)) {
            (void)fprintf(stderr, "topology: bad service %s\n", argv[i]);
            status = 2;
            break;
        }
        memcpy(service, argv[i], n);
        service[n] = '\0';
        struct wr_err err = {0};
        struct wr_amqp_object objs[WR_AMQP_TOPOLOGY_MAX];
        int count = wr_amqp_topology(service, objs, &err);
        for (int k = 0; k < count && status == 0; k++)
            status = print(&objs[k]);
        if (count >= 0 && plus != NULL) {
            char stream[128];
            (void)snprintf(stream, sizeof(stream), WR_QUEUE_PREFIX "%s" WR_CHANGES_SUFFIX, service);
            count = wr_amqp_stream_topology(stream, cfg.changes_max_bytes, cfg.changes_max_age,
                                            &objs[0], &err);
            if (count == 0)
                status = print(&objs[0]);
            if (count == 0)
                count = wr_amqp_events_topology(service, cfg.changes_max_bytes, cfg.changes_max_age,
                                                objs, &err);
            for (int k = 0; k < count && status == 0; k++)
                status = print(&objs[k]);
        }
        if (count < 0) {
            (void)fprintf(stderr, "topology: %s\n", err.msg);
            status = 2;
        }
    }
    wr_cfg_release(&cfg);
    return status;
}
