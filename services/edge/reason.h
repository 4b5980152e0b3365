/* The reason phrase of an HTTP status (RFC 9110 section 15; 429 and 431
 * from RFC 6585), for the status line of every answer the edge writes:
 * libevent 2.1.12 knows only the statuses of RFC 2616, in its wording,
 * and names the others by their class ("429 Client Error"). */
#ifndef EDGE_REASON_H
#define EDGE_REASON_H

/* The phrase for status; "" (a status line may end with an empty phrase,
 * RFC 9112 section 4) for a status these RFCs do not define. Static
 * storage. */
const char *http_reason(int status);

#endif
