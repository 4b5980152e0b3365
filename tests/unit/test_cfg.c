/* Unit tests for configuration: defaults, the file syntax, the environment,
 * dotted collection keys, problem reporting, and loading from a path. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/err.h"
#include "warren/version.h"
#include "run_suite.h"

static struct wr_cfg cfg;
static struct wr_buf problems;

static void setup(void)
{
    memset(&cfg, 0, sizeof(cfg));
    wr_buf_init(&problems, 1 << 16);
}

static void teardown(void)
{
    wr_cfg_release(&cfg);
    wr_buf_release(&problems);
}

static int parse_env(const char *text, char *const *env)
{
    return wr_cfg_parse(&cfg, "config.cfg", text, strlen(text), env, &problems);
}

static int parse(const char *text)
{
    return parse_env(text, NULL);
}

static const char *problem_text(void)
{
    return problems.data != NULL ? problems.data : "";
}

static size_t problem_lines(void)
{
    size_t n = 0;
    for (const char *s = problem_text(); *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* Asserts the failure left nothing in cfg, as the header promises. */
static void assert_empty(void)
{
    ck_assert_ptr_null(cfg.database_uri);
    ck_assert_ptr_null(cfg.log_level);
    ck_assert_ptr_null(cfg.colls);
    ck_assert_uint_eq(cfg.ncolls, 0);
}

/* Writes text to a new temporary file; the caller unlinks *path. */
static void temp_file(char *path, size_t size, const char *text)
{
    ck_assert_int_lt(snprintf(path, size, "/tmp/test_cfg_XXXXXX"), (int)size);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    ck_assert_int_eq(close(fd), 0);
}

START_TEST(defaults)
{
    ck_assert_int_eq(parse(""), 0);
    ck_assert_str_eq(cfg.database_uri, "sqlite:///../shared/data/chinook.db");
    ck_assert_str_eq(cfg.collections, "");
    ck_assert_str_eq(cfg.amqp_url, "amqp://guest:guest@127.0.0.1:5672/%2f");
    ck_assert_str_eq(cfg.redis_url, "");
    ck_assert_str_eq(cfg.mongo_uri, "");
    ck_assert_str_eq(cfg.service, "catalog");
    ck_assert_str_eq(cfg.http_host, "127.0.0.1");
    ck_assert_int_eq(cfg.http_port, 8080);
    ck_assert_int_eq(cfg.request_timeout_ms, 5000);
    ck_assert_int_eq(cfg.max_in_flight, 10000);
    ck_assert_int_eq(cfg.http_timeout_s, 10);
    ck_assert_int_eq(cfg.max_body_bytes, 1048576);
    ck_assert_int_eq(cfg.max_header_bytes, 8192);
    ck_assert_int_eq(cfg.prefetch, 256);
    ck_assert_int_eq(cfg.results_per_page, 10);
    ck_assert_int_eq(cfg.max_results_per_page, 100);
    ck_assert_int_eq(cfg.heartbeat_s, 10);
    ck_assert_int_eq(cfg.connect_timeout_ms, 2000);
    ck_assert_int_eq(cfg.reconnect_max_ms, 5000);
    ck_assert(!cfg.debug);
    ck_assert_str_eq(cfg.log_level, "info");
    ck_assert_uint_eq(cfg.ncolls, 0);
    ck_assert_uint_eq(problems.len, 0);
}
END_TEST

START_TEST(keys_table)
{
    const struct wr_cfg_key *k = wr_cfg_keys();
    size_t n = 0;
    bool port = false;
    for (; k[n].name != NULL; n++) {
        ck_assert_ptr_nonnull(k[n].help);
        if (strcmp(k[n].name, "HTTP_PORT") == 0) {
            ck_assert_str_eq(k[n].type, "int");
            ck_assert_str_eq(k[n].def, "8080");
            port = true;
        }
    }
    ck_assert(port);
    for (size_t i = 0; i < n; i++) /* one entry per key */
        for (size_t j = i + 1; j < n; j++)
            ck_assert_str_ne(k[i].name, k[j].name);
}
END_TEST

START_TEST(every_type)
{
    const char *text = "DATABASE_URI = 'sqlite:////data/x.db'\n"
                       "HTTP_PORT = 9090\n"
                       "HEARTBEAT_S = 0\n"
                       "MAX_BODY_BYTES = +42\n"
                       "DEBUG = True\n"
                       "LOG_LEVEL = \"debug\"\n"
                       "COLLECTIONS = ''\n";
    ck_assert_int_eq(parse(text), 0);
    ck_assert_str_eq(cfg.database_uri, "sqlite:////data/x.db");
    ck_assert_int_eq(cfg.http_port, 9090);
    ck_assert_int_eq(cfg.heartbeat_s, 0);
    ck_assert_int_eq(cfg.max_body_bytes, 42);
    ck_assert(cfg.debug);
    ck_assert_str_eq(cfg.log_level, "debug");
    ck_assert_str_eq(cfg.collections, "");
    ck_assert_str_eq(cfg.service, "catalog");
}
END_TEST

START_TEST(comments_and_blank_lines)
{
    const char *text = "\xEF\xBB\xBF# warren\n"
                       "\n"
                       "   \t\n"
                       "  # indented comment\n"
                       "SERVICE = 'edge'   # the # in a comment\n"
                       "HTTP_HOST='0.0.0.0'#tight\r\n"
                       "CACHE_CONTROL = 'private #frag' # a # inside quotes is text\n"
                       "HTTP_PORT = 81#no space\n"
                       "SERVICE = 'last'"; /* no final newline; duplicates: the last wins */
    ck_assert_int_eq(parse(text), 0);
    ck_assert_str_eq(cfg.service, "last");
    ck_assert_str_eq(cfg.http_host, "0.0.0.0");
    ck_assert_str_eq(cfg.cache_control, "private #frag");
    ck_assert_int_eq(cfg.http_port, 81);
}
END_TEST

START_TEST(string_escapes)
{
    ck_assert_int_eq(parse("SERVICE = 'a\\\\b\\'c\\\"d\\ne\\tf\\rg\\x41\\xe9'\n"
                           "HTTP_HOST = \"it's\"\n"),
                     0);
    ck_assert_str_eq(cfg.service, "a\\b'c\"d\ne\tf\rgA\xc3\xa9");
    ck_assert_str_eq(cfg.http_host, "it's");
}
END_TEST

START_TEST(bad_strings)
{
    ck_assert_int_eq(parse("SERVICE = 'a\\qb'\n"
                           "SERVICE = 'abc\n"
                           "SERVICE = '\\x4'\n"
                           "SERVICE = '\\x00'\n"
                           "SERVICE = 'a' 'b'\n"
                           "SERVICE = r'raw'\n"),
                     WR_EINVAL);
    ck_assert_uint_eq(problem_lines(), 6);
    ck_assert_ptr_nonnull(strstr(problem_text(), "config.cfg:1: SERVICE: unsupported escape"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "config.cfg:2: SERVICE: unterminated string"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "config.cfg:5: SERVICE: unexpected text"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "config.cfg:6: SERVICE: expected a quoted"));
    assert_empty();
}
END_TEST

START_TEST(unknown_key)
{
    ck_assert_int_eq(parse("HTTP_PORT = 1\nFOO = 'x'\n"), WR_EINVAL);
    ck_assert_str_eq(problem_text(), "config.cfg:2: unknown key FOO\n");
    assert_empty();
}
END_TEST

START_TEST(wrong_types)
{
    ck_assert_int_eq(parse("SERVICE = 5\n"
                           "HTTP_HOST = True\n"
                           "HTTP_PORT = '80'\n"
                           "PREFETCH = 0x10\n"
                           "PREFETCH = 1.5\n"
                           "PREFETCH = 010\n"
                           "DEBUG = 1\n"
                           "DEBUG = 'True'\n"
                           "DEBUG = true\n"
                           "LOG_LEVEL = 'verbose'\n"
                           "SERVICE =\n"),
                     WR_EINVAL);
    const char *want = "config.cfg:1: SERVICE: expected a quoted string\n"
                       "config.cfg:2: HTTP_HOST: expected a quoted string\n"
                       "config.cfg:3: HTTP_PORT: expected an integer\n"
                       "config.cfg:4: PREFETCH: expected an integer\n"
                       "config.cfg:5: PREFETCH: expected an integer\n"
                       "config.cfg:6: PREFETCH: leading zeros are not allowed in integers\n"
                       "config.cfg:7: DEBUG: expected True or False\n"
                       "config.cfg:8: DEBUG: expected True or False\n"
                       "config.cfg:9: DEBUG: expected True or False\n"
                       "config.cfg:10: LOG_LEVEL: expected one of debug, info, warn, error\n"
                       "config.cfg:11: SERVICE: missing value\n";
    ck_assert_str_eq(problem_text(), want);
    assert_empty();
}
END_TEST

START_TEST(int_out_of_range)
{
    ck_assert_int_eq(parse("HTTP_PORT = 70000\n"
                           "MAX_HEADER_BYTES = 255\n"
                           "PREFETCH = -1\n"
                           "MAX_BODY_BYTES = 99999999999999999999999\n"),
                     WR_EINVAL);
    const char *want = "config.cfg:1: HTTP_PORT: 70000 is out of range 1..65535\n"
                       "config.cfg:2: MAX_HEADER_BYTES: 255 is out of range 256..1048576\n"
                       "config.cfg:3: PREFETCH: -1 is out of range 1..65535\n"
                       "config.cfg:4: MAX_BODY_BYTES: integer is out of range 0..1073741824\n";
    ck_assert_str_eq(problem_text(), want);
    assert_empty();
}
END_TEST

START_TEST(every_problem_at_once)
{
    char *env[] = {"WARREN_PREFETCH=many", "WARREN_NOPE=1", NULL};
    ck_assert_int_eq(parse_env("FOO = 1\n"
                               "HTTP_PORT = 'x'\n"
                               "this is not python\n"
                               "Albums.SORT = 'x'\n"
                               "HEARTBEAT_S = 9999\n",
                               env),
                     WR_EINVAL);
    ck_assert_uint_eq(problem_lines(), 7);
    ck_assert_ptr_nonnull(strstr(problem_text(), "config.cfg:3: expected KEY = value\n"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "environment: WARREN_NOPE: unknown key\n"));
    assert_empty();
}
END_TEST

START_TEST(secrets_not_echoed)
{
    char *env[] = {"WARREN_LOG_LEVEL=hunter2", NULL};
    ck_assert_int_eq(parse_env("AMQP_URL = 'amqp://u:s3cret\\q@h/'\n"
                               "LOG_LEVEL = 'hunter2'\n"
                               "REDIS_URL = 's3cret\n",
                               env),
                     WR_EINVAL);
    ck_assert_uint_eq(problem_lines(), 4);
    ck_assert_ptr_null(strstr(problem_text(), "s3cret"));
    ck_assert_ptr_null(strstr(problem_text(), "hunter2"));
}
END_TEST

START_TEST(env_overrides_file)
{
    char *env[] = {"PATH=/bin",      "WARREN_HTTP_PORT=9999", "WARREN_SERVICE=from env 'raw'",
                   "WARREN_DEBUG=1", "WARREN_COLLECTIONS=",   NULL};
    ck_assert_int_eq(parse_env("HTTP_PORT = 80\nSERVICE = 'file'\nCOLLECTIONS = 'a,b'\n", env), 0);
    ck_assert_int_eq(cfg.http_port, 9999);
    ck_assert_str_eq(cfg.service, "from env 'raw'");
    ck_assert(cfg.debug);
    ck_assert_str_eq(cfg.collections, "");
}
END_TEST

START_TEST(env_bad_values)
{
    char *env[] = {"WARREN_HTTP_PORT=70000", "WARREN_PREFETCH= 5", "WARREN_DEBUG=yes",
                   "WARREN_LOG_LEVEL=INFO", NULL};
    ck_assert_int_eq(parse_env("", env), WR_EINVAL);
    const char *want = "environment: WARREN_HTTP_PORT: 70000 is out of range 1..65535\n"
                       "environment: WARREN_PREFETCH: expected an integer\n"
                       "environment: WARREN_DEBUG: expected True, False, true, false, 1 or 0\n"
                       "environment: WARREN_LOG_LEVEL: expected one of debug, info, warn, error\n";
    ck_assert_str_eq(problem_text(), want);
    assert_empty();
}
END_TEST

START_TEST(env_dotted_key)
{
    char *env[] = {"WARREN_Albums__EXCLUDE=Title", "WARREN_Media_Types___NAME=kinds", NULL};
    ck_assert_int_eq(parse_env("Albums.EXCLUDE = 'AlbumId'\nAlbums.NAME = 'records'\n", env), 0);
    ck_assert_uint_eq(cfg.ncolls, 4);
    ck_assert_str_eq(cfg.colls[2].collection, "Albums");
    ck_assert_str_eq(cfg.colls[2].setting, "EXCLUDE");
    ck_assert_str_eq(cfg.colls[2].value, "Title");
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Albums", "EXCLUDE"), "Title");
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Albums", "NAME"), "records");
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Media_Types_", "NAME"), "kinds");
}
END_TEST

START_TEST(env_unknown_variable)
{
    char *env[] = {"WARREN_HTTP_PROT=80", "WARREN_Albums__SORT=x", "WARREN_", NULL};
    ck_assert_int_eq(parse_env("", env), WR_EINVAL);
    const char *want = "environment: WARREN_HTTP_PROT: unknown key\n"
                       "environment: WARREN_Albums__SORT: unknown setting (expected NAME, "
                       "EXCLUDE, INCLUDE, RENAME, METHODS, DEPTH or COUNT)\n"
                       "environment: WARREN_: no '=' in the environment entry\n";
    ck_assert_str_eq(problem_text(), want);
    assert_empty();
}
END_TEST

START_TEST(dotted_key_problems)
{
    ck_assert_int_eq(parse("Albums.SORT = 'x'\n"
                           "1Albums.NAME = 'x'\n"
                           "Albums.NAME = 5\n"
                           "Albums.NAME.X = 'x'\n"),
                     WR_EINVAL);
    const char *want =
        "config.cfg:1: Albums.SORT: unknown setting (expected NAME, EXCLUDE, INCLUDE, RENAME, "
        "METHODS, DEPTH or COUNT)\n"
        "config.cfg:2: 1Albums.NAME: the collection must be an identifier\n"
        "config.cfg:3: Albums.NAME: expected a quoted string\n"
        "config.cfg:4: Albums.NAME.X: unknown setting (expected NAME, EXCLUDE, INCLUDE, RENAME, "
        "METHODS, DEPTH or COUNT)\n";
    ck_assert_str_eq(problem_text(), want);
    assert_empty();
}
END_TEST

/* DEPTH is 0 or 1 (a number or a string), COUNT exact, none or estimated. */
START_TEST(depth_and_count_settings)
{
    ck_assert_int_eq(parse("Albums.DEPTH = 0\nArtists.DEPTH = '1'\nTracks.COUNT = 'none'\n"
                           "Genres.COUNT = 'estimated'\n"
                           "Albums.INCLUDE = 'title, Artists.name'\n"),
                     0);
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Albums", "DEPTH"), "0");
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Artists", "DEPTH"), "1");
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Tracks", "COUNT"), "none");
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Genres", "COUNT"), "estimated");
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Albums", "INCLUDE"), "title, Artists.name");
    wr_cfg_release(&cfg);
    ck_assert_int_eq(parse("Albums.DEPTH = 2\nAlbums.DEPTH = 'deep'\nAlbums.COUNT = 'some'\n"),
                     WR_EINVAL);
    const char *want = "config.cfg:1: Albums.DEPTH: expected a quoted string\n"
                       "config.cfg:2: Albums.DEPTH: expected 0 or 1\n"
                       "config.cfg:3: Albums.COUNT: expected 'exact', 'none' or 'estimated'\n";
    ck_assert_str_eq(problem_text(), want);
    assert_empty();
}
END_TEST

START_TEST(coll_get_returns_last)
{
    ck_assert_int_eq(parse("Albums.RENAME = 'Title:name'\n"
                           "Artists.RENAME = 'Name:name'\n"
                           "Albums.RENAME = 'AlbumId:id'\n"),
                     0);
    ck_assert_uint_eq(cfg.ncolls, 3);
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Albums", "RENAME"), "AlbumId:id");
    ck_assert_str_eq(wr_cfg_coll_get(&cfg, "Artists", "RENAME"), "Name:name");
    ck_assert_ptr_null(wr_cfg_coll_get(&cfg, "Albums", "NAME"));
    ck_assert_ptr_null(wr_cfg_coll_get(&cfg, "Tracks", "RENAME"));
}
END_TEST

START_TEST(load_missing_optional)
{
    char *env[] = {"WARREN_PREFETCH=3", NULL};
    ck_assert_int_eq(wr_cfg_load(&cfg, "/nonexistent/config.cfg", false, env, &problems), 0);
    ck_assert_int_eq(cfg.prefetch, 3);
    ck_assert_str_eq(cfg.service, "catalog");
    ck_assert_uint_eq(problems.len, 0);
}
END_TEST

START_TEST(load_missing_required)
{
    char *env[] = {"WARREN_PREFETCH=0", NULL};
    ck_assert_int_eq(wr_cfg_load(&cfg, "/nonexistent/config.cfg", true, env, &problems), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "/nonexistent/config.cfg: cannot read: "));
    ck_assert_ptr_nonnull(strstr(problem_text(), "WARREN_PREFETCH: 0 is out of range"));
    ck_assert_uint_eq(problem_lines(), 2);
    assert_empty();
}
END_TEST

START_TEST(load_file)
{
    char path[64];
    temp_file(path, sizeof(path), "HTTP_PORT = 1234\n\nFOO = 1\n");
    ck_assert_int_eq(wr_cfg_load(&cfg, path, true, NULL, &problems), WR_EINVAL);
    char want[128];
    (void)snprintf(want, sizeof(want), "%s:3: unknown key FOO\n", path);
    ck_assert_str_eq(problem_text(), want);
    ck_assert_int_eq(unlink(path), 0);
}
END_TEST

static const struct wr_cfg_prog prog = {"warren-test", "tests the arguments", WR_CFG_USE_EDGE};

/* Runs wr_cfg_from_args; returns the status main() would exit with, or -1
 * when the program would run. */
static int run_args(int argc, char **argv)
{
    int status = 0;
    return wr_cfg_from_args(&cfg, &prog, argc, argv, &status) ? -1 : status;
}

START_TEST(from_args)
{
    char path[64];
    temp_file(path, sizeof(path), "SERVICE = 'edge'\nHTTP_PORT = 8181\n");
    ck_assert_int_eq(setenv("WARREN_HEARTBEAT_S", "7", 1), 0);
    char *argv[] = {"prog", "--config", path, NULL};
    ck_assert_int_eq(run_args(3, argv), -1);
    ck_assert_str_eq(cfg.service, "edge");
    ck_assert_int_eq(cfg.http_port, 8181);
    ck_assert_int_eq(cfg.heartbeat_s, 7);
    wr_cfg_release(&cfg);

    char eq[80];
    (void)snprintf(eq, sizeof(eq), "--config=%s", path);
    char *argv_eq[] = {"prog", eq, NULL};
    ck_assert_int_eq(run_args(2, argv_eq), -1);
    ck_assert_int_eq(cfg.http_port, 8181);
    wr_cfg_release(&cfg);

    char *bad[] = {"prog", "--verbose", "--config", path, NULL};
    ck_assert_int_eq(run_args(4, bad), 2);
    assert_empty();
    ck_assert_int_eq(unsetenv("WARREN_HEARTBEAT_S"), 0);
    ck_assert_int_eq(unlink(path), 0);
}
END_TEST

START_TEST(from_args_missing_file)
{
    char *argv[] = {"prog", "--config", "/nonexistent/config.cfg", NULL};
    ck_assert_int_eq(run_args(3, argv), 2);
    char *dangling[] = {"prog", "--config", NULL};
    ck_assert_int_eq(run_args(2, dangling), 2);
    assert_empty();
}
END_TEST

/* --help and --version end the program with 0 before any config is read
 * (a missing --config file included); an unknown option is still a 2. */
START_TEST(from_args_help_and_version)
{
    char *help[] = {"prog", "--config", "/nonexistent/config.cfg", "--help", NULL};
    ck_assert_int_eq(run_args(4, help), 0);
    assert_empty();
    char *version[] = {"prog", "--version", NULL};
    ck_assert_int_eq(run_args(2, version), 0);
    assert_empty();
    char *both_bad[] = {"prog", "--version", "-v", NULL};
    ck_assert_int_eq(run_args(3, both_bad), 2);
    assert_empty();
}
END_TEST

/* The arguments alone: the last --config counts and makes the file
 * required; every bad argument is one problem line. */
START_TEST(args_parse)
{
    struct wr_cfg_args a;
    char *none[] = {"prog", NULL};
    ck_assert_int_eq(wr_cfg_args_parse(&a, 1, none, &problems), 0);
    ck_assert_str_eq(a.path, "config.cfg");
    ck_assert(!a.required && !a.help && !a.version);
    char *all[] = {"prog", "--config", "a.cfg", "--help", "--config=b.cfg", "--version", NULL};
    ck_assert_int_eq(wr_cfg_args_parse(&a, 6, all, &problems), 0);
    ck_assert_str_eq(a.path, "b.cfg");
    ck_assert(a.required && a.help && a.version);
    ck_assert_uint_eq(problems.len, 0);
    char *bad[] = {"prog", "-h", "--help=1", "--config=", "x\033y", "--config", NULL};
    ck_assert_int_eq(wr_cfg_args_parse(&a, 6, bad, &problems), WR_EINVAL);
    ck_assert_uint_eq(problem_lines(), 5);
    ck_assert_ptr_nonnull(strstr(problem_text(), "arguments: -h: unknown argument"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "arguments: --config=: needs a path"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "arguments: x?y: unknown argument"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "arguments: --config: needs a path"));
}
END_TEST

/* --help names the program, its version and purpose, and lists exactly the
 * keys it reads, each with type, default and help. */
START_TEST(help_lists_the_keys_read)
{
    const struct wr_cfg_prog edge = {"warren-edge", "the edge", WR_CFG_USE_EDGE};
    ck_assert_int_eq(wr_cfg_help(&edge, &problems), 0);
    const char *t = problem_text();
    ck_assert_ptr_nonnull(strstr(t, "warren-edge " WARREN_VERSION ": the edge\n"));
    ck_assert_ptr_nonnull(strstr(t, "Usage: warren-edge [--config PATH]"));
    ck_assert_ptr_nonnull(strstr(t, "--version"));
    ck_assert_ptr_nonnull(strstr(t, "  HTTP_PORT (int, default 8080)\n      the port"));
    ck_assert_ptr_nonnull(strstr(t, "  SERVICE (str, default 'catalog')\n"));
    ck_assert_ptr_nonnull(strstr(t, "  DEBUG (bool, default False)\n"));
    ck_assert_ptr_null(strstr(t, "DATABASE_URI")); /* the catalog's */
    ck_assert_ptr_null(strstr(t, "<Collection>"));
    for (const struct wr_cfg_key *k = wr_cfg_keys(); k->name != NULL; k++) {
        ck_assert_msg(k->uses != 0, "%s is read by no binary", k->name);
        char line[64];
        (void)snprintf(line, sizeof(line), "  %s (", k->name);
        bool listed = strstr(t, line) != NULL;
        ck_assert_msg(listed == ((k->uses & WR_CFG_USE_EDGE) != 0), "%s", k->name);
    }
    wr_buf_reset(&problems);
    const struct wr_cfg_prog catalog = {"warren-catalog", "the catalog",
                                        WR_CFG_USE_WORKER | WR_CFG_USE_CATALOG};
    ck_assert_int_eq(wr_cfg_help(&catalog, &problems), 0);
    t = problem_text();
    ck_assert_ptr_nonnull(strstr(t, "  DATABASE_URI (str, default 'sqlite:///"));
    ck_assert_ptr_nonnull(strstr(t, "  PREFETCH (int, default 256)"));
    ck_assert_ptr_nonnull(strstr(t, "<Collection>.METHODS"));
    ck_assert_ptr_null(strstr(t, "HTTP_PORT"));
}
END_TEST

START_TEST(release_is_null_safe)
{
    wr_cfg_release(NULL);
    ck_assert_int_eq(parse("Albums.NAME = 'a'\n"), 0);
    wr_cfg_release(&cfg);
    assert_empty();
    wr_cfg_release(&cfg);
}
END_TEST

/* DEBUG only on loopback; the guest account only over loopback. */
START_TEST(production_hygiene)
{
    ck_assert_int_eq(parse("DEBUG = True\nHTTP_HOST = '0.0.0.0'\n"), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "DEBUG is on while HTTP_HOST is not loopback"));
    assert_empty();
    wr_buf_reset(&problems);
    ck_assert_int_eq(parse("DEBUG = True\nHTTP_HOST = '127.0.0.1'\n"), 0);
    wr_cfg_release(&cfg);
    ck_assert_int_eq(parse("AMQP_URL = 'amqp://guest:guest@rabbit.example:5672/%2f'\n"), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "guest account beyond loopback"));
    ck_assert_ptr_null(strstr(problem_text(), "rabbit.example")); /* never echoes the URL */
    wr_buf_reset(&problems);
    ck_assert_int_eq(parse("AMQP_URL = 'amqp://guest:guest@localhost:5673/%2f'\n"), 0);
    wr_cfg_release(&cfg);
    ck_assert_int_eq(parse("AMQP_URL = 'amqp://warren:s3cret@rabbit.example/%2f'\n"), 0);
}
END_TEST

/* The spool's bound and the local retention: KEEP discards records, so
 * only without MONGO_URI, and below MAX, which would stop the worker first. */
START_TEST(spool_bounds)
{
    ck_assert_int_eq(parse(""), 0);
    ck_assert_int_eq(cfg.audit_spool_max_bytes, 1073741824L);
    ck_assert_int_eq(cfg.audit_spool_keep_bytes, 0);
    wr_cfg_release(&cfg);
    ck_assert_int_eq(parse("AUDIT_SPOOL_KEEP_BYTES = 65536\n"), 0);
    wr_cfg_release(&cfg);
    ck_assert_int_eq(parse("AUDIT_SPOOL_MAX_BYTES = 0\nAUDIT_SPOOL_KEEP_BYTES = 65536\n"), 0);
    wr_cfg_release(&cfg);
    ck_assert_int_eq(parse("AUDIT_SPOOL_KEEP_BYTES = 65536\nMONGO_URI = 'mongodb://m/'\n"),
                     WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "it is for runs without MONGO_URI"));
    wr_buf_reset(&problems);
    ck_assert_int_eq(parse("AUDIT_SPOOL_KEEP_BYTES = 65536\nAUDIT_SPOOL_MAX_BYTES = 65536\n"),
                     WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "must be below AUDIT_SPOOL_MAX_BYTES"));
    wr_buf_reset(&problems);
    ck_assert_int_eq(parse("AUDIT_SPOOL_MAX_BYTES = -1\n"), WR_EINVAL);
}
END_TEST

/* WARREN_<KEY>_FILE: the value from a file, read by wr_cfg_load; the file's
 * content is never echoed. */
START_TEST(secret_files)
{
    char path[64], env_file[128];
    temp_file(path, sizeof(path), "amqp://warren:s3cret@rabbit.example/%2f\n");
    (void)snprintf(env_file, sizeof(env_file), "WARREN_AMQP_URL_FILE=%s", path);
    char *env[] = {env_file, "WARREN_PREFETCH=3", NULL};
    ck_assert_int_eq(wr_cfg_load(&cfg, "/nonexistent/config.cfg", false, env, &problems), 0);
    ck_assert_str_eq(cfg.amqp_url, "amqp://warren:s3cret@rabbit.example/%2f"); /* no newline */
    ck_assert_int_eq(cfg.prefetch, 3);
    wr_cfg_release(&cfg);
    /* both ways at once, a missing file, a file of two lines: each a problem */
    char two[64], both[128], missing[] = "WARREN_SERVICE_FILE=/nonexistent/secret";
    temp_file(two, sizeof(two), "tests:0123456789abcdef0123\nsecond:line\n");
    (void)snprintf(both, sizeof(both), "WARREN_API_KEYS_FILE=%s", two);
    char *bad[] = {env_file, "WARREN_AMQP_URL=amqp://x@y/", missing, both, NULL};
    ck_assert_int_eq(wr_cfg_load(&cfg, "/nonexistent/config.cfg", false, bad, &problems),
                     WR_EINVAL);
    ck_assert_ptr_nonnull(
        strstr(problem_text(), "WARREN_AMQP_URL and WARREN_AMQP_URL_FILE are both set"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "WARREN_SERVICE_FILE: cannot read it"));
    ck_assert_ptr_nonnull(strstr(problem_text(), "WARREN_API_KEYS_FILE: the file holds more"));
    ck_assert_ptr_null(strstr(problem_text(), "s3cret"));
    ck_assert_ptr_null(strstr(problem_text(), "0123456789abcdef"));
    assert_empty();
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(unlink(two), 0);
}
END_TEST

/* API_KEYS: 'name:key, ...', checked at load; a key is never echoed. */
START_TEST(api_keys)
{
    ck_assert_int_eq(parse("API_KEYS = 'ops:0123456789abcdef, ci-bot.2:ABCDEFGHIJKLMNOP/+=_~'\n"),
                     0);
    struct wr_api_key k;
    const char *p = wr_cfg_api_key_next(cfg.api_keys, &k);
    ck_assert(p != NULL && k.ok);
    ck_assert_int_eq((int)k.name_len, 3);
    ck_assert(strncmp(k.key, "0123456789abcdef", k.key_len) == 0);
    p = wr_cfg_api_key_next(p, &k);
    ck_assert(p != NULL && k.ok);
    ck_assert(strncmp(k.name, "ci-bot.2", k.name_len) == 0);
    ck_assert_ptr_null(wr_cfg_api_key_next(p, &k));
    wr_cfg_release(&cfg);
    static const char *const bad[] = {
        "API_KEYS = 'ops:short'\n",                              /* under 16 characters */
        "API_KEYS = 'nokeyhere0123456789'\n",                    /* no name */
        "API_KEYS = ':0123456789abcdef'\n",                      /* empty name */
        "API_KEYS = 'o p:0123456789abcdef'\n",                   /* a space in the name */
        "API_KEYS = 'ops:0123456789 abcdef'\n",                  /* a space in the key */
        "API_KEYS = 'a:0123456789abcdef, a:0123456789abcdeX'\n", /* a name twice */
        "API_KEYS = 'a:0123456789abcdef, b:0123456789abcdef'\n", /* a key twice */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr_buf_reset(&problems);
        ck_assert_msg(parse(bad[i]) == WR_EINVAL, "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(strstr(problem_text(), "API_KEYS: "));
        ck_assert_ptr_null(strstr(problem_text(), "0123456789"));
        assert_empty();
    }
}
END_TEST

/* SERVICES: names of [a-z][a-z0-9-]{0,31}, comma- or space-separated,
 * never SERVICE itself; anything else is a problem naming the entry. */
START_TEST(services)
{
    ck_assert_int_eq(parse(""), 0);
    ck_assert_str_eq(cfg.services, "");
    ck_assert(!wr_cfg_service_listed(&cfg, "auditlog", 8));
    wr_cfg_release(&cfg);
    ck_assert_int_eq(parse("SERVICES = ' auditlog,time-2 ,,\tx'\n"), 0);
    ck_assert(wr_cfg_service_listed(&cfg, "auditlog", 8));
    ck_assert(wr_cfg_service_listed(&cfg, "time-2", 6));
    ck_assert(wr_cfg_service_listed(&cfg, "x", 1));
    ck_assert(!wr_cfg_service_listed(&cfg, "audit", 5));
    ck_assert(!wr_cfg_service_listed(&cfg, "catalog", 7));
    const char *item;
    size_t len, n = 0;
    for (const char *p = wr_cfg_list_next(cfg.services, &item, &len); p != NULL;
         p = wr_cfg_list_next(p, &item, &len))
        n++;
    ck_assert_uint_eq(n, 3);
    wr_cfg_release(&cfg);
    static const char *const bad[] = {
        "SERVICES = 'Auditlog'\n",                          /* upper case */
        "SERVICES = 'audit_log'\n",                         /* an underscore */
        "SERVICES = '9lives'\n",                            /* not a letter first */
        "SERVICES = '-x'\n",                                /* nor a dash */
        "SERVICES = 'abcdefghijabcdefghijabcdefghijabc'\n", /* 33 characters */
        "SERVICES = 'auditlog, catalog'\n",                 /* SERVICE itself */
        "SERVICE = 'time'\nSERVICES = 'auditlog time'\n",   /* likewise */
        "SERVICES = 'a;b'\n",                               /* not a separator */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr_buf_reset(&problems);
        ck_assert_msg(parse(bad[i]) == WR_EINVAL, "accepted %s", bad[i]);
        ck_assert_msg(strstr(problem_text(), "SERVICES: entry ") != NULL, "%s", problem_text());
        assert_empty();
    }
    ck_assert_int_eq(parse("SERVICES = 'abcdefghijabcdefghijabcdefghijab'\n"), 0); /* 32 */
    wr_cfg_release(&cfg);
    char *env[] = {"WARREN_SERVICES=auditlog Bad", NULL};
    wr_buf_reset(&problems);
    ck_assert_int_eq(parse_env("", env), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "SERVICES: entry 2 is not a service name"));
}
END_TEST

/* AMQP_URL's node list is checked at load (entries named by position,
 * never echoed), the guest rule holds for every node, and TLS settings
 * only go with amqps:// nodes and with each other. */
START_TEST(amqp_nodes_and_tls)
{
    ck_assert_int_eq(parse("AMQP_URL = ' amqp://w:s3cret@a:1/%2f, amqp://w:s3cret@b:2/%2f '\n"), 0);
    wr_cfg_release(&cfg);
    ck_assert_int_eq(parse("AMQP_URL = 'amqp://w:s3cret@a/,,amqp://b/'\n"), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "AMQP_URL: entry 2 is empty"));
    ck_assert_ptr_null(strstr(problem_text(), "s3cret"));
    assert_empty();
    wr_buf_reset(&problems);
    ck_assert_int_eq(parse("AMQP_URL = 'amqp://localhost/,amqp://guest:s3cret@rabbit.example/'\n"),
                     WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "guest account beyond loopback"));
    wr_buf_reset(&problems);
    ck_assert_int_eq(parse("AMQP_URL = 'amqps://w:p@a/,amqp://w:p@b/'\n"), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "so a failover never drops TLS"));
    wr_buf_reset(&problems);
    /* TLS settings with plain nodes: refused, never a silent plain connection */
    static const char *const plain_with_tls[] = {
        "AMQP_TLS_CA_PATH = '/ca.pem'\n",
        "AMQP_TLS_CERT_PATH = '/c.pem'\nAMQP_TLS_KEY_PATH = '/k.pem'\n",
        "AMQP_TLS_VERIFY_PEER = False\nAMQP_TLS_VERIFY_HOSTNAME = False\n",
    };
    for (size_t i = 0; i < sizeof(plain_with_tls) / sizeof(plain_with_tls[0]); i++) {
        ck_assert_int_eq(parse(plain_with_tls[i]), WR_EINVAL);
        ck_assert_ptr_nonnull(strstr(problem_text(), "refusing to connect without TLS"));
        wr_buf_reset(&problems);
    }
    const char *tls = "AMQP_URL = 'amqps://w:p@a/'\n";
    char text[512];
    (void)snprintf(text, sizeof(text),
                   "%sAMQP_TLS_CA_PATH = '/ca.pem'\n"
                   "AMQP_TLS_CERT_PATH = '/c.pem'\nAMQP_TLS_KEY_PATH = '/k.pem'\n"
                   "AMQP_TLS_KEY_PASSWORD = 'pw'\n",
                   tls);
    ck_assert_int_eq(parse(text), 0);
    ck_assert_str_eq(cfg.amqp_tls_key_path, "/k.pem");
    ck_assert(cfg.amqp_tls_verify_peer && cfg.amqp_tls_verify_hostname);
    wr_cfg_release(&cfg);
    (void)snprintf(text, sizeof(text), "%sAMQP_TLS_CERT_PATH = '/c.pem'\n", tls);
    ck_assert_int_eq(parse(text), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "AMQP_TLS_CERT_PATH and AMQP_TLS_KEY_PATH go"));
    wr_buf_reset(&problems);
    (void)snprintf(text, sizeof(text), "%sAMQP_TLS_KEY_PASSWORD = 'pw'\n", tls);
    ck_assert_int_eq(parse(text), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "without AMQP_TLS_KEY_PATH"));
    ck_assert_ptr_null(strstr(problem_text(), "'pw'"));
    wr_buf_reset(&problems);
    (void)snprintf(text, sizeof(text), "%sAMQP_TLS_VERIFY_PEER = False\n", tls);
    ck_assert_int_eq(parse(text), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(problem_text(), "AMQP_TLS_VERIFY_HOSTNAME needs"));
    wr_buf_reset(&problems);
    /* the key's password is a secret: it may come from a file */
    char path[64], env_file[128];
    temp_file(path, sizeof(path), "pass phrase\n");
    (void)snprintf(env_file, sizeof(env_file), "WARREN_AMQP_TLS_KEY_PASSWORD_FILE=%s", path);
    char *env[] = {env_file, "WARREN_AMQP_URL=amqps://w:p@a/", "WARREN_AMQP_TLS_CERT_PATH=/c.pem",
                   "WARREN_AMQP_TLS_KEY_PATH=/k.pem", NULL};
    ck_assert_int_eq(wr_cfg_load(&cfg, "/nonexistent/config.cfg", false, env, &problems), 0);
    ck_assert_str_eq(cfg.amqp_tls_key_password, "pass phrase");
    ck_assert_int_eq(unlink(path), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("cfg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, keys_table);
    tcase_add_test(tc, every_type);
    tcase_add_test(tc, comments_and_blank_lines);
    tcase_add_test(tc, string_escapes);
    tcase_add_test(tc, bad_strings);
    tcase_add_test(tc, unknown_key);
    tcase_add_test(tc, wrong_types);
    tcase_add_test(tc, int_out_of_range);
    tcase_add_test(tc, every_problem_at_once);
    tcase_add_test(tc, secrets_not_echoed);
    tcase_add_test(tc, env_overrides_file);
    tcase_add_test(tc, env_bad_values);
    tcase_add_test(tc, env_dotted_key);
    tcase_add_test(tc, env_unknown_variable);
    tcase_add_test(tc, production_hygiene);
    tcase_add_test(tc, dotted_key_problems);
    tcase_add_test(tc, depth_and_count_settings);
    tcase_add_test(tc, coll_get_returns_last);
    tcase_add_test(tc, load_missing_optional);
    tcase_add_test(tc, load_missing_required);
    tcase_add_test(tc, load_file);
    tcase_add_test(tc, from_args);
    tcase_add_test(tc, from_args_missing_file);
    tcase_add_test(tc, from_args_help_and_version);
    tcase_add_test(tc, args_parse);
    tcase_add_test(tc, help_lists_the_keys_read);
    tcase_add_test(tc, release_is_null_safe);
    tcase_add_test(tc, secret_files);
    tcase_add_test(tc, spool_bounds);
    tcase_add_test(tc, api_keys);
    tcase_add_test(tc, services);
    tcase_add_test(tc, amqp_nodes_and_tls);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
