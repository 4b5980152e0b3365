/* Error codes and the detail out-parameter. */
#include "warren/err.h"

#include <stdarg.h>
#include <stdio.h>

#include "warren/proto.h"

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

struct wr_http_error wr_err_http(int code)
{
    switch (code) {
    case WR_EINVAL:
        return (struct wr_http_error){400, WR_CODE_BAD_REQUEST, "the request is malformed"};
    case WR_ETOOBIG:
        return (struct wr_http_error){400, WR_CODE_BAD_PARAMETER,
                                      "the request asks for too much at once"};
    case WR_ENOTFOUND:
        return (struct wr_http_error){404, WR_CODE_NOT_FOUND, "not found"};
    case WR_ECONFLICT:
        return (struct wr_http_error){409, WR_CODE_CONFLICT, "a constraint refused the write"};
    case WR_ETIMEDOUT:
        return (struct wr_http_error){504, WR_CODE_TIMEOUT,
                                      "the query ran past the request's deadline"};
    case WR_EBUSY:
        return (struct wr_http_error){503, WR_CODE_UNAVAILABLE, "the database is busy"};
    case WR_ECLOSED:
    case WR_EAGAIN:
        return (struct wr_http_error){503, WR_CODE_UNAVAILABLE, "a service is unavailable"};
    case WR_EPROTO:
        return (struct wr_http_error){400, WR_CODE_UNSUPPORTED_VERSION,
                                      "an envelope version this worker does not speak"};
    default:
        return (struct wr_http_error){500, WR_CODE_INTERNAL, "internal error"};
    }
}
