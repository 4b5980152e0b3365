/* What the configuration's files share and nothing else sees (wr__ prefix):
 * the key table's rows (cfg_keys.c), the Python-literal lexer (cfg_lex.c),
 * the parser's state and problem lines (cfg_parse.c) and the checks across
 * keys (cfg_check.c). cfg_load.c does the I/O on top of them. */
#ifndef WARREN_CFG_INT_H
#define WARREN_CFG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"
#include "warren/cfg.h"

/* --- the key table (cfg_keys.c) --- */

enum wr__key_type { WR__T_STR, WR__T_INT, WR__T_BOOL };

struct wr__key {
    const char *name;
    enum wr__key_type type;
    const char *def;            /* parsed like an environment value */
    size_t off;                 /* of the field in struct wr_cfg */
    long min, max;              /* bounds of an int key */
    const char *const *choices; /* NULL-terminated values a str key may take, or NULL */
};

extern const struct wr__key wr__keys[];
extern const size_t wr__nkeys;

/* The key named by n bytes of name, or NULL. */
const struct wr__key *wr__key_find(const char *name, size_t n);
/* The field of k in cfg. */
void *wr__key_slot(struct wr_cfg *cfg, const struct wr__key *k);

/* The settings a dotted key `<Collection>.<SETTING>` may name, with their
 * help text; the list ends with a NULL name. */
struct wr__coll_setting {
    const char *name;
    const char *help;
};
extern const struct wr__coll_setting wr__coll_settings[];
/* Whether n bytes of s name one of wr__coll_settings. */
bool wr__coll_setting_known(const char *s, size_t n);

/* --- the Python-literal lexer (cfg_lex.c): pure, no allocation but lit's buffer --- */

bool wr__is_space(char c); /* space, tab, CR, FF: not a newline */
const char *wr__skip_space(const char *s, const char *end);
bool wr__is_ident_char(char c); /* [A-Za-z0-9_] */
bool wr__is_ident(const char *s, size_t n);
/* Whether n bytes of s are word. */
bool wr__equals(const char *s, size_t n, const char *word);
/* [+-]?[0-9]+ to a long. Returns 0, WR_EINVAL (not a decimal integer) or
 * WR_ETOOBIG (does not fit). */
int wr__parse_long(const char *s, size_t n, long *out);

/* One Python literal from the file. */
enum wr__lit_kind { WR__LIT_STR, WR__LIT_INT, WR__LIT_BOOL, WR__LIT_OTHER };
struct wr__lit {
    enum wr__lit_kind kind; /* set it to WR__LIT_OTHER before scanning */
    struct wr_buf str;      /* WR__LIT_STR: the decoded text (initialised by the caller) */
    long num;               /* WR__LIT_INT */
    bool overflow;          /* WR__LIT_INT too large for a long */
    bool truth;             /* WR__LIT_BOOL */
    const char *why;        /* set when scanning fails with WR_EINVAL */
};
/* Scans one literal at *pp (before end) and moves *pp past it. Returns 0
 * (a token that is no literal is WR__LIT_OTHER, for the caller to name the
 * type it expected), WR_EINVAL with lit->why, or WR_ENOMEM. */
int wr__lit_scan(const char **pp, const char *end, struct wr__lit *lit);

/* --- the parser (cfg_parse.c) --- */

/* State of one wr_cfg_parse: where we are, for the problem lines. */
struct wr__parser {
    struct wr_cfg *cfg;
    struct wr_buf *problems; /* may be NULL */
    const char *where;       /* the origin, "environment", "default" or "config" */
    size_t line;             /* 0 outside a file */
    const char *subj;        /* the key or variable at fault, or NULL */
    size_t subj_len;
    size_t count; /* problems so far */
    size_t colls_cap;
    bool nomem;
};

/* Appends one problem line: "<where>[:<line>]: [<subj>: ]<message>". */
void wr__problem(struct wr__parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends n bytes of s with every byte outside printable ASCII as '?', cut
 * after 80 bytes: names from files, the environment and argv must not put
 * control bytes on a terminal or in a log. */
void wr__put_printable(struct wr_buf *b, const char *s, size_t n);

/* --- the checks across keys (cfg_check.c), after a parse without problems --- */

/* Production hygiene (DEBUG, the guest account), API_KEYS and SERVICES;
 * each problem through wr__problem. */
void wr__check(struct wr__parser *p);

#endif
