/* API keys (see auth.h). Keys are never logged or echoed; every configured
 * key is compared with every byte up to the longest key, so the time an
 * answer takes says nothing of a key or of which one matched. */
#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "warren/proto.h"

/* Whether a and b (a from the client) are equal, in time that depends on
 * neither's content: every byte up to the longest key is compared. */
static bool same_key(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < WR_API_KEY_MAX; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

/* The API key's name in out (cap bytes), when token is one of API_KEYS.
 * Every key is compared, so the time says nothing of which one matched. */
static bool find_key(const struct wr_cfg *cfg, const char *token, char *out, size_t cap)
{
    size_t n = strlen(token);
    bool found = false;
    struct wr_api_key k;
    for (const char *p = wr_cfg_api_key_next(cfg->api_keys, &k); p != NULL;
         p = wr_cfg_api_key_next(p, &k)) {
        bool same = n <= WR_API_KEY_MAX && same_key(token, n, k.key, k.key_len);
        if (same && !found)
            (void)snprintf(out, cap, "%.*s", (int)k.name_len, k.name);
        found |= same;
    }
    return found;
}

bool auth_check(const struct wr_cfg *cfg, struct ask *a, const char *needs_key)
{
    a->audit.principal = "anonymous";
    const char *auth = request_header(a->req, "Authorization");
    bool keys = cfg->api_keys[0] != '\0';
    if (auth == NULL && (needs_key == NULL || (!keys && cfg->debug)))
        return true;
    char msg[128];
    if (auth == NULL && !keys) {
        (void)snprintf(msg, sizeof(msg), "%s are turned off: the edge has no API_KEYS configured",
                       needs_key);
        respond_error(a, 403, WR_CODE_FORBIDDEN, msg);
        return false;
    }
    bool bearer = auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0;
    if (!bearer) {
        respond_header(a->req, "WWW-Authenticate", "Bearer realm=\"warren\"");
        (void)snprintf(msg, sizeof(msg), "%s need an API key: Authorization: Bearer <key>",
                       needs_key != NULL ? needs_key : "requests");
        respond_error(a, 401, WR_CODE_UNAUTHORIZED,
                      auth == NULL ? msg : "Authorization: only Bearer <key> is understood");
        return false;
    }
    const char *token = auth + 7 + strspn(auth + 7, " ");
    if (!find_key(cfg, token, a->principal, sizeof(a->principal))) {
        respond_error(a, 403, WR_CODE_FORBIDDEN, "the API key is not valid");
        return false;
    }
    a->audit.principal = a->principal;
    return true;
}
