/* The model of the served database: collections, attributes, relations and
 * the names the API uses for them, built from introspected rows (which the
 * SQLite adapter reads) and the config. Pure: no I/O, so unit tests build
 * schemas from hand-written definitions.
 *
 * Naming rule (proto/README.md has it for users; naming.h has the
 * collections' and attributes' names): a foreign key from T to U gives T a to-one relation named
 * after U's collection (`Artists`) and U a to-many named after T's table (`albums`). When T has
 * several foreign keys into U, or T is U, the names get the foreign key's first attribute:
 * `Employees_reports_to` / `employees_reports_to`. */
#ifndef CATALOG_SCHEMA_H
#define CATALOG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "model/methods.h"
#include "model/naming.h"
#include "warren/cfg.h"
#include "warren/err.h"

#define SCHEMA_MAX_KEY_COLS 8

/* --- introspected input --- */
struct schema_column_def {
    const char *name;     /* as in the table */
    const char *decltype; /* may be NULL or "" */
    int pk;               /* position in the primary key, 1-based; 0 if not part */
};
struct schema_fk_def {
    int id;            /* columns of one foreign key share an id */
    const char *table; /* the referenced table */
    const char *from;  /* the column in this table */
    const char *to;    /* the referenced column; NULL means its primary key */
};
struct schema_table_def {
    const char *name;
    const struct schema_column_def *cols;
    size_t ncols;
    const struct schema_fk_def *fks;
    size_t nfks;
    const char *sql; /* its CREATE statement (sqlite_schema.sql); NULL: unknown */
};

/* --- the model --- */
struct column {
    char *sql;  /* the column's name in SQL */
    char *attr; /* its name in the API */
    enum col_type type;
    bool hidden;
    bool fts; /* the collection's fts_table indexes it (model/fts.h) */
};

struct relation {
    char *name;
    bool to_many;
    bool hidden;   /* named in EXCLUDE: not written, still there for related requests */
    size_t target; /* index of the target collection */
    size_t nkeys;
    /* to-one: local are this table's foreign key columns, remote the target's
     * referenced columns; to-many: local are this table's referenced
     * columns, remote the target's foreign key columns. Column indices. */
    size_t local[SCHEMA_MAX_KEY_COLS];
    size_t remote[SCHEMA_MAX_KEY_COLS];
    /* Per column of the target: hidden inside this relation by a dotted
     * EXCLUDE (`Artists.name`) or INCLUDE entry of the owner; NULL when no
     * dotted entry names the relation. The target's own hidden columns are
     * hidden here too. */
    bool *col_hidden;
    /* A dotted INCLUDE entry names this relation: its objects show the
     * listed columns only, so at depth 2 they carry no relations either. */
    bool narrowed;
};

/* An output field: a column or a relation, in sorted-name order. */
struct field {
    const char *name;
    bool is_relation;
    size_t index;
};

struct collection {
    char *name;
    char *table;
    char *config_name; /* the default name, which keys its config section */
    struct column *cols;
    size_t ncols;
    size_t pk[SCHEMA_MAX_KEY_COLS]; /* column indices in key order */
    size_t npk;
    struct relation *rels;
    size_t nrels;
    struct field *fields; /* visible columns and relations, sorted: an object at depth 1 */
    size_t nfields;
    struct field *flat; /* visible columns only, sorted: an object at depth 0 */
    size_t nflat;
    unsigned methods;     /* METHODS: enum method bits, METHOD_GET always among them */
    int depth;            /* DEPTH: 1 (objects carry their relations, the default) or 0 */
    bool count_none;      /* COUNT = 'none': pages skip COUNT(*) */
    bool count_estimated; /* COUNT = 'estimated': pages take sqlite_stat1's estimate */
    char *fts_table;      /* the FTS5 table that covers it (model/fts.h), or NULL */
};

typedef struct schema schema;

/* Builds the model from n table definitions and the config (COLLECTIONS and
 * the <Collection>.NAME/EXCLUDE/INCLUDE/RENAME/METHODS/DEPTH/COUNT keys). EXCLUDE
 * hides the fields it lists; INCLUDE hides every field it does not list
 * (the two exclude each other, as in Flask-Restless). An entry
 * `Relation.column` (the relation's default name, the column's attribute or
 * SQL name) acts on that relation's objects only: EXCLUDE hides the column
 * there; INCLUDE makes the relation visible with only the listed columns. Tables named sqlite_* and
 * tables without a primary key are skipped. NULL on error, with every
 * problem in err (unknown collections or attributes in the config, name
 * collisions). A table whose sql is an FTS5 table's gives the collection
 * it covers its fts_table (model/fts.h). Free with schema_free. */
schema *schema_build(const struct schema_table_def *tables, size_t n, const struct wr_cfg *cfg,
                     struct wr_err *err);
/* Frees s and everything it holds; NULL-safe. */
void schema_free(schema *s);

/* The number of collections, and the one at index i (NULL past the
 * last); collections and relations are borrowed from s. */
size_t schema_count(const schema *s);
const struct collection *schema_at(const schema *s, size_t i);
/* The index of c, a collection of s, in s (and in the plan built from s). */
size_t schema_index(const schema *s, const struct collection *c);
/* The collection served under name, or NULL. */
const struct collection *schema_find(const schema *s, const char *name);
/* The relation of c called name, or NULL. */
const struct relation *schema_relation(const struct collection *c, const char *name);
/* Whether c's METHODS allow any of the methods in mask (enum method bits). */
bool schema_allows(const struct collection *c, unsigned mask);
/* Whether some collection of s takes writes (METHODS beyond GET). */
bool schema_writable(const schema *s);

/* Whether column col of r's target is written inside r's objects. */
bool schema_rel_col_visible(const schema *s, const struct relation *r, size_t col);

#endif
