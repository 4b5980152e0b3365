/* The explorer's answers (see explorer.h): a lookup in the files the build
 * embedded, and the headers a browser needs to run them safely. The
 * policy forbids everything the page does not use: no inline script or
 * style, no other origin, no frames, no forms posted anywhere. */
#include "explorer.h"

#include <stdio.h>
#include <string.h>

#include "explorer_assets.h"
#include "warren/proto.h"

#define EXPLORER_CSP                                                                               \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "                \
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define EXPLORER_PREFIX "/explorer/"

bool explorer_claims(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/explorer") == 0 ||
           strncmp(path, EXPLORER_PREFIX, strlen(EXPLORER_PREFIX)) == 0;
}

/* The embedded file a path names, or NULL. Names are compared as they are:
 * no file's name needs an escape, so none is decoded. */
static const struct explorer_asset *asset_of(const char *path)
{
    const char *name = "index.html";
    if (strncmp(path, EXPLORER_PREFIX, strlen(EXPLORER_PREFIX)) == 0 &&
        path[strlen(EXPLORER_PREFIX)] != '\0')
        name = path + strlen(EXPLORER_PREFIX);
    for (size_t i = 0; i < explorer_asset_count; i++)
        if (strcmp(explorer_assets[i].name, name) == 0)
            return &explorer_assets[i];
    return NULL;
}

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Whether If-None-Match (a list of entity tags, or "*") names etag; weak
 * comparison (RFC 9110, 13.1.2): a W/ prefix is ignored. */
static bool etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);
    for (const char *p = inm; p != NULL && *p != '\0';) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == n && strncmp(p, etag, n) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

void explorer_serve(const struct ask *a, const char *path)
{
    struct hreq *req = a->req;
    /* on every answer of the explorer's paths, errors too: nothing here
     * is ever to be sniffed, framed or allowed to load anything else */
    respond_header(req, "Content-Security-Policy", EXPLORER_CSP);
    respond_header(req, "X-Content-Type-Options", "nosniff");
    respond_header(req, "Referrer-Policy", "no-referrer");
    const struct explorer_asset *f = asset_of(path);
    if (f == NULL) {
        respond_error(a, 404, WR_CODE_NOT_FOUND, "no such file in the explorer");
        return;
    }
    enum evhttp_cmd_type m = hreq_method(req);
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        respond_header(req, "Allow", "GET, HEAD");
        respond_error(a, 405, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
        return;
    }
    respond_header(req, "ETag", f->etag);
    /* the tag is the content's hash: a browser asks again each time and
     * gets a 304 until the edge serves other bytes */
    respond_header(req, "Cache-Control", "no-cache");
    const char *inm = request_header(req, "If-None-Match");
    if (inm != NULL && etag_matches(inm, f->etag)) {
        respond_header(req, "X-Request-Id", a->rid);
        respond_send(req, 304);
        metrics_answered(a->metrics, a->route, 304, a->t0_ns);
        return;
    }
    respond_body(req, 200, a->rid, content_type(f->name), (const char *)f->data, f->len);
    metrics_answered(a->metrics, a->route, 200, a->t0_ns);
}
