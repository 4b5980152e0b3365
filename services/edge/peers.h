/* Open client connections counted by IP address, against
 * MAX_CONNECTIONS_PER_ADDRESS, over every event loop: one table behind a
 * mutex, touched once at a connection's accept and once at its close. */
#ifndef EDGE_PEERS_H
#define EDGE_PEERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct peers peers;

/* An address as the table keys it: IPv4 (and IPv4-mapped IPv6) as 4
 * bytes, IPv6 as 16; anything else (a Unix socket) as one key of its own. */
struct peer_addr {
    uint8_t bytes[16];
    uint8_t len;
};

/* A table allowing cap connections per address. NULL when out of memory. */
peers *peers_new(long cap);
/* NULL-safe. */
void peers_free(peers *p);

/* The key of a connected socket's peer (getpeername); false when the
 * socket has none. */
bool peer_addr_of(int fd, struct peer_addr *out);
/* Counts one more connection from a: true, or false (nothing counted)
 * when a already has cap open, or when out of memory. Thread-safe. */
bool peers_enter(peers *p, const struct peer_addr *a);
/* A connection from a (counted by peers_enter) closed. Thread-safe. */
void peers_leave(peers *p, const struct peer_addr *a);
/* How many are open from a. Thread-safe. */
long peers_count(peers *p, const struct peer_addr *a);

#endif
