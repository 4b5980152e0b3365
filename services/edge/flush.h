/* Answers written in the loop turn that made them. evhttp sends an answer
 * by enabling its socket's write event: the bytes leave a turn later, when
 * epoll reports the socket writable, and the event is removed again: two
 * epoll changes and a wake an answer. A loop's flusher writes the answers
 * its turn made once the turn's callbacks are done, and finishes each for
 * evhttp as the write event would have (the bufferevent's write callback),
 * so that the write event's enabling and removal cancel out in the turn's
 * epoll changelist (loops.c). An answer the socket does not take whole, or
 * a failed write, is left to libevent as before. */
#ifndef EDGE_FLUSH_H
#define EDGE_FLUSH_H

#include <event2/event.h>
#include <event2/http.h>

typedef struct flusher flusher;

/* The flusher of the loop of base. NULL when out of memory: answers then
 * leave as libevent sends them. */
flusher *flusher_new(struct event_base *base);
/* Makes f the flusher of the calling thread: the loop's, before it runs. */
void flusher_use(flusher *f);
/* After the loop's connections are freed, before its base. NULL-safe. */
void flusher_free(flusher *f);

/* Before evhttp_send_reply(req, ...), which may free req: req's connection,
 * held, for flush_answer; NULL on a thread without a flusher or for a
 * request whose client is gone. */
struct bufferevent *flush_hold(struct evhttp_request *req);
/* After it: the answer is written at the end of this turn. Takes over the
 * hold; NULL-safe. */
void flush_answer(struct bufferevent *bev);

#endif
