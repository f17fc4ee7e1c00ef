/*
 * curvezmq's portable crypto core.
 *
 * The NaCl primitives CurveZMQ needs, in one C99 file with no dependency:
 *
 *   1. helpers: little-endian loads and stores, a wipe the compiler keeps,
 *      constant-time comparison
 *   2. Salsa20, HSalsa20 and XSalsa20   (Bernstein, "Salsa20 specification";
 *                                        "Extending the Salsa20 nonce")
 *   3. Poly1305                         (Bernstein, "The Poly1305-AES
 *                                        message-authentication code";
 *                                        RFC 8439 section 2.5)
 *   4. crypto_secretbox: XSalsa20 then Poly1305 over the ciphertext
 *   5. arithmetic modulo 2^255 - 19, in one of two representations
 *   6. X25519                           (RFC 7748 section 5)
 *   7. crypto_box: X25519, HSalsa20, then crypto_secretbox
 *   8. randomness from the operating system
 *
 * Written for this project from those specifications; see README.md.
 *
 * Constant time. No branch and no memory index depends on a secret: Salsa20
 * is additions, rotations and xors; Poly1305 and the field arithmetic use
 * fixed-length carry chains and select with masks; the X25519 ladder swaps
 * its points with a mask, never with a branch. The only tests on secret data
 * are of results that are public by design (did a box open, was a shared
 * secret all zero); they pass through declassify(), which the constant-time
 * harness (tests/ct) turns into a valgrind request and which is otherwise
 * nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) || defined(__APPLE__)
#include <sys/random.h>
#endif
#if !defined(__linux__)
#include <unistd.h>
#endif

#include "portable.h"

#ifdef CURVEZMQ_PORTABLE_CT_CHECK
#include <valgrind/memcheck.h>
#define declassify(p, n) ((void) VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define declassify(p, n) ((void) (p), (void) (n))
#endif

/*
 * The field arithmetic of X25519 and Poly1305 uses 64-bit limbs with 128-bit
 * products where the compiler offers them, and 32-bit limbs with 64-bit
 * products otherwise (or when CURVEZMQ_PORTABLE_NO_INT128 asks for them, as
 * the tests do so that both are checked on every machine).
 */
#if defined(__SIZEOF_INT128__) && !defined(CURVEZMQ_PORTABLE_NO_INT128)
#define PORTABLE_WIDE 1
__extension__ typedef unsigned __int128 u128;
#else
#define PORTABLE_WIDE 0
#endif

/*
 * Long Salsa20 streams are computed four blocks at a time in the lanes of
 * 128-bit vectors (GCC and Clang vector extensions: SSE2 on x86-64, NEON on
 * ARM) unless CURVEZMQ_PORTABLE_NO_VECTOR asks for plain C; the fallback
 * build in the tests sets it along with CURVEZMQ_PORTABLE_NO_INT128.
 */
#if (defined(__GNUC__) || defined(__clang__)) \
    && !defined(CURVEZMQ_PORTABLE_NO_VECTOR)
#define PORTABLE_VECTOR 1
typedef uint32_t v4u32 __attribute__((vector_size(16)));
#else
#define PORTABLE_VECTOR 0
#endif

/* ---- 1. helpers ------------------------------------------------------- */

/* A call through a volatile pointer cannot be proven dead and removed. */
static void *(*const volatile portable_memset)(void *, int, size_t) = memset;

static void
wipe(void *buf, size_t len)
{
    if (len > 0) {
        portable_memset(buf, 0, len);
    }
}

static inline uint32_t
load32_le(const unsigned char *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
           ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static inline void
store32_le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
    p[2] = (unsigned char) (v >> 16);
    p[3] = (unsigned char) (v >> 24);
}

#if PORTABLE_WIDE
static inline uint64_t
load64_le(const unsigned char *p)
{
    return (uint64_t) load32_le(p) | ((uint64_t) load32_le(p + 4) << 32);
}
#endif

/* 0 when the n bytes of x and y are equal, -1 otherwise, in constant time. */
static int
verify_n(const unsigned char *x, const unsigned char *y, size_t n)
{
    uint32_t diff = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        diff |= (uint32_t) (x[i] ^ y[i]);
    }
    /* diff is at most 255: diff - 1 borrows into bit 8 only when diff is 0 */
    return (int) ((diff - 1U) >> 8 & 1U) - 1;
}

int
crypto_verify_16(const unsigned char *x, const unsigned char *y)
{
    return verify_n(x, y, 16);
}

int
crypto_verify_32(const unsigned char *x, const unsigned char *y)
{
    return verify_n(x, y, 32);
}

/* ---- 2. Salsa20, HSalsa20, XSalsa20 --------------------------------------
 *
 * The Salsa20 state is sixteen 32-bit words. The key expansion for a 32-byte
 * key (Salsa20 specification, section 9) puts the four words of the constant
 * on the diagonal (words 0, 5, 10, 15), the key in words 1-4 and 11-14 and
 * a 16-byte input in words 6-9; for the stream that input is the 8-byte
 * nonce followed by the 64-bit block counter, little-endian.
 */

static const unsigned char sigma[16] = {
    'e', 'x', 'p', 'a', 'n', 'd', ' ', '3',
    '2', '-', 'b', 'y', 't', 'e', ' ', 'k'
};

#define ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))

/* The quarterround of the specification, section 3, on (y0, y1, y2, y3). */
#define QUARTERROUND(y0, y1, y2, y3) \
    do {                              \
        y1 ^= ROTL32(y0 + y3, 7);     \
        y2 ^= ROTL32(y1 + y0, 9);     \
        y3 ^= ROTL32(y2 + y1, 13);    \
        y0 ^= ROTL32(y3 + y2, 18);    \
    } while (0)

static void
salsa20_setup(uint32_t x[16], const unsigned char *c, const unsigned char *k,
              const unsigned char *in)
{
    int i;

    for (i = 0; i < 4; i++) {
        x[5 * i] = load32_le(c + 4 * i);
        x[1 + i] = load32_le(k + 4 * i);
        x[11 + i] = load32_le(k + 16 + 4 * i);
        x[6 + i] = load32_le(in + 4 * i);
    }
}

/* Twenty rounds: ten doublerounds, each a columnround then a rowround.
 * A macro, so that the same text serves words and vectors of words. */
#define SALSA20_ROUNDS(T, x)                                             \
    do {                                                                 \
        T x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];                    \
        T x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];                    \
        T x8 = x[8], x9 = x[9], x10 = x[10], x11 = x[11];                \
        T x12 = x[12], x13 = x[13], x14 = x[14], x15 = x[15];            \
        int round_;                                                      \
                                                                         \
        for (round_ = 0; round_ < 10; round_++) {                        \
            /* columnround (section 5) */                                \
            QUARTERROUND(x0, x4, x8, x12);                               \
            QUARTERROUND(x5, x9, x13, x1);                               \
            QUARTERROUND(x10, x14, x2, x6);                              \
            QUARTERROUND(x15, x3, x7, x11);                              \
            /* rowround (section 4) */                                   \
            QUARTERROUND(x0, x1, x2, x3);                                \
            QUARTERROUND(x5, x6, x7, x4);                                \
            QUARTERROUND(x10, x11, x8, x9);                              \
            QUARTERROUND(x15, x12, x13, x14);                            \
        }                                                                \
        x[0] = x0, x[1] = x1, x[2] = x2, x[3] = x3;                      \
        x[4] = x4, x[5] = x5, x[6] = x6, x[7] = x7;                      \
        x[8] = x8, x[9] = x9, x[10] = x10, x[11] = x11;                  \
        x[12] = x12, x[13] = x13, x[14] = x14, x[15] = x15;              \
    } while (0)

static void
salsa20_rounds(uint32_t x[16])
{
    SALSA20_ROUNDS(uint32_t, x);
}

/* The Salsa20 hash (section 8): the rounds, then the input added back. */
static void
salsa20_block(uint32_t out[16], const uint32_t in[16])
{
    int i;

    memcpy(out, in, 64);
    salsa20_rounds(out);
    for (i = 0; i < 16; i++) {
        out[i] += in[i];
    }
}

#if PORTABLE_VECTOR
/* Up to four blocks (len <= 256 bytes) at once: lane l of vector i is word i
 * of block counter + l. Same rounds, same additions; then the lanes are
 * written out block by block. */
static void
salsa20_xor4(unsigned char *c, const unsigned char *m, size_t len,
             uint32_t state[16])
{
    v4u32 in[16], x[16];
    uint32_t ks[16][4];
    unsigned char last[64];
    uint64_t counter = (uint64_t) state[8] | ((uint64_t) state[9] << 32);
    size_t blocks = (len + 63) / 64, full = len / 64, i, l;

    for (i = 0; i < 16; i++) {
        in[i] = (v4u32) { state[i], state[i], state[i], state[i] };
    }
    for (l = 0; l < 4; l++) {
        in[8][l] = (uint32_t) (counter + l);
        in[9][l] = (uint32_t) ((counter + l) >> 32);
    }
    memcpy(x, in, sizeof x);
    SALSA20_ROUNDS(v4u32, x);
    for (i = 0; i < 16; i++) {
        x[i] += in[i];
    }
    memcpy(ks, x, sizeof ks);

    /* word by word, each read before it is written: c == m works */
    for (l = 0; l < full; l++) {
        for (i = 0; i < 16; i++) {
            store32_le(c + 64 * l + 4 * i,
                       load32_le(m + 64 * l + 4 * i) ^ ks[i][l]);
        }
    }
    if (full < blocks) {
        for (i = 0; i < 16; i++) {
            store32_le(last + 4 * i, ks[i][full]);
        }
        for (i = 0; i < len % 64; i++) {
            c[64 * full + i] = (unsigned char) (m[64 * full + i] ^ last[i]);
        }
    }
    counter += blocks;
    state[8] = (uint32_t) counter;
    state[9] = (uint32_t) (counter >> 32);

    wipe(in, sizeof in);
    wipe(x, sizeof x);
    wipe(ks, sizeof ks);
    wipe(last, sizeof last);
}
#endif

/* c = m xor the key stream of state, whose words 8-9 count blocks. */
static void
salsa20_xor(unsigned char *c, const unsigned char *m, size_t len,
            uint32_t state[16])
{
    uint32_t ks[16];
    unsigned char last[64];
    size_t i;

#if PORTABLE_VECTOR
    /* whole runs of four blocks, then the rest if it is more than one */
    while (len > 64) {
        i = len < 256 ? len : 256;
        salsa20_xor4(c, m, i, state);
        c += i;
        m += i;
        len -= i;
    }
#endif
    while (len > 0) {
        salsa20_block(ks, state);
        if (++state[8] == 0) {
            state[9]++;
        }
        if (len < 64) {
            for (i = 0; i < 16; i++) {
                store32_le(last + 4 * i, ks[i]);
            }
            for (i = 0; i < len; i++) {
                c[i] = (unsigned char) (m[i] ^ last[i]);
            }
            break;
        }
        /* word by word, each read before it is written: c == m works */
        for (i = 0; i < 16; i++) {
            store32_le(c + 4 * i, load32_le(m + 4 * i) ^ ks[i]);
        }
        c += 64;
        m += 64;
        len -= 64;
    }
    wipe(ks, sizeof ks);
    wipe(last, sizeof last);
}

int
crypto_core_salsa20(unsigned char *out, const unsigned char *in,
                    const unsigned char *k, const unsigned char *c)
{
    uint32_t x[16], z[16];
    int i;

    salsa20_setup(x, c, k, in);
    salsa20_block(z, x);
    for (i = 0; i < 16; i++) {
        store32_le(out + 4 * i, z[i]);
    }
    wipe(x, sizeof x);
    wipe(z, sizeof z);
    return 0;
}

/*
 * HSalsa20 ("Extending the Salsa20 nonce", section 2): the same state with
 * a 16-byte input in words 6-9, twenty rounds without adding the input
 * back, and the diagonal words 0, 5, 10, 15 then words 6-9 as the output.
 */
int
crypto_core_hsalsa20(unsigned char *out, const unsigned char *in,
                     const unsigned char *k, const unsigned char *c)
{
    static const int pick[8] = { 0, 5, 10, 15, 6, 7, 8, 9 };
    uint32_t x[16];
    int i;

    salsa20_setup(x, c, k, in);
    salsa20_rounds(x);
    for (i = 0; i < 8; i++) {
        store32_le(out + 4 * i, x[pick[i]]);
    }
    wipe(x, sizeof x);
    return 0;
}

/*
 * XSalsa20 (same paper, section 3): HSalsa20 of the key and the first 16
 * nonce bytes gives a subkey; Salsa20 under the subkey with the last 8 nonce
 * bytes gives the stream. Leaves state ready for block `counter`.
 */
static void
xsalsa20_setup(uint32_t state[16], const unsigned char *n,
               const unsigned char *k, uint64_t counter)
{
    unsigned char subkey[32];
    unsigned char in[16];

    crypto_core_hsalsa20(subkey, n, k, sigma);
    memcpy(in, n + 16, 8);
    store32_le(in + 8, (uint32_t) counter);
    store32_le(in + 12, (uint32_t) (counter >> 32));
    salsa20_setup(state, sigma, subkey, in);
    wipe(subkey, sizeof subkey);
}

int
crypto_stream_xsalsa20_xor(unsigned char *c, const unsigned char *m,
                           unsigned long long mlen, const unsigned char *n,
                           const unsigned char *k)
{
    uint32_t state[16];

    if (mlen > SIZE_MAX) {
        return -1;
    }
    xsalsa20_setup(state, n, k, 0);
    salsa20_xor(c, m, (size_t) mlen, state);
    wipe(state, sizeof state);
    return 0;
}

/* ---- 3. Poly1305 -----------------------------------------------------------
 *
 * The message is split into 16-byte chunks; each, read little-endian with a
 * 1 appended above its top byte (bit 128 for a full chunk), is added to an
 * accumulator h, which is then multiplied by r, all modulo p = 2^130 - 5.
 * r is the first half of the key with 22 bits cleared (RFC 8439 2.5.1); the
 * tag is h + s modulo 2^128, s being the second half.
 *
 * h is kept partly reduced between chunks, a little above 2^130 at most:
 * what passes 2^130 folds back times 5, since 2^130 = 5 mod p. Only the
 * last step reduces h completely, choosing between h and h - p with a mask.
 */

#if PORTABLE_WIDE
/*
 * Two 64-bit limbs and a third of a few bits: h = h0 + h1 2^64 + h2 2^128;
 * r = r0 + r1 2^64. Clamping leaves r0 and r1 below 2^60 and r1 a multiple
 * of 4, so a product of weight 2^128 by r1 folds back exactly:
 * x r1 2^128 = x (r1 / 4) 2^130 = 5 x (r1 / 4) mod p, and s1 = 5 r1 / 4.
 */

typedef struct {
    uint64_t r0, r1, s1;
    uint64_t h0, h1, h2;
} poly1305_state;

static void
poly1305_init(poly1305_state *st, const unsigned char key[32])
{
    /* clamp r: the top 4 bits of each 32-bit word, the low 2 of the last 3 */
    st->r0 = load64_le(key) & 0x0ffffffc0fffffffULL;
    st->r1 = load64_le(key + 8) & 0x0ffffffc0ffffffcULL;
    st->s1 = st->r1 + (st->r1 >> 2);
    st->h0 = st->h1 = st->h2 = 0;
}

/* Absorbs nblocks 16-byte chunks; hibit is 1 for full chunks (the 2^128
 * bit), 0 for a last chunk that carries its own appended 1. */
static void
poly1305_blocks(poly1305_state *st, const unsigned char *m, size_t nblocks,
                uint64_t hibit)
{
    const uint64_t r0 = st->r0, r1 = st->r1, s1 = st->s1;
    uint64_t h0 = st->h0, h1 = st->h1, h2 = st->h2;
    uint64_t c;
    u128 d0, d1, t;

    /* Between chunks h2 is at most 4, so h < 2^131 before each product;
     * the column sums stay below 2^126 and the carries inside 64 bits. */
    while (nblocks-- > 0) {
        /* h += chunk */
        t = (u128) h0 + load64_le(m);
        h0 = (uint64_t) t;
        t = (u128) h1 + load64_le(m + 8) + (uint64_t) (t >> 64);
        h1 = (uint64_t) t;
        h2 += (uint64_t) (t >> 64) + hibit;

        /* h *= r, by columns of weight 1, 2^64 and 2^128 */
        d0 = (u128) h0 * r0 + (u128) h1 * s1;
        d1 = (u128) h0 * r1 + (u128) h1 * r0 + h2 * s1;
        h2 = h2 * r0;

        /* carry, then fold what passes 2^130 back times 5 */
        h0 = (uint64_t) d0;
        d1 += (uint64_t) (d0 >> 64);
        h1 = (uint64_t) d1;
        h2 += (uint64_t) (d1 >> 64);
        c = (h2 >> 2) + (h2 & ~(uint64_t) 3);
        h2 &= 3;
        t = (u128) h0 + c;
        h0 = (uint64_t) t;
        t = (u128) h1 + (uint64_t) (t >> 64);
        h1 = (uint64_t) t;
        h2 += (uint64_t) (t >> 64);

        m += 16;
    }
    st->h0 = h0;
    st->h1 = h1;
    st->h2 = h2;
}

static void
poly1305_finish(poly1305_state *st, unsigned char tag[16],
                const unsigned char key[32])
{
    uint64_t h0 = st->h0, h1 = st->h1, h2 = st->h2;
    uint64_t g0, g1, g2, mask;
    u128 t;

    /* 1. h < 5 2^128 < 2p: g = h + 5 - 2^130 = h - p is the answer exactly
     * when h + 5 reaches 2^130 */
    t = (u128) h0 + 5;
    g0 = (uint64_t) t;
    t = (u128) h1 + (uint64_t) (t >> 64);
    g1 = (uint64_t) t;
    g2 = h2 + (uint64_t) (t >> 64);
    mask = (uint64_t) 0 - (g2 >> 2);
    h0 = (h0 & ~mask) | (g0 & mask);
    h1 = (h1 & ~mask) | (g1 & mask);

    /* 2. tag = (h + s) mod 2^128 */
    t = (u128) h0 + load64_le(key + 16);
    h0 = (uint64_t) t;
    h1 += load64_le(key + 24) + (uint64_t) (t >> 64);
    store32_le(tag, (uint32_t) h0);
    store32_le(tag + 4, (uint32_t) (h0 >> 32));
    store32_le(tag + 8, (uint32_t) h1);
    store32_le(tag + 12, (uint32_t) (h1 >> 32));
}

#define POLY1305_HIBIT ((uint64_t) 1)

#else
/* Five limbs of 26 bits; products in 64 bits. */

#define M26 ((uint32_t) 0x3ffffff)

typedef struct {
    uint32_t r[5];
    uint32_t s[5];      /* 5 r: 2^130 = 5 mod p */
    uint32_t h[5];
} poly1305_state;

static void
poly1305_init(poly1305_state *st, const unsigned char key[32])
{
    /* clamp r: the top 4 bits of each 32-bit word, the low 2 of the last 3 */
    uint32_t w0 = load32_le(key) & 0x0fffffffU;
    uint32_t w1 = load32_le(key + 4) & 0x0ffffffcU;
    uint32_t w2 = load32_le(key + 8) & 0x0ffffffcU;
    uint32_t w3 = load32_le(key + 12) & 0x0ffffffcU;
    int i;

    st->r[0] = w0 & M26;
    st->r[1] = ((w0 >> 26) | (w1 << 6)) & M26;
    st->r[2] = ((w1 >> 20) | (w2 << 12)) & M26;
    st->r[3] = ((w2 >> 14) | (w3 << 18)) & M26;
    st->r[4] = w3 >> 8;
    for (i = 0; i < 5; i++) {
        st->s[i] = st->r[i] * 5;
        st->h[i] = 0;
    }
}

static void
poly1305_blocks(poly1305_state *st, const unsigned char *m, size_t nblocks,
                uint32_t hibit)
{
    const uint32_t *r = st->r, *s = st->s;
    uint32_t *h = st->h;
    uint32_t w0, w1, w2, w3;
    uint64_t d[5], c;
    int i, j;

    while (nblocks-- > 0) {
        /* h += chunk */
        w0 = load32_le(m);
        w1 = load32_le(m + 4);
        w2 = load32_le(m + 8);
        w3 = load32_le(m + 12);
        h[0] += w0 & M26;
        h[1] += ((w0 >> 26) | (w1 << 6)) & M26;
        h[2] += ((w1 >> 20) | (w2 << 12)) & M26;
        h[3] += ((w2 >> 14) | (w3 << 18)) & M26;
        h[4] += (w3 >> 8) | hibit;

        /* h *= r: the product of limbs i and j has weight 2^(26 (i + j));
         * from i + j = 5 on it is 2^130 times less, times 5 */
        for (i = 0; i < 5; i++) {
            d[i] = 0;
            for (j = 0; j < 5; j++) {
                d[i] += (uint64_t) h[j]
                        * (j <= i ? r[i - j] : s[i - j + 5]);
            }
        }

        /* carry; what passes 2^130 comes back times 5 */
        c = 0;
        for (i = 0; i < 5; i++) {
            d[i] += c;
            c = d[i] >> 26;
            h[i] = (uint32_t) d[i] & M26;
        }
        c = h[0] + c * 5;
        h[0] = (uint32_t) c & M26;
        h[1] += (uint32_t) (c >> 26);

        m += 16;
    }
}

static void
poly1305_finish(poly1305_state *st, unsigned char tag[16],
                const unsigned char key[32])
{
    uint32_t h[5], g[5], c, mask;
    uint64_t f;
    int i;

    /* 1. carry fully: afterwards every limb fits and h < 2^130 */
    memcpy(h, st->h, sizeof h);
    for (i = 1; i < 5; i++) {
        h[i] += h[i - 1] >> 26;
        h[i - 1] &= M26;
    }
    c = h[4] >> 26;
    h[4] &= M26;
    h[0] += c * 5;
    for (i = 1; i < 5; i++) {
        h[i] += h[i - 1] >> 26;
        h[i - 1] &= M26;
    }

    /* 2. g = h + 5 - 2^130 = h - p; keep g when it is not negative */
    c = 5;
    for (i = 0; i < 5; i++) {
        g[i] = h[i] + c;
        c = g[i] >> 26;
        g[i] &= M26;
    }
    mask = 0U - c; /* c is the 2^130 bit: set exactly when h >= p */
    for (i = 0; i < 5; i++) {
        h[i] = (h[i] & ~mask) | (g[i] & mask);
    }

    /* 3. tag = (h + s) mod 2^128, in 32-bit words */
    f = (uint64_t) (h[0] | (h[1] << 26)) + load32_le(key + 16);
    store32_le(tag, (uint32_t) f);
    f = (uint64_t) ((h[1] >> 6) | (h[2] << 20)) + load32_le(key + 20)
        + (f >> 32);
    store32_le(tag + 4, (uint32_t) f);
    f = (uint64_t) ((h[2] >> 12) | (h[3] << 14)) + load32_le(key + 24)
        + (f >> 32);
    store32_le(tag + 8, (uint32_t) f);
    f = (uint64_t) ((h[3] >> 18) | (h[4] << 8)) + load32_le(key + 28)
        + (f >> 32);
    store32_le(tag + 12, (uint32_t) f);

    wipe(h, sizeof h);
    wipe(g, sizeof g);
}

#define POLY1305_HIBIT ((uint32_t) 1 << 24)

#endif

static void
poly1305(unsigned char tag[16], const unsigned char *m, size_t len,
         const unsigned char key[32])
{
    poly1305_state st;
    unsigned char last[16];
    size_t rest = len % 16;

    poly1305_init(&st, key);
    poly1305_blocks(&st, m, len / 16, POLY1305_HIBIT);
    if (rest > 0) {
        /* a short last chunk: its bytes, a 1, then zeros */
        memset(last, 0, sizeof last);
        memcpy(last, m + len - rest, rest);
        last[rest] = 1;
        poly1305_blocks(&st, last, 1, 0);
    }
    poly1305_finish(&st, tag, key);

    wipe(&st, sizeof st);
    wipe(last, sizeof last);
}

int
crypto_onetimeauth(unsigned char *out, const unsigned char *m,
                   unsigned long long mlen, const unsigned char *k)
{
    if (mlen > SIZE_MAX) {
        return -1;
    }
    poly1305(out, m, (size_t) mlen, k);
    return 0;
}

int
crypto_onetimeauth_verify(const unsigned char *h, const unsigned char *m,
                          unsigned long long mlen, const unsigned char *k)
{
    unsigned char tag[16];
    int rc;

    if (mlen > SIZE_MAX) {
        return -1;
    }
    poly1305(tag, m, (size_t) mlen, k);
    rc = crypto_verify_16(tag, h);
    wipe(tag, sizeof tag);
    declassify(&rc, sizeof rc);

    return rc;
}

/* ---- 4. crypto_secretbox -------------------------------------------------
 *
 * NaCl's layout: m is 32 zero bytes then the plaintext; c is 16 zero bytes,
 * the tag, then the ciphertext. The first 32 bytes of the XSalsa20 stream
 * are the Poly1305 key, the rest encrypts the plaintext, and the tag is the
 * Poly1305 of the ciphertext.
 */

int
crypto_secretbox(unsigned char *c, const unsigned char *m,
                 unsigned long long mlen, const unsigned char *n,
                 const unsigned char *k)
{
    uint32_t state[16], block0[16];
    unsigned char stream0[64];
    size_t len, head, i;

    if (mlen < 32 || mlen > SIZE_MAX) {
        return -1;
    }
    len = (size_t) mlen;

    /* 1. block 0: the Poly1305 key, then 32 bytes of stream */
    xsalsa20_setup(state, n, k, 0);
    salsa20_block(block0, state);
    state[8] = 1;
    for (i = 0; i < 16; i++) {
        store32_le(stream0 + 4 * i, block0[i]);
    }

    /* 2. encrypt; every byte is read before it is written, so c == m works */
    head = len < 64 ? len : 64;
    for (i = 32; i < head; i++) {
        c[i] = (unsigned char) (m[i] ^ stream0[i]);
    }
    salsa20_xor(c + head, m + head, len - head, state);

    /* 3. authenticate the ciphertext */
    poly1305(c + 16, c + 32, len - 32, stream0);
    memset(c, 0, 16);

    wipe(state, sizeof state);
    wipe(block0, sizeof block0);
    wipe(stream0, sizeof stream0);
    return 0;
}

int
crypto_secretbox_open(unsigned char *m, const unsigned char *c,
                      unsigned long long clen, const unsigned char *n,
                      const unsigned char *k)
{
    uint32_t state[16], block0[16];
    unsigned char stream0[64], tag[16];
    size_t len, head, i;
    int rc;

    if (clen < 32 || clen > SIZE_MAX) {
        return -1;
    }
    len = (size_t) clen;

    /* 1. block 0, as when sealing */
    xsalsa20_setup(state, n, k, 0);
    salsa20_block(block0, state);
    state[8] = 1;
    for (i = 0; i < 16; i++) {
        store32_le(stream0 + 4 * i, block0[i]);
    }

    /* 2. check the tag before decrypting anything */
    poly1305(tag, c + 32, len - 32, stream0);
    rc = crypto_verify_16(tag, c + 16);
    declassify(&rc, sizeof rc);

    /* 3. decrypt in the same order as encryption: m == c works */
    if (rc == 0) {
        head = len < 64 ? len : 64;
        for (i = 32; i < head; i++) {
            m[i] = (unsigned char) (c[i] ^ stream0[i]);
        }
        salsa20_xor(m + head, c + head, len - head, state);
        memset(m, 0, 32);
    }

    wipe(state, sizeof state);
    wipe(block0, sizeof block0);
    wipe(stream0, sizeof stream0);
    wipe(tag, sizeof tag);
    return rc;
}

/* ---- 5. arithmetic modulo p = 2^255 - 19 -----------------------------------
 *
 * A field element is a sum of limbs f[i] 2^w(i): five 51-bit limbs (radix
 * 2^51), or ten alternating 26- and 25-bit limbs (radix 2^25.5). Limbs may
 * run a few bits over their width between operations; fe_mul and fe_sq bring
 * them back. Because 2^255 = 19 mod p, a product limb of weight 2^255 or
 * more folds back to weight w - 255, times 19.
 *
 * Bounds that keep every sum inside its integer type (checked for the worst
 * inputs the ladder produces, which are fe_sub results):
 *   - fe_mul, fe_sq and fe_mul_a24 return limbs below 2^w(i) + 2^18;
 *   - fe_add of two such results stays below 2^(w(i) + 1.1);
 *   - fe_sub(f, g) adds 2p before subtracting, so g must be a product
 *     result (limbs below 2p's); with f one too it stays below
 *     2^(w(i) + 1.6);
 *   - fe_mul and fe_sq accept limbs up to 2^(w(i) + 3) with 64-bit limbs
 *     (column sums below 2^115) and up to 2^(w(i) + 1.7) with 32-bit limbs
 *     (19 times a limb must fit 32 bits; column sums stay below 2^63).
 */

#if PORTABLE_WIDE

#define FE_LIMBS 5
typedef uint64_t limb;
typedef limb fe[FE_LIMBS];

static const unsigned char fe_width[FE_LIMBS] = { 51, 51, 51, 51, 51 };
/* 2p = 2^256 - 38 in this representation */
static const limb fe_two_p[FE_LIMBS] = {
    0xfffffffffffdaULL, 0xffffffffffffeULL, 0xffffffffffffeULL,
    0xffffffffffffeULL, 0xffffffffffffeULL
};

#define M51 ((uint64_t) 0x7ffffffffffff)

/* Carries five 128-bit column sums into h. Sums stay below 2^115, so each
 * carry fits in 64 bits; the one past 2^255 is multiplied in 128 bits. */
static inline void
fe_carry_wide(fe h, u128 t0, u128 t1, u128 t2, u128 t3, u128 t4)
{
    uint64_t c;
    u128 t;

    t1 += (uint64_t) (t0 >> 51);
    t2 += (uint64_t) (t1 >> 51);
    t3 += (uint64_t) (t2 >> 51);
    t4 += (uint64_t) (t3 >> 51);
    c = (uint64_t) (t4 >> 51);
    t = ((uint64_t) t0 & M51) + (u128) c * 19;
    h[0] = (uint64_t) t & M51;
    h[1] = ((uint64_t) t1 & M51) + (uint64_t) (t >> 51);
    h[2] = (uint64_t) t2 & M51;
    h[3] = (uint64_t) t3 & M51;
    h[4] = (uint64_t) t4 & M51;
}

static void
fe_mul(fe h, const fe f, const fe g)
{
    const uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
    const uint64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2;
    const uint64_t g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 t0, t1, t2, t3, t4;

    /* column k gathers f[i] g[j] with i + j = k, and 19 f[i] g[j] with
     * i + j = k + 5 */
    t0 = (u128) f0 * g0 + (u128) f1 * g4_19 + (u128) f2 * g3_19
         + (u128) f3 * g2_19 + (u128) f4 * g1_19;
    t1 = (u128) f0 * g1 + (u128) f1 * g0 + (u128) f2 * g4_19
         + (u128) f3 * g3_19 + (u128) f4 * g2_19;
    t2 = (u128) f0 * g2 + (u128) f1 * g1 + (u128) f2 * g0
         + (u128) f3 * g4_19 + (u128) f4 * g3_19;
    t3 = (u128) f0 * g3 + (u128) f1 * g2 + (u128) f2 * g1
         + (u128) f3 * g0 + (u128) f4 * g4_19;
    t4 = (u128) f0 * g4 + (u128) f1 * g3 + (u128) f2 * g2
         + (u128) f3 * g1 + (u128) f4 * g0;
    fe_carry_wide(h, t0, t1, t2, t3, t4);
}

/* fe_mul(h, f, f) with the symmetric products counted once, doubled. */
static void
fe_sq(fe h, const fe f)
{
    const uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
    const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1;
    const uint64_t f1_38 = 38 * f1, f2_38 = 38 * f2, f3_38 = 38 * f3;
    const uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 t0, t1, t2, t3, t4;

    t0 = (u128) f0 * f0 + (u128) f1_38 * f4 + (u128) f2_38 * f3;
    t1 = (u128) f0_2 * f1 + (u128) f2_38 * f4 + (u128) f3_19 * f3;
    t2 = (u128) f0_2 * f2 + (u128) f1 * f1 + (u128) f3_38 * f4;
    t3 = (u128) f0_2 * f3 + (u128) f1_2 * f2 + (u128) f4_19 * f4;
    t4 = (u128) f0_2 * f4 + (u128) f1_2 * f3 + (u128) f2 * f2;
    fe_carry_wide(h, t0, t1, t2, t3, t4);
}

static void
fe_mul_a24(fe h, const fe f)
{
    fe_carry_wide(h, (u128) f[0] * 121665, (u128) f[1] * 121665,
                  (u128) f[2] * 121665, (u128) f[3] * 121665,
                  (u128) f[4] * 121665);
}

#else

#define FE_LIMBS 10
typedef uint32_t limb;
typedef limb fe[FE_LIMBS];

static const unsigned char fe_width[FE_LIMBS] = {
    26, 25, 26, 25, 26, 25, 26, 25, 26, 25
};
/* 2p = 2^256 - 38 in this representation */
static const limb fe_two_p[FE_LIMBS] = {
    0x7ffffda, 0x3fffffe, 0x7fffffe, 0x3fffffe, 0x7fffffe,
    0x3fffffe, 0x7fffffe, 0x3fffffe, 0x7fffffe, 0x3fffffe
};

/* Carries ten 64-bit column sums (each below 2^63) into h. */
static inline void
fe_carry_wide(fe h, uint64_t t[FE_LIMBS])
{
    uint64_t c;
    int i;

    for (i = 0; i < FE_LIMBS - 1; i++) {
        c = t[i] >> fe_width[i];
        t[i] &= ((uint64_t) 1 << fe_width[i]) - 1;
        t[i + 1] += c;
    }
    c = t[9] >> 25;
    t[9] &= 0x1ffffff;
    t[0] += c * 19;
    c = t[0] >> 26;
    t[0] &= 0x3ffffff;
    t[1] += c;
    for (i = 0; i < FE_LIMBS; i++) {
        h[i] = (limb) t[i];
    }
}

/*
 * Limb i has weight 2^ceil(25.5 i). The weights of limbs i and j add up to
 * the weight of limb i + j, except when both are odd: then the product is
 * worth twice that. Both are odd only in the even columns k = i + j (or
 * i + j - 10), which therefore take f with its odd limbs doubled.
 */
static void
fe_mul(fe h, const fe f, const fe g)
{
    uint32_t f_2[FE_LIMBS], g_19[FE_LIMBS];
    const uint32_t *fk;
    uint64_t t[FE_LIMBS], acc;
    int i, k;

    for (i = 0; i < FE_LIMBS; i++) {
        f_2[i] = (i & 1) ? 2 * f[i] : f[i];
        g_19[i] = 19 * g[i];
    }
    for (k = 0; k < FE_LIMBS; k++) {
        fk = (k & 1) ? f : f_2;
        acc = 0;
        for (i = 0; i <= k; i++) {
            acc += (uint64_t) fk[i] * g[k - i];
        }
        for (i = k + 1; i < FE_LIMBS; i++) {
            acc += (uint64_t) fk[i] * g_19[k - i + FE_LIMBS];
        }
        t[k] = acc;
    }
    fe_carry_wide(h, t);
}

static void
fe_sq(fe h, const fe f)
{
    fe_mul(h, f, f);
}

static void
fe_mul_a24(fe h, const fe f)
{
    uint64_t t[FE_LIMBS];
    int i;

    for (i = 0; i < FE_LIMBS; i++) {
        t[i] = (uint64_t) f[i] * 121665;
    }
    fe_carry_wide(h, t);
}

#endif

static void
fe_0(fe h)
{
    memset(h, 0, sizeof(fe));
}

static void
fe_1(fe h)
{
    memset(h, 0, sizeof(fe));
    h[0] = 1;
}

static void
fe_copy(fe h, const fe f)
{
    memcpy(h, f, sizeof(fe));
}

static void
fe_add(fe h, const fe f, const fe g)
{
    int i;

    for (i = 0; i < FE_LIMBS; i++) {
        h[i] = f[i] + g[i];
    }
}

static void
fe_sub(fe h, const fe f, const fe g)
{
    int i;

    for (i = 0; i < FE_LIMBS; i++) {
        h[i] = f[i] + fe_two_p[i] - g[i];
    }
}

/* Swaps f and g when b is 1, leaves them when b is 0; no branch. */
static void
fe_cswap(fe f, fe g, limb b)
{
    const limb mask = (limb) 0 - b;
    limb x;
    int i;

    for (i = 0; i < FE_LIMBS; i++) {
        x = mask & (f[i] ^ g[i]);
        f[i] ^= x;
        g[i] ^= x;
    }
}

/* Reads 255 bits little-endian; the top bit of byte 31 is ignored. */
static void
fe_frombytes(fe h, const unsigned char s[32])
{
    unsigned int offset = 0, byte, j;
    uint64_t w;
    int i;

    for (i = 0; i < FE_LIMBS; i++) {
        /* up to 8 bytes from the one holding the limb's first bit */
        byte = offset / 8;
        w = 0;
        for (j = 0; j < 8 && byte + j < 32; j++) {
            w |= (uint64_t) s[byte + j] << (8 * j);
        }
        h[i] = (limb) ((w >> (offset % 8))
                       & (((uint64_t) 1 << fe_width[i]) - 1));
        offset += fe_width[i];
    }
}

/* Writes the unique representative below p, 32 bytes little-endian. */
static void
fe_tobytes(unsigned char s[32], const fe f)
{
    fe h;
    limb c, q;
    uint64_t acc = 0;
    unsigned int bits = 0, j = 0;
    int i;

    /* 1. carry once: limbs fit their widths (limb 0 nearly), h < 2p */
    fe_copy(h, f);
    for (i = 0; i < FE_LIMBS - 1; i++) {
        c = h[i] >> fe_width[i];
        h[i] &= ((limb) 1 << fe_width[i]) - 1;
        h[i + 1] += c;
    }
    c = h[FE_LIMBS - 1] >> fe_width[FE_LIMBS - 1];
    h[FE_LIMBS - 1] &= ((limb) 1 << fe_width[FE_LIMBS - 1]) - 1;
    h[0] += 19 * c;

    /* 2. q = 1 exactly when h >= p, i.e. when h + 19 reaches 2^255 */
    q = 19;
    for (i = 0; i < FE_LIMBS; i++) {
        q = (h[i] + q) >> fe_width[i];
    }

    /* 3. h - q p = h + 19 q - q 2^255: add, carry, drop bit 255 */
    h[0] += 19 * q;
    for (i = 0; i < FE_LIMBS - 1; i++) {
        c = h[i] >> fe_width[i];
        h[i] &= ((limb) 1 << fe_width[i]) - 1;
        h[i + 1] += c;
    }
    h[FE_LIMBS - 1] &= ((limb) 1 << fe_width[FE_LIMBS - 1]) - 1;

    /* 4. pack the 255 bits */
    for (i = 0; i < FE_LIMBS; i++) {
        acc |= (uint64_t) h[i] << bits;
        bits += fe_width[i];
        while (bits >= 8) {
            s[j++] = (unsigned char) acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    s[j] = (unsigned char) acc;

    wipe(h, sizeof h);
}

static void
fe_sq_times(fe h, const fe f, int n)
{
    int i;

    fe_sq(h, f);
    for (i = 1; i < n; i++) {
        fe_sq(h, h);
    }
}

/*
 * h = z^(p - 2) = 1/z (Fermat), p - 2 = 2^255 - 21, by an addition chain:
 * z^(2^k - 1) for k = 5, 10, 20, 40, 50, 100, 200, 250, then
 * (z^(2^250 - 1))^(2^5) * z^11 = z^(2^255 - 32 + 11).
 */
static void
fe_invert(fe h, const fe z)
{
    fe z2, z9, z11, a, b, c;

    fe_sq(z2, z);              /* z^2 */
    fe_sq_times(a, z2, 2);     /* z^8 */
    fe_mul(z9, a, z);          /* z^9 */
    fe_mul(z11, z9, z2);       /* z^11 */
    fe_sq(a, z11);             /* z^22 */
    fe_mul(a, a, z9);          /* z^31 = z^(2^5 - 1) */
    fe_sq_times(b, a, 5);
    fe_mul(b, b, a);           /* z^(2^10 - 1) */
    fe_sq_times(c, b, 10);
    fe_mul(c, c, b);           /* z^(2^20 - 1) */
    fe_sq_times(a, c, 20);
    fe_mul(a, a, c);           /* z^(2^40 - 1) */
    fe_sq_times(a, a, 10);
    fe_mul(a, a, b);           /* z^(2^50 - 1) */
    fe_sq_times(b, a, 50);
    fe_mul(b, b, a);           /* z^(2^100 - 1) */
    fe_sq_times(c, b, 100);
    fe_mul(c, c, b);           /* z^(2^200 - 1) */
    fe_sq_times(c, c, 50);
    fe_mul(c, c, a);           /* z^(2^250 - 1) */
    fe_sq_times(c, c, 5);      /* z^(2^255 - 32) */
    fe_mul(h, c, z11);         /* z^(2^255 - 21) */

    wipe(z2, sizeof z2);
    wipe(z9, sizeof z9);
    wipe(z11, sizeof z11);
    wipe(a, sizeof a);
    wipe(b, sizeof b);
    wipe(c, sizeof c);
}

const char *
portable_arithmetic(void)
{
#if PORTABLE_WIDE
    return "radix 2^51";
#else
    return "radix 2^25.5";
#endif
}

/* ---- 6. X25519 (RFC 7748 section 5) ------------------------------------- */

static void
x25519(unsigned char out[32], const unsigned char scalar[32],
       const unsigned char point[32])
{
    unsigned char k[32];
    fe x1, x2, z2, x3, z3;
    fe a, aa, b, bb, e, c, d, da, cb;
    limb swap = 0, bit;
    int t;

    /* 1. decode the scalar: clear the 3 low bits and bit 255, set bit 254 */
    memcpy(k, scalar, 32);
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;

    /* 2. decode u (bit 255 masked) and start the ladder */
    fe_frombytes(x1, point);
    fe_1(x2);
    fe_0(z2);
    fe_copy(x3, x1);
    fe_1(z3);

    /* 3. the Montgomery ladder, one step per scalar bit from 254 down; the
     * bit position is public, the bit itself only ever feeds the mask */
    for (t = 254; t >= 0; t--) {
        bit = (limb) ((k[t >> 3] >> (t & 7)) & 1);
        swap ^= bit;
        fe_cswap(x2, x3, swap);
        fe_cswap(z2, z3, swap);
        swap = bit;

        fe_add(a, x2, z2);     /* A = x2 + z2 */
        fe_sq(aa, a);          /* AA = A^2 */
        fe_sub(b, x2, z2);     /* B = x2 - z2 */
        fe_sq(bb, b);          /* BB = B^2 */
        fe_sub(e, aa, bb);     /* E = AA - BB */
        fe_add(c, x3, z3);     /* C = x3 + z3 */
        fe_sub(d, x3, z3);     /* D = x3 - z3 */
        fe_mul(da, d, a);      /* DA = D * A */
        fe_mul(cb, c, b);      /* CB = C * B */
        fe_add(x3, da, cb);
        fe_sq(x3, x3);         /* x3 = (DA + CB)^2 */
        fe_sub(z3, da, cb);
        fe_sq(z3, z3);
        fe_mul(z3, z3, x1);    /* z3 = x1 * (DA - CB)^2 */
        fe_mul(x2, aa, bb);    /* x2 = AA * BB */
        fe_mul_a24(z2, e);
        fe_add(z2, z2, aa);
        fe_mul(z2, z2, e);     /* z2 = E * (AA + a24 * E), a24 = 121665 */
    }
    fe_cswap(x2, x3, swap);
    fe_cswap(z2, z3, swap);

    /* 4. the result is x2 / z2 */
    fe_invert(z2, z2);
    fe_mul(x2, x2, z2);
    fe_tobytes(out, x2);

    wipe(k, sizeof k);
    wipe(x1, sizeof x1);
    wipe(x2, sizeof x2);
    wipe(z2, sizeof z2);
    wipe(x3, sizeof x3);
    wipe(z3, sizeof z3);
    wipe(a, sizeof a);
    wipe(aa, sizeof aa);
    wipe(b, sizeof b);
    wipe(bb, sizeof bb);
    wipe(e, sizeof e);
    wipe(c, sizeof c);
    wipe(d, sizeof d);
    wipe(da, sizeof da);
    wipe(cb, sizeof cb);
}

/*
 * Refuses, as libsodium does, a result of all zeros: the peer's point had a
 * small order and the "shared" secret is a constant an attacker knows.
 */
int
crypto_scalarmult(unsigned char *q, const unsigned char *n,
                  const unsigned char *p)
{
    uint32_t acc = 0;
    int rc;
    size_t i;

    x25519(q, n, p);
    for (i = 0; i < 32; i++) {
        acc |= q[i];
    }
    /* acc is at most 255: acc - 1 borrows into bit 8 only when acc is 0 */
    rc = -(int) ((acc - 1U) >> 8 & 1U);
    declassify(&rc, sizeof rc);

    return rc;
}

int
crypto_scalarmult_base(unsigned char *q, const unsigned char *n)
{
    static const unsigned char basepoint[32] = { 9 };

    x25519(q, n, basepoint);
    return 0;
}

/* ---- 7. crypto_box ---------------------------------------------------------
 *
 * The box key is HSalsa20 of the X25519 shared secret with a zero input;
 * a box is then a secretbox under that key.
 */

int
crypto_box_keypair(unsigned char *pk, unsigned char *sk)
{
    randombytes(sk, 32);
    return crypto_scalarmult_base(pk, sk);
}

int
crypto_box_beforenm(unsigned char *k, const unsigned char *pk,
                    const unsigned char *sk)
{
    static const unsigned char zero[16] = { 0 };
    unsigned char s[32];
    int rc;

    rc = crypto_scalarmult(s, sk, pk);
    if (rc == 0) {
        crypto_core_hsalsa20(k, zero, s, sigma);
    }
    wipe(s, sizeof s);

    return rc;
}

int
crypto_box_afternm(unsigned char *c, const unsigned char *m,
                   unsigned long long mlen, const unsigned char *n,
                   const unsigned char *k)
{
    return crypto_secretbox(c, m, mlen, n, k);
}

int
crypto_box_open_afternm(unsigned char *m, const unsigned char *c,
                        unsigned long long clen, const unsigned char *n,
                        const unsigned char *k)
{
    return crypto_secretbox_open(m, c, clen, n, k);
}

int
crypto_box(unsigned char *c, const unsigned char *m, unsigned long long mlen,
           const unsigned char *n, const unsigned char *pk,
           const unsigned char *sk)
{
    unsigned char k[32];
    int rc;

    rc = crypto_box_beforenm(k, pk, sk);
    if (rc == 0) {
        rc = crypto_box_afternm(c, m, mlen, n, k);
    }
    wipe(k, sizeof k);

    return rc;
}

int
crypto_box_open(unsigned char *m, const unsigned char *c,
                unsigned long long clen, const unsigned char *n,
                const unsigned char *pk, const unsigned char *sk)
{
    unsigned char k[32];
    int rc;

    rc = crypto_box_beforenm(k, pk, sk);
    if (rc == 0) {
        rc = crypto_box_open_afternm(m, c, clen, n, k);
    }
    wipe(k, sizeof k);

    return rc;
}

/* ---- 8. randomness ---------------------------------------------------------
 *
 * Straight from the kernel: getrandom(2) on Linux, which blocks only until
 * the kernel's generator has been seeded once at boot; getentropy(3)
 * elsewhere. A call may be interrupted or return fewer bytes than asked, so
 * both loop. Any other failure aborts: there is no safe way to go on with
 * fewer or weaker random bytes than a key needs.
 *
 * TODO: the getentropy(3) branch (macOS, the BSDs) has never been compiled
 * or run; the first build on those systems must run tests/ct before it is
 * trusted, since a wrong include or chunk size there breaks key generation.
 */

int
portable_random_check(void)
{
    unsigned char b;

#if defined(__linux__)
    ssize_t r;

    do {
        r = getrandom(&b, 1, GRND_NONBLOCK);
    } while (r < 0 && errno == EINTR);
    /* EAGAIN: the syscall exists, the pool is not seeded yet; it will be */
    return (r == 1 || (r < 0 && errno == EAGAIN)) ? 0 : -1;
#else
    return getentropy(&b, 1) == 0 ? 0 : -1;
#endif
}

void
randombytes(unsigned char *buf, unsigned long long len)
{
    size_t chunk;

    while (len > 0) {
        /* getentropy takes at most 256 bytes; getrandom returns at least
         * that many without interruption */
        chunk = len < 256 ? (size_t) len : 256;
#if defined(__linux__)
        {
            ssize_t r = getrandom(buf, chunk, 0);

            if (r < 0) {
                if (errno == EINTR) {
                    continue;
                }
                abort();
            }
            chunk = (size_t) r;
        }
#else
        if (getentropy(buf, chunk) != 0) {
            abort();
        }
#endif
        buf += chunk;
        len -= chunk;
    }
}
