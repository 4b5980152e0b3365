/* argv read into struct cli_args (see args.h): the options, the command
 * and its arguments, each problem named. Which options a command takes is
 * request.c's concern. */
#include "args.h"

#include <string.h>

#include "warren/err.h"

#define PAGE_MAX 1000000000L /* the envelope's page and results_per_page range */
#define TIMEOUT_MAX 600000L  /* REQUEST_TIMEOUT_MS's range */

static const struct {
    const char *name;
    enum cli_cmd cmd;
} commands[] = {
    {"collections", CLI_COLLECTIONS},
    {"openapi", CLI_OPENAPI},
    {"get", CLI_GET},
    {"list", CLI_LIST},
    {"related", CLI_RELATED},
    {"eval", CLI_EVAL},
    {"post", CLI_POST},
    {"patch", CLI_PATCH},
    {"delete", CLI_DELETE},
    {"svc", CLI_SVC},
};

enum kind { FLAG, TEXT, LIST, NUMBER };

struct opt {
    const char *name;
    enum kind kind;
};

static const struct opt opts[] = {
    {"help", FLAG},      {"version", FLAG}, {"json", FLAG},       {"table", FLAG},
    {"all", FLAG},       {"filter", LIST},  {"order", LIST},      {"q", TEXT},
    {"count", TEXT},     {"after", TEXT},   {"request-id", TEXT}, {"amqp-url", TEXT},
    {"service", TEXT},   {"config", TEXT},  {"page", NUMBER},     {"per-page", NUMBER},
    {"timeout", NUMBER}, {"depth", NUMBER},
};

/* Appends `arguments: ARG: WHAT`; returns WR_EINVAL. */
static int problem(struct wr_buf *problems, const char *arg, const char *what)
{
    (void)wr_buf_printf(problems, "arguments: %s: %s\n", arg, what);
    return WR_EINVAL;
}

/* Plain decimal digits within lo..hi; false otherwise. */
static bool number(const char *s, long lo, long hi, long *out)
{
    long v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v >= lo && v <= hi;
}

static int set_number(struct cli_args *a, const char *name, const char *value,
                      struct wr_buf *problems)
{
    long v = 0;
    if (strcmp(name, "depth") == 0) {
        if (!number(value, 0, 1, &v))
            return problem(problems, "--depth", "0 or 1");
        a->depth = (int)v;
    } else if (strcmp(name, "timeout") == 0) {
        if (!number(value, 1, TIMEOUT_MAX, &v))
            return problem(problems, "--timeout", "milliseconds, 1 to 600000");
        a->timeout_ms = v;
    } else if (!number(value, 1, PAGE_MAX, &v)) {
        return problem(problems, strcmp(name, "page") == 0 ? "--page" : "--per-page",
                       "an integer, 1 to 1000000000");
    } else if (strcmp(name, "page") == 0) {
        a->page = v;
    } else {
        a->per_page = v;
    }
    return 0;
}

static int set_text(struct cli_args *a, const char *name, const char *value,
                    struct wr_buf *problems)
{
    if (strcmp(name, "filter") == 0 || strcmp(name, "order") == 0) {
        bool filter = name[0] == 'f';
        size_t *n = filter ? &a->nfilters : &a->norders;
        if (*n == CLI_LIST_MAX) {
            return problem(problems, filter ? "--filter" : "--order", "given more than 32 times");
        }
        (filter ? a->filters : a->orders)[(*n)++] = value;
    } else if (strcmp(name, "q") == 0) {
        a->q = value;
    } else if (strcmp(name, "count") == 0) {
        a->count = value;
        if (strcmp(value, "exact") != 0 && strcmp(value, "none") != 0)
            return problem(problems, "--count", "exact or none");
    } else if (strcmp(name, "after") == 0) {
        a->after = value;
    } else if (strcmp(name, "request-id") == 0) {
        a->request_id = value;
        if (!wr_request_id_valid(value))
            return problem(problems, "--request-id", "32 lowercase hex characters");
    } else if (strcmp(name, "amqp-url") == 0) {
        a->amqp_url = value;
    } else if (strcmp(name, "service") == 0) {
        a->service = value;
    } else {
        a->config = value;
        a->config_given = true;
    }
    return 0;
}

static void set_flag(struct cli_args *a, const char *name)
{
    if (strcmp(name, "help") == 0)
        a->help = true;
    else if (strcmp(name, "version") == 0)
        a->version = true;
    else if (strcmp(name, "json") == 0)
        a->json = true;
    else if (strcmp(name, "table") == 0)
        a->table = true;
    else
        a->all = true;
}

static const struct opt *find_opt(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strlen(opts[i].name) == n && strncmp(opts[i].name, name, n) == 0)
            return &opts[i];
    return NULL;
}

/* One `--name[=value]` at argv[*i]; takes its value from the next word
 * when needed. */
static int option(struct cli_args *a, int argc, char *const *argv, int *i, struct wr_buf *problems)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct opt *o = find_opt(arg, n);
    if (o == NULL) {
        return problem(problems, argv[*i], "unknown argument (warren --help lists the options)");
    }
    if (o->kind == FLAG) {
        if (eq != NULL)
            return problem(problems, argv[*i], "takes no value");
        set_flag(a, o->name);
        return 0;
    }
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (value == NULL && *i + 1 < argc)
        value = argv[++*i];
    if (value == NULL)
        return problem(problems, argv[*i], "needs a value");
    if (o->kind == NUMBER)
        return set_number(a, o->name, value, problems);
    return set_text(a, o->name, value, problems);
}

static int command(struct cli_args *a, const char *word, struct wr_buf *problems)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, word) == 0) {
            a->cmd = commands[i].cmd;
            return 0;
        }
    return problem(problems, word, "unknown command (warren --help lists them)");
}

int cli_args_parse(struct cli_args *a, int argc, char *const *argv, struct wr_buf *problems)
{
    *a = (struct cli_args){.depth = -1, .config = "config.cfg"};
    int bad = 0;
    bool options = true;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (options && strcmp(arg, "--") == 0)
            options = false;
        else if (options && strcmp(arg, "-h") == 0)
            a->help = true;
        else if (options && strncmp(arg, "--", 2) == 0)
            rc = option(a, argc, argv, &i, problems);
        else if (a->cmd == CLI_NONE && bad == 0)
            rc = command(a, arg, problems);
        else if (a->npos < CLI_POS_MAX)
            a->pos[a->npos++] = arg;
        else
            rc = problem(problems, arg, "too many arguments");
        bad += rc != 0;
    }
    if (a->help || a->version)
        return 0;
    if (bad == 0 && a->cmd == CLI_NONE) {
        (void)wr_buf_puts(problems, "arguments: a command is needed (warren --help lists them)\n");
        bad++;
    }
    if (a->json && a->table) {
        (void)wr_buf_puts(problems, "arguments: --json or --table, not both\n");
        bad++;
    }
    return bad > 0 ? WR_EINVAL : 0;
}
