/* deflate.c: DEFLATE compression (RFC 1951) in a zlib stream (RFC 1950),
 * written to be read.  Used by png.c; declared in deflate.h.
 *
 * The format, as much as a compressor needs:
 *   zlib stream   CMF byte (0x78: method 8 = deflate, window 2^(7+8) =
 *                 32 KiB), FLG byte (check bits making CMF*256 + FLG a
 *                 multiple of 31, no preset dictionary), the deflate
 *                 blocks, then the Adler-32 of the uncompressed bytes,
 *                 big-endian.
 *   deflate       a sequence of blocks; each starts with 3 bits: BFINAL
 *                 (1 on the last block) and BTYPE (00 stored, 01 fixed
 *                 Huffman codes, 10 dynamic Huffman codes).
 *   bit order     bits fill each byte from its least significant bit.
 *                 Extra-bit fields and header fields are written LSB
 *                 first; Huffman codes are written starting from their
 *                 MOST significant bit, so we store them bit-reversed
 *                 and write them like any other field.
 *   stored        after the 3 header bits, pad to a byte boundary, then
 *                 LEN and NLEN = ~LEN (little-endian u16), then LEN
 *                 bytes (LEN <= 65535).
 *   symbols       one alphabet for literals and lengths ("litlen"):
 *                 0-255 a literal byte, 256 end of block, 257-285 a match
 *                 length 3..258 (base + extra bits, table len_base); each
 *                 length is followed by a distance symbol 0-29 for a
 *                 distance 1..32768 back (base + extra bits, dist_base).
 *                 The match copies `length` bytes from `distance` bytes
 *                 back; it may overlap what it writes (distance 1 repeats
 *                 one byte).
 *   fixed codes   litlen 0-143: 8 bits, 144-255: 9, 256-279: 7,
 *                 280-287: 8; distances: 5 bits each.
 *   dynamic       HLIT (5 bits: litlen codes sent - 257), HDIST (5 bits:
 *                 distance codes sent - 1), HCLEN (4 bits: code-length
 *                 codes sent - 4), then 3 bits per code-length code length
 *                 in the order of clen_order, then the litlen and distance
 *                 code lengths as one sequence in the code-length alphabet:
 *                 0-15 a length, 16 repeat the previous length 3-6 times
 *                 (2 extra bits), 17 repeat 0 3-10 times (3 extra bits),
 *                 18 repeat 0 11-138 times (7 extra bits).
 *   canonical     a code is fully given by its lengths: codes of one
 *                 length are consecutive integers in symbol order, and
 *                 shorter codes come first (RFC 1951 section 3.2.2).
 *
 * The compressor: LZ77 finds, at each position, the longest earlier match
 * among the positions whose next three bytes hash alike (hash chains),
 * and looks one byte ahead before committing to a match (lazy matching).
 * The symbols are collected into blocks of BLOCK_TOKENS; each block gets
 * a Huffman code fitted to its own symbol counts (limited to 15 bits by
 * flattening the counts until it fits) and is written in whichever of
 * dynamic, fixed or stored form is smallest.
 * Not here: decompression (tests/inflate.c has an independent one).
 */
#include "deflate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- constants ---------------------------------------------------------- */

#define WINDOW_SIZE 32768 /* farthest a match may reach back (RFC 1951) */
#define WINDOW_MASK (WINDOW_SIZE - 1)
#define MIN_MATCH 3       /* shortest length the length codes can express */
#define MAX_MATCH 258     /* longest (litlen symbol 285)                  */
#define HASH_BITS 15      /* 32768 chain heads for 3-byte prefixes        */
#define HASH_SIZE (1u << HASH_BITS)
#define HASH_SHIFT 5      /* 3 bytes x 5-bit shifts span the 15 hash bits */
#define MAX_CHAIN 128     /* candidates tried per position: on make run's
                             grid 64 gives 1.6% more bytes, 1024 6% fewer
                             but 5x the time on two-level noise (6 s for
                             2.65 MB; bench/RESULTS.md)                   */
#define LAZY_MAX 128      /* only matches shorter than this wait a byte
                             for a longer one                            */
#define BLOCK_TOKENS 16384 /* symbols per block: each block gets its own
                              code, so codes follow the data as it changes */
#define LITLEN_SYMS 288   /* 0-255 bytes, 256 end, 257-285 lengths, and
                             286-287, which only the fixed code assigns   */
#define LITLEN_USED 286   /* symbols a dynamic code may send (HLIT <= 29) */
#define DIST_SYMS 30      /* distance codes 0-29                          */
#define CLEN_SYMS 19      /* code-length alphabet: 0-15, repeats 16-18    */
#define MAX_BITS 15       /* longest litlen or distance code              */
#define MAX_CLEN_BITS 7   /* longest code-length code (a 3-bit field)     */
#define END_OF_BLOCK 256
#define STORED_MAX 65535u /* LEN is a u16                                 */
#define BTYPE_STORED 0u
#define BTYPE_FIXED 1u
#define BTYPE_DYNAMIC 2u
#define ZLIB_CMF 0x78u    /* CM 8 (deflate), CINFO 7 (32 KiB window)      */
#define ZLIB_FLEVEL 2u    /* FLG bits 6-7: "default" compression level    */
#define ADLER_MOD 65521u  /* largest prime below 2^16 (RFC 1950)          */
/* Most bytes that can be summed before s2 could overflow a u32: the
 * largest n with 255 n (n + 1) / 2 + (n + 1) (ADLER_MOD - 1) < 2^32. */
#define ADLER_NMAX 5552u

/* Match lengths 3..258: litlen symbol 257 + i covers len_base[i] ..
 * len_base[i] + 2^len_extra[i] - 1 (258 has a symbol of its own). */
static const uint16_t len_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const uint8_t len_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
/* Distances 1..32768: distance symbol i covers dist_base[i] ..
 * dist_base[i] + 2^dist_extra[i] - 1. */
static const uint16_t dist_base[DIST_SYMS] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
    16385, 24577 };
static const uint8_t dist_extra[DIST_SYMS] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
/* The order in which code-length code lengths are sent: the ones most
 * often unused come last, so HCLEN can cut them off. */
static const uint8_t clen_order[CLEN_SYMS] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
/* Extra bits after code-length symbols 16, 17 and 18. */
static const uint8_t clen_extra[3] = { 2, 3, 7 };

/* ---- Adler-32 ---------------------------------------------------------- */

uint32_t advc_adler32(uint32_t adler, const uint8_t *p, size_t n)
{
    uint32_t s1 = adler & 0xffffu, s2 = adler >> 16;
    while (n > 0) {
        size_t k = n < ADLER_NMAX ? n : ADLER_NMAX;
        n -= k;
        while (k--) {
            s1 += *p++;
            s2 += s1;
        }
        s1 %= ADLER_MOD;
        s2 %= ADLER_MOD;
    }
    return s2 << 16 | s1;
}

/* ---- the bit writer --------------------------------------------------- */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    uint64_t acc;   /* bits not yet written out, the oldest lowest */
    int nacc;       /* how many                                    */
    bool oom;       /* an allocation failed: everything after is dropped */
} bitw;

static void put_byte(bitw *w, uint8_t b)
{
    if (w->oom) return;
    if (w->len == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 4096;
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->oom = true;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
    w->buf[w->len++] = b;
}

/* Appends the low n bits of v (n <= 32), least significant first. */
static void put_bits(bitw *w, uint32_t v, int n)
{
    w->acc |= (uint64_t)(v & (uint32_t)((1ull << n) - 1)) << w->nacc;
    w->nacc += n;
    while (w->nacc >= 8) {
        put_byte(w, (uint8_t)w->acc);
        w->acc >>= 8;
        w->nacc -= 8;
    }
}

/* Pads with zero bits to the next byte boundary. */
static void align_byte(bitw *w)
{
    if (w->nacc > 0) put_bits(w, 0, 8 - w->nacc);
}

/* ---- Huffman codes ---------------------------------------------------- */

/* A prefix code over up to LITLEN_SYMS symbols: each symbol's code length
 * (0 = unused) and its code, bit-reversed so put_bits sends it MSB first. */
typedef struct {
    uint8_t len[LITLEN_SYMS];
    uint16_t code[LITLEN_SYMS];
} huff;

static uint16_t reverse_bits(uint16_t code, int len)
{
    uint16_t r = 0;
    for (int i = 0; i < len; i++) r = (uint16_t)(r << 1 | ((code >> i) & 1));
    return r;
}

/* The canonical codes for the lengths in h->len[0..n) (RFC 1951 3.2.2):
 * count codes per length, give each length its first code, then hand out
 * consecutive codes in symbol order. */
static void canonical_codes(huff *h, int n)
{
    int count[MAX_BITS + 1] = { 0 };
    uint16_t next[MAX_BITS + 1];
    for (int s = 0; s < n; s++) count[h->len[s]]++;
    count[0] = 0;
    uint16_t code = 0;
    for (int b = 1; b <= MAX_BITS; b++) {
        code = (uint16_t)((code + count[b - 1]) << 1);
        next[b] = code;
    }
    /* Built in a local array, then copied: indexing h->len and h->code in
     * one loop let GCC 12 address code[s] as (288 - h) + 2 (h + s), a
     * base with its top byte set, which qemu-aarch64 7.2 (make test-neon)
     * stores to the wrong place. */
    uint16_t codes[LITLEN_SYMS];
    for (int s = 0; s < n; s++)
        codes[s] = h->len[s] ? reverse_bits(next[h->len[s]]++, h->len[s])
                             : 0;
    memcpy(h->code, codes, (size_t)n * sizeof *codes);
}

/* Huffman's algorithm: repeatedly join the two lightest trees.  Writes
 * each used symbol's depth into len (unused: 0).  Ties go to the lower
 * index, so the result is deterministic.  Needs >= 2 used symbols. */
static void huffman_depths(const uint32_t *freq, int n, uint8_t *len)
{
    uint64_t weight[2 * LITLEN_SYMS];
    int parent[2 * LITLEN_SYMS];
    bool live[2 * LITLEN_SYMS];
    int nodes = n, nlive = 0;
    for (int s = 0; s < n; s++) {
        weight[s] = freq[s];
        parent[s] = -1;
        live[s] = freq[s] > 0;
        nlive += live[s];
    }
    while (nlive > 1) {
        int a = -1, b = -1; /* the lightest and the second lightest */
        for (int i = 0; i < nodes; i++) {
            if (!live[i]) continue;
            if (a < 0 || weight[i] < weight[a]) {
                b = a;
                a = i;
            } else if (b < 0 || weight[i] < weight[b]) {
                b = i;
            }
        }
        weight[nodes] = weight[a] + weight[b];
        parent[nodes] = -1;
        live[nodes] = true;
        parent[a] = parent[b] = nodes;
        live[a] = live[b] = false;
        nodes++;
        nlive--;
    }
    for (int s = 0; s < n; s++) {
        int d = 0;
        if (freq[s] > 0)
            for (int p = parent[s]; p >= 0; p = parent[p]) d++;
        len[s] = (uint8_t)(d < 255 ? d : 255); /* only compared to 15 */
    }
}

/* A complete prefix code for freq[0..n) with no code longer than
 * max_bits.  A Huffman code can be deeper than that when counts differ
 * wildly; then the counts are flattened (halved, rounding up, so no used
 * symbol drops out) and the code rebuilt, until it fits: after at most
 * 32 halvings all counts are 1 and the tree is balanced (depth <= 9 for
 * 288 symbols).  Fewer than two used symbols get a dummy partner, so the
 * code is always complete (every decoder accepts that). */
void advc_huffman_lengths(const uint32_t *freq, int n, int max_bits,
                          uint8_t *len)
{
    uint32_t f[LITLEN_SYMS];
    int used = 0;
    for (int s = 0; s < n; s++) {
        f[s] = freq[s];
        used += f[s] > 0;
    }
    for (int s = 0; used < 2; s++) /* the dummy partners */
        if (f[s] == 0) {
            f[s] = 1;
            used++;
        }
    for (;;) {
        huffman_depths(f, n, len);
        int deepest = 0;
        for (int s = 0; s < n; s++)
            if (len[s] > deepest) deepest = len[s];
        if (deepest <= max_bits) break;
        for (int s = 0; s < n; s++)
            if (f[s] > 0) f[s] = (f[s] + 1) / 2;
    }
}

static void build_code(const uint32_t *freq, int n, int max_bits, huff *h)
{
    memset(h->len, 0, sizeof h->len);
    advc_huffman_lengths(freq, n, max_bits, h->len);
    canonical_codes(h, n);
}

/* The fixed codes of BTYPE 01 (see the top of the file). */
static void fixed_codes(huff *lit, huff *dist)
{
    memset(lit, 0, sizeof *lit);
    memset(dist, 0, sizeof *dist);
    for (int s = 0; s < LITLEN_SYMS; s++)
        lit->len[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    for (int s = 0; s < DIST_SYMS; s++) dist->len[s] = 5;
    canonical_codes(lit, LITLEN_SYMS);
    canonical_codes(dist, DIST_SYMS);
}

/* ---- symbols ------------------------------------------------------------ */

/* One LZ77 output: a literal byte (dist == 0) or a match of len bytes
 * dist back. */
typedef struct {
    uint16_t len_or_byte;
    uint16_t dist;
} token;

static int length_index(int len) /* 0..28: litlen symbol 257 + index */
{
    int i = 28;
    while (len_base[i] > len) i--;
    return i;
}

static int dist_index(int dist) /* 0..29: the distance symbol */
{
    int i = DIST_SYMS - 1;
    while (dist_base[i] > dist) i--;
    return i;
}

/* Symbol counts of a block (end of block included). */
typedef struct {
    uint32_t lit[LITLEN_SYMS];
    uint32_t dist[DIST_SYMS];
} counts;

static void count_symbols(const token *t, int nt, counts *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < nt; i++) {
        if (t[i].dist == 0) {
            c->lit[t[i].len_or_byte]++;
        } else {
            c->lit[257 + length_index(t[i].len_or_byte)]++;
            c->dist[dist_index(t[i].dist)]++;
        }
    }
    c->lit[END_OF_BLOCK]++;
}

/* Bits the block's symbols take under the given codes, extra bits
 * included. */
static uint64_t data_bits(const counts *c, const huff *lit, const huff *dist)
{
    uint64_t bits = 0;
    for (int s = 0; s < LITLEN_USED; s++) {
        bits += (uint64_t)c->lit[s] * lit->len[s];
        if (s > END_OF_BLOCK) bits += (uint64_t)c->lit[s] * len_extra[s - 257];
    }
    for (int s = 0; s < DIST_SYMS; s++)
        bits += (uint64_t)c->dist[s] * (dist->len[s] + dist_extra[s]);
    return bits;
}

static void write_symbols(bitw *w, const token *t, int nt, const huff *lit,
                          const huff *dist)
{
    for (int i = 0; i < nt; i++) {
        if (t[i].dist == 0) {
            int s = t[i].len_or_byte;
            put_bits(w, lit->code[s], lit->len[s]);
            continue;
        }
        int li = length_index(t[i].len_or_byte);
        put_bits(w, lit->code[257 + li], lit->len[257 + li]);
        put_bits(w, (uint32_t)(t[i].len_or_byte - len_base[li]),
                 len_extra[li]);
        int di = dist_index(t[i].dist);
        put_bits(w, dist->code[di], dist->len[di]);
        put_bits(w, (uint32_t)(t[i].dist - dist_base[di]), dist_extra[di]);
    }
    put_bits(w, lit->code[END_OF_BLOCK], lit->len[END_OF_BLOCK]);
}

/* ---- the dynamic block header ------------------------------------------- */

/* The litlen and distance code lengths, run-length coded in the
 * code-length alphabet: sym 0-18 and the value of its extra bits. */
typedef struct {
    uint8_t sym[LITLEN_USED + DIST_SYMS];
    uint8_t extra[LITLEN_USED + DIST_SYMS];
    int n;
    int hlit, hdist, hclen;     /* counts sent, before the -257/-1/-4 */
    huff code;                  /* the code-length code               */
} dyn_header;

static void rle_push(dyn_header *d, int sym, int extra)
{
    d->sym[d->n] = (uint8_t)sym;
    d->extra[d->n] = (uint8_t)extra;
    d->n++;
}

/* Run-length codes lens[0..n): runs of zeros with 17/18, repeats of a
 * non-zero length with 16 after sending it once. */
static void rle_lengths(dyn_header *d, const uint8_t *lens, int n)
{
    for (int i = 0; i < n;) {
        int run = 1;
        while (i + run < n && lens[i + run] == lens[i]) run++;
        i += run;
        if (lens[i - 1] == 0) {
            for (; run >= 11; run -= run < 138 ? run : 138)
                rle_push(d, 18, (run < 138 ? run : 138) - 11);
            if (run >= 3) {
                rle_push(d, 17, run - 3);
                run = 0;
            }
        } else {
            rle_push(d, lens[i - 1], 0);
            for (run--; run >= 3; run -= run < 6 ? run : 6)
                rle_push(d, 16, (run < 6 ? run : 6) - 3);
        }
        for (; run > 0; run--) rle_push(d, lens[i - 1], 0);
    }
}

/* Plans the header of a dynamic block for the codes lit and dist; returns
 * its size in bits. */
static uint64_t plan_header(dyn_header *d, const huff *lit, const huff *dist)
{
    d->hlit = LITLEN_USED;
    while (d->hlit > 257 && lit->len[d->hlit - 1] == 0) d->hlit--;
    d->hdist = DIST_SYMS;
    while (d->hdist > 1 && dist->len[d->hdist - 1] == 0) d->hdist--;
    uint8_t lens[LITLEN_USED + DIST_SYMS];
    memcpy(lens, lit->len, (size_t)d->hlit);
    memcpy(lens + d->hlit, dist->len, (size_t)d->hdist);
    d->n = 0;
    rle_lengths(d, lens, d->hlit + d->hdist);

    uint32_t freq[CLEN_SYMS] = { 0 };
    for (int i = 0; i < d->n; i++) freq[d->sym[i]]++;
    build_code(freq, CLEN_SYMS, MAX_CLEN_BITS, &d->code);
    d->hclen = CLEN_SYMS;
    while (d->hclen > 4 && d->code.len[clen_order[d->hclen - 1]] == 0)
        d->hclen--;
    uint64_t bits = 5 + 5 + 4 + 3 * (uint64_t)d->hclen;
    for (int i = 0; i < d->n; i++) {
        bits += d->code.len[d->sym[i]];
        if (d->sym[i] >= 16) bits += clen_extra[d->sym[i] - 16];
    }
    return bits;
}

static void write_header(bitw *w, const dyn_header *d)
{
    put_bits(w, (uint32_t)(d->hlit - 257), 5);
    put_bits(w, (uint32_t)(d->hdist - 1), 5);
    put_bits(w, (uint32_t)(d->hclen - 4), 4);
    for (int i = 0; i < d->hclen; i++)
        put_bits(w, d->code.len[clen_order[i]], 3);
    for (int i = 0; i < d->n; i++) {
        int s = d->sym[i];
        put_bits(w, d->code.code[s], d->code.len[s]);
        if (s >= 16) put_bits(w, d->extra[i], clen_extra[s - 16]);
    }
}

/* ---- blocks ------------------------------------------------------------- */

/* Stored blocks for raw[0..n), at most STORED_MAX bytes each; only the
 * last carries BFINAL = final.  n == 0 gives one empty block. */
static void write_stored(bitw *w, const uint8_t *raw, size_t n, bool final)
{
    do {
        uint32_t len = n > STORED_MAX ? STORED_MAX : (uint32_t)n;
        put_bits(w, final && len == n, 1);
        put_bits(w, BTYPE_STORED, 2);
        align_byte(w);
        put_bits(w, len, 16);
        put_bits(w, ~len & 0xffffu, 16);
        for (uint32_t i = 0; i < len; i++) put_byte(w, raw[i]);
        raw += len;
        n -= len;
    } while (n > 0);
}

/* Writes one block holding tokens t[0..nt), which encode raw[0..nraw),
 * in the smallest of the three forms. */
static void write_block(bitw *w, const token *t, int nt, const uint8_t *raw,
                        size_t nraw, bool final)
{
    counts c;
    count_symbols(t, nt, &c);
    huff fix_lit, fix_dist, lit, dist;
    fixed_codes(&fix_lit, &fix_dist);
    build_code(c.lit, LITLEN_USED, MAX_BITS, &lit);
    build_code(c.dist, DIST_SYMS, MAX_BITS, &dist);
    dyn_header d;
    uint64_t dyn = 3 + plan_header(&d, &lit, &dist) +
                   data_bits(&c, &lit, &dist);
    uint64_t fixed = 3 + data_bits(&c, &fix_lit, &fix_dist);
    /* header bits, padding (at most 7), then LEN and NLEN per block */
    uint64_t chunks = nraw == 0 ? 1 : (nraw + STORED_MAX - 1) / STORED_MAX;
    uint64_t stored = chunks * (3 + 7 + 32) + 8 * (uint64_t)nraw;

    if (stored < dyn && stored < fixed) {
        write_stored(w, raw, nraw, final);
    } else if (fixed <= dyn) {
        put_bits(w, final, 1);
        put_bits(w, BTYPE_FIXED, 2);
        write_symbols(w, t, nt, &fix_lit, &fix_dist);
    } else {
        put_bits(w, final, 1);
        put_bits(w, BTYPE_DYNAMIC, 2);
        write_header(w, &d);
        write_symbols(w, t, nt, &lit, &dist);
    }
}

/* ---- LZ77 ----------------------------------------------------------------
 * head[h] is the latest position whose 3 bytes hash to h, prev[p mod
 * WINDOW_SIZE] the position before p with the same hash; both store
 * position + 1, so 0 means none.  A chain is followed only while it stays
 * inside the window, where prev[] has not been overwritten yet. */

typedef struct {
    const uint8_t *in;
    size_t n;
    size_t *head; /* (HASH_SIZE) */
    size_t *prev; /* (WINDOW_SIZE) */
} lz;

typedef struct {
    int len;  /* 0: no match of MIN_MATCH or more */
    int dist;
} match;

static uint32_t hash3(const uint8_t *p)
{
    return ((uint32_t)p[0] << (2 * HASH_SHIFT) ^ (uint32_t)p[1] << HASH_SHIFT ^
            p[2]) & (HASH_SIZE - 1);
}

/* The longest match for position p among earlier positions, then p joins
 * its chain. */
static match find_and_insert(lz *z, size_t p)
{
    match m = { 0, 0 };
    if (z->n - p < MIN_MATCH) return m; /* too close to the end to hash */
    size_t maxlen = z->n - p < MAX_MATCH ? z->n - p : MAX_MATCH;
    uint32_t h = hash3(z->in + p);
    size_t best = MIN_MATCH - 1;
    int chain = MAX_CHAIN;
    for (size_t c = z->head[h]; c != 0 && chain-- > 0;
         c = z->prev[(c - 1) & WINDOW_MASK]) {
        size_t cand = c - 1;
        if (p - cand > WINDOW_SIZE) break;
        const uint8_t *a = z->in + cand, *b = z->in + p;
        if (a[best] != b[best]) continue; /* cannot beat the best */
        size_t len = 0;
        while (len < maxlen && a[len] == b[len]) len++;
        if (len > best) {
            best = len;
            m.len = (int)len;
            m.dist = (int)(p - cand);
            if (len == maxlen) break; /* nothing longer exists */
        }
    }
    z->prev[p & WINDOW_MASK] = z->head[h];
    z->head[h] = p + 1;
    return m;
}

/* Inserts positions [from, to) into the chains without searching. */
static void insert_range(lz *z, size_t from, size_t to)
{
    for (size_t p = from; p < to && z->n - p >= MIN_MATCH; p++) {
        uint32_t h = hash3(z->in + p);
        z->prev[p & WINDOW_MASK] = z->head[h];
        z->head[h] = p + 1;
    }
}

/* The block being collected: its tokens and where its raw bytes start. */
typedef struct {
    token *t; /* (BLOCK_TOKENS) */
    int nt;
    size_t start;
} block;

static void emit(bitw *w, block *b, const lz *z, token tk, size_t end)
{
    b->t[b->nt++] = tk;
    if (b->nt == BLOCK_TOKENS) {
        write_block(w, b->t, b->nt, z->in + b->start, end - b->start, false);
        b->nt = 0;
        b->start = end;
    }
}

/* LZ77 with one-step lazy matching: before taking a short match at i, see
 * whether i + 1 has a longer one; if so, i goes out as a literal. */
static void compress_blocks(bitw *w, lz *z, block *b)
{
    size_t i = 0;
    match m = z->n ? find_and_insert(z, 0) : (match){ 0, 0 };
    while (i < z->n) {
        if (m.len == 0) {
            emit(w, b, z, (token){ z->in[i], 0 }, i + 1);
            i++;
            if (i < z->n) m = find_and_insert(z, i);
            continue;
        }
        if (m.len < LAZY_MAX && i + 1 < z->n) {
            match next = find_and_insert(z, i + 1);
            if (next.len > m.len) {
                emit(w, b, z, (token){ z->in[i], 0 }, i + 1);
                i++;
                m = next;
                continue;
            }
            insert_range(z, i + 2, i + (size_t)m.len);
        } else {
            insert_range(z, i + 1, i + (size_t)m.len);
        }
        emit(w, b, z, (token){ (uint16_t)m.len, (uint16_t)m.dist },
             i + (size_t)m.len);
        i += (size_t)m.len;
        m = i < z->n ? find_and_insert(z, i) : (match){ 0, 0 };
    }
    write_block(w, b->t, b->nt, z->in + b->start, z->n - b->start, true);
}

/* ---- the zlib stream ---------------------------------------------------- */

advc_status advc_zlib_compress(const uint8_t *in, size_t n, uint8_t **out,
                               size_t *outn)
{
    *out = NULL;
    *outn = 0;
    lz z = { in, n, calloc(HASH_SIZE, sizeof(size_t)),
             calloc(WINDOW_SIZE, sizeof(size_t)) };
    block b = { calloc(BLOCK_TOKENS, sizeof(token)), 0, 0 };
    bitw w = { 0 };
    if (z.head && z.prev && b.t) {
        uint32_t flg = ZLIB_FLEVEL << 6;
        flg += (31 - (ZLIB_CMF << 8 | flg) % 31) % 31; /* FCHECK */
        put_byte(&w, ZLIB_CMF);
        put_byte(&w, (uint8_t)flg);
        compress_blocks(&w, &z, &b);
        align_byte(&w);
        uint32_t a = advc_adler32(1, in, n);
        for (int s = 24; s >= 0; s -= 8) put_byte(&w, (uint8_t)(a >> s));
    }
    free(z.head);
    free(z.prev);
    free(b.t);
    if (!z.head || !z.prev || !b.t || w.oom) {
        free(w.buf);
        return advc_set_error(ADVC_ERR_NOMEM, "deflate: out of memory "
                              "compressing %zu bytes", n);
    }
    *out = w.buf;
    *outn = w.len;
    return ADVC_OK;
}
