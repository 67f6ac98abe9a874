/* conv_pack.c: the lowered input of a convolution (col_c, defined in
 * scalar/conv_pack_ref.c) written where the GEMM wants it: straight into
 * the GEMM's B panels (advc_conv_cols, advc_conv_cols_t: implicit GEMM)
 * or into a block of columns (advc_conv_lower).
 *
 * Same entries as the references, organised for memory traffic: columns
 * split into runs that stay in one output row of one image.  Along a run
 * the inputs of one tap are contiguous (stride 1) or evenly strided; a run
 * whose taps all read inside the image copies from a fixed offset per tap,
 * and only runs at the padded borders clip.  Plain C: memory-bound copies,
 * written in blocks of 8 so the compiler emits vector moves.
 */
/* The short zero-fill and copy loops here stay loops: GCC would turn
 * them into memset/memcpy calls (loop distribution), which on runs of
 * 14-28 floats cost more than the stores (2.6% of a cnn training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include <assert.h>
#include <string.h>
#include "advc/kernels.h"

enum { MAX_RUNS = 64,     /* runs handled per batch                     */
       MAX_KW = 16,       /* kernel widths with precomputed spans       */
       MAX_WIDTH = 128 }; /* widest panel (NR) the packers accept       */

/* A stretch of columns inside one output row of one image. */
typedef struct {
    const float *img;   /* the image (c, h, w)                          */
    const float *base;  /* interior runs: tap 0's first input, else NULL */
    int oy, ox, len;    /* output row, first column, columns            */
    int at;             /* offset of its first column from the batch's  */
} px_run;

/* Output columns whose input column ox*stride - pad + kx lies in [0, w),
 * per kx: [lo[kx], hi[kx]) of [0, ow). */
typedef struct {
    int lo[MAX_KW], hi[MAX_KW];
} col_spans;

static void spans_init(const advc_conv_geom *g, col_spans *sp)
{
    for (int kx = 0; kx < g->kw && kx < MAX_KW; kx++) {
        int off = kx - g->pad; /* ix = ox*stride + off */
        int a = off >= 0 ? 0 : (-off + g->stride - 1) / g->stride;
        int b = g->w - 1 - off < 0 ? 0 : (g->w - 1 - off) / g->stride + 1;
        if (b > g->ow) b = g->ow;
        if (a > b) a = b;
        sp->lo[kx] = a, sp->hi[kx] = b;
    }
}

/* True when every tap of run r reads inside the image (no padding). */
static bool run_interior(const advc_conv_geom *g, const px_run *r)
{
    int iy = r->oy * g->stride - g->pad, ix = r->ox * g->stride - g->pad;
    return iy >= 0 && iy + g->kh <= g->h && ix >= 0 &&
           ix + (r->len - 1) * g->stride + g->kw <= g->w;
}

/* Splits columns [*col, end) of the chunk into runs, at most max; returns
 * how many, advances *col past them.  at counts from `from`. */
static int next_runs(const advc_conv_chunk *ch, int *col, int end, int from,
                     px_run *r, int max)
{
    const advc_conv_geom *g = ch->g;
    int ohw = g->oh * g->ow, n = 0;
    while (*col < end && n < max) {
        int i = *col / ohw, pix = *col % ohw;
        int ox = pix % g->ow, len = g->ow - ox;
        if (len > end - *col) len = end - *col;
        px_run *q = &r[n++];
        *q = (px_run){ ch->x + (size_t)i * ch->stride, NULL, pix / g->ow, ox,
                       len, *col - from };
        if (run_interior(g, q))
            q->base = q->img + (size_t)(q->oy * g->stride - g->pad) * g->w +
                      (q->ox * g->stride - g->pad);
        *col += len;
    }
    return n;
}

/* dst[0..n) = src[0..n): blocks of 8 written out so the compiler emits
 * 8-float vector moves (as src/kernels/im2col.c's copy_run). */
static inline void copy_short(float *restrict dst, const float *restrict src,
                              int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) dst[i + k] = src[i + k];
    for (; i < n; i++) dst[i] = src[i];
}

/* The run's inputs for tap (ci, ky, kx), out[q*step] for q < len (step 1:
 * along a row; a panel's width: down a panel column).  Input column of
 * output ox: ox*stride + kx - pad; zero outside the image. */
static void gather_run(const advc_conv_geom *g, const col_spans *sp,
                       const px_run *r, int ci, int ky, int kx, float *out,
                       size_t step)
{
    int iy = r->oy * g->stride - g->pad + ky, off = kx - g->pad;
    int lo = r->ox, hi = r->ox, s = g->stride, q = 0;
    const float *row = r->img;
    if (iy >= 0 && iy < g->h) {
        row += ((size_t)ci * g->h + iy) * g->w;
        if (kx < MAX_KW) {
            lo = sp->lo[kx] > r->ox ? sp->lo[kx] : r->ox;
            hi = sp->hi[kx] < r->ox + r->len ? sp->hi[kx] : r->ox + r->len;
        } else { /* a kernel wider than MAX_KW: clip one by one */
            lo = r->ox, hi = r->ox + r->len;
            while (lo < hi && lo * s + off < 0) lo++;
            while (hi > lo && (hi - 1) * s + off >= g->w) hi--;
        }
        if (lo > hi) lo = hi;
    }
    for (; q < lo - r->ox; q++) out[q * step] = 0.0f;
    if (step == 1 && s == 1) {
        copy_short(out + q, row + lo + off, hi - lo);
        q += hi - lo;
    } else {
        for (int ox = lo; ox < hi; ox++, q++)
            out[q * step] = row[ox * s + off];
    }
    for (; q < r->len; q++) out[q * step] = 0.0f;
}

/* dst[p*ld + (col - c0)] = col_c[p0 + p][col] for p < kc and columns
 * [c0, c0 + nc): the taps outside, the runs inside, so each dst row and
 * each input row are swept in order. */
static void lower_rows(const advc_conv_chunk *ch, int p0, int kc, int c0,
                       int nc, float *dst, size_t ld)
{
    const advc_conv_geom *g = ch->g;
    col_spans sp;
    spans_init(g, &sp);
    size_t hw = (size_t)g->h * g->w;
    px_run runs[MAX_RUNS];
    for (int col = c0; col < c0 + nc;) {
        int nruns = next_runs(ch, &col, c0 + nc, c0, runs, MAX_RUNS);
        int kx = p0 % g->kw, ky = (p0 / g->kw) % g->kh;
        int ci = p0 / (g->kw * g->kh);
        for (int p = 0; p < kc; p++) {
            float *row = dst + (size_t)p * ld;
            size_t tap = ci * hw + (size_t)ky * g->w + kx; /* from tap 0 */
            for (int k = 0; k < nruns; k++) {
                const px_run *r = &runs[k];
                if (r->base && g->stride == 1)
                    copy_short(row + r->at, r->base + tap, r->len);
                else
                    gather_run(g, &sp, r, ci, ky, kx, row + r->at, 1);
            }
            if (++kx == g->kw) { /* next tap: kx, then ky, then channel */
                kx = 0;
                if (++ky == g->kh) ky = 0, ci++;
            }
        }
    }
}

/* Zero columns [nr, width) of kc panel rows. */
static void zero_tail(int kc, int nr, int width, float *dst)
{
    if (nr == width) return;
    for (int p = 0; p < kc; p++)
        for (int c = nr; c < width; c++) dst[(size_t)p * width + c] = 0.0f;
}

void advc_conv_cols(const void *chunk, int p0, int kc, int j, int nr,
                    int width, float *dst)
{
    assert(nr <= width && width <= MAX_WIDTH);
    lower_rows(chunk, p0, kc, j, nr, dst, (size_t)width);
    zero_tail(kc, nr, width, dst);
}

void advc_conv_lower(const advc_conv_chunk *ch, int c0, int nc, float *dst,
                     size_t ld)
{
    lower_rows(ch, 0, ch->g->c * ch->g->kh * ch->g->kw, c0, nc, dst, ld);
}

void advc_conv_cols_t(const void *chunk, int p0, int kc, int j, int nr,
                      int width, float *dst)
{
    const advc_conv_chunk *ch = chunk;
    const advc_conv_geom *g = ch->g;
    assert(nr <= width && width <= MAX_WIDTH);
    col_spans sp;
    spans_init(g, &sp);
    int taps = g->kh * g->kw;
    px_run runs[MAX_RUNS];
    for (int col = p0; col < p0 + kc;) {
        int nruns = next_runs(ch, &col, p0 + kc, p0, runs, MAX_RUNS);
        for (int c = 0; c < nr; c++) { /* tap j + c: panel column c */
            int tap = j + c, ci = tap / taps;
            int ky = (tap % taps) / g->kw, kx = tap % g->kw;
            for (int k = 0; k < nruns; k++)
                gather_run(g, &sp, &runs[k], ci, ky, kx,
                           dst + (size_t)runs[k].at * width + c,
                           (size_t)width);
        }
    }
    zero_tail(kc, nr, width, dst);
}
