/* The naming rules of the API (proto/README.md has them for users): table
 * `invoice_items` is collection `InvoiceItems`; column `AlbumId` is
 * attribute `album_id` (`HTTPServer` is `http_server`); a declared SQL
 * type gives the way a column's values are written. Pure: no I/O. The
 * relations' names (after the target collection, or the source table)
 * are schema.c's, which knows both ends. */
#ifndef CATALOG_NAMING_H
#define CATALOG_NAMING_H

/* How a column's values are written, from its declared type (SQLite's
 * affinity rules, plus dates, which Flask-Restless writes in ISO 8601). */
enum col_type { COL_INTEGER, COL_REAL, COL_TEXT, COL_DATETIME, COL_DATE, COL_BLOB, COL_ANY };

/* The collection named after table: `invoice_items` -> `InvoiceItems`
 * (each '_' dropped, the letter after it and the first one upper-cased).
 * A new string the caller frees; NULL when out of memory. */
char *schema_collection_name(const char *table);
/* The attribute named after column: `AlbumId` -> `album_id`,
 * `HTTPServer` -> `http_server`, `Address2Line` -> `address2_line`. A new
 * string the caller frees; NULL when out of memory. */
char *schema_attr_name(const char *column);
/* The type a declared SQL type (NULL or "" for none: COL_ANY) renders as,
 * by SQLite's affinity rules in their order, with DATETIME / TIMESTAMP and
 * DATE first. Never fails. */
enum col_type schema_col_type(const char *decltype);

#endif
