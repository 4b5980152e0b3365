/* Opening one broker node for amqp.c: the socket (TCP, or TLS through
 * rabbitmq-c's OpenSSL socket for amqps://), its timeouts and the login.
 * Part of the rabbitmq-c adapter. rabbitmq-c reports a refused certificate
 * only as "verification failed": the reason (expired, unknown CA, name
 * mismatch) is read from OpenSSL here, so the operator learns why. */
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "amqp_int.h"

/* What the certificate check said, filled by note_verify during the
 * handshake (reached through the SSL_CTX's app data). */
struct verdict {
    char why[200];
};

/* OpenSSL's verify callback. The socket's mode is SSL_VERIFY_NONE:
 * rabbitmq-c lets the handshake finish and then refuses the connection
 * when the chain's result is not X509_V_OK; this only records why. */
static int note_verify(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct verdict *v = ssl != NULL ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
    if (!ok && v != NULL && v->why[0] == '\0') {
        int e = X509_STORE_CTX_get_error(x);
        int depth = X509_STORE_CTX_get_error_depth(x);
        (void)snprintf(v->why, sizeof(v->why), "%s (%s)", X509_verify_cert_error_string(e),
                       depth == 0 ? "the broker's certificate" : "a CA certificate of its chain");
    }
    return ok;
}

/* OpenSSL's reasons for the failure on this thread, first first ("bad
 * decrypt: PEM lib"), into buf; fallback when it gave none. Empties
 * OpenSSL's queue of errors. */
static const char *openssl_reason(char *buf, size_t cap, const char *fallback)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
        const char *r = ERR_reason_error_string(e);
        if (r == NULL || used >= cap || strstr(buf, r) != NULL) /* once each */
            continue;
        int w = snprintf(buf + used, cap - used, "%s%s", used > 0 ? ": " : "", r);
        used = w < 0 || (size_t)w >= cap - used ? cap : used + (size_t)w;
    }
    return buf[0] != '\0' ? buf : fallback;
}

static bool is_ip(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* Sets *out to a TLS socket on conn, set up from tls for node. 0 or
 * WR_E* with err. */
static int tls_socket(amqp_connection_state_t conn, const struct wr_amqp_node *node,
                      const struct wr_amqp_tls *tls, struct verdict *v, amqp_socket_t **out,
                      struct wr_err *err)
{
    char why[200];
    ERR_clear_error();
    amqp_socket_t *sock = amqp_ssl_socket_new(conn);
    SSL_CTX *ctx = sock != NULL ? amqp_ssl_socket_get_context(sock) : NULL;
    if (ctx == NULL)
        return wr_err_set(err, WR_EIO, "amqp: %s: cannot set up TLS: %s", node->label,
                          openssl_reason(why, sizeof(why), "out of memory"));
    SSL_CTX_set_app_data(ctx, v);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, note_verify);
    if (amqp_ssl_socket_set_ssl_versions(sock, AMQP_TLSv1_2, AMQP_TLSvLATEST) != AMQP_STATUS_OK)
        return wr_err_set(err, WR_EIO, "amqp: %s: cannot require TLS 1.2 or later", node->label);
    bool own_ca = tls->ca_path != NULL && tls->ca_path[0] != '\0';
    if (own_ca ? amqp_ssl_socket_set_cacert(sock, tls->ca_path) != AMQP_STATUS_OK
               : SSL_CTX_set_default_verify_paths(ctx) != 1)
        return wr_err_set(err, WR_EINVAL, "amqp: cannot load %s%s: %s",
                          own_ca ? "AMQP_TLS_CA_PATH " : "the system's CA certificates",
                          own_ca ? tls->ca_path : "",
                          openssl_reason(why, sizeof(why), "unreadable"));
    if (tls->cert_path != NULL && tls->cert_path[0] != '\0') {
        /* Never NULL: without a password OpenSSL would ask on the terminal. */
        amqp_ssl_socket_set_key_passwd(sock, tls->key_password ? tls->key_password : "");
        if (amqp_ssl_socket_set_key(sock, tls->cert_path, tls->key_path) != AMQP_STATUS_OK)
            return wr_err_set(err, WR_EINVAL,
                              "amqp: cannot load AMQP_TLS_CERT_PATH %s with AMQP_TLS_KEY_PATH %s: "
                              "%s (a wrong AMQP_TLS_KEY_PASSWORD, or a key of another "
                              "certificate?)",
                              tls->cert_path, tls->key_path ? tls->key_path : "",
                              openssl_reason(why, sizeof(why), "unreadable"));
    }
    amqp_ssl_socket_set_verify_peer(sock, !tls->skip_verify_peer);
    /* rabbitmq-c 0.11 matches DNS names only; OpenSSL's own check, part of
     * the chain's verification, knows IP addresses too and says which
     * failed. */
    amqp_ssl_socket_set_verify_hostname(sock, 0);
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    if (!tls->skip_verify_hostname &&
        (is_ip(node->host) ? X509_VERIFY_PARAM_set1_ip_asc(param, node->host)
                           : X509_VERIFY_PARAM_set1_host(param, node->host, 0)) != 1)
        return wr_err_set(err, WR_ENOMEM, "amqp: %s: cannot set the name to verify", node->label);
    *out = sock;
    return 0;
}

static int open_socket(amqp_connection_state_t conn, const struct wr_amqp_node *node,
                       const struct wr_amqp_tls *tls, long timeout_ms, struct wr_err *err)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    char why[200];
    struct verdict v = {{0}};
    amqp_socket_t *sock = NULL;
    int rc = node->tls ? tls_socket(conn, node, tls, &v, &sock, err) : 0;
    if (rc != 0)
        return rc;
    if (!node->tls)
        sock = amqp_tcp_socket_new(conn);
    if (sock == NULL)
        return wr_err_set(err, WR_ENOMEM, "amqp: cannot create a socket");
    if (amqp_set_handshake_timeout(conn, &tv) != AMQP_STATUS_OK ||
        amqp_set_rpc_timeout(conn, &tv) != AMQP_STATUS_OK)
        return wr_err_set(err, WR_EIO, "amqp: cannot set timeouts");
    rc = amqp_socket_open_noblock(sock, node->host, node->port, &tv);
    if (node->tls) /* the check ran inside the open; v goes out of scope */
        SSL_CTX_set_app_data((SSL_CTX *)amqp_ssl_socket_get_context(sock), NULL);
    switch (rc) {
    case AMQP_STATUS_OK:
        return 0;
    case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
        return wr_err_set(err, WR_EIO,
                          "amqp: %s: TLS: the broker's certificate is refused: %s (is "
                          "AMQP_TLS_CA_PATH the CA that signed it, does it name %s?)",
                          node->label, v.why[0] ? v.why : "it sent none", node->host);
    case AMQP_STATUS_SSL_CONNECTION_FAILED:
    case AMQP_STATUS_SSL_ERROR:
        return wr_err_set(err, WR_EIO,
                          "amqp: %s: TLS handshake failed: %s (is it the broker's TLS port? "
                          "does the broker accept the client certificate?)",
                          node->label, openssl_reason(why, sizeof(why), amqp_error_string2(rc)));
    default:
        return wr_err_set(err, rc == AMQP_STATUS_TIMEOUT ? WR_ETIMEDOUT : WR_EIO,
                          "amqp: cannot reach %s:%d: %s", node->host, node->port,
                          amqp_error_string2(rc));
    }
}

static int login(amqp_connection_state_t conn, const struct wr_amqp_node *node, long heartbeat_s,
                 const char *name, struct wr_err *err)
{
    /* Ask for connection.blocked so a broker alarm reaches us as a frame
     * instead of a silently frozen socket; rabbitmq-c merges capabilities. */
    amqp_table_entry_t caps[] = {
        {.key = amqp_cstring_bytes("connection.blocked"),
         .value = {.kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = 1}},
    };
    amqp_table_entry_t props[] = {
        {.key = amqp_cstring_bytes("capabilities"),
         .value = {.kind = AMQP_FIELD_KIND_TABLE,
                   .value.table = {.num_entries = 1, .entries = caps}}},
        {.key = amqp_cstring_bytes("connection_name"),
         .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(name)}},
    };
    amqp_table_t table = {.num_entries = 2, .entries = props};
    amqp_rpc_reply_t r =
        amqp_login_with_properties(conn, node->vhost, 0, 131072, (int)heartbeat_s, &table,
                                   AMQP_SASL_METHOD_PLAIN, node->user, node->password);
    int rc = wr__amqp_check_reply(r, "login", err);
    /* With TLS 1.3 the broker checks a client certificate after the
     * client's handshake is done: its refusal (an alert, when it arrives
     * before the connection's reset) surfaces at login. */
    if (rc != 0 && node->tls && r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error != AMQP_STATUS_TIMEOUT) {
        char why[200];
        rc = wr_err_set(err, rc,
                        "amqp: %s: TLS: the broker ended the connection at login: %s (is "
                        "AMQP_TLS_CERT_PATH valid, and signed by a CA the broker trusts?)",
                        node->label,
                        openssl_reason(why, sizeof(why), amqp_error_string2(r.library_error)));
    }
    return rc;
}

int wr__amqp_open(amqp_connection_state_t conn, const struct wr_amqp_node *node,
                  const struct wr_amqp_opts *opts, struct wr_err *err)
{
    int rc = open_socket(conn, node, &opts->tls, opts->connect_timeout_ms, err);
    if (rc == 0)
        rc = login(conn, node, opts->heartbeat_s, opts->name, err);
    return rc;
}
