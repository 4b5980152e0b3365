/* What the worker's admin port answers (see admin.h): the health atomics
 * the loop stamps, read for /livez and /readyz, and the metrics registry
 * for /metrics. How connections are served: admin_listen.c. */
#include "admin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define METRICS_MAX (8u << 20) /* the largest /metrics answer */

static long long mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wr__health_init(struct wr__health *h)
{
    atomic_store(&h->alive_until_ms, mono_ms() + WR__LIVEZ_GRACE_MS);
    atomic_store(&h->unready, WR__UNREADY_BROKER);
}

void wr__health_alive(struct wr__health *h, long long ms)
{
    atomic_store_explicit(&h->alive_until_ms, mono_ms() + ms + WR__LIVEZ_GRACE_MS,
                          memory_order_relaxed);
}

void wr__health_unready(struct wr__health *h, unsigned bit, bool on)
{
    if (on)
        atomic_fetch_or(&h->unready, bit);
    else
        atomic_fetch_and(&h->unready, ~bit);
}

static void error_body(struct wr_buf *b, const char *code, const char *message)
{
    wr_buf_printf(b, "{\"code\":\"%s\",\"message\":\"%s\"}\n", code, message);
}

static void readyz(struct wr__health *health, int *status, struct wr_buf *body)
{
    unsigned bits = atomic_load(&health->unready);
    if (bits == 0) {
        *status = 200;
        wr_buf_puts(body, "{\"status\":\"ready\"}\n");
        return;
    }
    static const struct {
        unsigned bit;
        const char *why;
    } reasons[] = {{WR__UNREADY_BROKER, "not consuming from the broker"},
                   {WR__UNREADY_AUDIT, "the audit trail failed"},
                   {WR__UNREADY_STOPPING, "stopping"},
                   {WR__UNREADY_SPOOL_FULL, "the audit spool is full"},
                   {WR__UNREADY_SERVICE, "the service is not ready (see its log)"}};
    *status = 503;
    wr_buf_puts(body, "{\"code\":\"unavailable\",\"message\":\"not ready:");
    const char *sep = " ";
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (bits & reasons[i].bit) {
            wr_buf_printf(body, "%s%s", sep, reasons[i].why);
            sep = ", ";
        }
    }
    wr_buf_puts(body, "\"}\n");
}

void wr__admin_answer(struct wr__health *health, wr_metrics *metrics, const char *method,
                      const char *target, int *status, const char **content_type,
                      struct wr_buf *body)
{
    *content_type = "application/json";
    size_t path_len = strcspn(target, "?");
    bool livez = path_len == 6 && strncmp(target, "/livez", 6) == 0;
    bool ready = path_len == 7 && strncmp(target, "/readyz", 7) == 0;
    bool metrics_path = path_len == 8 && strncmp(target, "/metrics", 8) == 0;
    if (!livez && !ready && !metrics_path) {
        *status = 404;
        error_body(body, "not_found", "no such path: /livez, /readyz or /metrics");
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        *status = 405;
        error_body(body, "method_not_allowed", "this method is not allowed here");
    } else if (livez) {
        /* the loop stamps how long its next step may take: past that (and
         * the grace) it is stuck, and only a restart helps */
        bool alive = mono_ms() <= atomic_load(&health->alive_until_ms);
        *status = alive ? 200 : 503;
        if (alive)
            wr_buf_puts(body, "{\"status\":\"ok\"}\n");
        else
            error_body(body, "unavailable", "the worker's loop is stuck");
    } else if (ready) {
        readyz(health, status, body);
    } else {
        *status = 200;
        *content_type = WR_METRICS_CONTENT_TYPE;
        if (wr_metrics_write(metrics, body) != 0) {
            *status = 500;
            *content_type = "application/json";
            wr_buf_reset(body);
            error_body(body, "internal", "the metrics do not fit the answer");
        }
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

void wr__admin_reply(struct wr__health *health, wr_metrics *metrics, const char *head,
                     struct wr_buf *out)
{
    /* "METHOD SP target SP HTTP/1.x" */
    char method[16] = "", target[1024] = "";
    const char *sp1 = strchr(head, ' ');
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    bool ok = sp1 != NULL && sp2 != NULL && (size_t)(sp1 - head) < sizeof(method) &&
              (size_t)(sp2 - sp1 - 1) < sizeof(target) && strncmp(sp2 + 1, "HTTP/1.", 7) == 0;
    struct wr_buf body;
    wr_buf_init(&body, METRICS_MAX);
    int status = 400;
    const char *type = "application/json";
    if (ok) {
        memcpy(method, head, (size_t)(sp1 - head));
        memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
        wr__admin_answer(health, metrics, method, target, &status, &type, &body);
    } else {
        error_body(&body, "bad_request", "a request line of HTTP/1.x was expected");
    }
    wr_buf_printf(out,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                  "Connection: close\r\n\r\n",
                  status, reason(status), type, body.len,
                  status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (strcmp(method, "HEAD") != 0)
        wr_buf_append(out, body.data, body.len);
    wr_buf_release(&body);
}
