/* Exports: a list (GET /api/<c>, with q and fields) streamed as CSV or
 * NDJSON (Accept: text/csv or application/x-ndjson, or ?format=csv|ndjson),
 * every matching row, chunked. The edge pulls one chunk at a time from the
 * workers over the keyset cursor of the previous one (call.h, "An export's
 * calls") and asks for the next only once the previous one left for the
 * client: a slow client holds one chunk in this edge and nothing anywhere
 * else, and no worker keeps state between chunks. EXPORT_MAX_ROWS and
 * EXPORT_TIMEOUT_MS bound one export; an export cut short by either (or a
 * failing chunk) ends in a way no client takes for a whole one: NDJSON
 * with a last line {"error":{"code":...,"message":...}}, CSV without the
 * chunked encoding's last chunk (an incomplete transfer). */
#ifndef EDGE_EXPORT_H
#define EDGE_EXPORT_H

#include <event2/http.h>
#include <stdbool.h>

#include "call.h"
#include "respond.h"
#include "route.h"

enum export_want { EXPORT_NONE, EXPORT_CSV, EXPORT_NDJSON };

/* What req asks for: EXPORT_NONE (JSON), EXPORT_CSV or EXPORT_NDJSON,
 * from ?format= (first) or Accept (by q-value, then order; any type,
 * any application type and application/json are JSON; any text type is
 * CSV). Returns 0,
 * or the status of a refusal with msg set: 406 when Accept names nothing
 * this route serves (exports are served on lists only), 400 for a format=
 * that is not csv or ndjson, or an export with page, results_per_page or
 * after (it walks every row itself). */
int export_wanted(const struct hreq *req, const struct route *r, enum export_want *want, char *msg,
                  size_t cap);

/* What an export sends its chunks with; strings borrowed for the call. */
struct export_spec {
    enum export_want format;
    const char *base_url;
    const char *traceparent;
    const char *tracestate;
};

/* Streams route r's export for a's request (its hold parked on it), or answers it
 * at once (503 when out of memory or the broker is unavailable). An error
 * of the first chunk (a bad q, 404) is answered as JSON with its status;
 * the request is audited once, when the export ends, with the rows sent
 * and how it ended. */
void export_start(calls *cs, const struct ask *a, const struct route *r,
                  const struct export_spec *spec);

#endif
