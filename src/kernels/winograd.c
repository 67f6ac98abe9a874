/* winograd.c: the Winograd F(4x4, 3x3) transforms (advc/kernels.h states
 * the method, the layouts and the accuracy), factored and vectorised.
 *
 * Same results as scalar/winograd_ref.c up to rounding: the matrix
 * products are factored into the few adds and scalings each row needs.
 * Written once over the vector layer (vec/vec.h), so AVX-512, AVX2 and
 * NEON builds get it from this one source; the scalar build runs the same
 * code on one-float "vectors" (the shim below).  Every tile goes through
 * the same operations in the same order whatever lane it sits in, so a
 * tile's bits depend on its own patch only: not on the ISA's lane count,
 * the thread count or which tiles share its block.
 *
 * L = VEC_LANES tiles are transformed together, one per lane: a "block"
 * of L consecutive tiles of the batch, which may span tile rows and
 * images (a 7x7 map has 2 tiles per tile row).  A block is made of
 * segments, runs of tiles in one tile row; lane l's patch sits in strip
 * columns [4l, 4l + 6).  Each segment's rows are read with contiguous
 * copies into the strip at its first lane, 4 columns per tile; the last
 * lane's columns 4 and 5 (the next lane owns those strip columns) go to
 * two side vectors at that lane.  A 2-D transform is then
 *   vertical    over the strip's rows, on contiguous vectors of columns;
 *   horizontal  de-interleave each row by 4 (column 4l + s of lane l;
 *               the side vectors replace the segments' last lanes), then
 *               combine the 6 (or 4) de-interleaved vectors.
 * Not here: the GEMMs between the transforms (src/nn/ops/conv_wino.c).
 */
/* The short zero-fill and copy loops here stay loops: GCC would turn
 * them into memset/memcpy calls (loop distribution), which on runs of
 * 14-28 floats cost more than the stores (2.6% of a cnn training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include <stddef.h>
#include "dispatch.h"

#if ISA_VEC_LANES > 1
#  include "vec/vec.h"
#else
/* The scalar build: one lane, vf a float, and these its operators. */
#  define VEC_LANES 1
typedef float vf;
typedef bool vmask;
static inline vf vdup(float a) { return a; }
static inline vf vload(const float *p) { return *p; }
static inline void vstore(float *p, vf v) { *p = v; }
static inline vf vload_n(const float *p, size_t r) { return r ? *p : 0.0f; }
static inline void vstore_n(float *p, vf v, size_t r)
{
    if (r) *p = v;
}
static inline vf vadd(vf a, vf b) { return a + b; }
static inline vf vsub(vf a, vf b) { return a - b; }
static inline vf vmul(vf a, vf b) { return a * b; }
static inline vf vdiv(vf a, vf b) { return a / b; }
static inline vmask vcmp_gt(vf a, vf b) { return a > b; }
static inline vf vsel(vmask m, vf a, vf b) { return m ? a : b; }
static inline void vdeinterleave4(const float *p, vf q[4])
{
    for (int k = 0; k < 4; k++) q[k] = p[k];
}
static inline void vinterleave4(float *p, const vf q[4])
{
    for (int k = 0; k < 4; k++) p[k] = q[k];
}
#endif

enum {
    M = ADVC_WINO_TILE,  /* output tile side                            */
    A = ADVC_WINO_ALPHA, /* input patch side                            */
    P = ADVC_WINO_POINTS,
    L = VEC_LANES,       /* tiles transformed together, one per lane    */
    SW = 4 * L + 4       /* strip row: 4 columns per lane, + 4 that the
                            shifted de-interleave reads past the end    */
};

/* p[0 .. n) = 0: a loop (not an initializer, which GCC makes a memset
 * call on every transform call; see the pragma above) */
static void zero(float *p, int n)
{
    for (int i = 0; i < n; i++) p[i] = 0.0f;
}

int advc_wino_tiles(const advc_conv_geom *g)
{
    return ((g->oh + M - 1) / M) * ((g->ow + M - 1) / M);
}

/* ---- 1-D transforms on L lanes ------------------------------------------ */

/* o = B^T d (6 values to 6): rows of B^T, e.g. o0 = (4 d0 - 5 d2) + d4 */
static inline void bt_1d(const vf d[6], vf o[6])
{
    vf c2 = vdup(2.0f), c4 = vdup(4.0f), c5 = vdup(5.0f);
    vf s12 = vadd(d[1], d[2]), s34 = vadd(d[3], d[4]);
    vf m12 = vsub(d[1], d[2]), m34 = vsub(d[4], d[3]);
    vf m31 = vsub(d[3], d[1]), m42 = vsub(d[4], d[2]);
    o[0] = vadd(vsub(vmul(c4, d[0]), vmul(c5, d[2])), d[4]);
    o[1] = vsub(s34, vmul(c4, s12));
    o[2] = vadd(m34, vmul(c4, m12));
    o[3] = vadd(m42, vmul(c2, m31));
    o[4] = vsub(m42, vmul(c2, m31));
    o[5] = vadd(vsub(vmul(c4, d[1]), vmul(c5, d[3])), d[5]);
}

/* o = A^T s (6 values to 4): o1 = (s1 - s2) + 2 (s3 - s4), ... */
static inline void at_1d(const vf s[6], vf o[4])
{
    vf p12 = vadd(s[1], s[2]), m12 = vsub(s[1], s[2]);
    vf p34 = vadd(s[3], s[4]), m34 = vsub(s[3], s[4]);
    o[0] = vadd(vadd(s[0], p12), p34);
    o[1] = vadd(m12, vmul(vdup(2.0f), m34));
    o[2] = vadd(p12, vmul(vdup(4.0f), p34));
    o[3] = vadd(vadd(m12, vmul(vdup(8.0f), m34)), s[5]);
}

/* o = A y (4 values to 6), the adjoint of at_1d: o3 = (y0 + 4 y2) +
 * (2 y1 + 8 y3), ... */
static inline void a_1d(const vf y[4], vf o[6])
{
    vf e02 = vadd(y[0], y[2]), e13 = vadd(y[1], y[3]);
    vf f = vadd(y[0], vmul(vdup(4.0f), y[2]));
    vf h = vadd(vmul(vdup(2.0f), y[1]), vmul(vdup(8.0f), y[3]));
    o[0] = y[0];
    o[1] = vadd(e02, e13);
    o[2] = vadd(vsub(y[0], y[1]), vsub(y[2], y[3]));
    o[3] = vadd(f, h);
    o[4] = vsub(f, h);
    o[5] = y[3];
}

/* v[k] = p[k*ld], k < n.  Unrolled (n is 4, 6 or 9), so that the small
 * vf arrays of the transforms live in registers, not on the stack. */
static inline void load_col(const float *p, int ld, int n, vf *v)
{
#pragma GCC unroll 9
    for (int k = 0; k < n; k++) v[k] = vload(p + k * ld);
}

/* p[k*ld] = v[k], k < n */
static inline void store_col(float *p, int ld, int n, const vf *v)
{
#pragma GCC unroll 9
    for (int k = 0; k < n; k++) vstore(p + k * ld, v[k]);
}

/* dst[0..n) = v, n <= L lanes; nothing past dst + n is touched. */
static inline void store_lanes(float *dst, vf v, int n)
{
    if (n == L) vstore(dst, v);
    else vstore_n(dst, v, (size_t)n);
}

/* src[0..n), the other lanes 0; nothing past src + n is read. */
static inline vf load_lanes(const float *src, int n)
{
    return n == L ? vload(src) : vload_n(src, (size_t)n);
}

/* ---- filters --------------------------------------------------------------*/

/* u = G g (3 values to 6) on L filters: u1 = -((g0 + g1) + g2) / 6, ... */
static inline void g_1d(vf g0, vf g1, vf g2, vf u[6])
{
    vf c4 = vdup(4.0f), c6 = vdup(6.0f), c12 = vdup(12.0f);
    vf c24 = vdup(24.0f), neg = vdup(-1.0f); /* x * -1 = -x exactly */
    vf a = vdiv(g0, c24), b = vdiv(g1, c12), c = vdiv(g2, c6);
    u[0] = vdiv(g0, c4);
    u[1] = vdiv(vmul(neg, vadd(vadd(g0, g1), g2)), c6);
    u[2] = vdiv(vmul(neg, vadd(vsub(g0, g1), g2)), c6);
    u[3] = vadd(vadd(a, b), c);
    u[4] = vadd(vsub(a, b), c);
    u[5] = g2;
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

/* gg[k*L + l] = tap k of filter at0 + l of U's order (at = o c + i, or
 * i cout + o when flip != trans; taps reversed with flip), for l < n; 0
 * past n. */
static void gather_filters(int cout, int c, const float *w, bool flip,
                           bool trans, size_t at0, int n, float *gg)
{
    for (int l = 0; l < L; l++) {
        size_t at = at0 + (size_t)l;
        size_t oi = flip != trans
                        ? (at % (size_t)cout) * c + at / (size_t)cout
                        : at;
        const float *f = w + oi * 9;
        for (int k = 0; k < 9; k++)
            gg[k * L + l] = l >= n ? 0.0f : flip ? f[8 - k] : f[k];
    }
}

/* L filters at a time, one per lane: U's rows are contiguous in at. */
void advc_wino_weights(int cout, int c, const float *w, bool flip,
                       bool trans, float *U)
{
    size_t plane = (size_t)cout * c; /* floats per transform point */
    float gg[9 * L];
    for (size_t at0 = 0; at0 < plane; at0 += L) {
        int n = plane - at0 < (size_t)L ? (int)(plane - at0) : L;
        vf g[9], t[A * 3], u[A];
        gather_filters(cout, c, w, flip, trans, at0, n, gg);
        load_col(gg, L, 9, g);
        for (int x = 0; x < 3; x++) { /* columns: t = G g */
            g_1d(g[x], g[3 + x], g[6 + x], u);
            for (int r = 0; r < A; r++) t[r * 3 + x] = u[r];
        }
        for (int r = 0; r < A; r++) { /* rows: u = t G^T */
            g_1d(t[r * 3], t[r * 3 + 1], t[r * 3 + 2], u);
            for (int s = 0; s < A; s++)
                store_lanes(U + (size_t)(r * A + s) * plane + at0, u[s], n);
        }
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

/* n tiles in tile row ty of image img from tile column tx, in lanes
 * [l0, l0 + n) of their block. */
typedef struct {
    size_t img;
    int ty, tx, n, l0;
} tile_seg;

/* Tiles [t, t + n) of the batch, n <= L, as nseg segments; last[l] = 1
 * where lane l is a segment's last, else 0. */
typedef struct {
    int n, nseg;
    tile_seg s[L];
    float last[L];
} tile_block;

/* The block of up to L tiles from tile *t, none at or past end; advances
 * *t past it. */
static void block_at(const advc_conv_geom *g, size_t *t, size_t end,
                     tile_block *b)
{
    int tw = (g->ow + M - 1) / M, T = advc_wino_tiles(g);
    b->n = b->nseg = 0;
    for (int l = 0; l < L; l++) b->last[l] = 0.0f;
    while (b->n < L && *t < end) {
        int r = (int)(*t % (size_t)T), n = tw - r % tw;
        if (n > L - b->n) n = L - b->n;
        if ((size_t)n > end - *t) n = (int)(end - *t);
        b->s[b->nseg++] = (tile_seg){ *t / (size_t)T, r / tw, r % tw, n,
                                      b->n };
        b->n += n, *t += (size_t)n;
        b->last[b->n - 1] = 1.0f;
    }
}

/* Splits tiles [t, end) into blocks, at most max of them; returns how
 * many and advances *t past them. */
static int next_blocks(const advc_conv_geom *g, size_t *t, size_t end,
                       tile_block *b, int max)
{
    int n = 0;
    while (*t < end && n < max) block_at(g, t, end, &b[n++]);
    return n;
}

enum { MAX_BLOCKS = 64 }; /* blocks handled per batch */

/* Images up to and including the one of tile t0 + nt - 1 (nt > 0): the
 * part of the batch's tensors that tiles [t0, t0 + nt) may read. */
static size_t images_end(const advc_conv_geom *g, size_t t0, int nt)
{
    if (nt <= 0) return 0;
    return (t0 + (size_t)nt - 1) / (size_t)advc_wino_tiles(g) + 1;
}

/* The first r < L floats at p in the first r lanes; the other lanes
 * unspecified.  A whole vector when one fits below end (the end of the
 * buffer p is in), which is cheaper than the masked load used otherwise:
 * masked tails of input rows were 28% of a resnet training step. */
static inline vf load_tail(const float *p, size_t r, const float *end)
{
    return end - p >= L ? vload(p) : vload_n(p, r);
}

/* dst[0..n) = src[0..n) + bias (acc: dst + (src + bias)), in vectors and
 * a partial tail vector; src_end and dst_end end the buffers src and dst
 * are in (dst_end is read only with acc). */
static inline void copy_run(float *dst, const float *src, int n, vf bias,
                            bool acc, const float *src_end,
                            const float *dst_end)
{
    int u = 0;
    for (; u + L <= n; u += L) {
        vf s = vadd(vload(src + u), bias);
        vstore(dst + u, acc ? vadd(vload(dst + u), s) : s);
    }
    if (u < n) {
        size_t r = (size_t)(n - u);
        vf s = vadd(load_tail(src + u, r, src_end), bias);
        if (acc) s = vadd(load_tail(dst + u, r, dst_end), s);
        vstore_n(dst + u, s, r);
    }
}

/* dst[0..n) = 0 */
static inline void zero_run(float *dst, int n)
{
    int u = 0;
    for (; u + L <= n; u += L) vstore(dst + u, vdup(0.0f));
    if (u < n) vstore_n(dst + u, vdup(0.0f), (size_t)(n - u));
}

/* dst[r*ld + u] = plane[iy0 + r][ix0 + u] for r < rows, u < cols, 0
 * outside the plane's h x w; end ends the buffer the plane is in.  The
 * copies add +0 (-0 becomes +0), as the transforms always have. */
static void load_rows(const float *plane, const float *end, int h, int w,
                      int iy0, int ix0, int rows, int cols, float *dst,
                      int ld)
{
    int u0 = -ix0 > 0 ? -ix0 : 0, u1 = w - ix0 < cols ? w - ix0 : cols;
    if (u0 > cols) u0 = cols;
    if (u1 < u0) u1 = u0;
    for (int r = 0; r < rows; r++, dst += ld) {
        int iy = iy0 + r;
        if (iy < 0 || iy >= h || u1 == u0) {
            zero_run(dst, cols);
            continue;
        }
        zero_run(dst, u0);
        copy_run(dst + u0, plane + (size_t)iy * w + ix0 + u0, u1 - u0,
                 vdup(0.0f), false, end, NULL);
        zero_run(dst + u1, cols - u1);
    }
}

/* ---- input: V = B^T d B ------------------------------------------------ */

/* Block b's patches of channel ci: lane l's columns 0-3 at strip columns
 * [4l, 4l + 4) (rows SW apart), 4 and 5 at 4l + 4, 4l + 5 except for a
 * segment's last lane, whose columns 4 and 5 are lane l of side rows r
 * and A + r (rows L apart). */
static void load_input(const advc_conv_geom *g, const float *x,
                       const float *x_end, int ci, const tile_block *b,
                       float *strip, float *side)
{
    size_t hw = (size_t)g->h * g->w;
    for (int j = 0; j < b->nseg; j++) {
        const tile_seg *s = &b->s[j];
        const float *plane = x + (s->img * g->c + ci) * hw;
        int iy0 = s->ty * M - g->pad, ix0 = s->tx * M - g->pad;
        int e = s->l0 + s->n - 1, ix = ix0 + M * s->n;
        float two[2 * A]; /* the segment's columns 4 and 5, by rows */
        load_rows(plane, x_end, g->h, g->w, iy0, ix0, A, M * s->n,
                  strip + M * s->l0, SW);
        load_rows(plane, x_end, g->h, g->w, iy0, ix, A, 2, two, 2);
        for (int r = 0; r < A; r++) {
            side[r * L + e] = two[2 * r];
            side[(A + r) * L + e] = two[2 * r + 1];
        }
    }
}

/* v[(r*6 + s)*L + l] = B^T d_l B for the block's patches (load_input's
 * layout); t is scratch of the strip's size. */
static void input_block(const float *strip, const float *side,
                        const tile_block *b, float *t, float *v)
{
    vf d[A], o[A], q[A], sh[4], e4[A], e5[A];
    for (int u = 0; u < 4 * L; u += L) { /* vertical: t = B^T strip */
        load_col(strip + u, SW, A, d);
        bt_1d(d, o);
        store_col(t + u, SW, A, o);
    }
    load_col(side, L, A, d), bt_1d(d, e4);
    load_col(side + A * L, L, A, d), bt_1d(d, e5);
    vmask last = vcmp_gt(vload(b->last), vdup(0.0f));
    for (int r = 0; r < A; r++) { /* horizontal: v = t B */
        vdeinterleave4(t + r * SW, q);      /* columns 0-3 */
        vdeinterleave4(t + r * SW + 4, sh); /* 4, 5 (+ 6, 7 unused) */
        q[4] = vsel(last, e4[r], sh[0]);
        q[5] = vsel(last, e5[r], sh[1]);
        bt_1d(q, o);
        store_col(v + r * A * L, L, A, o);
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
    /* zeroed once: lanes past a short block compute on these, unstored */
    float strip[A * SW], side[2 * A * L], t[A * SW], v[P * L];
    zero(strip, A * SW);
    zero(side, 2 * A * L);
    zero(t, A * SW);
    tile_block blk[MAX_BLOCKS];
    size_t plane = (size_t)g->c * ldv, end = t0 + (size_t)nt;
    const float *x_end = x + images_end(g, t0, nt) * g->c * g->h * g->w;
    for (size_t t1 = t0; t1 < end;) {
        size_t tb = t1;
        int nb = next_blocks(g, &t1, end, blk, MAX_BLOCKS);
        for (int ci = 0; ci < g->c; ci++) {
            float *dst = V + (size_t)ci * ldv + (tb - t0);
            for (int k = 0; k < nb; k++) {
                load_input(g, x, x_end, ci, &blk[k], strip, side);
                input_block(strip, side, &blk[k], t, v);
                for (int xi = 0; xi < P; xi++)
                    store_lanes(dst + xi * plane, vload(v + xi * L),
                                blk[k].n);
                dst += blk[k].n;
            }
        }
    }
}

/* ---- output: y = A^T M A + b --------------------------------------------*/

/* strip rows i < 4 = A^T m_l A side by side (lane l at columns
 * [4l, 4l + 4)), from m[(r*6 + s)*L + l]; q is scratch of 6 strip rows. */
static void output_block(const float *m, float *q, float *strip)
{
    vf s[A], o[M];
    for (int r = 0; r < A; r++) { /* horizontal: q = m A */
        load_col(m + r * A * L, L, A, s);
        at_1d(s, o);
        vinterleave4(q + r * SW, o);
    }
    for (int u = 0; u < 4 * L; u += L) { /* vertical: strip = A^T q */
        load_col(q + u, SW, A, s);
        at_1d(s, o);
        store_col(strip + u, SW, M, o);
    }
}

/* Block b's outputs of channel co from strip to y (+)= strip + bias,
 * clipped to the output's oh x ow. */
static void store_output(const advc_conv_geom *g, int cout, int co,
                         const tile_block *b, const float *strip, vf bias,
                         bool acc, float *y, const float *y_end)
{
    size_t ohw = (size_t)g->oh * g->ow;
    for (int j = 0; j < b->nseg; j++) {
        const tile_seg *s = &b->s[j];
        int oy0 = s->ty * M, ox0 = s->tx * M;
        int rows = g->oh - oy0 < M ? g->oh - oy0 : M;
        int cols = g->ow - ox0 < M * s->n ? g->ow - ox0 : M * s->n;
        float *yo = y + (s->img * cout + co) * ohw + (size_t)oy0 * g->ow +
                    ox0;
        for (int i = 0; i < rows; i++, yo += g->ow)
            copy_run(yo, strip + i * SW + M * s->l0, cols, bias, acc,
                     strip + M * SW, y_end);
    }
}

void advc_wino_output(const advc_conv_geom *g, int cout, const float *Mt,
                      int ldm, size_t t0, int nt, const float *bias,
                      bool accumulate, float *y)
{
    float m[P * L], q[A * SW], strip[M * SW];
    zero(q, A * SW);
    tile_block blk[MAX_BLOCKS];
    size_t plane = (size_t)cout * ldm, end = t0 + (size_t)nt;
    const float *y_end = y + images_end(g, t0, nt) * cout * g->oh * g->ow;
    for (size_t t = t0; t < end;) {
        size_t tb = t;
        int nb = next_blocks(g, &t, end, blk, MAX_BLOCKS);
        for (int co = 0; co < cout; co++) { /* planes in order */
            const float *src = Mt + (size_t)co * ldm + (tb - t0);
            vf b0 = vdup(bias ? bias[co] : 0.0f);
            for (int k = 0; k < nb; k++) {
                for (int xi = 0; xi < P; xi++)
                    vstore(m + xi * L,
                           load_lanes(src + xi * plane, blk[k].n));
                output_block(m, q, strip);
                store_output(g, cout, co, &blk[k], strip, b0, accumulate,
                             y, y_end);
                src += blk[k].n;
            }
        }
    }
}

/* ---- weight gradient: D = A dY A^T --------------------------------------*/

/* v[(r*6 + s)*L + l] = A y_l A^T for the 4x4 tiles y_l at strip columns
 * [4l, 4l + 4); q is scratch of 6 strip rows. */
static void adjoint_block(const float *strip, float *q, float *v)
{
    vf y[M], o[A];
    for (int u = 0; u < 4 * L; u += L) { /* vertical: q = A strip */
        load_col(strip + u, SW, M, y);
        a_1d(y, o);
        store_col(q + u, SW, A, o);
    }
    for (int r = 0; r < A; r++) { /* horizontal: v = q A^T */
        vdeinterleave4(q + r * SW, y);
        a_1d(y, o);
        store_col(v + r * A * L, L, A, o);
    }
}

void advc_wino_output_adjoint(const advc_conv_geom *g, int cout,
                              const float *dy, size_t t0, int nt, float *D,
                              int ldd)
{
    float strip[M * SW], q[A * SW], v[P * L];
    zero(strip, M * SW);
    zero(q, A * SW);
    tile_block blk[MAX_BLOCKS];
    size_t plane = (size_t)cout * ldd, ohw = (size_t)g->oh * g->ow;
    size_t end = t0 + (size_t)nt;
    const float *dy_end = dy + images_end(g, t0, nt) * cout * ohw;
    for (size_t t = t0; t < end;) {
        size_t tb = t;
        int nb = next_blocks(g, &t, end, blk, MAX_BLOCKS);
        for (int co = 0; co < cout; co++) { /* planes in order */
            float *dst = D + (size_t)co * ldd + (tb - t0);
            for (int k = 0; k < nb; k++) {
                const tile_block *b = &blk[k];
                for (int j = 0; j < b->nseg; j++) {
                    const tile_seg *s = &b->s[j];
                    load_rows(dy + (s->img * cout + co) * ohw, dy_end, g->oh,
                              g->ow, s->ty * M, s->tx * M, M, M * s->n,
                              strip + M * s->l0, SW);
                }
                adjoint_block(strip, q, v);
                for (int xi = 0; xi < P; xi++)
                    store_lanes(dst + xi * plane, vload(v + xi * L), b->n);
                dst += b->n;
            }
        }
    }
}
