/*
 * Adapter for the system libsodium: it already offers the NaCl API names the
 * fast path is written against, so this file only adds init and randomness.
 */
#ifndef CURVEZMQ_BACKEND_LIBSODIUM_H
#define CURVEZMQ_BACKEND_LIBSODIUM_H

#include <sodium.h>

#define CURVEZMQ_BACKEND_NAME "libsodium"

static int
backend_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

static void
backend_randombytes(unsigned char *buf, size_t len)
{
    randombytes_buf(buf, len);
}

#endif
