/* The configuration's I/O (see cfg.h): the command line (--config PATH,
 * --help, --version), reading the config file, the WARREN_<KEY>_FILE
 * secrets, the process environment, and printing problems or help. The
 * parsing itself is cfg_parse.c's, which does no I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_int.h"
#include "warren/err.h"
#include "warren/version.h"

#define MAX_FILE (1u << 20)              /* bytes of config file read */
#define MAX_PROBLEMS ((size_t)64 * 1024) /* bytes of problems printed */
#define MAX_HELP ((size_t)64 * 1024)
#define ENV_PREFIX "WARREN_"

extern char **environ;

/* Reads the whole of path into out (capped). Returns 0, WR_ENOTFOUND,
 * WR_ETOOBIG, WR_ENOMEM or WR_EIO; errno tells why for the last two. */
static int read_all(const char *path, struct wr_buf *out)
{
    /* Flawfinder: ignore - the operator's own --config file, only read */
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? WR_ENOTFOUND : WR_EIO;
    char chunk[16384];
    int rc = 0;
    while (rc == 0) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        rc = wr_buf_append(out, chunk, n);
        if (rc == 0 && n < sizeof(chunk)) {
            rc = ferror(f) ? WR_EIO : 0;
            break;
        }
    }
    int saved = errno;
    (void)fclose(f);
    errno = saved;
    return rc;
}

static void report_read(struct wr_buf *problems, const char *path, int rc, int saved_errno)
{
    if (problems == NULL)
        return;
    if (rc == WR_ETOOBIG)
        (void)wr_buf_printf(problems, "%s: larger than %u bytes\n", path, MAX_FILE);
    else if (rc == WR_ENOMEM)
        (void)wr_buf_printf(problems, "%s: out of memory\n", path);
    else
        (void)wr_buf_printf(problems, "%s: cannot read: %s\n", path, strerror(saved_errno));
}

/* The environment with every WARREN_<KEY>_FILE=/path replaced by
 * WARREN_<KEY>=<the file's content> (one trailing newline dropped), so that
 * secrets can come from files (Docker and Kubernetes secrets) rather than the
 * environment. Files are read here, once, at start-up; their content is
 * never echoed. */
struct env_copy {
    char **env;   /* NULL-terminated */
    char **owned; /* the replaced entries, freed with the copy */
    size_t nowned;
};

static void env_copy_release(struct env_copy *c)
{
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->env);
    *c = (struct env_copy){0};
}

static bool env_has(char *const *env, const char *name, size_t n)
{
    for (; *env != NULL; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return true;
    return false;
}

/* entry is `WARREN_X_FILE=/path`, name_len the length of `WARREN_X`. */
static char *secret_entry(const char *entry, size_t name_len, struct wr_buf *problems)
{
    const char *path = strchr(entry, '=') + 1;
    struct wr_buf text;
    wr_buf_init(&text, 65536);
    int rc = read_all(path, &text);
    int saved = errno;
    size_t n = text.len;
    if (n > 0 && text.data[n - 1] == '\n')
        n--;
    if (n > 0 && text.data[n - 1] == '\r')
        n--;
    char *out = NULL;
    if (rc != 0)
        (void)wr_buf_printf(problems, "environment: %.*s_FILE: cannot read it: %s\n", (int)name_len,
                            entry, rc == WR_ETOOBIG ? "larger than 64 KiB" : strerror(saved));
    else if (memchr(text.data ? text.data : "", '\0', n) != NULL ||
             memchr(text.data ? text.data : "", '\n', n) != NULL)
        (void)wr_buf_printf(problems, "environment: %.*s_FILE: the file holds more than one line\n",
                            (int)name_len, entry);
    else
        out = malloc(name_len + n + 2);
    if (out != NULL) {
        memcpy(out, entry, name_len);
        out[name_len] = '=';
        if (n > 0)
            memcpy(out + name_len + 1, text.data, n);
        out[name_len + 1 + n] = '\0';
    }
    wr_buf_release(&text);
    return out;
}

/* Returns the number of problems added (an unreadable file, a variable also
 * given directly); c holds the environment to parse. */
static size_t expand_secret_files(char *const *env, struct env_copy *c, struct wr_buf *problems)
{
    size_t n = 0, bad = 0;
    while (env[n] != NULL)
        n++;
    c->env = calloc(n + 1, sizeof(char *));
    c->owned = calloc(n + 1, sizeof(char *));
    if (c->env == NULL || c->owned == NULL) {
        (void)wr_buf_puts(problems, "environment: out of memory\n");
        return 1;
    }
    for (size_t i = 0, j = 0; i < n; i++) {
        const char *e = env[i];
        const char *eq = strchr(e, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - e) : 0;
        bool file = strncmp(e, ENV_PREFIX, strlen(ENV_PREFIX)) == 0 &&
                    name_len > strlen(ENV_PREFIX) + 5 && memcmp(eq - 5, "_FILE", 5) == 0;
        if (!file) {
            c->env[j++] = env[i];
            continue;
        }
        name_len -= 5;
        char *entry = NULL;
        if (env_has(env, e, name_len))
            (void)wr_buf_printf(problems, "environment: %.*s and %.*s_FILE are both set\n",
                                (int)name_len, e, (int)name_len, e);
        else
            entry = secret_entry(e, name_len, problems);
        if (entry == NULL) {
            bad++;
            continue;
        }
        c->owned[c->nowned++] = entry;
        c->env[j++] = entry;
    }
    return bad;
}

static int load_expanded(struct wr_cfg *cfg, const char *path, bool required, char *const *env,
                         struct wr_buf *problems)
{
    struct wr_buf text;
    wr_buf_init(&text, MAX_FILE);
    int rc = read_all(path, &text);
    int saved_errno = errno;
    bool failed = rc != 0 && (rc != WR_ENOTFOUND || required);
    if (failed)
        report_read(problems, path, rc, saved_errno);
    /* Parse even after a failure, so environment problems are listed too. */
    rc = wr_cfg_parse(cfg, path, text.data, rc == 0 ? text.len : 0, env, problems);
    wr_buf_release(&text);
    if (rc == 0 && failed) {
        wr_cfg_release(cfg);
        rc = WR_EINVAL;
    }
    return rc;
}

int wr_cfg_load(struct wr_cfg *cfg, const char *path, bool required, char *const *env,
                struct wr_buf *problems)
{
    struct env_copy copy = {0};
    struct wr_buf sink; /* when the caller wants no problem lines */
    wr_buf_init(&sink, 4096);
    size_t bad = env != NULL ? expand_secret_files(env, &copy, problems ? problems : &sink) : 0;
    int rc = load_expanded(cfg, path, required, copy.env, problems);
    env_copy_release(&copy);
    wr_buf_release(&sink);
    if (rc == 0 && bad > 0) {
        wr_cfg_release(cfg);
        rc = WR_EINVAL;
    }
    return rc;
}

int wr_cfg_args_parse(struct wr_cfg_args *a, int argc, char *const *argv, struct wr_buf *problems)
{
    *a = (struct wr_cfg_args){.path = "config.cfg"};
    size_t bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *given = NULL;
        if (strcmp(arg, "--config") == 0 && i + 1 < argc)
            given = argv[++i];
        else if (strncmp(arg, "--config=", 9) == 0 && arg[9] != '\0')
            given = arg + 9;
        if (given != NULL) {
            a->path = given;
            a->required = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0) {
            a->help = true;
            continue;
        }
        if (strcmp(arg, "--version") == 0) {
            a->version = true;
            continue;
        }
        bad++;
        (void)wr_buf_puts(problems, "arguments: ");
        wr__put_printable(problems, arg, strlen(arg));
        (void)wr_buf_puts(problems, strcmp(arg, "--config") == 0 || strcmp(arg, "--config=") == 0
                                        ? ": needs a path\n"
                                        : ": unknown argument (expected --config PATH, --help "
                                          "or --version)\n");
    }
    return bad > 0 ? WR_EINVAL : 0;
}

/* One key of the table for --help: its name, type and default, then its
 * help text on a line of its own. */
static void help_key(struct wr_buf *out, const struct wr_cfg_key *k)
{
    bool str = strcmp(k->type, "str") == 0;
    (void)wr_buf_printf(out, "  %s (%s, default %s%s%s)\n      %s\n", k->name, k->type,
                        str ? "'" : "", k->def, str ? "'" : "", k->help);
}

int wr_cfg_help(const struct wr_cfg_prog *prog, struct wr_buf *out)
{
    (void)wr_buf_printf(out,
                        "%s %s: %s\n\n"
                        "Usage: %s [--config PATH]\n"
                        "       %s --help | --version\n\n"
                        "Options:\n"
                        "  --config PATH  the config file (default ./config.cfg, which may be "
                        "absent;\n"
                        "                 a file named here must exist)\n"
                        "  --help         print this text and exit\n"
                        "  --version      print the version and exit\n\n"
                        "Configuration: `KEY = value` lines in the config file (Python literals: "
                        "'text',\n"
                        "integers, True/False), each overridden by the environment variable "
                        "WARREN_<KEY>,\n"
                        "or read from the file WARREN_<KEY>_FILE names. Every problem is listed, "
                        "then the\n"
                        "program exits with status 2. The keys %s reads:\n",
                        prog->name, WARREN_VERSION, prog->purpose, prog->name, prog->name,
                        prog->name);
    for (const struct wr_cfg_key *k = wr_cfg_keys(); k->name != NULL; k++)
        if ((k->uses & prog->uses) != 0)
            help_key(out, k);
    if ((prog->uses & WR_CFG_USE_CATALOG) != 0) {
        (void)wr_buf_puts(out, "Per collection, `<Collection>.<SETTING> = 'value'` "
                               "(environment WARREN_<Collection>__<SETTING>):\n");
        for (const struct wr__coll_setting *c = wr__coll_settings; c->name != NULL; c++)
            (void)wr_buf_printf(out, "  <Collection>.%s\n      %s\n", c->name, c->help);
    }
    return wr_buf_error(out);
}

static void print_problems(const struct wr_buf *problems, int rc)
{
    if (problems->len > 0)
        (void)fwrite(problems->data, 1, problems->len, stderr);
    if (wr_buf_error(problems) != 0)
        (void)fputs("(more configuration problems not shown)\n", stderr);
    else if (problems->len == 0)
        (void)fprintf(stderr, "configuration: %s\n", wr_err_str(rc));
}

/* --help or --version on stdout; the exit status. */
static int print_asked(const struct wr_cfg_prog *prog, const struct wr_cfg_args *a)
{
    struct wr_buf out;
    wr_buf_init(&out, MAX_HELP);
    if (a->help)
        (void)wr_cfg_help(prog, &out);
    else
        (void)wr_buf_printf(&out, "%s %s\n", prog->name, WARREN_VERSION);
    int status = wr_buf_error(&out) == 0 && fwrite(out.data, 1, out.len, stdout) == out.len &&
                         fflush(stdout) == 0
                     ? 0
                     : 1;
    wr_buf_release(&out);
    return status;
}

bool wr_cfg_from_args(struct wr_cfg *cfg, const struct wr_cfg_prog *prog, int argc, char **argv,
                      int *status)
{
    *cfg = (struct wr_cfg){0};
    struct wr_buf problems;
    wr_buf_init(&problems, MAX_PROBLEMS);
    struct wr_cfg_args a;
    int rc = wr_cfg_args_parse(&a, argc, argv, &problems);
    if (rc == 0 && (a.help || a.version)) {
        wr_buf_release(&problems);
        *status = print_asked(prog, &a);
        return false;
    }
    int load_rc = wr_cfg_load(cfg, a.path, a.required, environ, &problems);
    if (load_rc == 0 && rc != 0)
        wr_cfg_release(cfg);
    rc = rc != 0 ? rc : load_rc;
    if (rc != 0)
        print_problems(&problems, rc);
    wr_buf_release(&problems);
    *status = rc == 0 ? 0 : 2;
    return rc == 0;
}
