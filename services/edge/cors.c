/* CORS (see cors.h). An origin is allowed when CORS_ORIGINS is '*' or lists
 * it exactly; every answer to it says so, and OPTIONS answers preflights. */
#include "cors.h"

#include <stdbool.h>
#include <string.h>

#include "respond.h"

/* Whether origin may call: CORS_ORIGINS is '*' or lists it. */
static bool origin_allowed(const struct wr_cfg *cfg, const char *origin)
{
    if (origin == NULL)
        return false;
    size_t n = strlen(origin);
    const char *item;
    size_t len;
    for (const char *p = wr_cfg_list_next(cfg->cors_origins, &item, &len); p != NULL;
         p = wr_cfg_list_next(p, &item, &len))
        if ((len == 1 && *item == '*') || (len == n && strncmp(item, origin, n) == 0))
            return true;
    return false;
}

void cors_headers(const struct wr_cfg *cfg, struct hreq *req)
{
    const char *origin = request_header(req, "Origin");
    if (!origin_allowed(cfg, origin))
        return;
    respond_header(req, "Access-Control-Allow-Origin", origin);
    respond_header(req, "Vary", "Origin");
    respond_header(req, "Access-Control-Expose-Headers",
                   "Link, Location, ETag, X-Request-Id, X-Trace-Id, X-Cache, Retry-After");
}

void cors_preflight(const struct wr_cfg *cfg, struct hreq *req, const char *rid,
                    const char *methods)
{
    respond_header(req, "Allow", methods);
    if (origin_allowed(cfg, request_header(req, "Origin"))) {
        respond_header(req, "Access-Control-Allow-Methods", methods);
        respond_header(req, "Access-Control-Allow-Headers",
                       "Authorization, Content-Type, X-Request-Id, If-None-Match, traceparent, "
                       "tracestate");
        respond_header(req, "Access-Control-Max-Age", "600");
    }
    respond_header(req, "X-Request-Id", rid);
    respond_send(req, 204);
}
