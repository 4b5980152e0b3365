/* libFuzzer target for the search parameter q: query_parse and the SQL it
 * writes (services/catalog/sql/query.h), over tables of the Chinook
 * fixture with a hidden column and identifiers holding a double quote.
 * The input's first byte picks the collection, the rest is q. For every q accepted, the
 * SELECT, the COUNT and (with functions) the functions statement must hold
 * nothing but: double-quoted identifiers of the schema's tables and
 * columns, the aliases t<n>, SQL keywords and punctuation, and `?` for
 * every value, one per bound value. So no request text reaches the SQL.
 * The input, as text, is also read as an FTS5 table's CREATE statement
 * (model/fts.h), which must neither crash nor overrun. */
#include <stdbool.h>
#include <string.h>

#include "chinook_fixture.h"
#include "fuzz.h"
#include "sql/query.h"
#include "model/fts.h"
#include "model/schema.h"
#include "model/value.h"
#include "warren/buf.h"
#include "warren/cfg.h"
#include "warren/err.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define BINDS_CAP 4096

/* Chinook's tables less a few (the first byte of an input picks one of
 * those served), with invoices for a DATETIME, and odd"t for quotes. */
static const char table_names[] = "artists albums tracks customers invoices invoice_items "
                                  "odd\"t tracks_fts";
static struct schema_table_def tables[FIXTURE_MAX_TABLES];
static size_t ntables;

static const char config[] = "Tracks.EXCLUDE = 'bytes'\n";

static const char *const keywords[] = {"SELECT", "FROM", "AS", "WHERE", "AND", "OR", "NOT", "LEFT",
                                       "JOIN", "ON", "EXISTS", "GROUP", "BY", "ORDER", "ASC",
                                       "DESC", "IN", "IS", "NULL", "LIKE", "lower", "COUNT",
                                       "count", "sum", "avg", "min", "max", "1",
                                       /* full text: the index's rowid and rank, joined as tr */
                                       "MATCH", "rowid", "rank", "tr"};

static struct wr_cfg cfg;
static schema *sch;

static void build_schema(void)
{
    ntables = fixture_tables(table_names, tables, FIXTURE_MAX_TABLES);
    struct wr_err err = {0};
    sch = fixture_schema(table_names, config, &cfg, &err);
    FUZZ_ASSERT(sch != NULL);
}

/* Whether n bytes at s name a table or a column of the schema. */
static bool schema_ident(const char *s, size_t n)
{
    for (size_t i = 0; i < ntables; i++) {
        if (strlen(tables[i].name) == n && memcmp(tables[i].name, s, n) == 0)
            return true;
        for (size_t j = 0; j < tables[i].ncols; j++)
            if (strlen(tables[i].cols[j].name) == n && memcmp(tables[i].cols[j].name, s, n) == 0)
                return true;
    }
    return false;
}

static bool keyword(const char *s, size_t n)
{
    for (size_t i = 0; i < N(keywords); i++)
        if (strlen(keywords[i]) == n && memcmp(keywords[i], s, n) == 0)
            return true;
    /* an alias: t followed by digits */
    if (n < 2 || s[0] != 't')
        return false;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The statement's tokens are all ours; returns the number of `?`. */
static size_t check_sql(const char *sql, size_t len)
{
    size_t marks = 0;
    char ident[256];
    for (size_t i = 0; i < len;) {
        char c = sql[i];
        if (c == '"') { /* "ident", with "" for a quote inside */
            size_t n = 0;
            for (i++;; i++) {
                FUZZ_ASSERT(i < len); /* terminated */
                if (sql[i] == '"' && (i + 1 >= len || sql[i + 1] != '"'))
                    break;
                if (sql[i] == '"')
                    i++;
                FUZZ_ASSERT(n < sizeof(ident));
                ident[n++] = sql[i];
            }
            i++;
            FUZZ_ASSERT(schema_ident(ident, n));
        } else if (word_char(c)) {
            size_t start = i;
            while (i < len && word_char(sql[i]))
                i++;
            FUZZ_ASSERT(keyword(sql + start, i - start));
        } else {
            FUZZ_ASSERT(strchr(" (),.=!<>*?", c) != NULL);
            marks += c == '?';
            i++;
        }
    }
    return marks;
}

static void check_statement(int rc, const struct wr_buf *sql, size_t nbinds)
{
    FUZZ_ASSERT(rc == 0 || rc == WR_ETOOBIG || rc == WR_ENOMEM);
    if (rc != 0)
        return;
    FUZZ_ASSERT(sql->data != NULL && strlen(sql->data) == sql->len);
    FUZZ_ASSERT(check_sql(sql->data, sql->len) == nbinds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sch == NULL)
        build_schema();
    if (size < 1)
        return 0;
    static char text[1 << 16];
    size_t n = size < sizeof(text) ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    struct fts_def def;
    if (fts_parse(text, &def))
        FUZZ_ASSERT(strlen(def.content) < sizeof(def.content) &&
                    strlen(def.content_rowid) < sizeof(def.content_rowid));
    const struct collection *c = schema_at(sch, data[0] % schema_count(sch));
    struct wr_err err = {0};
    query *q = query_parse(sch, c, (const char *)data + 1, size - 1, NULL, &err);
    if (q == NULL) {
        FUZZ_ASSERT(err.code == WR_EINVAL || err.code == WR_ENOMEM);
        FUZZ_ASSERT(err.msg[0] != '\0');
        return 0;
    }
    static struct value binds[BINDS_CAP];
    size_t nbinds = 0;
    struct wr_buf sql;
    wr_buf_init(&sql, (size_t)1 << 20);
    check_statement(query_select_sql(q, &sql, binds, &nbinds, BINDS_CAP), &sql, nbinds);
    wr_buf_reset(&sql);
    check_statement(query_count_sql(q, &sql, binds, &nbinds, BINDS_CAP), &sql, nbinds);
    wr_buf_reset(&sql);
    const char *names[64];
    size_t nnames = 0;
    int rc = query_functions_sql(q, &sql, binds, &nbinds, BINDS_CAP, names, &nnames, N(names));
    if (rc != WR_EINVAL) /* WR_EINVAL: no functions asked */
        check_statement(rc, &sql, nbinds);
    wr_buf_release(&sql);
    query_free(q);
    return 0;
}
