/*
 * Adapter for the portable core (csrc/portable/): it offers the NaCl API
 * names the fast path is written against, under those very names, so this
 * file only adds init and randomness.
 */
#ifndef CURVEZMQ_BACKEND_PORTABLE_H
#define CURVEZMQ_BACKEND_PORTABLE_H

#include "portable/portable.h"

#define CURVEZMQ_BACKEND_NAME "portable"

/* Fails (rather than abort later) when the kernel offers no getrandom(2). */
static int
backend_init(void)
{
    return portable_random_check();
}

static void
backend_randombytes(unsigned char *buf, size_t len)
{
    randombytes(buf, (unsigned long long) len);
}

#endif
