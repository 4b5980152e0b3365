/* The IMF-fixdate writer for the edge's Date header (see httpdate.h). The
 * civil date comes from the day count by the inverse of Howard Hinnant's
 * days_from_civil: no gmtime_r, no locale. */
#include "httpdate.h"

#include <stdint.h>
#include <string.h>

static const char days[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Two digits of v (0-99) at o. */
static void put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

void httpdate_format(time_t t, char out[HTTPDATE_LEN + 1])
{
    int64_t secs = (int64_t)t;
    int64_t day = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - day * 86400; /* 0..86399 */
    /* 1970-01-01 was a Thursday (days[0]). */
    int wday = (int)(((day % 7) + 7) % 7);
    /* Hinnant's civil_from_days: eras of 400 years from 0000-03-01. */
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    int mon = (int)(mp < 10 ? mp + 3 : mp - 9); /* 1..12 */
    int64_t year = yoe + era * 400 + (mon <= 2);
    if (year < 1)
        year = 1;
    if (year > 9999)
        year = 9999;
    memcpy(out, days[wday], 3);
    out[3] = ',';
    out[4] = ' ';
    put2(out + 5, mday);
    out[7] = ' ';
    memcpy(out + 8, months[mon - 1], 3);
    out[11] = ' ';
    put2(out + 12, (int)(year / 100));
    put2(out + 14, (int)(year % 100));
    out[16] = ' ';
    put2(out + 17, (int)(sod / 3600));
    out[19] = ':';
    put2(out + 20, (int)(sod / 60 % 60));
    out[22] = ':';
    put2(out + 23, (int)(sod % 60));
    memcpy(out + 25, " GMT", 5);
}

const char *httpdate_get(struct httpdate *c, time_t now)
{
    if (c->text[0] == '\0' || c->at != now) {
        httpdate_format(now, c->text);
        c->at = now;
    }
    return c->text;
}

const char *httpdate_now(void)
{
    /* Per thread: each loop has its own, and none is ever shared. */
    static _Thread_local struct httpdate cache;
    return httpdate_get(&cache, time(NULL));
}
