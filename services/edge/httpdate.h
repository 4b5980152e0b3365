/* The Date header the edge gives each answer itself (RFC 9110 5.6.7,
 * IMF-fixdate), formatted once a second per event-loop thread: left to
 * libevent, every response formatted its own with gmtime and snprintf.
 * Pure but for httpdate_now's per-thread cache. */
#ifndef EDGE_HTTPDATE_H
#define EDGE_HTTPDATE_H

#include <stddef.h>
#include <time.h>

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define HTTPDATE_LEN 29

/* A date and the second it is for; zero-initialised it holds none. */
struct httpdate {
    time_t at;
    char text[HTTPDATE_LEN + 1];
};

/* Writes t (seconds since the epoch, UTC) as an IMF-fixdate and a NUL at
 * out; a year outside 1-9999 is written as the nearer of the two. */
void httpdate_format(time_t t, char out[HTTPDATE_LEN + 1]);

/* The date of now, formatted again only when now is not the second c
 * holds. Returns c->text (valid until the next call with c). */
const char *httpdate_get(struct httpdate *c, time_t now);

/* The date of time(NULL), from this thread's own cache (each edge loop
 * runs on its own thread, so no lock). Valid until this thread's next
 * call. */
const char *httpdate_now(void);

#endif
