/* Eight bytes at a time (SWAR: SIMD within a register), for the scanners
 * that look for the few bytes that end a plain run: the JSON string
 * writer, the batch decoder, the UTF-8 check. Each test gives the bytes of
 * x that match as their high bits (0x80 in each matching byte). A borrow or
 * carry can flag a byte above a true match, never below one, so the lowest
 * flagged byte (wr__swar_first) is always a true match. Private to
 * libwarren. */
#ifndef WARREN_SWAR_H
#define WARREN_SWAR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WR__SWAR_ONES 0x0101010101010101ULL
#define WR__SWAR_HIGHS 0x8080808080808080ULL

/* The 8 bytes at p, in memory order, from any alignment. */
static inline uint64_t wr__swar_load(const void *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Stores x's 8 bytes at p, in memory order. __builtin_memcpy, not memcpy:
 * under _FORTIFY_SOURCE=3 a memcpy into a stack buffer at a moving offset
 * becomes a call to __memcpy_chk (a third of the JSON writer's
 * instructions); the callers bound their writes themselves. */
static inline void wr__swar_store(void *p, uint64_t x)
{
    __builtin_memcpy(p, &x, 8);
}

/* Bytes equal to c. */
static inline uint64_t wr__swar_eq(uint64_t x, unsigned char c)
{
    uint64_t v = x ^ (WR__SWAR_ONES * c);
    return (v - WR__SWAR_ONES) & ~v & WR__SWAR_HIGHS;
}

/* Bytes below c (c at most 0x80). */
static inline uint64_t wr__swar_lt(uint64_t x, unsigned char c)
{
    return (x - WR__SWAR_ONES * c) & ~x & WR__SWAR_HIGHS;
}

/* Bytes at or above c (c from 0x01 to 0x80). */
static inline uint64_t wr__swar_ge(uint64_t x, unsigned char c)
{
    return ((x + WR__SWAR_ONES * (unsigned char)(0x80 - c)) | x) & WR__SWAR_HIGHS;
}

/* The offset (0-7) of the first byte in memory order flagged in m (m != 0). */
static inline size_t wr__swar_first(uint64_t m)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(m) / 8;
#else
    return (size_t)__builtin_clzll(m) / 8;
#endif
}

#endif
