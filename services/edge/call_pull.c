/* An export's calls (see call.h, "An export's calls"): holds, which hear
 * of a client going away, and pulled calls, whose outcome goes to their
 * owner instead of to an HTTP request. */
#include <stdio.h>

#include "call_int.h"

struct call *calls_hold(calls *cs, const struct ask *a, const struct call_hooks *h, void *arg)
{
    struct call_spec none = {.op = ""};
    struct call *c = call__alloc(cs, a, &none);
    if (c == NULL)
        return NULL;
    c->req = NULL; /* its owner answers the request */
    c->hooks = h;
    c->hooks_arg = arg;
    hreq_park(a->req, c, &c->parked);
    cs->held++;
    return c;
}

void calls_unhold(struct call *c)
{
    if (c == NULL)
        return;
    c->owner->held--;
    call__free(c);
}

int calls_pull(calls *cs, const struct ask *a, const struct call_spec *spec, const char *id,
               const struct call_hooks *h, void *arg, struct call **out)
{
    *out = NULL;
    struct call *c = call__alloc(cs, a, spec);
    if (c == NULL)
        return WR_ENOMEM;
    (void)snprintf(c->id, sizeof(c->id), "%s", id);
    c->req = NULL;
    int rc = pending_put(cs->pending, c->id, c);
    if (rc != 0) {
        call__free(c);
        return rc;
    }
    rc = call__publish(cs, id, a, spec, NULL);
    /* a failed publish took the bus down: calls_on_down freed c already
     * (without hooks yet, so nobody was told) */
    if (rc != 0) {
        if (pending_remove(cs->pending, id) == c)
            call__free(c);
        return rc;
    }
    c->hooks = h;
    c->hooks_arg = arg;
    expiry_start(&cs->deadlines, &c->deadline);
    *out = c;
    return 0;
}

void calls_cancel(calls *cs, struct call *c)
{
    if (c != NULL && pending_remove(cs->pending, c->id) == c)
        call__free(c);
}

struct event_base *calls_base(const calls *cs)
{
    return cs->base;
}

const struct wr_cfg *calls_cfg(const calls *cs)
{
    return cs->cfg;
}
