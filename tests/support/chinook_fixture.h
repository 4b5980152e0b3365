/* Chinook's tables as PRAGMA table_info and foreign_key_list describe them
 * (unit_query_sqlite checks them against ../shared/data/chinook.db), written
 * once for every unit test and fuzzer that builds a schema without SQLite,
 * plus the few tables Chinook lacks that tests need: a DATE column, text and
 * composite text keys, identifiers holding a double quote, two foreign keys
 * into one table, a BLOB column, an internal table and a table without a
 * primary key. */
#ifndef WARREN_TEST_CHINOOK_FIXTURE_H
#define WARREN_TEST_CHINOOK_FIXTURE_H

#include <stddef.h>

#include "model/schema.h"
#include "warren/cfg.h"
#include "warren/err.h"

#define FIXTURE_MAX_TABLES 32

/* Chinook's eleven tables, in the order sqlite_schema lists them by name. */
#define FIXTURE_CHINOOK                                                                            \
    "albums artists customers employees genres invoice_items invoices media_types "                \
    "playlist_track playlists tracks"

/* The tables named in names (separated by spaces), in that order, into out
 * (at most cap). Chinook's: albums artists customers employees genres
 * invoice_items invoices media_types playlist_track playlists tracks.
 * The others:
 *   releases     ReleaseId INTEGER key, AlbumId -> albums, Released DATE
 *   attachments  AttachmentId INTEGER key, UnitPrice NUMERIC(10,2), Data BLOB
 *   codes        Code NVARCHAR(10) key, Label TEXT
 *   labels       Lang TEXT, Num INTEGER (the key, in that order), Text TEXT
 *   we"ird       a"b INTEGER key, c TEXT
 *   odd"t        Id INTEGER key, a"b TEXT
 *   teams        TeamId INTEGER key, Name TEXT
 *   matches      MatchId INTEGER key, HomeTeamId and AwayTeamId -> teams
 *   sqlite_stat1 tbl, stat (SQLite's own: never served)
 *   log          At DATETIME, Line TEXT (no primary key: never served)
 * Returns how many; aborts the test program on an unknown name (a typo in
 * a test, not a case to handle). The definitions are static: nothing to
 * free. */
size_t fixture_tables(const char *names, struct schema_table_def *out, size_t cap);

/* The definition of one table by name, or NULL. */
const struct schema_table_def *fixture_table(const char *name);

/* Parses config (the text of a config file) into *cfg (zeroed first;
 * release it with wr_cfg_release, also after a failure) and builds the
 * schema of the tables named in names under it. NULL on failure, with
 * err saying why (the config's problems, or schema_build's); free the
 * schema with schema_free. */
schema *fixture_schema(const char *names, const char *config, struct wr_cfg *cfg,
                       struct wr_err *err);

#endif
