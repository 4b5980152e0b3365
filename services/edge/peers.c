/* Connections per client address (see peers.h): a chained hash table of
 * FNV-1a over the address bytes, entries dropped when their count falls to
 * zero, so that its size follows the connections open, not every address
 * ever seen. Clients choose their addresses (IPv6 gives them many): the
 * hash starts from a random seed, and a chain is never longer than the
 * connections open (MAX_CONNECTIONS), whatever collides. */
#include "peers.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "warren/codec.h"

#define BUCKETS 4096 /* a power of two */

struct entry {
    struct entry *next;
    struct peer_addr addr;
    long open;
};

struct peers {
    pthread_mutex_t mu;
    long cap;
    uint64_t seed;
    struct entry *bucket[BUCKETS];
};

peers *peers_new(long cap)
{
    peers *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->cap = cap;
    p->seed = WR_FNV1A64_INIT;
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
        p->seed ^= r;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void peers_free(peers *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        struct entry *e = p->bucket[i];
        while (e != NULL) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    (void)pthread_mutex_destroy(&p->mu);
    free(p);
}

bool peer_addr_of(int fd, struct peer_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    memset(out, 0, sizeof(*out));
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return false;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        memcpy(out->bytes, &in->sin_addr, 4);
        out->len = 4;
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        bool mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
        /* a v4-mapped address is the IPv4 client it stands for */
        memcpy(out->bytes, in6->sin6_addr.s6_addr + (mapped ? 12 : 0), mapped ? 4 : 16);
        out->len = mapped ? 4 : 16;
    }
    return true;
}

static struct entry **slot(peers *p, const struct peer_addr *a)
{
    uint64_t h = wr_fnv1a64(p->seed, a->bytes, a->len);
    struct entry **at = &p->bucket[h & (BUCKETS - 1)];
    while (*at != NULL &&
           ((*at)->addr.len != a->len || memcmp((*at)->addr.bytes, a->bytes, a->len) != 0))
        at = &(*at)->next;
    return at;
}

bool peers_enter(peers *p, const struct peer_addr *a)
{
    bool ok = false;
    (void)pthread_mutex_lock(&p->mu);
    struct entry **at = slot(p, a);
    if (*at == NULL) {
        struct entry *e = calloc(1, sizeof(*e));
        if (e != NULL) {
            e->addr = *a;
            *at = e;
        }
    }
    if (*at != NULL && (*at)->open < p->cap) {
        (*at)->open++;
        ok = true;
    } else if (*at != NULL && (*at)->open == 0) { /* cap 0: not kept */
        struct entry *e = *at;
        *at = e->next;
        free(e);
    }
    (void)pthread_mutex_unlock(&p->mu);
    return ok;
}

void peers_leave(peers *p, const struct peer_addr *a)
{
    (void)pthread_mutex_lock(&p->mu);
    struct entry **at = slot(p, a);
    if (*at != NULL && --(*at)->open <= 0) {
        struct entry *e = *at;
        *at = e->next;
        free(e);
    }
    (void)pthread_mutex_unlock(&p->mu);
}

long peers_count(peers *p, const struct peer_addr *a)
{
    (void)pthread_mutex_lock(&p->mu);
    struct entry **at = slot(p, a);
    long n = *at != NULL ? (*at)->open : 0;
    (void)pthread_mutex_unlock(&p->mu);
    return n;
}
