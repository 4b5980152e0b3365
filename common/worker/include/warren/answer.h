/* What a worker's operation answers: the HTTP status, the body bytes (the
 * edge sends them as they are), the reply headers of the contract (Link,
 * Location, Allow, x-cache) and what the request's audit record says of
 * it. The worker runtime owns one, resets it before each request and
 * publishes it after; an operation fills it. Not thread-safe: one per
 * thread. */
#ifndef WARREN_ANSWER_H
#define WARREN_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"

/* What the request's audit record says it asked (the document's op,
 * collection, id and params; README, "The audit trail"): NULL or 0 where
 * it does not apply. */
struct wr_answer_about {
    const char *op;
    const char *collection;
    const char *key; /* the record's "id": the object the request named */
    const char *relation;
    long page, per_page; /* 0: not given */
};

#define WR_ANSWER_NEXT_MAX 2048 /* a cursor's characters (the edge's limit of after) */

struct wr_answer {
    int status;
    struct wr_buf body; /* capped at init's max_body: WR_ETOOBIG past it */
    /* Set by an op that checked it (wr_json_is_one_value) on the final
     * body: a reply batch then carries it as JSON without checking it
     * again (struct wr_msg's body_json). */
    bool body_json;
    struct wr_buf link;  /* the Link header; empty when there is none */
    char location[1280]; /* a created object's URL, or "" */
    char allow[64];      /* the methods of a 405, or "" */
    const char *cache;   /* x-cache: "local", "hit", "miss", "bypass", "skip" or "behind" (static
                            strings);   NULL when no cache took part (audited as "off") */
    long long rows;      /* objects in the answer, for the audit record */
    long long position;  /* a write's commit position (x-warren-position); 0: none */
    /* An export's chunk: chunk true sends rows as x-warren-rows and, when
     * next is not empty, next as x-warren-next (the next chunk's cursor). */
    bool chunk;
    char next[WR_ANSWER_NEXT_MAX + 1];
    struct wr_answer_about about; /* set with wr_answer_describe */
    struct wr_buf about_text;     /* owns about's strings */
    /* The audit record's "detail": one JSON object the op writes (capped at
     * WR_ANSWER_DETAIL_MAX; past it the record says {"truncated":true});
     * empty: none. Emptied by wr_answer_reset: an op writes it last. */
    struct wr_buf detail;
};
#define WR_ANSWER_DETAIL_MAX ((size_t)256 * 1024)

/* Initialises the buffers, the body capped at max_body bytes. */
void wr_answer_init(struct wr_answer *a, size_t max_body);
/* Empties every member, keeping the buffers' memory. about is emptied
 * too: the runtime then sets its op to the op table entry's name. */
void wr_answer_reset(struct wr_answer *a);
/* Frees the buffers. NULL-safe; a may be initialised again. */
void wr_answer_release(struct wr_answer *a);
/* Replaces whatever a answers with an error: status and the contract's
 * body {"code","message"} and a newline. Keeps a->about. */
void wr_answer_error(struct wr_answer *a, int status, const char *code, const char *message);

/* Sets what the audit record says the request asked, replacing all of
 * a->about (a NULL string is recorded as null). The strings are copied
 * (each cut at 1024 bytes), so they may be freed after the call; they
 * must not point into a->about itself. Neither argument may be NULL. */
void wr_answer_describe(struct wr_answer *a, const struct wr_answer_about *about);

#endif
