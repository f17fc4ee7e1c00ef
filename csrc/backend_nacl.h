/*
 * Adapter for the original NaCl as Debian ships it (libnacl-dev): headers in
 * /usr/include/nacl, static libnacl.a and librandombytes.a.
 *
 * A static archive can go into a shared extension module only if its code is
 * position-independent. Debian 12 builds NaCl with its hardening flags, so
 * the archive holds PIE code (only PC-relative, GOT and PLT relocations) and
 * links as it is; setup.py's probe links a shared object the same way first,
 * and skips the backend, saying to rebuild NaCl with -fPIC, where that fails.
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
#include <string.h>

#define CURVEZMQ_BACKEND_NAME "nacl"

/*
 * RFC 7748 (section 5) asks X25519 to take a u-coordinate of p = 2^255 - 19
 * or more as that value reduced modulo p. NaCl 20110221's donna_c64 code
 * does not: for such a u it returns a result unrelated to the reduced one,
 * and in particular not the all-zero result for u = p + 1 (a non-canonical
 * 1, a point of low order), which the fast path would otherwise refuse.
 * So u is reduced here first: after clearing bit 255, u >= p exactly when
 * u + 19 reaches 2^255, and then u - p is u + 19 without that bit. u is a
 * peer's public key, but the choice is made with a mask all the same.
 */
static int
nacl_scalarmult(unsigned char *q, const unsigned char *n,
                const unsigned char *p)
{
    unsigned char u[32], t[32], mask;
    unsigned int c = 19;
    int i, rc;

    memcpy(u, p, 32);
    u[31] &= 0x7f;
    for (i = 0; i < 32; i++) {
        c += u[i];
        t[i] = (unsigned char) c;
        c >>= 8;
    }
    mask = (unsigned char) (0U - (unsigned int) (t[31] >> 7));
    t[31] &= 0x7f;
    for (i = 0; i < 32; i++) {
        u[i] = (unsigned char) ((u[i] & ~mask) | (t[i] & mask));
    }

    rc = crypto_scalarmult_curve25519(q, n, u);
    return rc;
}

#define crypto_scalarmult nacl_scalarmult
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
