/* Error codes and the detail out-parameter. */
#include "warren/err.h"

#include <stdarg.h>
#include <stdio.h>

int wr_err_set(struct wr_err *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

const char *wr_err_str(int code)
{
    switch (code) {
    case WR_OK:
        return "ok";
    case WR_ENOMEM:
        return "out of memory";
    case WR_EINVAL:
        return "invalid argument";
    case WR_ETOOBIG:
        return "too big";
    case WR_ENOTFOUND:
        return "not found";
    case WR_EIO:
        return "I/O error";
    case WR_ETIMEDOUT:
        return "timed out";
    case WR_ECLOSED:
        return "connection closed";
    case WR_EAGAIN:
        return "try again";
    case WR_EBUSY:
        return "busy";
    case WR_EPROTO:
        return "unsupported protocol version";
    case WR_ECONFLICT:
        return "constraint violated";
    default:
        return "unknown error";
    }
}
