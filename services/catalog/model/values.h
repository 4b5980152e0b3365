/* The one rule from a JSON value of a request (a write body's member, a
 * search filter's val) to the value bound for a column: which JSON types a
 * column's type takes, how dates are checked (shape and calendar) and
 * normalised to the text SQLite stores, and the message for each refusal.
 * Writes and filters both call value_from_json, so a date one refuses the
 * other refuses too. Pure: no I/O. */
#ifndef CATALOG_VALUES_H
#define CATALOG_VALUES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"

/* What the value is for. */
enum value_use {
    /* A write: the JSON type must fit the column's (a number for INTEGER
     * and REAL, a string for TEXT and dates), null stores NULL. */
    VALUE_STORE,
    /* A filter's val: any string, number or boolean compares with a column
     * (SQLite applies the column's affinity), but a date column takes only
     * a date. null is refused (filters have is_null for it). */
    VALUE_COMPARE,
};

/* Bytes a normalised date needs: "YYYY-MM-DD HH:MM:SS.fffffffff" and NUL. */
#define VALUE_SCRATCH 32

/* Converts v (borrowed) for a column of type type into *out. The table:
 *
 *   JSON \ column  INTEGER    REAL       TEXT       DATE, DATETIME     BLOB, ANY
 *   null           NULL       NULL       NULL       NULL               NULL       (STORE)
 *   true/false     1/0        1/0        S: refused A: refused         1/0
 *   integer        integer    integer    S: refused A: refused         integer
 *   real           S: refused real       S: refused A: refused         real
 *   string         S: refused S: refused text       normalised date    text
 *   array, object  refused
 *
 * S: refused under VALUE_STORE only (VALUE_COMPARE takes the value as it
 * is); A: refused under both. A date is "YYYY-MM-DD", optionally followed
 * by 'T' or ' ' and "HH:MM", ":SS" and "." with 1 to 9 digits, and must
 * exist in the calendar (2009-02-29 does not); it is written into scratch
 * (VALUE_SCRATCH bytes) as SQLite stores it: "YYYY-MM-DD HH:MM:SS[.f]" for
 * a DATETIME (trailing zeros of the fraction dropped), "YYYY-MM-DD" for a
 * DATE, whose time must then be midnight. Text values point into v's
 * string (valid while v is), dates into scratch.
 *
 * Returns NULL, or what is wrong as a static phrase that reads after the
 * member's name ("must be an integer"; for a string refused by a date
 * column: "is not a date (like 2009-01-01T00:00:00)", which reads after the
 * quoted value too). *out is unspecified then. */
const char *value_from_json(enum col_type type, const json_t *v, enum value_use use,
                            struct value *out, char *scratch);

/* The date rule alone: whether the n bytes at s are a date of a column of
 * type (COL_DATE or COL_DATETIME) as above; when true, its normalised text
 * is in out (VALUE_SCRATCH bytes). */
bool value_norm_date(const char *s, size_t n, enum col_type type, char *out);

#endif
