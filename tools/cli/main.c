/* warren: the command-line client. Reads the command line and the same
 * config as every warren binary, sends one request through the RPC client
 * API (no edge), prints the reply (raw bytes, or a table on a terminal) and
 * exits by the reply's status class. warren.1 is its manual. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "output.h"
#include "warren/cfg.h"
#include "warren/json.h"
#include "warren/rpc.h"
#include "warren/version.h"

#define PROBLEMS_MAX ((size_t)64 * 1024)
#define BODY_READ_MAX (((size_t)16 << 20) + 1) /* one byte past the limit: refused */
#define OUT_MAX ((size_t)256 << 20)

extern char **environ;

static const char usage[] =
    "Usage: warren [--config PATH] [OPTIONS] COMMAND [ARGUMENTS]\n"
    "       warren --help | --version\n"
    "\n"
    "Commands (one request each, through RabbitMQ; no edge needed):\n"
    "  collections                          the served collections\n"
    "  openapi                              the OpenAPI document\n"
    "  get COLLECTION ID                    one object\n"
    "  list COLLECTION                      a page of objects\n"
    "  related COLLECTION ID RELATION [RELATED_ID]\n"
    "                                       a relation: the object, or a page\n"
    "  eval COLLECTION NAME:FIELD...        functions (count sum avg min max) over the\n"
    "                                       objects --filter leaves: eval Invoices sum:total\n"
    "  post COLLECTION [BODY|-]             create; BODY a JSON object, - or none: stdin\n"
    "  patch COLLECTION ID [BODY|-]         update one object\n"
    "  patch COLLECTION (--filter F|--q Q|--all) [BODY|-]   update every object found\n"
    "  delete COLLECTION ID [RELATION RELATED_ID]           delete one (or unlink it)\n"
    "  delete COLLECTION (--filter F|--q Q|--all)           delete every object found\n"
    "  svc SERVICE OP [ID]                  another service's op: svc auditlog records ID\n"
    "\n"
    "Options:\n"
    "  --filter 'FIELD OP VALUE'  a filter (list, eval, patch, delete); several are\n"
    "                       joined by and. OP: == != > < >= <= eq ne gt lt ge le like\n"
    "                       ilike in not_in is_null is_not_null has any (and their\n"
    "                       other spellings); VALUE: JSON when it is one JSON value,\n"
    "                       else text; in: a,b,c or [..]; has/any: a filter\n"
    "  --order [-]FIELD[,...] sort (list); - for descending\n"
    "  --q JSON             the whole Flask-Restless q instead of --filter/--order\n"
    "  --page N, --per-page N, --depth 0|1, --count exact|none, --after CURSOR\n"
    "  --all                patch/delete every object (no filter)\n"
    "  --request-id ID      32 lowercase hex: retry a write safely with the same id\n"
    "  --json               print the reply's bytes as they are (the default when\n"
    "                       stdout is not a terminal)\n"
    "  --table              print a table (the default on a terminal)\n"
    "  --amqp-url URL       the broker (AMQP_URL)\n"
    "  --service NAME       the catalog's service name (SERVICE): queue warren.NAME\n"
    "  --timeout MS         the request's deadline (REQUEST_TIMEOUT_MS)\n"
    "  --config PATH        the config file (default ./config.cfg, may be absent)\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 for a 2xx reply, 4 for 4xx, 5 for 5xx (503 when the broker\n"
    "cannot be reached, 504 when no reply came in time), 2 for a usage or\n"
    "configuration error, 1 for anything else. See warren(1).\n"
    "\n"
    "Configuration: the config file's `KEY = value` lines, each overridden by\n"
    "WARREN_<KEY> (or WARREN_<KEY>_FILE), each overridden by its option. The keys\n"
    "warren reads:\n";

static int print_help(void)
{
    struct wr_buf out;
    wr_buf_init(&out, PROBLEMS_MAX);
    (void)wr_buf_printf(&out, "warren %s: warren's command-line client\n\n%s", WARREN_VERSION,
                        usage);
    for (const struct wr_cfg_key *k = wr_cfg_keys(); k->name != NULL; k++)
        if ((k->uses & WR_CFG_USE_CLI) != 0)
            (void)wr_buf_printf(&out, "  %s (%s, default %s%s%s)\n      %s\n", k->name, k->type,
                                strcmp(k->type, "str") == 0 ? "'" : "", k->def,
                                strcmp(k->type, "str") == 0 ? "'" : "", k->help);
    bool ok = wr_buf_error(&out) == 0 && fwrite(out.data, 1, out.len, stdout) == out.len &&
              fflush(stdout) == 0;
    wr_buf_release(&out);
    return ok ? 0 : CLI_EXIT_OTHER;
}

/* --version; CLI_EXIT_OTHER when stdout does not take it (a full disk). */
static int print_version(void)
{
    bool ok = printf("warren %s\n", WARREN_VERSION) >= 0 && fflush(stdout) == 0;
    return ok ? 0 : CLI_EXIT_OTHER;
}

static int usage_error(const struct wr_buf *problems)
{
    (void)fwrite(problems->data ? problems->data : "", 1, problems->len, stderr);
    (void)fputs("Try 'warren --help'.\n", stderr);
    return CLI_EXIT_USAGE;
}

/* The process environment plus an option given as WARREN_<KEY>=value,
 * last, so that it wins over the file and the environment and is checked
 * like them. */
struct env {
    char **vars;
    char *owned[3];
    size_t nowned;
};

static void env_add(struct env *e, size_t *n, const char *key, const char *value)
{
    if (value == NULL)
        return;
    size_t len = strlen("WARREN_=") + strlen(key) + strlen(value) + 1;
    char *v = malloc(len);
    if (v == NULL)
        return;
    (void)snprintf(v, len, "WARREN_%s=%s", key, value);
    e->owned[e->nowned++] = v;
    e->vars[(*n)++] = v;
}

static int load_config(struct wr_cfg *cfg, const struct cli_args *a, struct wr_buf *problems)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    struct env e = {.vars = calloc(n + 4, sizeof(char *))};
    if (e.vars == NULL)
        return WR_ENOMEM;
    memcpy(e.vars, environ, n * sizeof(char *));
    char timeout[24] = "";
    if (a->timeout_ms > 0)
        (void)snprintf(timeout, sizeof(timeout), "%ld", a->timeout_ms);
    env_add(&e, &n, "AMQP_URL", a->amqp_url);
    env_add(&e, &n, "SERVICE", a->service);
    env_add(&e, &n, "REQUEST_TIMEOUT_MS", timeout[0] ? timeout : NULL);
    int rc = wr_cfg_load(cfg, a->config, a->config_given, e.vars, problems);
    for (size_t i = 0; i < e.nowned; i++)
        free(e.owned[i]);
    free(e.vars);
    return rc;
}

/* The body of post/patch: the argument, or stdin. */
static int read_body(const struct cli_request *r, struct wr_buf *body, struct wr_buf *problems)
{
    if (r->body_arg != NULL && strcmp(r->body_arg, "-") != 0)
        return wr_buf_puts(body, r->body_arg);
    if (r->body_arg == NULL && isatty(STDIN_FILENO)) {
        (void)wr_buf_puts(problems, "arguments: a BODY is needed: give it as an argument, "
                                    "or on stdin\n");
        return WR_EINVAL;
    }
    char chunk[65536];
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), stdin);
        if (n == 0 || wr_buf_append(body, chunk, n) != 0)
            break;
    }
    if (ferror(stdin) || wr_buf_error(body) != 0) {
        (void)wr_buf_puts(problems, "body: cannot read stdin, or larger than 16 MiB\n");
        return WR_EINVAL;
    }
    return 0;
}

/* Sends the request and prints the reply; returns the exit status. */
static int call(const struct wr_cfg *cfg, const struct cli_request *r, bool table)
{
    struct wr_rpc_opts o = {.amqp_url = cfg->amqp_url,
                            .service = r->service != NULL ? r->service : cfg->service,
                            .timeout_ms = cfg->request_timeout_ms,
                            .connect_timeout_ms = cfg->connect_timeout_ms,
                            .heartbeat_s = cfg->heartbeat_s,
                            .tls = wr_amqp_tls_from_cfg(cfg)};
    struct wr_err err = {0};
    struct wr_reply reply = {0};
    struct wr_buf made;
    wr_buf_init(&made, PROBLEMS_MAX);
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    if (rpc == NULL && err.code == WR_EINVAL) {
        (void)fprintf(stderr, "warren: %s\n", err.msg);
        wr_buf_release(&made);
        return CLI_EXIT_USAGE;
    }
    if (rpc == NULL) { /* the broker is down or unreachable: the contract's 503 */
        wr_json_error(&made, WR_CODE_UNAVAILABLE, err.msg);
        (void)wr_buf_putc(&made, '\n');
        reply = (struct wr_reply){.status = 503, .body = made.data, .len = made.len};
    } else {
        (void)wr_rpc_call(rpc, &r->req, &reply, &err);
    }
    struct wr_buf out, errs;
    wr_buf_init(&out, OUT_MAX);
    wr_buf_init(&errs, PROBLEMS_MAX);
    struct cli_reply cr = {.status = reply.status,
                           .body = reply.body ? reply.body : "",
                           .len = reply.len,
                           .link = reply.link};
    int code = cli_output(&cr, table, &out, &errs);
    errno = 0;
    bool written = fwrite(out.data ? out.data : "", 1, out.len, stdout) == out.len &&
                   fflush(stdout) == 0 && wr_buf_error(&out) == 0;
    int write_errno = errno;
    (void)fwrite(errs.data ? errs.data : "", 1, errs.len, stderr);
    if (!written) /* a full disk, a closed pipe: the answer is lost, say so */
        (void)fprintf(stderr, "warren: cannot write the answer: %s\n",
                      wr_buf_error(&out) != 0 ? "it is too large" : strerror(write_errno));
    if (rpc != NULL)
        wr_reply_release(&reply);
    wr_rpc_free(rpc);
    wr_buf_release(&made);
    wr_buf_release(&out);
    wr_buf_release(&errs);
    return written ? code : CLI_EXIT_OTHER;
}

int main(int argc, char **argv)
{
    struct wr_buf problems;
    wr_buf_init(&problems, PROBLEMS_MAX);
    struct cli_args a;
    struct cli_request r = {0};
    struct wr_cfg cfg = {0};
    struct wr_buf body;
    wr_buf_init(&body, BODY_READ_MAX);
    int status = CLI_EXIT_USAGE;
    if (cli_args_parse(&a, argc, argv, &problems) != 0) {
        status = usage_error(&problems);
        goto release;
    }
    if (a.help || a.version) {
        status = a.help ? print_help() : print_version();
        goto release;
    }
    if (cli_request_build(&r, &a, &problems) != 0) {
        status = usage_error(&problems);
        goto release;
    }
    if (load_config(&cfg, &a, &problems) != 0) {
        (void)fwrite(problems.data ? problems.data : "", 1, problems.len, stderr);
        goto release;
    }
    if (r.wants_body && (read_body(&r, &body, &problems) != 0 ||
                         cli_body_check(body.data ? body.data : "", body.len, &problems) != 0)) {
        status = usage_error(&problems);
        goto release_cfg;
    }
    r.req.body = r.wants_body ? body.data : NULL;
    status = call(&cfg, &r, a.table || (!a.json && isatty(STDOUT_FILENO)));
release_cfg:
    wr_cfg_release(&cfg);
release:
    cli_request_release(&r);
    wr_buf_release(&body);
    wr_buf_release(&problems);
    return status;
}
