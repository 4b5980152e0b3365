/* CORS for the origins in CORS_ORIGINS ('*' or a list): the headers every
 * answer to an allowed origin carries, and the answer to OPTIONS (the
 * methods a route takes, and a preflight's headers for an allowed origin). */
#ifndef EDGE_CORS_H
#define EDGE_CORS_H

#include "httpd.h"

#include "warren/cfg.h"

/* Adds Access-Control-Allow-Origin (the request's Origin, the only request
 * header ever copied into a response), Vary and the exposed headers when
 * the Origin is allowed; nothing otherwise. */
void cors_headers(const struct wr_cfg *cfg, struct hreq *req);
/* Answers OPTIONS: 204 with Allow: methods and X-Request-Id: rid, plus the
 * preflight headers for an allowed origin. Not audited. */
void cors_preflight(const struct wr_cfg *cfg, struct hreq *req, const char *rid,
                    const char *methods);

#endif
