/* The command line of `warren` (warren.1, "SYNOPSIS"): argv read into
 * struct cli_args, then turned into the request it asks for. Pure: no I/O
 * (the body on stdin is read by main()); thread-safe. */
#ifndef WARREN_CLI_ARGS_H
#define WARREN_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"
#include "warren/rpc.h"

enum cli_cmd {
    CLI_NONE,
    CLI_COLLECTIONS, /* collections */
    CLI_OPENAPI,     /* openapi */
    CLI_GET,         /* get COLLECTION ID */
    CLI_LIST,        /* list COLLECTION */
    CLI_RELATED,     /* related COLLECTION ID RELATION [RELATED_ID] */
    CLI_EVAL,        /* eval COLLECTION NAME:FIELD... */
    CLI_POST,        /* post COLLECTION [BODY] */
    CLI_PATCH,       /* patch COLLECTION ID [BODY]; patch COLLECTION --filter|--all [BODY] */
    CLI_DELETE,      /* delete COLLECTION ID [RELATION RELATED_ID]; --filter|--all */
    CLI_SVC,         /* svc SERVICE OP [ID] */
};

#define CLI_LIST_MAX 32 /* --filter, --order, eval functions: at most */
#define CLI_POS_MAX 40  /* arguments after the command */

/* What argv says. Strings are borrowed from argv. */
struct cli_args {
    enum cli_cmd cmd;
    const char *pos[CLI_POS_MAX]; /* the command's own arguments, in order */
    size_t npos;
    const char *filters[CLI_LIST_MAX];
    size_t nfilters;
    const char *orders[CLI_LIST_MAX];
    size_t norders;
    const char *q; /* --q: a whole q as JSON text */
    long page;     /* 0: not given */
    long per_page; /* --per-page, 0: not given */
    int depth;     /* -1: not given */
    const char *count;
    const char *after;
    const char *request_id;
    bool all;   /* --all: patch/delete every object */
    bool json;  /* --json: raw bytes even on a terminal */
    bool table; /* --table: a table even when not on a terminal */
    const char *amqp_url;
    const char *service;
    long timeout_ms; /* 0: REQUEST_TIMEOUT_MS */
    const char *config;
    bool config_given;
    bool help;
    bool version;
};

/* Reads argv[1..argc-1]. Options (`--name VALUE` or `--name=VALUE`) may
 * come before or after the command; `--` ends them; `-` alone and any
 * other word is an argument (so ids and orders may start with `-`).
 * Returns 0, or WR_EINVAL with one line per problem appended to problems
 * (an unknown option is `arguments: --x: unknown argument`). With --help
 * or --version nothing else is checked. */
int cli_args_parse(struct cli_args *a, int argc, char *const *argv, struct wr_buf *problems);

/* The request a command makes. */
struct cli_request {
    struct wr_request req;
    const char *service;  /* the queue's service: svc's SERVICE, else NULL (the config's) */
    bool wants_body;      /* post and patch: a JSON object from body_arg or stdin */
    const char *body_arg; /* the BODY argument, or NULL (or "-"): read stdin */
    struct wr_buf q;      /* storage of req.q */
};

/* Checks a's command, its arguments and which options it takes, and
 * fills r (strings borrowed from a, the q built by filter.h into r->q).
 * Returns 0, or WR_EINVAL with every problem appended to problems. Release
 * r with cli_request_release either way. */
int cli_request_build(struct cli_request *r, const struct cli_args *a, struct wr_buf *problems);
void cli_request_release(struct cli_request *r);

/* Checks a write's body: one JSON object, no duplicate member, no NUL, at
 * most 16 MiB. 0 or WR_EINVAL with a problem line. */
int cli_body_check(const char *body, size_t len, struct wr_buf *problems);

#endif
