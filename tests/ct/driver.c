/*
 * A line-oriented driver for the portable crypto core, so that Python tests
 * can check it against known answers and against libsodium (PyNaCl) in each
 * of its two arithmetics: the tests compile this file with and without
 * CURVEZMQ_PORTABLE_NO_INT128.
 *
 * Each input line is an operation and its arguments in hex ("-" for empty
 * bytes, decimal for counts); each output line is the result in hex, "fail"
 * when the operation refused, or "error ..." for a malformed request.
 *
 *   arith                      the arithmetic compiled in
 *   x25519 n p                 crypto_scalarmult
 *   base n                     crypto_scalarmult_base
 *   iterate count              RFC 7748 5.2: k = X25519(k, u), u = old k
 *   beforenm pk sk             crypto_box_beforenm
 *   hsalsa20 in k c            crypto_core_hsalsa20
 *   salsa20 in k c             crypto_core_salsa20
 *   stream n k len             XSalsa20 stream, len bytes
 *   poly1305 k m               crypto_onetimeauth
 *   poly1305_verify k m tag    crypto_onetimeauth_verify: "ok" or "fail"
 *   secretbox k n m            tag || ciphertext (NaCl padding handled here)
 *   secretbox_open k n c       plaintext of tag || ciphertext
 *   box pk sk n m              crypto_box, same layout
 *   box_open pk sk n c         crypto_box_open
 *   random len                 randombytes
 *
 * secretbox and secretbox_open also run in place and print "mismatch" if
 * the two results differ.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portable.h"

#define MAXARGS 4

typedef struct {
    unsigned char *p;
    size_t len;
} bytes;

static int
unhex(bytes *out, const char *s)
{
    size_t n = strlen(s), i;
    unsigned int v;

    out->p = NULL;
    out->len = 0;
    if (strcmp(s, "-") == 0) {
        out->p = malloc(1);
        return out->p == NULL ? -1 : 0;
    }
    if (n % 2 != 0) {
        return -1;
    }
    out->len = n / 2;
    out->p = malloc(out->len + 1);
    if (out->p == NULL) {
        return -1;
    }
    for (i = 0; i < out->len; i++) {
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            return -1;
        }
        out->p[i] = (unsigned char) v;
    }
    return 0;
}

static void
puthex(const unsigned char *p, size_t len)
{
    size_t i;

    if (len == 0) {
        fputs("-", stdout);
    }
    for (i = 0; i < len; i++) {
        printf("%02x", p[i]);
    }
    putchar('\n');
}

static int
want(const bytes *b, size_t len)
{
    return b->len == len;
}

/* NaCl's padded layout around a wire-form box: 16 zero bytes in front. */
static int
secretbox_wire(const bytes *k, const bytes *n, const bytes *m, int open,
               const bytes *pk, const bytes *sk)
{
    size_t zeros = open ? 16 : 32, plen = m->len + zeros, i;
    unsigned char *a = calloc(plen, 1), *b = calloc(plen, 1);
    int rc, rc2;

    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        puts("error out of memory");
        return 0;
    }
    memcpy(a + zeros, m->p, m->len);
    memcpy(b + zeros, m->p, m->len);
    if (pk != NULL && !open) {
        rc = crypto_box(a, a, plen, n->p, pk->p, sk->p);
        rc2 = rc;
    } else if (pk != NULL) {
        rc = crypto_box_open(a, a, plen, n->p, pk->p, sk->p);
        rc2 = rc;
    } else if (!open) {
        rc = crypto_secretbox(a, b, plen, n->p, k->p);
        rc2 = crypto_secretbox(b, b, plen, n->p, k->p);
    } else {
        rc = crypto_secretbox_open(a, b, plen, n->p, k->p);
        rc2 = crypto_secretbox_open(b, b, plen, n->p, k->p);
    }
    if (pk == NULL && (rc != rc2 || (rc == 0 && memcmp(a, b, plen) != 0))) {
        puts("mismatch");
    } else if (rc != 0) {
        puts("fail");
    } else {
        /* the padding NaCl promises on the way out */
        for (i = 0; i < (open ? 32U : 16U); i++) {
            if (a[i] != 0) {
                puts("error padding not zero");
                goto done;
            }
        }
        if (open) {
            puthex(a + 32, plen - 32);
        } else {
            puthex(a + 16, plen - 16);
        }
    }
done:
    free(a);
    free(b);
    return 0;
}

static void
run(char *op, bytes *arg, int nargs, char **raw)
{
    unsigned char out[64], *buf;
    size_t len;
    long count;

    if (strcmp(op, "arith") == 0) {
        puts(portable_arithmetic());
    } else if (strcmp(op, "x25519") == 0 && nargs == 2
               && want(&arg[0], 32) && want(&arg[1], 32)) {
        if (crypto_scalarmult(out, arg[0].p, arg[1].p) != 0) {
            puts("fail");
        } else {
            puthex(out, 32);
        }
    } else if (strcmp(op, "base") == 0 && nargs == 1 && want(&arg[0], 32)) {
        crypto_scalarmult_base(out, arg[0].p);
        puthex(out, 32);
    } else if (strcmp(op, "iterate") == 0 && nargs == 1) {
        unsigned char k[32] = { 9 }, u[32] = { 9 }, r[32];

        for (count = strtol(raw[0], NULL, 10); count > 0; count--) {
            crypto_scalarmult(r, k, u);
            memcpy(u, k, 32);
            memcpy(k, r, 32);
        }
        puthex(k, 32);
    } else if (strcmp(op, "beforenm") == 0 && nargs == 2
               && want(&arg[0], 32) && want(&arg[1], 32)) {
        if (crypto_box_beforenm(out, arg[0].p, arg[1].p) != 0) {
            puts("fail");
        } else {
            puthex(out, 32);
        }
    } else if ((strcmp(op, "hsalsa20") == 0 || strcmp(op, "salsa20") == 0)
               && nargs == 3 && want(&arg[0], 16) && want(&arg[1], 32)
               && want(&arg[2], 16)) {
        if (op[0] == 'h') {
            crypto_core_hsalsa20(out, arg[0].p, arg[1].p, arg[2].p);
            puthex(out, 32);
        } else {
            crypto_core_salsa20(out, arg[0].p, arg[1].p, arg[2].p);
            puthex(out, 64);
        }
    } else if (strcmp(op, "stream") == 0 && nargs == 3 && want(&arg[0], 24)
               && want(&arg[1], 32)) {
        len = (size_t) strtoul(raw[2], NULL, 10);
        buf = calloc(len + 1, 1);
        if (buf == NULL) {
            puts("error out of memory");
            return;
        }
        crypto_stream_xsalsa20_xor(buf, buf, len, arg[0].p, arg[1].p);
        puthex(buf, len);
        free(buf);
    } else if (strcmp(op, "poly1305") == 0 && nargs == 2
               && want(&arg[0], 32)) {
        crypto_onetimeauth(out, arg[1].p, arg[1].len, arg[0].p);
        puthex(out, 16);
    } else if (strcmp(op, "poly1305_verify") == 0 && nargs == 3
               && want(&arg[0], 32) && want(&arg[2], 16)) {
        puts(crypto_onetimeauth_verify(arg[2].p, arg[1].p, arg[1].len,
                                       arg[0].p) == 0 ? "ok" : "fail");
    } else if (strcmp(op, "secretbox") == 0 && nargs == 3
               && want(&arg[0], 32) && want(&arg[1], 24)) {
        secretbox_wire(&arg[0], &arg[1], &arg[2], 0, NULL, NULL);
    } else if (strcmp(op, "secretbox_open") == 0 && nargs == 3
               && want(&arg[0], 32) && want(&arg[1], 24)
               && arg[2].len >= 16) {
        secretbox_wire(&arg[0], &arg[1], &arg[2], 1, NULL, NULL);
    } else if (strcmp(op, "box") == 0 && nargs == 4 && want(&arg[0], 32)
               && want(&arg[1], 32) && want(&arg[2], 24)) {
        secretbox_wire(NULL, &arg[2], &arg[3], 0, &arg[0], &arg[1]);
    } else if (strcmp(op, "box_open") == 0 && nargs == 4
               && want(&arg[0], 32) && want(&arg[1], 32)
               && want(&arg[2], 24) && arg[3].len >= 16) {
        secretbox_wire(NULL, &arg[2], &arg[3], 1, &arg[0], &arg[1]);
    } else if (strcmp(op, "random") == 0 && nargs == 1) {
        len = (size_t) strtoul(raw[0], NULL, 10);
        buf = calloc(len + 1, 1);
        if (buf == NULL) {
            puts("error out of memory");
            return;
        }
        randombytes(buf, len);
        puthex(buf, len);
        free(buf);
    } else {
        printf("error bad request %s\n", op);
    }
}

int
main(void)
{
    char *line = NULL, *op, *tok, *raw[MAXARGS];
    size_t cap = 0;
    bytes arg[MAXARGS];
    int nargs, i, ok;

    while (getline(&line, &cap, stdin) != -1) {
        line[strcspn(line, "\r\n")] = '\0';
        op = strtok(line, " ");
        if (op == NULL) {
            continue;
        }
        nargs = 0;
        ok = 1;
        while ((tok = strtok(NULL, " ")) != NULL) {
            if (nargs == MAXARGS) {
                ok = 0;
                break;
            }
            raw[nargs] = tok;
            /* counts are decimal and fail to parse as hex: that is fine */
            if (unhex(&arg[nargs], tok) != 0) {
                arg[nargs].len = (size_t) -1;
            }
            nargs++;
        }
        if (ok) {
            run(op, arg, nargs, raw);
        } else {
            puts("error too many arguments");
        }
        for (i = 0; i < nargs; i++) {
            free(arg[i].p);
        }
        fflush(stdout);
    }
    free(line);
    return 0;
}
