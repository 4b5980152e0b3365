/* Error model shared by every warren module.
 * Actions return 0 or a negative WR_E* code; details go to an optional
 * struct wr_err out-parameter that the caller owns. */
#ifndef WARREN_ERR_H
#define WARREN_ERR_H

#include <stddef.h>

enum {
    WR_OK = 0,
    WR_ENOMEM = -1,  /* allocation failed */
    WR_EINVAL = -2,  /* bad input: the message says which */
    WR_ETOOBIG = -3, /* a capped buffer or list would exceed its cap */
    WR_ENOTFOUND = -4,
    WR_EIO = -5, /* a file, socket or library call failed */
    WR_ETIMEDOUT = -6,
    WR_ECLOSED = -7, /* the connection is gone */
    WR_EAGAIN = -8,  /* nothing to do now; try again later */
    WR_EBUSY = -9,
    WR_EPROTO = -10,    /* a message in a protocol version we do not speak */
    WR_ECONFLICT = -11, /* a constraint (unique, foreign key, not null) refused a write */
};

struct wr_err {
    int code;
    char msg[512];
};

/* Sets err (if not NULL) to code and a printf-formatted message; returns code
 * so that callers can write `return wr_err_set(err, WR_EINVAL, "...")`. */
int wr_err_set(struct wr_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A short constant name for a WR_E* code ("invalid argument"); never NULL. */
const char *wr_err_str(int code);

/* How a failed action answers over HTTP when its caller knows nothing more
 * specific: the status, the error code of the contract (proto/README.md)
 * and a message fit for a client (never the internal detail). */
struct wr_http_error {
    int status;
    const char *code;
    const char *message;
};
/* The one map from WR_E* codes to HTTP: EINVAL 400 bad_request, ETOOBIG
 * 400 bad_parameter, ENOTFOUND 404, ECONFLICT 409, ETIMEDOUT 504, EBUSY,
 * ECLOSED and EAGAIN 503, EPROTO 400 unsupported_version, anything else
 * (ENOMEM, EIO, unknown) 500 internal. Never NULL members. */
struct wr_http_error wr_err_http(int code);

#endif
