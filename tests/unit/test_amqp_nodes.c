/* Unit tests for AMQP_URL's node list (wr_amqp_nodes_parse): one URL or
 * several, blanks, empty entries, bad URLs, mixed schemes, the cap, the
 * labels that name nodes in logs, and the options built from a config. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "warren/amqp.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "run_suite.h"

static struct wr_amqp_nodes nodes;
static struct wr_err err;

static void setup(void)
{
    memset(&nodes, 0, sizeof(nodes));
    err = (struct wr_err){0};
}

static void teardown(void)
{
    wr_amqp_nodes_release(&nodes);
}

static int parse(const char *list)
{
    err = (struct wr_err){0};
    return wr_amqp_nodes_parse(&nodes, list, &err);
}

/* A failure names what is wrong, leaves nothing to free and never echoes
 * the list (a URL carries a password). */
static void assert_refused(const char *list, const char *why)
{
    ck_assert_int_eq(parse(list), WR_EINVAL);
    ck_assert_msg(strstr(err.msg, why) != NULL, "'%s': got '%s', want '%s'", list, err.msg, why);
    ck_assert_ptr_null(strstr(err.msg, "s3cret"));
    ck_assert_uint_eq(nodes.n, 0);
    ck_assert_ptr_null(nodes.node[0].storage);
}

START_TEST(one_url)
{
    ck_assert_int_eq(parse("amqp://warren:s3cret@rabbit.example:5673/prod"), 0);
    ck_assert_uint_eq(nodes.n, 1);
    ck_assert(!nodes.tls);
    const struct wr_amqp_node *n = &nodes.node[0];
    ck_assert_str_eq(n->user, "warren");
    ck_assert_str_eq(n->password, "s3cret");
    ck_assert_str_eq(n->host, "rabbit.example");
    ck_assert_str_eq(n->vhost, "prod");
    ck_assert_int_eq(n->port, 5673);
    ck_assert_str_eq(n->label, "amqp://rabbit.example:5673"); /* no password in a label */
}
END_TEST

/* rabbitmq-c's defaults: guest, localhost, 5672 (5671 for amqps), vhost /;
 * %2f decodes. */
START_TEST(defaults_and_tls_port)
{
    ck_assert_int_eq(parse("amqps://h"), 0);
    ck_assert(nodes.tls);
    ck_assert(nodes.node[0].tls);
    ck_assert_int_eq(nodes.node[0].port, 5671);
    ck_assert_str_eq(nodes.node[0].user, "guest");
    ck_assert_str_eq(nodes.node[0].vhost, "/");
    ck_assert_str_eq(nodes.node[0].label, "amqps://h:5671");
    wr_amqp_nodes_release(&nodes);
    ck_assert_int_eq(parse("amqp://u:p@[::1]/%2f"), 0);
    ck_assert_int_eq(nodes.node[0].port, 5672);
    ck_assert_str_eq(nodes.node[0].host, "::1");
    ck_assert_str_eq(nodes.node[0].vhost, "/");
    ck_assert_str_eq(nodes.node[0].label, "amqp://[::1]:5672");
}
END_TEST

/* Several nodes in their order; blanks around entries are ignored. */
START_TEST(list_and_blanks)
{
    ck_assert_int_eq(parse("  amqps://u:p@a:1/%2f ,\tamqps://u:p@b:2/%2f,amqps://c\t"), 0);
    ck_assert_uint_eq(nodes.n, 3);
    ck_assert(nodes.tls);
    ck_assert_str_eq(nodes.node[0].label, "amqps://a:1");
    ck_assert_str_eq(nodes.node[1].label, "amqps://b:2");
    ck_assert_str_eq(nodes.node[2].label, "amqps://c:5671");
    wr_amqp_nodes_release(&nodes);
    ck_assert_uint_eq(nodes.n, 0);
    wr_amqp_nodes_release(&nodes); /* twice is safe */
    wr_amqp_nodes_release(NULL);
}
END_TEST

START_TEST(empty_entries)
{
    assert_refused("", "AMQP_URL is empty");
    assert_refused("  ", "AMQP_URL is empty");
    assert_refused(",amqp://a", "entry 1 is empty");
    assert_refused("amqp://a,,amqp://b", "entry 2 is empty");
    assert_refused("amqp://a, ", "entry 2 is empty");
    assert_refused("amqp://u:s3cret@a,\t,amqp://b", "entry 2 is empty");
}
END_TEST

START_TEST(bad_urls)
{
    assert_refused("http://u:s3cret@a/", "entry 1 is not an amqp:// or amqps:// URL");
    assert_refused("amqp://a,amqp://u:s3cret@b:99999/", "entry 2 is not an amqp://");
    assert_refused("amqp://u:s3cret@b:0/", "entry 1 is not");  /* no port 0 */
    assert_refused("amqp://u:s3cret@b:x/", "entry 1 is not");  /* not a number */
    assert_refused("amqp://u:s3cret@b/v/w", "entry 1 is not"); /* a second / */
    assert_refused("amqp://u:s3cret@b c/", "entry 1 is not");  /* a blank inside */
    assert_refused("amqp://u:s3cret@[::1/", "entry 1 is not"); /* an open bracket */
    assert_refused("amqp://u:s3cret@/", "entry 1 is not");     /* no host */
    assert_refused("AMQP://u:s3cret@a/", "entry 1 is not");    /* schemes are lower case */
}
END_TEST

/* A failover must never move a connection from TLS to plain text. */
START_TEST(mixed_schemes)
{
    assert_refused("amqps://a,amqp://b", "entry 2 is amqp:// but entry 1 is amqps://");
    assert_refused("amqp://a,amqp://b,amqps://u:s3cret@c", "entry 3 is amqps://");
}
END_TEST

START_TEST(node_cap)
{
    char list[1024] = "";
    size_t used = 0;
    for (int i = 0; i < WR_AMQP_MAX_NODES; i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%samqp://n%d", i ? "," : "", i);
    ck_assert_int_eq(parse(list), 0);
    ck_assert_uint_eq(nodes.n, WR_AMQP_MAX_NODES);
    ck_assert_str_eq(nodes.node[WR_AMQP_MAX_NODES - 1].label, "amqp://n15:5672");
    wr_amqp_nodes_release(&nodes);
    (void)snprintf(list + used, sizeof(list) - used, ",amqp://one-more");
    assert_refused(list, "17 nodes, more than 16");
}
END_TEST

/* Every process builds its options from its config through one function:
 * verification is on unless the config turns it off. */
START_TEST(opts_from_cfg)
{
    struct wr_cfg cfg = {0};
    const char *text = "AMQP_URL = 'amqps://u:p@a,amqps://u:p@b'\n"
                       "AMQP_TLS_CA_PATH = '/etc/ca.pem'\nHEARTBEAT_S = 7\n";
    ck_assert_int_eq(wr_cfg_parse(&cfg, "c", text, strlen(text), NULL, NULL), 0);
    struct wr_amqp_opts o = wr_amqp_opts_from_cfg(&cfg, "me");
    ck_assert_str_eq(o.url, "amqps://u:p@a,amqps://u:p@b");
    ck_assert_str_eq(o.name, "me");
    ck_assert_int_eq(o.heartbeat_s, 7);
    ck_assert_str_eq(o.tls.ca_path, "/etc/ca.pem");
    ck_assert_str_eq(o.tls.cert_path, "");
    ck_assert(!o.tls.skip_verify_peer);
    ck_assert(!o.tls.skip_verify_hostname);
    wr_cfg_release(&cfg);
    text = "AMQP_URL = 'amqps://u:p@a'\nAMQP_TLS_VERIFY_PEER = False\n"
           "AMQP_TLS_VERIFY_HOSTNAME = False\n";
    ck_assert_int_eq(wr_cfg_parse(&cfg, "c", text, strlen(text), NULL, NULL), 0);
    struct wr_amqp_tls t = wr_amqp_tls_from_cfg(&cfg);
    ck_assert(t.skip_verify_peer);
    ck_assert(t.skip_verify_hostname);
    wr_cfg_release(&cfg);
}
END_TEST

/* A bad list is still a clean adapter: connect reports it, naming the entry. */
START_TEST(connect_reports_a_bad_list)
{
    struct wr_amqp_opts o = {.url = "amqp://a,,amqp://b"};
    wr_amqp *a = wr_amqp_new(&o);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(wr_amqp_node(a), "");
    ck_assert_int_eq(wr_amqp_connect(a, &err), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "AMQP_URL: entry 2 is empty"));
    wr_amqp_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("amqp_nodes");
    TCase *tc = tcase_create("amqp_nodes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_url);
    tcase_add_test(tc, defaults_and_tls_port);
    tcase_add_test(tc, list_and_blanks);
    tcase_add_test(tc, empty_entries);
    tcase_add_test(tc, bad_urls);
    tcase_add_test(tc, mixed_schemes);
    tcase_add_test(tc, node_cap);
    tcase_add_test(tc, opts_from_cfg);
    tcase_add_test(tc, connect_reports_a_bad_list);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
