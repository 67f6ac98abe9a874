/* inflate.c: the tests' own deflate decoder (inflate.h).  Canonical
 * Huffman codes are decoded one bit at a time from per-length counts:
 * slow and short, which is what a test oracle should be. */
#include "inflate.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define MAXBITS 15   /* longest code deflate allows                       */
#define NLITLEN 288  /* litlen symbols incl. the two the fixed code names */
#define NDIST 30     /* valid distance symbols                            */
#define WINDOW 32768 /* farthest a distance may reach                     */

typedef struct {
    const uint8_t *in;
    size_t n, pos;   /* next byte                                  */
    uint32_t bits;   /* bits read but not used, oldest lowest       */
    int nbits;
    uint8_t *out;
    size_t outn, cap;
    tu_inflate_stats st;
    const char *err; /* why we stopped                              */
    jmp_buf fail;
} state;

static void fail(state *s, const char *why)
{
    s->err = why;
    longjmp(s->fail, 1);
}

static uint32_t bits(state *s, int need)
{
    while (s->nbits < need) {
        if (s->pos == s->n) fail(s, "stream ends inside a block");
        s->bits |= (uint32_t)s->in[s->pos++] << s->nbits;
        s->nbits += 8;
    }
    uint32_t v = s->bits & ((1u << need) - 1);
    s->bits >>= need;
    s->nbits -= need;
    return v;
}

static void put(state *s, uint8_t b)
{
    if (s->outn == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        uint8_t *nb = realloc(s->out, s->cap);
        if (!nb) fail(s, "out of memory");
        s->out = nb;
    }
    s->out[s->outn++] = b;
}

/* A canonical code: how many codes have each length, and the symbols in
 * code order (by length, then by symbol). */
typedef struct {
    short count[MAXBITS + 1];
    short symbol[NLITLEN];
} code;

/* Builds c from lengths; returns what is left of the code space (0:
 * complete), or -1 if over-subscribed. */
static int build(code *c, const uint8_t *len, int n)
{
    short offs[MAXBITS + 1];
    memset(c->count, 0, sizeof c->count);
    for (int i = 0; i < n; i++) c->count[len[i]]++;
    int left = 1;
    for (int b = 1; b <= MAXBITS; b++) {
        left = 2 * left - c->count[b];
        if (left < 0) return -1;
    }
    offs[1] = 0;
    for (int b = 1; b < MAXBITS; b++) offs[b + 1] = offs[b] + c->count[b];
    for (int i = 0; i < n; i++)
        if (len[i]) c->symbol[offs[len[i]]++] = (short)i;
    return left;
}

/* Reads one symbol: codes of length b are the integers first .. first +
 * count[b] - 1, read MSB first. */
static int decode(state *s, const code *c)
{
    int codev = 0, first = 0, index = 0;
    for (int b = 1; b <= MAXBITS; b++) {
        codev |= (int)bits(s, 1);
        int cnt = c->count[b];
        if (codev - first < cnt) return c->symbol[index + codev - first];
        index += cnt;
        first = (first + cnt) << 1;
        codev <<= 1;
    }
    fail(s, "bit pattern is no code");
    return -1;
}

static const short lbase[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17,
    19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
    258 };
static const short lext[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2,
    2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const short dbase[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49,
    65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
    6145, 8193, 12289, 16385, 24577 };
static const short dext[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5,
    6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

static void codes(state *s, const code *lit, const code *dist)
{
    for (;;) {
        int sym = decode(s, lit);
        if (sym < 256) {
            put(s, (uint8_t)sym);
            continue;
        }
        if (sym == 256) return;
        if (sym > 285) fail(s, "litlen symbol 286 or 287");
        sym -= 257;
        int len = lbase[sym] + (int)bits(s, lext[sym]);
        int d = decode(s, dist);
        if (d >= NDIST) fail(s, "distance symbol 30 or 31");
        size_t back = (size_t)dbase[d] + bits(s, dext[d]);
        if (back > s->outn || back > WINDOW)
            fail(s, "distance reaches before the start");
        while (len--) put(s, s->out[s->outn - back]);
    }
}

static void stored(state *s)
{
    s->bits = 0; /* drop the rest of the byte */
    s->nbits = 0;
    if (s->n - s->pos < 4) fail(s, "stored block header cut short");
    unsigned len = s->in[s->pos] | (unsigned)s->in[s->pos + 1] << 8;
    unsigned nlen = s->in[s->pos + 2] | (unsigned)s->in[s->pos + 3] << 8;
    s->pos += 4;
    if ((len ^ nlen) != 0xffffu) fail(s, "stored LEN != ~NLEN");
    if (s->n - s->pos < len) fail(s, "stored block cut short");
    while (len--) put(s, s->in[s->pos++]);
}

static void fixed(state *s)
{
    uint8_t len[NLITLEN];
    code lit, dist;
    for (int i = 0; i < NLITLEN; i++)
        len[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
    build(&lit, len, NLITLEN);
    for (int i = 0; i < NDIST + 2; i++) len[i] = 5;
    build(&dist, len, NDIST + 2);
    codes(s, &lit, &dist);
}

static void dynamic(state *s)
{
    static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                       11, 4, 12, 3, 13, 2, 14, 1, 15 };
    int nlen = (int)bits(s, 5) + 257, ndist = (int)bits(s, 5) + 1;
    int ncode = (int)bits(s, 4) + 4;
    if (nlen > 286 || ndist > NDIST) fail(s, "HLIT or HDIST too large");
    uint8_t len[286 + NDIST] = { 0 };
    for (int i = 0; i < ncode; i++) len[order[i]] = (uint8_t)bits(s, 3);
    code lencode, lit, dist;
    if (build(&lencode, len, 19) != 0) fail(s, "code-length code not complete");
    memset(len, 0, sizeof len);
    for (int i = 0; i < nlen + ndist;) {
        int sym = decode(s, &lencode), rep, val = 0;
        if (sym < 16) {
            len[i++] = (uint8_t)sym;
            continue;
        }
        if (sym == 16) {
            if (i == 0) fail(s, "repeat with no previous length");
            val = len[i - 1];
            rep = 3 + (int)bits(s, 2);
        } else {
            rep = sym == 17 ? 3 + (int)bits(s, 3) : 11 + (int)bits(s, 7);
        }
        if (i + rep > nlen + ndist) fail(s, "repeat runs past the lengths");
        while (rep--) len[i++] = (uint8_t)val;
    }
    if (len[256] == 0) fail(s, "no code for end of block");
    if (build(&lit, len, nlen) != 0) fail(s, "litlen code not complete");
    int left = build(&dist, len + nlen, ndist);
    if (left < 0 || (left > 0 && ndist - dist.count[0] != 1))
        fail(s, "distance code not complete");
    codes(s, &lit, &dist);
}

/* The blocks and the trailer; the caller set s->pos past the header. */
static void blocks(state *s, const uint8_t *in)
{
    tu_inflate_stats *st = &s->st;
    int last;
    do {
        last = (int)bits(s, 1);
        switch (bits(s, 2)) {
        case 0: stored(s); st->stored++; break;
        case 1: fixed(s); st->fixed++; break;
        case 2: dynamic(s); st->dynamic++; break;
        default: fail(s, "block type 3");
        }
    } while (!last);
    if (s->n - s->pos != 4) fail(s, "not exactly the Adler-32 after the data");
    uint32_t a = 1, b = 0; /* Adler-32, the plain way */
    for (size_t i = 0; i < s->outn; i++) {
        a = (a + s->out[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    const uint8_t *t = in + s->pos;
    uint32_t want = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 |
                    (uint32_t)t[2] << 8 | t[3];
    if (want != (b << 16 | a)) fail(s, "Adler-32 mismatch");
}

const char *tu_zlib_inflate(const uint8_t *in, size_t n, uint8_t **out,
                            size_t *outn, tu_inflate_stats *st)
{
    *out = NULL;
    *outn = 0;
    /* On the heap: after longjmp only memory, not locals changed since
     * setjmp, is sure to hold its last value. */
    state *s = calloc(1, sizeof *s);
    if (!s) return "out of memory";
    s->in = in;
    s->n = n;
    if (setjmp(s->fail)) {
        const char *why = s->err;
        free(s->out);
        free(s);
        return why;
    }
    if (n < 6) fail(s, "shorter than a zlib header and trailer");
    if ((in[0] & 0x0f) != 8 || (in[0] >> 4) > 7) fail(s, "not deflate/32K");
    if ((in[0] * 256 + in[1]) % 31 != 0) fail(s, "FCHECK wrong");
    if (in[1] & 0x20) fail(s, "preset dictionary");
    s->pos = 2;
    blocks(s, in);
    if (st) *st = s->st;
    *out = s->out ? s->out : malloc(1);
    *outn = s->outn;
    free(s);
    return NULL;
}
