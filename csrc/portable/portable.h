/*
 * curvezmq's portable crypto core: the NaCl primitives CurveZMQ needs,
 * written for this project from the algorithm specifications (see README.md
 * in this directory), under the NaCl API names the shared fast path
 * (csrc/curvezmq.c) is written against.
 *
 * Every function returns 0 on success and -1 on failure, as NaCl's do. The
 * box functions use NaCl's padded layout: a plaintext starts with 32 zero
 * bytes, a box with 16, and c == m (in place) is allowed.
 *
 * The symbols are hidden from the dynamic symbol table, so that another
 * library loaded in the same process which offers the same NaCl names
 * (libsodium, say) can neither take their place nor be taken over.
 */
#ifndef CURVEZMQ_PORTABLE_H
#define CURVEZMQ_PORTABLE_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define PORTABLE_API __attribute__((visibility("hidden")))
#else
#define PORTABLE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Which field arithmetic was compiled in: "radix 2^51" or "radix 2^25.5". */
PORTABLE_API const char *portable_arithmetic(void);

/* 0 when the operating system's random source can be used, -1 if not. */
PORTABLE_API int portable_random_check(void);

/* Fills buf from the OS; aborts the process rather than return weak bytes. */
PORTABLE_API void randombytes(unsigned char *buf, unsigned long long len);

PORTABLE_API int crypto_verify_16(const unsigned char *x,
                                  const unsigned char *y);
PORTABLE_API int crypto_verify_32(const unsigned char *x,
                                  const unsigned char *y);

PORTABLE_API int crypto_core_salsa20(unsigned char *out,
                                     const unsigned char *in,
                                     const unsigned char *k,
                                     const unsigned char *c);
PORTABLE_API int crypto_core_hsalsa20(unsigned char *out,
                                      const unsigned char *in,
                                      const unsigned char *k,
                                      const unsigned char *c);
PORTABLE_API int crypto_stream_xsalsa20_xor(unsigned char *c,
                                            const unsigned char *m,
                                            unsigned long long mlen,
                                            const unsigned char *n,
                                            const unsigned char *k);

PORTABLE_API int crypto_onetimeauth(unsigned char *out,
                                    const unsigned char *m,
                                    unsigned long long mlen,
                                    const unsigned char *k);
PORTABLE_API int crypto_onetimeauth_verify(const unsigned char *h,
                                           const unsigned char *m,
                                           unsigned long long mlen,
                                           const unsigned char *k);

PORTABLE_API int crypto_secretbox(unsigned char *c, const unsigned char *m,
                                  unsigned long long mlen,
                                  const unsigned char *n,
                                  const unsigned char *k);
PORTABLE_API int crypto_secretbox_open(unsigned char *m,
                                       const unsigned char *c,
                                       unsigned long long clen,
                                       const unsigned char *n,
                                       const unsigned char *k);

/* X25519 (RFC 7748). crypto_scalarmult refuses an all-zero result. */
PORTABLE_API int crypto_scalarmult(unsigned char *q, const unsigned char *n,
                                   const unsigned char *p);
PORTABLE_API int crypto_scalarmult_base(unsigned char *q,
                                        const unsigned char *n);

PORTABLE_API int crypto_box_keypair(unsigned char *pk, unsigned char *sk);
PORTABLE_API int crypto_box_beforenm(unsigned char *k, const unsigned char *pk,
                                     const unsigned char *sk);
PORTABLE_API int crypto_box_afternm(unsigned char *c, const unsigned char *m,
                                    unsigned long long mlen,
                                    const unsigned char *n,
                                    const unsigned char *k);
PORTABLE_API int crypto_box_open_afternm(unsigned char *m,
                                         const unsigned char *c,
                                         unsigned long long clen,
                                         const unsigned char *n,
                                         const unsigned char *k);
PORTABLE_API int crypto_box(unsigned char *c, const unsigned char *m,
                            unsigned long long mlen, const unsigned char *n,
                            const unsigned char *pk, const unsigned char *sk);
PORTABLE_API int crypto_box_open(unsigned char *m, const unsigned char *c,
                                 unsigned long long clen,
                                 const unsigned char *n,
                                 const unsigned char *pk,
                                 const unsigned char *sk);

#ifdef __cplusplus
}
#endif

#endif
