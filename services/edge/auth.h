/* Who the caller is: the API keys of API_KEYS (`Authorization: Bearer
 * <key>`), compared in constant time, and the principal the audit trail and
 * the workers (x-principal) see: the key's name, or "anonymous". */
#ifndef EDGE_AUTH_H
#define EDGE_AUTH_H

#include <stdbool.h>

#include "respond.h"
#include "warren/cfg.h"

/* Checks a's request. A request that carries `Authorization: Bearer <key>`
 * must carry one of API_KEYS (403 otherwise), whatever it asks. When
 * needs_key names what asks ("writes", "service requests"), the request
 * must carry one: 401 with WWW-Authenticate without one; with no API_KEYS
 * configured, 403 unless DEBUG is on (which only a loopback edge may be).
 * Sets a->audit.principal: the key's name (copied into a->principal) or
 * "anonymous". False when an error was sent (and audited). */
bool auth_check(const struct wr_cfg *cfg, struct ask *a, const char *needs_key);

#endif
