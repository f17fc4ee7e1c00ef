/*
 * Adapter for the original NaCl as Debian ships it (libnacl-dev): headers in
 * /usr/include/nacl, static libnacl.a and librandombytes.a.
 *
 * NaCl has no crypto_scalarmult.h there, only the curve25519 one, so the
 * generic names the fast path uses are mapped onto it here. Its randomness
 * reads /dev/urandom and takes an unsigned long long length.
 */
#ifndef CURVEZMQ_BACKEND_NACL_H
#define CURVEZMQ_BACKEND_NACL_H

#include <crypto_box.h>
#include <crypto_core_hsalsa20.h>
#include <crypto_scalarmult_curve25519.h>
#include <crypto_verify_16.h>
#include <crypto_verify_32.h>
#include <randombytes.h>

#define CURVEZMQ_BACKEND_NAME "nacl"

#define crypto_scalarmult crypto_scalarmult_curve25519
#define crypto_scalarmult_base crypto_scalarmult_curve25519_base

static int
backend_init(void)
{
    return 0;
}

static void
backend_randombytes(unsigned char *buf, size_t len)
{
    randombytes(buf, (unsigned long long) len);
}

#endif
