/* The runtime's pure decisions about one delivery (see call.h). */
#include "call.h"

#include <string.h>

#include "warren/rpc.h"

#define NAME_MAX_LEN 64
#define PRINCIPAL_MAX_LEN 64

const struct wr_op *wr__op_find(const struct wr_service *svc, const char *type)
{
    /* A linear scan: op tables are a handful of rows, and strcmp over them
     * costs less than hashing the type. */
    for (size_t i = 0; type != NULL && i < svc->nops; i++)
        if (strcmp(svc->ops[i].name, type) == 0)
            return &svc->ops[i];
    return svc->fallback;
}

const char *wr__principal(const char *header)
{
    /* a loop, not strspn: strspn builds its byte table on every call */
    size_t n = 0;
    for (; header != NULL && n <= PRINCIPAL_MAX_LEN && header[n] != '\0'; n++) {
        char c = header[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return "anonymous";
    }
    return n == 0 || n > PRINCIPAL_MAX_LEN ? "anonymous" : header;
}

const char *wr__principal_of(const char *header, const char *user_id)
{
    return wr__principal(header != NULL ? header : user_id);
}

bool wr__deadline_passed(long long deadline_ms, long long now_ms)
{
    return deadline_ms > 0 && now_ms > deadline_ms;
}

long long wr__deadline(long long deadline_ms, long long budget_ms, long long now_ms)
{
    if (deadline_ms <= 0)
        return now_ms + (budget_ms > 0 ? budget_ms : WR_WORKER_BUDGET_MS);
    /* Further away than the whole budget the publisher gave: its clock is
     * ahead of ours, and no request may run longer than its budget. */
    if (budget_ms > 0 && deadline_ms - now_ms > budget_ms)
        return now_ms + budget_ms;
    return deadline_ms;
}

int wr__service_check(const struct wr_service *svc, struct wr_err *err)
{
    size_t n = svc->name != NULL ? strnlen(svc->name, NAME_MAX_LEN + 1) : 0;
    if (n == 0 || n > NAME_MAX_LEN)
        return wr_err_set(err, WR_EINVAL, "service: a name of 1 to %d bytes is required",
                          NAME_MAX_LEN);
    if (svc->nops > 0 && svc->ops == NULL)
        return wr_err_set(err, WR_EINVAL, "service %s: %zu ops but no table", svc->name, svc->nops);
    for (size_t i = 0; i < svc->nops; i++) {
        const struct wr_op *op = &svc->ops[i];
        if (!wr_op_name_valid(op->name))
            return wr_err_set(err, WR_EINVAL,
                              "service %s: op %zu: a name of [a-z][a-z0-9_]{0,31} is required",
                              svc->name, i);
        if (op->fn == NULL)
            return wr_err_set(err, WR_EINVAL, "service %s: op %s has no handler", svc->name,
                              op->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(svc->ops[j].name, op->name) == 0)
                return wr_err_set(err, WR_EINVAL, "service %s: op %s is listed twice", svc->name,
                                  op->name);
    }
    if (svc->fallback != NULL && svc->fallback->fn == NULL)
        return wr_err_set(err, WR_EINVAL, "service %s: the fallback has no handler", svc->name);
    if (svc->nops == 0 && svc->fallback == NULL)
        return wr_err_set(err, WR_EINVAL, "service %s: no ops", svc->name);
    return 0;
}

bool wr__service_writes(const struct wr_service *svc)
{
    for (size_t i = 0; i < svc->nops; i++)
        if (svc->ops[i].writes)
            return true;
    return svc->fallback != NULL && svc->fallback->writes;
}
