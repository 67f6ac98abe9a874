/* conv_patch.c: a convolution recomputed on rectangles of its output
 * plane, for incremental forwards (src/nn/forward_patch.c):
 *   Y_R = W col_R(x) + b    col_R: the lowered input of the rectangle's
 *                           pixels only (cin*k*k rows, one column each)
 * The rectangles of several samples are the rows of one GEMM.  Every
 * output is the same sum as in conv_gemm.c's forward (the GEMM's sum for
 * one entry depends only on its row of W, its column and k; the bias is
 * added the same way), so the patched values are its bits.  When the
 * lowered rows are at most a quarter nonzero (conv2 of the MNIST `cnn`
 * under Square: about 5%), the product is taken as sparse rows times W^T
 * (advc_sparse_gemm: the GEMM's sums without the products with zero).
 */
#include <string.h>
#include "conv2d_internal.h"

bool conv_reach(const nn_node *v, const advc_rect *in, advc_rect *out)
{
    const conv_op *d = v->priv;
    const advc_conv_geom *g = &d->geom;
    if (d->algo == ADVC_CONV_WINOGRAD || g->kh != g->kw) return false;
    nn_reach_window(in, g->kh, g->stride, g->pad, g->oh, g->ow, out);
    return true;
}

/* Floats per pixel: its lowered input (kdim), its outputs (cout), and its
 * part of the sparse form (a row start, kdim/NN_SPARSE_SHARE entries of an
 * index and a value); plus W^T (kdim * cout) and one row start. */
static size_t per_pixel(const conv_op *d)
{
    return (size_t)d->kdim + d->cout + 1 + 2 * (d->kdim / NN_SPARSE_SHARE);
}

size_t conv_patch_floats(const nn_node *v, size_t pixels)
{
    const conv_op *d = v->priv;
    return pixels * per_pixel(d) + (size_t)d->kdim * d->cout + 1;
}

/* dst[0 .. n) = src[0 .. n): the common kernel widths as fixed-size
 * copies, which the compiler turns into one or two vector moves (a loop
 * of unknown count cost a third of the patched forward). */
static inline void copy_run(float *restrict dst, const float *restrict src,
                            int n)
{
    switch (n) {
    case 3: memcpy(dst, src, 3 * sizeof *dst); break;
    case 4: memcpy(dst, src, 4 * sizeof *dst); break;
    case 5: memcpy(dst, src, 5 * sizeof *dst); break;
    default:
        for (int k = 0; k < n; k++) dst[k] = src[k];
    }
}

/* One row of the lowered input, for output pixel (oy, ox): row[(ci, ky,
 * kx)] = x[ci][oy*stride - pad + ky][ox*stride - pad + kx], 0 outside.
 * Each (ci, ky) is a run of kw neighbours of one input row. */
static void lower_pixel(const advc_conv_geom *g, const float *x, int oy,
                        int ox, float *restrict row)
{
    int ix0 = ox * g->stride - g->pad, iy0 = oy * g->stride - g->pad;
    bool inside_x = ix0 >= 0 && ix0 + g->kw <= g->w;
    if (g->kh == 4 && g->kw == 4 && inside_x && iy0 >= 0 &&
        iy0 + 4 <= g->h) {
        /* 4x4 window inside the plane (cnn-small's layers, most pixels):
         * four fixed 4-float copies per channel, no bounds per row */
        size_t hw = (size_t)g->h * g->w;
        const float *src = x + (size_t)iy0 * g->w + ix0;
        for (int ci = 0; ci < g->c; ci++, src += hw, row += 16) {
            memcpy(row, src, 4 * sizeof *row);
            memcpy(row + 4, src + g->w, 4 * sizeof *row);
            memcpy(row + 8, src + 2 * g->w, 4 * sizeof *row);
            memcpy(row + 12, src + 3 * g->w, 4 * sizeof *row);
        }
        return;
    }
    for (int ci = 0; ci < g->c; ci++)
        for (int ky = 0; ky < g->kh; ky++, row += g->kw) {
            int iy = oy * g->stride - g->pad + ky;
            if (iy < 0 || iy >= g->h) {
                for (int kx = 0; kx < g->kw; kx++) row[kx] = 0.0f;
                continue;
            }
            const float *src = x + ((size_t)ci * g->h + iy) * g->w + ix0;
            if (inside_x) {
                copy_run(row, src, g->kw);
                continue;
            }
            for (int kx = 0; kx < g->kw; kx++)
                row[kx] = ix0 + kx >= 0 && ix0 + kx < g->w ? src[kx] : 0.0f;
        }
}

/* y[o][r] = Yt[pixel][o] (+ b[o]), pixels of r in row-major order. */
static void scatter_rect(const conv_op *d, const float *Yt, float *y,
                         const advc_rect *r, bool add_b)
{
    size_t ohw = (size_t)d->ohw;
    for (int oy = r->y0; oy < r->y1; oy++)
        for (int ox = r->x0; ox < r->x1; ox++, Yt += d->cout) {
            float *dst = y + (size_t)oy * d->geom.ow + ox;
            if (add_b)
                for (int o = 0; o < d->cout; o++)
                    dst[o * ohw] = Yt[o] + d->b[o];
            else
                for (int o = 0; o < d->cout; o++) dst[o * ohw] = Yt[o];
        }
}

/* Items [j, *end) whose pixels fit cap (always at least item j). */
static size_t group_pixels(const nn_patch_item *it, int j, int m,
                           size_t cap, int *end)
{
    size_t px = nn_rect_pixels(&it[j].r);
    int e = j + 1;
    while (e < m && px + nn_rect_pixels(&it[e].r) <= cap)
        px += nn_rect_pixels(&it[e++].r);
    *end = e;
    return px;
}

/* Yt (px, cout) [+]= col W^T as sparse rows of col times W^T, with buf
 * (the rest of the scratch) for W^T and the sparse form; false, with
 * nothing written, when col is too dense. */
static bool sparse_product(const conv_op *d, const float *col, size_t px,
                           float *buf, bool acc, float *Yt)
{
    size_t cap = px * (size_t)(d->kdim / NN_SPARSE_SHARE), nz = 0;
    if (!d->wtrans) return false; /* the layers conv_sparse.c takes only */
    float *wt = buf;
    int *ptr = (int *)(wt + (size_t)d->kdim * d->cout), *idx = ptr + px + 1;
    float *val = (float *)(idx + cap);
    ptr[0] = 0;
    for (size_t p = 0; p < px; p++) {
        size_t r = advc_values((size_t)d->kdim, col + p * d->kdim,
                               cap - nz, idx + nz, val + nz);
        if (r > cap - nz) return false;
        nz += r;
        ptr[p + 1] = (int)nz;
    }
    if (d->wt_ok) wt = d->wtrans; /* held, and made by a full forward */
    else advc_transpose(d->cout, d->kdim, d->w, d->kdim, wt, d->cout);
    advc_sparse_gemm((int)px, d->cout, d->kdim, ptr, idx, val, wt, d->cout,
                     acc, Yt, d->cout);
    return true;
}

/* The rectangles' pixels of items [j, e) as the rows of Yt (px, cout) =
 * col^T W^T: lowered one pixel per row, which copies runs of kw input
 * floats (lowering one pixel per column, as im2col does, copied single
 * floats and took as long as the GEMM).  Entry (pixel, o) is the sum of
 * the same products in the same order as entry (o, pixel) of the full
 * forward's W col, so the bits are the same. */
/* Asks for the input rows that item it's rectangle reads (every channel,
 * the window's first and last float of each row) to be fetched: each
 * item is a different sample, whose kept planes are in L3 or memory by
 * the time its query comes, and lowering one item while the next one's
 * rows arrive hides that.  A hint: no effect on results. */
static void prefetch_window(const advc_conv_geom *g, const nn_patch_item *it)
{
#if defined(__GNUC__)
    const advc_rect *r = &it->r;
    int y0 = r->y0 * g->stride - g->pad, y1 = (r->y1 - 1) * g->stride -
                                              g->pad + g->kh;
    int x0 = r->x0 * g->stride - g->pad, x1 = (r->x1 - 1) * g->stride -
                                              g->pad + g->kw;
    y0 = y0 < 0 ? 0 : y0, x0 = x0 < 0 ? 0 : x0;
    y1 = y1 > g->h ? g->h : y1, x1 = x1 > g->w ? g->w : x1;
    if (nn_rect_pixels(r) == 0 || y0 >= y1 || x0 >= x1) return;
    for (int ci = 0; ci < g->c; ci++)
        for (int y = y0; y < y1; y++) {
            const float *row = it->x + ((size_t)ci * g->h + y) * g->w;
            __builtin_prefetch(row + x0, 0, 3);
            __builtin_prefetch(row + x1 - 1, 0, 3);
        }
#else
    (void)g, (void)it;
#endif
}

static void patch_group(const conv_op *d, const nn_patch_item *it, int j,
                        int e, size_t px, float *scratch)
{
    float *col = scratch, *Yt = scratch + px * (size_t)d->kdim;
    float *row = col;
    if (j < e) prefetch_window(&d->geom, &it[j]);
    for (int q = j; q < e; q++) {
        const advc_rect *r = &it[q].r;
        if (q + 1 < e) prefetch_window(&d->geom, &it[q + 1]);
        for (int oy = r->y0; oy < r->y1; oy++)
            for (int ox = r->x0; ox < r->x1; ox++, row += d->kdim)
                lower_pixel(&d->geom, it[q].x, oy, ox, row);
    }
    /* As conv_gemm.c: one image per chunk (q = 1) starts from b and adds
     * the GEMM's sum to it, else the sum comes first and b is added. */
    bool b_first = d->q == 1 && d->b;
    for (size_t p = 0; b_first && p < px; p++)
        for (int o = 0; o < d->cout; o++) Yt[p * d->cout + o] = d->b[o];
    if (!sparse_product(d, col, px, Yt + px * (size_t)d->cout, b_first, Yt))
        advc_sgemm(NULL, ADVC_NOTRANS, ADVC_TRANS, (int)px, d->cout, d->kdim,
                   col, d->kdim, d->w, d->kdim, b_first, Yt, d->cout);
    for (int q = j; q < e; q++) {
        scatter_rect(d, Yt, it[q].y, &it[q].r, !b_first && d->b);
        Yt += nn_rect_pixels(&it[q].r) * (size_t)d->cout;
    }
}

void conv_patch(const nn_node *v, const nn_patch_item *it, int m,
                float *scratch, size_t nscratch)
{
    const conv_op *d = v->priv;
    size_t fixed = (size_t)d->kdim * d->cout + 1;
    size_t cap = nscratch > fixed ? (nscratch - fixed) / per_pixel(d) : 0;
    for (int j = 0, e; j < m; j = e) {
        size_t px = group_pixels(it, j, m, cap, &e);
        if (px > 0) patch_group(d, it, j, e, px, scratch);
    }
}
