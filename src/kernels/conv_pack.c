/* conv_pack.c: implicit-GEMM convolution: the GEMM's B panels packed
 * straight from NCHW images, so the lowered matrix col_c (scalar/
 * conv_pack_ref.c defines it) is never written.  Same entries as the
 * references, organised for memory traffic: a panel's columns split into
 * runs that stay in one output row of one image; along a run the input
 * pixels of one tap are contiguous (stride 1) or evenly strided, and only
 * the padded borders are special.  Plain C (memory-bound copies). */
#include <assert.h>
#include <string.h>
#include "advc/kernels.h"

enum { MAX_RUNS = 64,    /* runs handled per batch of the weight packer */
       MAX_WIDTH = 128 }; /* widest panel (NR) the packers accept       */

/* A stretch of columns inside one output row of one image. */
typedef struct {
    const float *img; /* the image (c, h, w)                  */
    int oy, ox, len;  /* output row, first column, columns     */
    int at;           /* offset of its first column from the start */
} px_run;

/* Splits columns [col, end) of the chunk into runs, at most max of them;
 * returns how many and advances *col past them. */
static int next_runs(const advc_conv_chunk *ch, int *col, int end,
                     px_run *r, int max)
{
    const advc_conv_geom *g = ch->g;
    int ohw = g->oh * g->ow, n = 0, start = *col;
    while (*col < end && n < max) {
        int i = *col / ohw, pix = *col % ohw;
        int ox = pix % g->ow, len = g->ow - ox;
        if (len > end - *col) len = end - *col;
        r[n++] = (px_run){ ch->x + (size_t)i * ch->stride, pix / g->ow, ox,
                           len, *col - start };
        *col += len;
    }
    return n;
}

/* Output columns ox whose input column ox*stride - pad + kx lies in
 * [0, w), intersected with [ox0, ox0 + len): [*lo, *hi). */
static void valid_span(const advc_conv_geom *g, int kx, int ox0, int len,
                       int *lo, int *hi)
{
    int off = kx - g->pad; /* ix = ox*stride + off */
    int a = off >= 0 ? 0 : (-off + g->stride - 1) / g->stride;
    int b = g->w - 1 - off < 0 ? 0 : (g->w - 1 - off) / g->stride + 1;
    if (a < ox0) a = ox0;
    if (b > ox0 + len) b = ox0 + len;
    if (a > b) a = b;
    *lo = a, *hi = b;
}

/* The run's inputs for tap (ci, ky, kx): out[q*step] for q < len (step 1:
 * along a panel row; the panel width: down a panel column).  Input
 * column of output ox: ox*stride + kx - pad. */
static void gather_run(const advc_conv_geom *g, const px_run *r, int ci,
                       int ky, int kx, float *out, size_t step)
{
    int iy = r->oy * g->stride - g->pad + ky, off = kx - g->pad;
    int lo = r->ox, hi = r->ox, s = g->stride, q = 0;
    const float *row = r->img;
    if (iy >= 0 && iy < g->h) {
        row += ((size_t)ci * g->h + iy) * g->w;
        valid_span(g, kx, r->ox, r->len, &lo, &hi);
    }
    for (; q < lo - r->ox; q++) out[q * step] = 0.0f;
    if (step == 1 && s == 1) {
        const float *restrict a = row + lo + off;
        float *restrict b = out + q;
        int n = hi - lo;
        for (int k = 0; k < n; k++) b[k] = a[k];
        q += n;
    } else {
        for (int ox = lo; ox < hi; ox++, q++)
            out[q * step] = row[ox * s + off];
    }
    for (; q < r->len; q++) out[q * step] = 0.0f;
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
    const advc_conv_chunk *ch = chunk;
    const advc_conv_geom *g = ch->g;
    assert(nr <= width && width <= MAX_WIDTH);
    px_run runs[MAX_WIDTH];
    int col = j, nruns = next_runs(ch, &col, j + nr, runs, MAX_WIDTH);
    int kx = p0 % g->kw, ky = (p0 / g->kw) % g->kh, ci = p0 / (g->kw * g->kh);
    for (int p = 0; p < kc; p++) {
        float *row = dst + (size_t)p * width;
        for (int k = 0; k < nruns; k++)
            gather_run(g, &runs[k], ci, ky, kx, row + runs[k].at, 1);
        if (++kx == g->kw) { /* next tap: kx, then ky, then channel */
            kx = 0;
            if (++ky == g->kh) ky = 0, ci++;
        }
    }
    zero_tail(kc, nr, width, dst);
}

void advc_conv_cols_t(const void *chunk, int p0, int kc, int j, int nr,
                      int width, float *dst)
{
    const advc_conv_chunk *ch = chunk;
    const advc_conv_geom *g = ch->g;
    assert(nr <= width && width <= MAX_WIDTH);
    int taps = g->kh * g->kw;
    px_run runs[MAX_RUNS];
    int col = p0, end = p0 + kc;
    while (col < end) {
        int at = col - p0;
        int nruns = next_runs(ch, &col, end, runs, MAX_RUNS);
        for (int c = 0; c < nr; c++) { /* tap j + c: panel column c */
            int tap = j + c, ci = tap / taps;
            int ky = (tap % taps) / g->kw, kx = tap % g->kw;
            for (int k = 0; k < nruns; k++)
                gather_run(g, &runs[k], ci, ky, kx,
                           dst + (size_t)(at + runs[k].at) * width + c,
                           (size_t)width);
        }
    }
    zero_tail(kc, nr, width, dst);
}
