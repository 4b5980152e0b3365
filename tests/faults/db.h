/* The fault tests' look into a worker's SQLite file: whether each write
 * was applied once (its rows, its warren_applied entry). Read-only, and
 * patient with the worker's own locks. */
#ifndef FAULT_DB_H
#define FAULT_DB_H

#include <sqlite3.h>

/* The file at path, read-only, waiting up to 5 s for a lock. Fails the
 * test when it cannot be opened. Close with sqlite3_close. */
sqlite3 *f_open_db(const char *path);
/* The integer sql (one row, one column; value bound to its ?) answers.
 * Fails the test on any error. */
int f_count_rows(sqlite3 *db, const char *sql, const char *value);

#endif
