/*
 * The contract every curvezmq crypto backend fulfils.
 *
 * This file is read twice: by the C compiler, and by cffi as the cdef of each
 * backend's extension module. cffi's cdef takes only declarations and integer
 * #defines, so nothing else may appear here (no includes, no conditionals).
 *
 * All functions return 0 on success and a negative CURVEZMQ_E* value on
 * failure. Boxes are in wire form: the 16-byte Poly1305 tag followed by the
 * ciphertext, so a box is always 16 bytes longer than its plaintext (NaCl's
 * padded form without its 16 leading zero bytes, libsodium's "easy" form).
 */

#define CURVEZMQ_ABI 1

#define CURVEZMQ_KEYBYTES 32
#define CURVEZMQ_NONCEBYTES 24
#define CURVEZMQ_MACBYTES 16

/* A MESSAGE body: 8-byte command name, 8-byte nonce, box of flags + data. */
#define CURVEZMQ_MESSAGE_HEADERBYTES 16
#define CURVEZMQ_MESSAGE_OVERHEAD 33
/* message_open leaves flags + data at this offset of its output buffer. */
#define CURVEZMQ_MESSAGE_OPEN_OFFSET 32
/* A compact MESSAGE body (docs/extensions.md): the box alone, tag(16) then
 * E(flags || data); the nonce is implicit. message_seal_compact leaves it at
 * this offset of its output buffer, after 16 zero bytes of headroom. */
#define CURVEZMQ_COMPACT_OVERHEAD 17
#define CURVEZMQ_COMPACT_OFFSET 16

#define CURVEZMQ_OK 0
#define CURVEZMQ_ECRYPTO -1
#define CURVEZMQ_ENONCE -2
#define CURVEZMQ_EMALFORMED -3
#define CURVEZMQ_ENOMEM -4

/* The version of the C sources, checked against the Python package at import. */
const char *curvezmq_version(void);
/* The backend this module was compiled against: portable, libsodium or nacl. */
const char *curvezmq_backend(void);
int curvezmq_init(void);

void curvezmq_randombytes(unsigned char *buf, size_t len);
void curvezmq_wipe(void *buf, size_t len);
int curvezmq_verify_16(const unsigned char *x, const unsigned char *y);
int curvezmq_verify_32(const unsigned char *x, const unsigned char *y);

/* X25519. Both refuse (CURVEZMQ_ECRYPTO) an all-zero result. */
int curvezmq_scalarmult_base(unsigned char *q, const unsigned char *n);
int curvezmq_scalarmult(unsigned char *q, const unsigned char *n,
                        const unsigned char *p);
int curvezmq_keypair(unsigned char *pk, unsigned char *sk);
int curvezmq_beforenm(unsigned char *k, const unsigned char *pk,
                      const unsigned char *sk);

/* crypto_box in wire form: out holds mlen + 16 bytes. */
int curvezmq_box(unsigned char *out, const unsigned char *m, size_t mlen,
                 const unsigned char *n, const unsigned char *pk,
                 const unsigned char *sk);
int curvezmq_box_open(unsigned char *m, const unsigned char *c, size_t clen,
                      const unsigned char *n, const unsigned char *pk,
                      const unsigned char *sk);

/* crypto_box_afternm == crypto_secretbox, in wire form. */
int curvezmq_box_afternm(unsigned char *out, const unsigned char *m,
                         size_t mlen, const unsigned char *n,
                         const unsigned char *k);
int curvezmq_box_open_afternm(unsigned char *m, const unsigned char *c,
                              size_t clen, const unsigned char *n,
                              const unsigned char *k);

/*
 * Seal a whole MESSAGE command body into out (dlen + 33 bytes):
 * "\x07MESSAGE" || N8 || Box[flags || data](k), nonce = prefix16 || N8.
 */
int curvezmq_message_seal(unsigned char *out, const unsigned char *prefix16,
                          uint64_t nonce, unsigned char flags,
                          const unsigned char *data, size_t dlen,
                          const unsigned char *k);

/*
 * Open a whole MESSAGE command body. out must hold blen bytes; on success
 * flags || data (blen - 32 bytes) sit at out + CURVEZMQ_MESSAGE_OPEN_OFFSET.
 * *peer_nonce is the floor on entry: a nonce not above it gives
 * CURVEZMQ_ENONCE; a short body or wrong name gives CURVEZMQ_EMALFORMED; a
 * failed MAC gives CURVEZMQ_ECRYPTO. Only a box that opens moves the floor.
 */
int curvezmq_message_open(unsigned char *out, const unsigned char *body,
                          size_t blen, const unsigned char *prefix16,
                          const unsigned char *k, uint64_t *peer_nonce);

/*
 * Seal a compact MESSAGE body: Box[flags || data](k) in wire form with the
 * nonce prefix16 || N8, and no command name or nonce in front. out must hold
 * dlen + 33 bytes (the same as message_seal); the body (dlen + 17 bytes) sits
 * at out + CURVEZMQ_COMPACT_OFFSET and the 16 bytes before it are zero, room
 * for a caller to write a frame header without copying the body.
 */
int curvezmq_message_seal_compact(unsigned char *out,
                                  const unsigned char *prefix16,
                                  uint64_t nonce, unsigned char flags,
                                  const unsigned char *data, size_t dlen,
                                  const unsigned char *k);

/*
 * Open a compact MESSAGE body, whose nonce is implicit: *peer_nonce + 1.
 * out must hold blen + 16 bytes; on success flags || data (blen - 16 bytes)
 * sit at out + CURVEZMQ_MESSAGE_OPEN_OFFSET and *peer_nonce has moved up by
 * one. A body shorter than 17 bytes gives CURVEZMQ_EMALFORMED; a floor of
 * 2^64 - 1 (no nonce left) gives CURVEZMQ_ENONCE; a failed MAC gives
 * CURVEZMQ_ECRYPTO and leaves *peer_nonce alone.
 */
int curvezmq_message_open_compact(unsigned char *out,
                                  const unsigned char *body, size_t blen,
                                  const unsigned char *prefix16,
                                  const unsigned char *k,
                                  uint64_t *peer_nonce);
