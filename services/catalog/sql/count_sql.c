/* Capped counts (see count_sql.h). */
#include "sql/count_sql.h"

#include <string.h>

#include "warren/err.h"

int count_sql_capped(struct wr_buf *out, const char *count_sql)
{
    size_t head = strlen(COUNT_SQL_HEAD);
    if (strncmp(count_sql, COUNT_SQL_HEAD, head) != 0)
        return WR_EINVAL;
    wr_buf_puts(out, "SELECT COUNT(*) FROM (SELECT 1");
    wr_buf_puts(out, count_sql + head);
    wr_buf_puts(out, " LIMIT ?)");
    return wr_buf_error(out);
}
