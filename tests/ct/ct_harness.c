/*
 * Constant-time check of the portable core, run under valgrind's memcheck.
 *
 * Every secret input (scalars, keys, plaintexts) is marked undefined with a
 * valgrind client request. memcheck follows undefinedness through every
 * computation and reports a conditional jump, or a memory address, that
 * depends on it: exactly a branch or an index on secret data. The results
 * that are public by design (whether a box opened, whether a shared secret
 * was all zero) are marked defined inside the core, where it tests them
 * (declassify() in portable.c, compiled in by CURVEZMQ_PORTABLE_CT_CHECK);
 * outputs that are public (ciphertexts) are marked defined here before use.
 *
 * The shared fast path (csrc/curvezmq.c) is checked too where it handles
 * secrets per message: sealing and opening MESSAGE bodies and boxes under a
 * precomputed key. Its X25519 wrappers test the result for all zeros, a fact
 * that is public by design, and are left to the core's own checks.
 *
 * Run with no argument: exits 0 when every check ran (memcheck decides
 * whether they were constant time). "canary-branch" and "canary-index"
 * deliberately branch on and index by a secret byte, to prove that memcheck
 * does report what this harness is meant to catch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "curvezmq.h"
#include "portable/portable.h"

#define SECRET(p, n) ((void) VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define PUBLIC(p, n) ((void) VALGRIND_MAKE_MEM_DEFINED((p), (n)))

static int failures;

static void
expect(int ok, const char *what)
{
    if (!ok) {
        printf("FAILED: %s\n", what);
        failures++;
    }
}

/* Message lengths around every block boundary of Salsa20 (64 bytes, 256 in
 * the four-block path) and Poly1305 (16 bytes). */
static const size_t lengths[] = {
    0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 191, 192, 255, 256, 257, 1000
};
#define NLENGTHS (sizeof lengths / sizeof lengths[0])

static void
check_x25519(void)
{
    unsigned char n[32], p[32], q[32], k[32];
    static const unsigned char low_order[32] = { 1 };
    int i, rc;

    for (i = 0; i < 4; i++) {
        randombytes(n, 32);
        crypto_scalarmult_base(p, n);
        PUBLIC(p, 32);

        SECRET(n, 32);
        crypto_scalarmult_base(q, n);
        rc = crypto_scalarmult(q, n, p);
        expect(rc == 0, "scalarmult of a public key");
        rc = crypto_scalarmult(q, n, low_order);
        expect(rc == -1, "scalarmult refuses a low-order point");
        rc = crypto_box_beforenm(k, p, n);
        expect(rc == 0, "beforenm");
    }
}

static void
check_secretbox(void)
{
    unsigned char k[32], nonce[24];
    unsigned char *m, *c, *o;
    size_t i, len;
    int rc;

    for (i = 0; i < NLENGTHS; i++) {
        len = lengths[i] + 32;
        m = calloc(len, 1);
        c = calloc(len, 1);
        o = calloc(len, 1);
        if (m == NULL || c == NULL || o == NULL) {
            abort();
        }
        randombytes(k, 32);
        randombytes(nonce, 24);
        randombytes(m + 32, lengths[i]);

        SECRET(k, 32);
        SECRET(m + 32, lengths[i]);
        rc = crypto_secretbox(c, m, len, nonce, k);
        expect(rc == 0, "secretbox");
        PUBLIC(c, len);

        rc = crypto_secretbox_open(o, c, len, nonce, k);
        expect(rc == 0, "secretbox_open of a good box");
        c[len - 1] ^= 1;
        rc = crypto_secretbox_open(o, c, len, nonce, k);
        expect(rc == -1, "secretbox_open of a forged box");

        /* in place, as the fast path calls it */
        memcpy(c, m, len);
        rc = crypto_secretbox(c, c, len, nonce, k);
        PUBLIC(c, len);
        expect(rc == 0, "secretbox in place");
        rc = crypto_secretbox_open(c, c, len, nonce, k);
        expect(rc == 0, "secretbox_open in place");

        free(m);
        free(c);
        free(o);
    }
}

static void
check_box(void)
{
    unsigned char pk[32], sk[32], peer_pk[32], peer_sk[32], nonce[24];
    unsigned char m[32 + 100] = { 0 }, c[32 + 100], o[32 + 100];
    int rc;

    crypto_box_keypair(pk, sk);
    crypto_box_keypair(peer_pk, peer_sk);
    PUBLIC(pk, 32);
    PUBLIC(peer_pk, 32);
    randombytes(nonce, 24);
    randombytes(m + 32, 100);

    SECRET(sk, 32);
    SECRET(peer_sk, 32);
    SECRET(m + 32, 100);
    rc = crypto_box(c, m, sizeof m, nonce, peer_pk, sk);
    expect(rc == 0, "box");
    PUBLIC(c, sizeof c);
    rc = crypto_box_open(o, c, sizeof c, nonce, pk, peer_sk);
    expect(rc == 0, "box_open");
}

static void
check_primitives(void)
{
    static const unsigned char sigma[16] = "expand 32-byte k";
    unsigned char k[32], in[16], out[64], x[32], y[32], tag[16];
    unsigned char m[300];
    int rc;

    randombytes(k, 32);
    randombytes(in, 16);
    randombytes(m, sizeof m);
    SECRET(k, 32);
    SECRET(m, sizeof m);

    crypto_core_hsalsa20(out, in, k, sigma);
    crypto_core_salsa20(out, in, k, sigma);
    crypto_stream_xsalsa20_xor(m, m, sizeof m, out, k);

    crypto_onetimeauth(tag, m, sizeof m, k);
    rc = crypto_onetimeauth_verify(tag, m, sizeof m, k);
    expect(rc == 0, "onetimeauth_verify");

    randombytes(x, 32);
    memcpy(y, x, 32);
    SECRET(x, 32);
    SECRET(y, 32);
    rc = crypto_verify_32(x, y);
    PUBLIC(&rc, sizeof rc);
    expect(rc == 0, "verify_32 equal");
    rc = crypto_verify_16(x, y);
    PUBLIC(&rc, sizeof rc);
    expect(rc == 0, "verify_16 equal");
}

static void
check_fast_path(void)
{
    static const unsigned char prefix[16] = "CurveZMQMESSAGEC";
    unsigned char k[32], nonce[24];
    unsigned char data[1000], body[1000 + CURVEZMQ_MESSAGE_OVERHEAD];
    unsigned char out[1000 + CURVEZMQ_MESSAGE_OVERHEAD];
    unsigned char box[1000 + CURVEZMQ_MACBYTES], plain[1000];
    uint64_t floor;
    size_t i, len;
    int rc;

    for (i = 0; i < NLENGTHS; i++) {
        len = lengths[i];
        randombytes(k, 32);
        randombytes(data, len);
        randombytes(nonce, 24);
        SECRET(k, 32);
        SECRET(data, len);

        rc = curvezmq_message_seal(body, prefix, 5, 1, data, len, k);
        expect(rc == 0, "message_seal");
        PUBLIC(body, len + CURVEZMQ_MESSAGE_OVERHEAD);
        floor = 4;
        rc = curvezmq_message_open(out, body, len + CURVEZMQ_MESSAGE_OVERHEAD,
                                   prefix, k, &floor);
        expect(rc == 0 && floor == 5, "message_open");
        body[len + CURVEZMQ_MESSAGE_OVERHEAD - 1] ^= 1;
        floor = 4;
        rc = curvezmq_message_open(out, body, len + CURVEZMQ_MESSAGE_OVERHEAD,
                                   prefix, k, &floor);
        expect(rc == CURVEZMQ_ECRYPTO && floor == 4, "message_open forged");

        rc = curvezmq_box_afternm(box, data, len, nonce, k);
        expect(rc == 0, "box_afternm");
        PUBLIC(box, len + CURVEZMQ_MACBYTES);
        rc = curvezmq_box_open_afternm(plain, box, len + CURVEZMQ_MACBYTES,
                                       nonce, k);
        expect(rc == 0, "box_open_afternm");
    }
}

static int
canary(const char *kind)
{
    /* read through a volatile pointer, so that the compiler can neither
     * know the table's contents nor turn the lookup into a test */
    static unsigned char table[256];
    unsigned char *volatile lookup = table;
    volatile unsigned char v;
    unsigned char s[32];

    randombytes(s, 32);
    SECRET(s, 32);
    if (strcmp(kind, "canary-branch") == 0) {
        if (s[0] & 1) {
            puts("odd");
        } else {
            puts("even");
        }
    } else {
        v = lookup[s[0]];
        (void) v;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc > 1) {
        return canary(argv[1]);
    }
    if (curvezmq_init() != 0) {
        puts("FAILED: init");
        return 2;
    }
    printf("arithmetic: %s\n", portable_arithmetic());

    check_x25519();
    check_secretbox();
    check_box();
    check_primitives();
    check_fast_path();

    if (failures > 0) {
        return 2;
    }
    puts("all checks ran");
    return 0;
}
