/* The fault suite's checker (see checker.h). */
#include "checker.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/rpc.h"

struct checker {
    struct chk_call *calls;
    struct chk_call **by_id; /* sorted by id, for lookups */
    size_t n;
    bool allowed[600];
    bool reexec_ok;
};

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp((*(struct chk_call *const *)a)->id, (*(struct chk_call *const *)b)->id);
}

checker *chk_new(size_t n)
{
    checker *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->n = n;
    c->calls = calloc(n ? n : 1, sizeof(*c->calls));
    c->by_id = calloc(n ? n : 1, sizeof(*c->by_id));
    if (c->calls == NULL || c->by_id == NULL) {
        chk_free(c);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        wr_request_id_new(c->calls[i].id);
        c->by_id[i] = &c->calls[i];
    }
    qsort(c->by_id, n, sizeof(*c->by_id), by_id_cmp);
    return c;
}

void chk_free(checker *c)
{
    if (c == NULL)
        return;
    free(c->calls);
    free(c->by_id);
    free(c);
}

size_t chk_count(const checker *c)
{
    return c->n;
}

struct chk_call *chk_at(checker *c, size_t i)
{
    return i < c->n ? &c->calls[i] : NULL;
}

void chk_rekey(checker *c)
{
    qsort(c->by_id, c->n, sizeof(*c->by_id), by_id_cmp);
}

struct chk_call *chk_find(checker *c, const char *id)
{
    struct chk_call key = {0};
    (void)snprintf(key.id, sizeof(key.id), "%s", id);
    const struct chk_call *k = &key;
    struct chk_call **hit = bsearch(&k, c->by_id, c->n, sizeof(*c->by_id), by_id_cmp);
    return hit ? *hit : NULL;
}

void chk_allow(checker *c, int status)
{
    if (status > 0 && status < 600)
        c->allowed[status] = true;
}

void chk_allow_reexec(checker *c, bool allow)
{
    c->reexec_ok = allow;
}

/* The 32 hex characters at p, if that is what is there. */
static bool id_at(const char *p, char out[WR_REQUEST_ID_LEN + 1])
{
    for (int i = 0; i < WR_REQUEST_ID_LEN; i++) {
        char ch = p[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
        out[i] = ch;
    }
    out[WR_REQUEST_ID_LEN] = '\0';
    return true;
}

size_t chk_scan_log(checker *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char line[2048];
    size_t counted = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        /* "<time> debug catalog [<id>] executing ..." */
        const char *open = strstr(line, " [");
        char id[WR_REQUEST_ID_LEN + 1];
        if (open == NULL || !id_at(open + 2, id) ||
            strncmp(open + 2 + WR_REQUEST_ID_LEN, "] executing", 11) != 0)
            continue;
        struct chk_call *call = chk_find(c, id);
        if (call != NULL) {
            call->executions++;
            counted++;
        }
    }
    fclose(f);
    return counted;
}

static size_t scan_spool(checker *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    static const char tag[] = "\"request_id\":\"";
    char *line = NULL;
    size_t cap = 0, counted = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        /* freed (hole-punched) blocks read as NULs: skip them */
        const char *p = line;
        while (*p == '\0' && p < line + len)
            p++;
        /* a record's _id is its own; the request's id is its request_id */
        const char *at = strstr(p, tag);
        char id[WR_REQUEST_ID_LEN + 1];
        if (at == NULL || !id_at(at + sizeof(tag) - 1, id))
            continue;
        struct chk_call *call = chk_find(c, id);
        if (call != NULL) {
            call->records++;
            counted++;
        }
    }
    free(line);
    fclose(f);
    return counted;
}

size_t chk_scan_spools(checker *c, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t counted = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 6, ".spool") != 0)
            continue;
        char path[1024];
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        counted += scan_spool(c, path);
    }
    closedir(d);
    return counted;
}

static void count_call(const checker *c, const struct chk_call *k, struct chk_totals *t)
{
    if (k->sent_ms == 0)
        return;
    t->sent++;
    t->executed += (size_t)k->executions;
    t->recorded += (size_t)k->records;
    if (k->executions > 1) {
        t->reexec++;
        if (!c->reexec_ok)
            t->dup++;
    }
    if (k->answers > 1)
        t->dup++;
    t->misrouted += k->misrouted;
    t->wrong_body += k->wrong_body;
    if (k->hung) {
        t->hung++;
        return;
    }
    if (k->status == 0) {
        t->lost++;
        return;
    }
    t->answered++;
    long long ms = k->answered_ms - k->sent_ms;
    int cls = k->status / 100;
    if (cls >= 2 && cls <= 5 && ms > t->max_ms[cls])
        t->max_ms[cls] = ms;
    if (k->status >= 200 && k->status < 300)
        t->ok++;
    else if (k->status == 503) {
        t->s503++;
        t->max503_ms = ms > t->max503_ms ? ms : t->max503_ms;
    } else if (k->status == 504) {
        t->s504++;
        t->max504_ms = ms > t->max504_ms ? ms : t->max504_ms;
    } else
        t->other++;
    if (k->status >= 600 || !c->allowed[k->status])
        t->unexpected++;
}

bool chk_verdict(checker *c, const char *name, struct chk_totals *t)
{
    *t = (struct chk_totals){0};
    for (size_t i = 0; i < c->n; i++)
        count_call(c, &c->calls[i], t);
    printf("checker[%s]: sent=%zu ok=%zu 503=%zu 504=%zu other=%zu lost=%zu dup=%zu "
           "unexpected=%zu hung=%zu misrouted=%zu wrong_body=%zu reexec=%zu executed=%zu "
           "recorded=%zu max_ok_ms=%lld max503_ms=%lld max504_ms=%lld\n",
           name, t->sent, t->ok, t->s503, t->s504, t->other, t->lost, t->dup, t->unexpected,
           t->hung, t->misrouted, t->wrong_body, t->reexec, t->executed, t->recorded, t->max_ms[2],
           t->max503_ms, t->max504_ms);
    /* the first few offenders, to start the investigation from */
    int shown = 0;
    for (size_t i = 0; i < c->n && shown < 5; i++) {
        const struct chk_call *k = &c->calls[i];
        bool bad =
            k->sent_ms != 0 && (k->hung || k->status == 0 || k->answers > 1 || k->misrouted ||
                                k->wrong_body || (k->executions > 1 && !c->reexec_ok) ||
                                (k->status > 0 && (k->status >= 600 || !c->allowed[k->status])));
        if (bad) {
            printf("  call %zu %s: status=%d answers=%d hung=%d refused=%d misrouted=%d "
                   "wrong_body=%d executions=%d records=%d after %lld ms\n",
                   i, k->id, k->status, k->answers, k->hung, k->refused, k->misrouted,
                   k->wrong_body, k->executions, k->records,
                   k->answered_ms ? k->answered_ms - k->sent_ms : -1);
            shown++;
        }
    }
    (void)fflush(stdout);
    return t->lost == 0 && t->dup == 0 && t->unexpected == 0 && t->hung == 0 && t->misrouted == 0 &&
           t->wrong_body == 0;
}
