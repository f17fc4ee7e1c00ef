/*
 * The CurveZMQ fast path, written once against the NaCl API names and
 * compiled once per backend. The backend is chosen by a define; its adapter
 * maps init and randomness and makes the NaCl names available.
 *
 * NaCl's boxes work on padded buffers: the plaintext is preceded by 32 zero
 * bytes and the box by 16. The wire form drops those 16 zero bytes. The
 * MESSAGE helpers lay the padding over the command header, so a message is
 * sealed or opened in place in the caller's buffer with a single copy of the
 * payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(CURVEZMQ_BACKEND_LIBSODIUM)
#include "backend_libsodium.h"
#elif defined(CURVEZMQ_BACKEND_NACL)
#include "backend_nacl.h"
#elif defined(CURVEZMQ_BACKEND_PORTABLE)
#include "backend_portable.h"
#else
#error "define one CURVEZMQ_BACKEND_*"
#endif

#include "curvezmq.h"

#define CURVEZMQ_C_VERSION "0.2.0"

/* NaCl's padding: 32 zero bytes before a plaintext, 16 before a box. */
#define ZEROBYTES 32
#define BOXZEROBYTES 16

static const unsigned char message_name[8] = {
    7, 'M', 'E', 'S', 'S', 'A', 'G', 'E'
};
static const unsigned char hsalsa_sigma[16] = {
    'e', 'x', 'p', 'a', 'n', 'd', ' ', '3',
    '2', '-', 'b', 'y', 't', 'e', ' ', 'k'
};
static const unsigned char hsalsa_zero[16] = { 0 };

/* A call through a volatile pointer cannot be proven dead and removed. */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

const char *
curvezmq_version(void)
{
    return CURVEZMQ_C_VERSION;
}

const char *
curvezmq_backend(void)
{
    return CURVEZMQ_BACKEND_NAME;
}

int
curvezmq_init(void)
{
    return backend_init();
}

void
curvezmq_randombytes(unsigned char *buf, size_t len)
{
    backend_randombytes(buf, len);
}

void
curvezmq_wipe(void *buf, size_t len)
{
    if (len > 0) {
        wipe_memset(buf, 0, len);
    }
}

int
curvezmq_verify_16(const unsigned char *x, const unsigned char *y)
{
    return crypto_verify_16(x, y) == 0 ? CURVEZMQ_OK : CURVEZMQ_ECRYPTO;
}

int
curvezmq_verify_32(const unsigned char *x, const unsigned char *y)
{
    return crypto_verify_32(x, y) == 0 ? CURVEZMQ_OK : CURVEZMQ_ECRYPTO;
}

/* Constant time: 0 when all 32 bytes are zero, -1 otherwise. */
static int
is_zero_32(const unsigned char *x)
{
    unsigned int acc = 0;
    size_t i;

    for (i = 0; i < 32; i++) {
        acc |= x[i];
    }
    /* acc is at most 255: acc - 1 borrows into bit 8 only when acc is 0 */
    return (int) (((acc - 1U) >> 8) & 1U) - 1;
}

static void
store_be64(unsigned char *out, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        out[i] = (unsigned char) (v & 0xffU);
        v >>= 8;
    }
}

static uint64_t
load_be64(const unsigned char *in)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        v = (v << 8) | in[i];
    }
    return v;
}

int
curvezmq_scalarmult_base(unsigned char *q, const unsigned char *n)
{
    if (crypto_scalarmult_base(q, n) != 0 || is_zero_32(q) == 0) {
        return CURVEZMQ_ECRYPTO;
    }
    return CURVEZMQ_OK;
}

int
curvezmq_scalarmult(unsigned char *q, const unsigned char *n,
                    const unsigned char *p)
{
    /* A low-order point gives the all-zero shared secret: refuse it, as
     * libsodium does, so every backend behaves the same. */
    if (crypto_scalarmult(q, n, p) != 0 || is_zero_32(q) == 0) {
        curvezmq_wipe(q, 32);
        return CURVEZMQ_ECRYPTO;
    }
    return CURVEZMQ_OK;
}

int
curvezmq_keypair(unsigned char *pk, unsigned char *sk)
{
    backend_randombytes(sk, 32);
    return curvezmq_scalarmult_base(pk, sk);
}

int
curvezmq_beforenm(unsigned char *k, const unsigned char *pk,
                  const unsigned char *sk)
{
    unsigned char s[32];
    int rc;

    rc = curvezmq_scalarmult(s, sk, pk);
    if (rc == CURVEZMQ_OK) {
        crypto_core_hsalsa20(k, hsalsa_zero, s, hsalsa_sigma);
    }
    curvezmq_wipe(s, sizeof s);

    return rc;
}

int
curvezmq_box_afternm(unsigned char *out, const unsigned char *m, size_t mlen,
                     const unsigned char *n, const unsigned char *k)
{
    unsigned char *buf;
    size_t plen = mlen + ZEROBYTES;

    buf = malloc(plen);
    if (buf == NULL) {
        return CURVEZMQ_ENOMEM;
    }
    memset(buf, 0, ZEROBYTES);
    memcpy(buf + ZEROBYTES, m, mlen);

    crypto_box_afternm(buf, buf, (unsigned long long) plen, n, k);
    memcpy(out, buf + BOXZEROBYTES, mlen + CURVEZMQ_MACBYTES);

    curvezmq_wipe(buf, plen);
    free(buf);
    return CURVEZMQ_OK;
}

int
curvezmq_box_open_afternm(unsigned char *m, const unsigned char *c,
                          size_t clen, const unsigned char *n,
                          const unsigned char *k)
{
    unsigned char *buf;
    size_t plen = clen + BOXZEROBYTES;
    int rc = CURVEZMQ_OK;

    if (clen < CURVEZMQ_MACBYTES) {
        return CURVEZMQ_EMALFORMED;
    }
    buf = malloc(plen);
    if (buf == NULL) {
        return CURVEZMQ_ENOMEM;
    }
    memset(buf, 0, BOXZEROBYTES);
    memcpy(buf + BOXZEROBYTES, c, clen);

    if (crypto_box_open_afternm(buf, buf, (unsigned long long) plen, n, k)
        != 0) {
        rc = CURVEZMQ_ECRYPTO;
    } else {
        memcpy(m, buf + ZEROBYTES, clen - CURVEZMQ_MACBYTES);
    }

    curvezmq_wipe(buf, plen);
    free(buf);
    return rc;
}

int
curvezmq_box(unsigned char *out, const unsigned char *m, size_t mlen,
             const unsigned char *n, const unsigned char *pk,
             const unsigned char *sk)
{
    unsigned char k[32];
    int rc;

    rc = curvezmq_beforenm(k, pk, sk);
    if (rc == CURVEZMQ_OK) {
        rc = curvezmq_box_afternm(out, m, mlen, n, k);
    }
    curvezmq_wipe(k, sizeof k);

    return rc;
}

int
curvezmq_box_open(unsigned char *m, const unsigned char *c, size_t clen,
                  const unsigned char *n, const unsigned char *pk,
                  const unsigned char *sk)
{
    unsigned char k[32];
    int rc;

    rc = curvezmq_beforenm(k, pk, sk);
    if (rc == CURVEZMQ_OK) {
        rc = curvezmq_box_open_afternm(m, c, clen, n, k);
    }
    curvezmq_wipe(k, sizeof k);

    return rc;
}

/*
 * Seal flags || data in place: out holds dlen + 33 bytes, NaCl's padded length
 * (32 zero bytes, flags, data). Afterwards out holds 16 zero bytes, the tag
 * and the ciphertext; n is the whole 24-byte nonce.
 */
static void
seal_padded(unsigned char *out, const unsigned char *n, unsigned char flags,
            const unsigned char *data, size_t dlen, const unsigned char *k)
{
    size_t blen = dlen + CURVEZMQ_MESSAGE_OVERHEAD;

    memmove(out + ZEROBYTES + 1, data, dlen);
    memset(out, 0, ZEROBYTES);
    out[ZEROBYTES] = flags;
    crypto_box_afternm(out, out, (unsigned long long) blen, n, k);
}

/*
 * Open a box whose wire form (tag || ciphertext, blen - 16 bytes) already sits
 * at out + 16: out then holds NaCl's padded box of blen bytes.
 */
static int
open_padded(unsigned char *out, size_t blen, const unsigned char *n,
            const unsigned char *k)
{
    memset(out, 0, BOXZEROBYTES);
    if (crypto_box_open_afternm(out, out, (unsigned long long) blen, n, k)
        != 0) {
        return CURVEZMQ_ECRYPTO;
    }
    return CURVEZMQ_OK;
}

int
curvezmq_message_seal(unsigned char *out, const unsigned char *prefix16,
                      uint64_t nonce, unsigned char flags,
                      const unsigned char *data, size_t dlen,
                      const unsigned char *k)
{
    unsigned char n[CURVEZMQ_NONCEBYTES];

    memcpy(n, prefix16, 16);
    store_be64(n + 16, nonce);

    seal_padded(out, n, flags, data, dlen, k);

    /* the 16 zero bytes NaCl leaves in front become the command header */
    memcpy(out, message_name, sizeof message_name);
    memcpy(out + 8, n + 16, 8);
    return CURVEZMQ_OK;
}

int
curvezmq_message_seal_compact(unsigned char *out,
                              const unsigned char *prefix16, uint64_t nonce,
                              unsigned char flags, const unsigned char *data,
                              size_t dlen, const unsigned char *k)
{
    unsigned char n[CURVEZMQ_NONCEBYTES];

    memcpy(n, prefix16, 16);
    store_be64(n + 16, nonce);

    /* the same box as message_seal; the 16 zero bytes stay as headroom */
    seal_padded(out, n, flags, data, dlen, k);
    return CURVEZMQ_OK;
}

int
curvezmq_message_open(unsigned char *out, const unsigned char *body,
                      size_t blen, const unsigned char *prefix16,
                      const unsigned char *k, uint64_t *peer_nonce)
{
    unsigned char n[CURVEZMQ_NONCEBYTES];
    uint64_t nonce;

    if (blen < CURVEZMQ_MESSAGE_OVERHEAD
        || memcmp(body, message_name, sizeof message_name) != 0) {
        return CURVEZMQ_EMALFORMED;
    }
    nonce = load_be64(body + 8);
    if (nonce <= *peer_nonce) {
        return CURVEZMQ_ENONCE;
    }
    memcpy(n, prefix16, 16);
    memcpy(n + 16, body + 8, 8);

    /* the header's 16 bytes become NaCl's 16 zero bytes before the box */
    memmove(out + BOXZEROBYTES, body + BOXZEROBYTES, blen - BOXZEROBYTES);
    if (open_padded(out, blen, n, k) != CURVEZMQ_OK) {
        return CURVEZMQ_ECRYPTO;
    }

    *peer_nonce = nonce;
    return CURVEZMQ_OK;
}

int
curvezmq_message_open_compact(unsigned char *out, const unsigned char *body,
                              size_t blen, const unsigned char *prefix16,
                              const unsigned char *k, uint64_t *peer_nonce)
{
    unsigned char n[CURVEZMQ_NONCEBYTES];
    uint64_t nonce;

    if (blen < CURVEZMQ_COMPACT_OVERHEAD) {
        return CURVEZMQ_EMALFORMED;
    }
    if (*peer_nonce == UINT64_MAX) {
        return CURVEZMQ_ENONCE;
    }
    /* on an ordered stream the next nonce is the one after the floor */
    nonce = *peer_nonce + 1;
    memcpy(n, prefix16, 16);
    store_be64(n + 16, nonce);

    memmove(out + BOXZEROBYTES, body, blen);
    if (open_padded(out, blen + BOXZEROBYTES, n, k) != CURVEZMQ_OK) {
        return CURVEZMQ_ECRYPTO;
    }

    *peer_nonce = nonce;
    return CURVEZMQ_OK;
}
