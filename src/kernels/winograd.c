/* winograd.c: the Winograd F(4x4, 3x3) transforms (advc/kernels.h states
 * the method, the layouts and the accuracy), factored and vectorised.
 *
 * Same results as scalar/winograd_ref.c up to rounding: the matrix
 * products are factored into the few adds and scalings each row needs, and
 * L = 8 tiles are transformed together, one per vector lane.  The L tiles
 * are consecutive tiles of one tile row ("block"), so their patches are
 * one strip of 6 input rows, 4L + 2 columns wide, read with contiguous
 * copies.  A 2-D transform is then
 *   vertical    over the strip's rows, on contiguous vectors of columns;
 *   horizontal  de-interleave each row by 4 (column 4l + s of lane l),
 *               then combine the 6 (or 4) de-interleaved vectors.
 * Every step is a loop over 8 lanes or 8 columns with a fixed trip count
 * and restrict pointers, which the compiler turns into vector code
 * (checked in the assembly for AVX-512, AVX2 and NEON: the de-interleaves
 * become permutes, the partial-lane loads and stores masked moves).
 * Not here: the GEMMs between the transforms (src/nn/ops/conv_wino.c).
 */
/* The short zero-fill and copy loops here stay loops: GCC would turn
 * them into memset/memcpy calls (loop distribution), which on runs of
 * 14-28 floats cost more than the stores (2.6% of a cnn training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include <stddef.h>
#include "advc/kernels.h"

enum {
    M = ADVC_WINO_TILE,  /* output tile side                            */
    A = ADVC_WINO_ALPHA, /* input patch side                            */
    L = 8,               /* tiles transformed together                  */
    SW = 4 * L + 8       /* strip width: 4L + 2 columns, padded to whole
                            vectors of 8                                */
};

int advc_wino_tiles(const advc_conv_geom *g)
{
    return ((g->oh + M - 1) / M) * ((g->ow + M - 1) / M);
}

/* ---- 1-D transforms on L lanes -------------------------------------------
 * in[k*is + l], k < 6 (or 4): the k-th value of lane l; likewise out. */

/* out = B^T in:  rows of B^T, e.g. z0 = 4 d0 - 5 d2 + d4 */
static inline void bt_1d(const float *restrict in, int is,
                         float *restrict out, int os)
{
    for (int l = 0; l < L; l++) {
        float d0 = in[l], d1 = in[is + l], d2 = in[2 * is + l];
        float d3 = in[3 * is + l], d4 = in[4 * is + l], d5 = in[5 * is + l];
        float s12 = d1 + d2, s34 = d3 + d4, m12 = d1 - d2, m34 = d4 - d3;
        float m31 = d3 - d1, m42 = d4 - d2;
        out[l] = (4.0f * d0 - 5.0f * d2) + d4;
        out[os + l] = s34 - 4.0f * s12;
        out[2 * os + l] = m34 + 4.0f * m12;
        out[3 * os + l] = m42 + 2.0f * m31;
        out[4 * os + l] = m42 - 2.0f * m31;
        out[5 * os + l] = (4.0f * d1 - 5.0f * d3) + d5;
    }
}

/* out = A^T in (6 values to 4): o1 = (s1 - s2) + 2 (s3 - s4), ... */
static inline void at_1d(const float *restrict in, int is,
                         float *restrict out, int os)
{
    for (int l = 0; l < L; l++) {
        float s1 = in[is + l], s2 = in[2 * is + l];
        float s3 = in[3 * is + l], s4 = in[4 * is + l];
        float p12 = s1 + s2, m12 = s1 - s2, p34 = s3 + s4, m34 = s3 - s4;
        out[l] = (in[l] + p12) + p34;
        out[os + l] = m12 + 2.0f * m34;
        out[2 * os + l] = p12 + 4.0f * p34;
        out[3 * os + l] = (m12 + 8.0f * m34) + in[5 * is + l];
    }
}

/* out = A in (4 values to 6), the adjoint of at_1d: m3 = (y0 + 4 y2) +
 * (2 y1 + 8 y3), ... */
static inline void a_1d(const float *restrict in, int is,
                        float *restrict out, int os)
{
    for (int l = 0; l < L; l++) {
        float y0 = in[l], y1 = in[is + l], y2 = in[2 * is + l];
        float y3 = in[3 * is + l];
        float e02 = y0 + y2, e13 = y1 + y3;
        float f = y0 + 4.0f * y2, h = 2.0f * y1 + 8.0f * y3;
        out[l] = y0;
        out[os + l] = e02 + e13;
        out[2 * os + l] = (y0 - y1) + (y2 - y3);
        out[3 * os + l] = f + h;
        out[4 * os + l] = f - h;
        out[5 * os + l] = y3;
    }
}

/* q[k*L + l] = row[4l + k + off], k < 4: one strip row de-interleaved by
 * 4 (lane l's columns).  Compiles to permutes. */
static inline void deinterleave4(const float *restrict row, int off,
                                 float *restrict q)
{
    const float *r = row + off;
    for (int l = 0; l < L; l++) {
        q[l] = r[4 * l];
        q[L + l] = r[4 * l + 1];
        q[2 * L + l] = r[4 * l + 2];
        q[3 * L + l] = r[4 * l + 3];
    }
}

/* row[4l + k] = q[k*L + l], k < 4: the inverse of deinterleave4. */
static inline void interleave4(const float *restrict q, float *restrict row)
{
    for (int l = 0; l < L; l++) {
        row[4 * l] = q[l];
        row[4 * l + 1] = q[L + l];
        row[4 * l + 2] = q[2 * L + l];
        row[4 * l + 3] = q[3 * L + l];
    }
}

/* dst[l] = v[l] for all L lanes, also past the block's tiles: rows have
 * ADVC_WINO_PAD spare columns, and blocks are written in increasing tile
 * order, so the next block overwrites the spare lanes of this one. */
static inline void store_lanes(float *restrict dst, const float *restrict v)
{
    for (int l = 0; l < L; l++) dst[l] = v[l];
}

/* v[l] = src[l] for all L lanes (the lanes past the block's tiles read
 * spare columns; their results are never stored). */
static inline void load_lanes(float *restrict v, const float *restrict src)
{
    for (int l = 0; l < L; l++) v[l] = src[l];
}

/* ---- filters --------------------------------------------------------------*/

/* u = G g (3 values to 6): u1 = -(g0 + g1 + g2) / 6, ... */
static void g_1d(const float *g, int gs, float *u, int us)
{
    float g0 = g[0], g1 = g[gs], g2 = g[2 * gs];
    u[0] = g0 / 4.0f;
    u[us] = -((g0 + g1) + g2) / 6.0f;
    u[2 * us] = -((g0 - g1) + g2) / 6.0f;
    u[3 * us] = (g0 / 24.0f + g1 / 12.0f) + g2 / 6.0f;
    u[4 * us] = (g0 / 24.0f - g1 / 12.0f) + g2 / 6.0f;
    u[5 * us] = g2;
}

/* g = G^T u (6 values to 3), the adjoint of g_1d. */
static void gt_1d(const float *u, int us, float *g, int gs)
{
    float u0 = u[0], u1 = u[us], u2 = u[2 * us], u3 = u[3 * us];
    float u4 = u[4 * us], u5 = u[5 * us];
    g[0] = (u0 / 4.0f - (u1 + u2) / 6.0f) + (u3 + u4) / 24.0f;
    g[gs] = (u2 - u1) / 6.0f + (u3 - u4) / 12.0f;
    g[2 * gs] = ((u3 + u4) - (u1 + u2)) / 6.0f + u5;
}

void advc_wino_weights(int cout, int c, const float *w, bool flip, float *U)
{
    size_t plane = (size_t)cout * c; /* floats per transform point */
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < c; i++) {
            const float *f = w + ((size_t)o * c + i) * 9;
            float gg[9], t[A * 3], u[A * A];
            for (int k = 0; k < 9; k++) gg[k] = flip ? f[8 - k] : f[k];
            for (int x = 0; x < 3; x++) g_1d(gg + x, 3, t + x, 3);
            for (int r = 0; r < A; r++) g_1d(t + r * 3, 1, u + r * A, 1);
            size_t at = flip ? (size_t)i * cout + o : (size_t)o * c + i;
            for (int k = 0; k < A * A; k++) U[k * plane + at] = u[k];
        }
}

void advc_wino_weights_adjoint(int cout, int c, const float *dU, float *dw)
{
    size_t plane = (size_t)cout * c;
    for (size_t at = 0; at < plane; at++) {
        float u[A * A], t[3 * A], g[9];
        for (int k = 0; k < A * A; k++) u[k] = dU[k * plane + at];
        for (int s = 0; s < A; s++) gt_1d(u + s, A, t + s, A);   /* rows */
        for (int x = 0; x < 3; x++) gt_1d(t + x * A, 1, g + x * 3, 1);
        for (int k = 0; k < 9; k++) dw[at * 9 + k] += g[k];
    }
}

/* ---- tile blocks ------------------------------------------------------ */

/* Tiles [t, t + n) of the batch, n <= L, all in tile row ty of image img,
 * starting at tile column tx. */
typedef struct {
    size_t img;
    int ty, tx, n;
} tile_block;

/* The block starting at tile t, ending at the end of its tile row, after
 * L tiles, or at tile end. */
static tile_block block_at(const advc_conv_geom *g, size_t t, size_t end)
{
    int tw = (g->ow + M - 1) / M, T = advc_wino_tiles(g);
    int r = (int)(t % (size_t)T);
    tile_block b = { t / (size_t)T, r / tw, r % tw, L };
    if (b.n > tw - b.tx) b.n = tw - b.tx;
    if ((size_t)b.n > end - t) b.n = (int)(end - t);
    return b;
}

/* dst[0..n) = src[0..n) (+ dst when acc) + bias: blocks of 8 written out
 * so that the compiler emits vector moves for a run of unknown length. */
static inline void copy_run(float *restrict dst, const float *restrict src,
                            int n, float bias, bool acc)
{
    int u = 0;
    if (acc) {
        for (; u + L <= n; u += L)
            for (int k = 0; k < L; k++) dst[u + k] += src[u + k] + bias;
        for (; u < n; u++) dst[u] += src[u] + bias;
        return;
    }
    for (; u + L <= n; u += L)
        for (int k = 0; k < L; k++) dst[u + k] = src[u + k] + bias;
    for (; u < n; u++) dst[u] = src[u] + bias;
}

/* Splits tiles [t, end) into blocks, at most max of them; returns how
 * many and advances *t past them. */
static int next_blocks(const advc_conv_geom *g, size_t *t, size_t end,
                       tile_block *b, int max)
{
    int n = 0;
    while (*t < end && n < max) {
        b[n] = block_at(g, *t, end);
        *t += (size_t)b[n++].n;
    }
    return n;
}

enum { MAX_BLOCKS = 64 }; /* blocks handled per batch */

/* Columns of a strip a block of n tiles needs: 4n (+ 2 for input
 * patches), in whole vectors. */
static inline int strip_cols(int n, int extra)
{
    return (M * n + extra + L - 1) / L * L;
}

/* strip[r*SW + u] = plane[iy0 + r][ix0 + u] for r < rows, u < sw, 0
 * outside the plane's h x w (columns from sw on are not touched). */
static void load_strip(const float *plane, int h, int w, int iy0, int ix0,
                       int rows, int sw, float *strip)
{
    int u0 = -ix0 > 0 ? -ix0 : 0, u1 = w - ix0 < sw ? w - ix0 : sw;
    for (int r = 0; r < rows; r++) {
        float *restrict dst = strip + r * SW;
        int iy = iy0 + r, u = 0;
        if (iy < 0 || iy >= h || u1 <= u0) u0 = u1 = sw; /* all zero */
        for (; u < u0; u++) dst[u] = 0.0f;
        if (u1 > u0)
            copy_run(dst + u0, plane + (size_t)iy * w + ix0 + u0, u1 - u0,
                     0.0f, false);
        for (u = u1 > u0 ? u1 : u0; u < sw; u++) dst[u] = 0.0f;
        u0 = -ix0 > 0 ? -ix0 : 0, u1 = w - ix0 < sw ? w - ix0 : sw;
    }
}

/* v[(r*6 + s)*L + l] = B^T d_l B for the block's patches, d_l at strip
 * columns [4l, 4l + 6), of which the first sw are valid (lanes past the
 * block's tiles read stale columns of t: their results are not used). */
static void input_block(const float *strip, int sw, float *t, float *v)
{
    float q[2 * M * L];
    for (int u = 0; u < sw; u += L) /* vertical: t = B^T strip */
        bt_1d(strip + u, SW, t + u, SW);
    for (int r = 0; r < A; r++) { /* horizontal: v = t B */
        deinterleave4(t + r * SW, 0, q);          /* columns 0-3 */
        deinterleave4(t + r * SW, 4, q + 4 * L);  /* 4-7: uses 4, 5 */
        bt_1d(q, L, v + r * A * L, L);
    }
}

/* Channel by channel, and within a channel block by block: each input
 * plane is swept once, in order (block by block over all channels read
 * ~100 rows of different planes at a time, which the hardware prefetchers
 * do not follow: 15% of a ResNet training step went to waiting for
 * them). */
void advc_wino_input(const advc_conv_geom *g, const float *x, size_t t0,
                     int nt, float *V, int ldv)
{
    float strip[A * SW], v[A * A * L], vert[A * SW] = { 0 };
    tile_block blk[MAX_BLOCKS];
    size_t hw = (size_t)g->h * g->w, plane = (size_t)g->c * ldv;
    size_t end = t0 + (size_t)nt;
    for (size_t t = t0; t < end;) {
        size_t tb = t;
        int nb = next_blocks(g, &t, end, blk, MAX_BLOCKS);
        for (int ci = 0; ci < g->c; ci++) {
            float *dst = V + (size_t)ci * ldv + (tb - t0);
            for (int k = 0; k < nb; k++) {
                const tile_block *b = &blk[k];
                int sw = strip_cols(b->n, 2);
                load_strip(x + (b->img * g->c + ci) * hw, g->h, g->w,
                           b->ty * M - g->pad, b->tx * M - g->pad, A, sw,
                           strip);
                input_block(strip, sw, vert, v);
                for (int xi = 0; xi < A * A; xi++)
                    store_lanes(dst + xi * plane, v + xi * L);
                dst += b->n;
            }
        }
    }
}

/* strip rows i < 4 = A^T m_l A side by side (lane l at columns
 * [4l, 4l + 4)), from m[(r*6 + s)*L + l]; the first sw columns. */
static void output_block(const float *m, int sw, float *strip)
{
    float q[A * SW], o[M * L];
    for (int r = 0; r < A; r++) { /* horizontal: q = m A */
        at_1d(m + r * A * L, L, o, L);
        interleave4(o, q + r * SW);
    }
    for (int u = 0; u < sw; u += L) /* vertical: strip = A^T q */
        at_1d(q + u, SW, strip + u, SW);
}

/* y rows [0, rows) x columns [0, cols) (+)= strip + bias */
static void store_strip(const float *strip, int rows, int cols, float bias,
                        bool accumulate, float *y, int ow)
{
    for (int i = 0; i < rows; i++, y += ow)
        copy_run(y, strip + i * SW, cols, bias, accumulate);
}

void advc_wino_output(const advc_conv_geom *g, int cout, const float *Mt,
                      int ldm, size_t t0, int nt, const float *bias,
                      bool accumulate, float *y)
{
    float m[A * A * L], strip[M * SW];
    tile_block blk[MAX_BLOCKS];
    size_t plane = (size_t)cout * ldm, ohw = (size_t)g->oh * g->ow;
    size_t end = t0 + (size_t)nt;
    for (size_t t = t0; t < end;) {
        size_t tb = t;
        int nb = next_blocks(g, &t, end, blk, MAX_BLOCKS);
        for (int co = 0; co < cout; co++) { /* planes in order */
            const float *src = Mt + (size_t)co * ldm + (tb - t0);
            float b0 = bias ? bias[co] : 0.0f;
            for (int k = 0; k < nb; k++) {
                const tile_block *b = &blk[k];
                int oy0 = b->ty * M, ox0 = b->tx * M;
                int rows = g->oh - oy0 < M ? g->oh - oy0 : M;
                int cols = g->ow - ox0 < M * b->n ? g->ow - ox0 : M * b->n;
                for (int xi = 0; xi < A * A; xi++)
                    load_lanes(m + xi * L, src + xi * plane);
                output_block(m, strip_cols(b->n, 0), strip);
                store_strip(strip, rows, cols, b0, accumulate,
                            y + (b->img * cout + co) * ohw +
                                (size_t)oy0 * g->ow + ox0,
                            g->ow);
                src += b->n;
            }
        }
    }
}

void advc_wino_output_adjoint(const advc_conv_geom *g, int cout,
                              const float *dy, size_t t0, int nt, float *D,
                              int ldd)
{
    float strip[M * SW], q[A * SW] = { 0 }, p[M * L], v[A * A * L];
    tile_block blk[MAX_BLOCKS];
    size_t plane = (size_t)cout * ldd, ohw = (size_t)g->oh * g->ow;
    size_t end = t0 + (size_t)nt;
    for (size_t t = t0; t < end;) {
        size_t tb = t;
        int nb = next_blocks(g, &t, end, blk, MAX_BLOCKS);
        for (int co = 0; co < cout; co++) { /* planes in order */
            float *dst = D + (size_t)co * ldd + (tb - t0);
            for (int k = 0; k < nb; k++) {
                const tile_block *b = &blk[k];
                int sw = strip_cols(b->n, 0);
                load_strip(dy + (b->img * cout + co) * ohw, g->oh, g->ow,
                           b->ty * M, b->tx * M, M, sw, strip);
                for (int u = 0; u < sw; u += L) /* vertical: q = A strip */
                    a_1d(strip + u, SW, q + u, SW);
                for (int r = 0; r < A; r++) { /* horizontal: v = q A^T */
                    deinterleave4(q + r * SW, 0, p);
                    a_1d(p, L, v + r * A * L, L);
                }
                for (int xi = 0; xi < A * A; xi++)
                    store_lanes(dst + xi * plane, v + xi * L);
                dst += b->n;
            }
        }
    }
}
