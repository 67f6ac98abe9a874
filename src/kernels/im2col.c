/* im2col.c: the lowering of 2-D convolution to GEMM (NCHW, one image).
 *
 * Same result as scalar/im2col_ref.c, organised for memory traffic: for a
 * fixed (ci, ky, kx) and output row oy, the valid input pixels form one
 * contiguous run when stride = 1 (a memcpy) and a strided run otherwise;
 * only the padded borders are special.  Memory-bound, so plain C: the
 * compiler vectorises the stride-1 runs.  Convolution forward is
 *   out(cout, oh*ow) = W(cout, c*kh*kw) . col(c*kh*kw, oh*ow).
 */
#include <string.h>
#include "advc/kernels.h"

bool advc_conv_geom_init(advc_conv_geom *g, int c, int h, int w, int kh,
                         int kw, int stride, int pad)
{
    if (c <= 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0 || stride <= 0 ||
        pad < 0 || h + 2 * pad < kh || w + 2 * pad < kw)
        return false;
    g->c = c, g->h = h, g->w = w;
    g->kh = kh, g->kw = kw;
    g->stride = stride, g->pad = pad;
    g->oh = (h + 2 * pad - kh) / stride + 1;
    g->ow = (w + 2 * pad - kw) / stride + 1;
    return true;
}

bool advc_conv_is_pointwise(const advc_conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0;
}

/* Output columns ox whose input column ix = ox*stride - pad + kx lies in
 * [0, w): the half-open range [*lo, *hi). */
static void valid_cols(const advc_conv_geom *g, int kx, int *lo, int *hi)
{
    int off = kx - g->pad; /* ix = ox*stride + off */
    int a = off >= 0 ? 0 : (-off + g->stride - 1) / g->stride;
    int b = (g->w - 1 - off) < 0 ? 0 : (g->w - 1 - off) / g->stride + 1;
    if (b > g->ow) b = g->ow;
    if (a > b) a = b;
    *lo = a, *hi = b;
}

void advc_im2col(const advc_conv_geom *g, const float *img, float *col)
{
    const int s = g->stride, ow = g->ow;
    for (int ci = 0; ci < g->c; ci++) {
        const float *plane = img + (size_t)ci * g->h * g->w;
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                int lo, hi;
                valid_cols(g, kx, &lo, &hi);
                int off = kx - g->pad;
                for (int oy = 0; oy < g->oh; oy++, col += ow) {
                    int iy = oy * s - g->pad + ky;
                    if (iy < 0 || iy >= g->h) {
                        memset(col, 0, (size_t)ow * sizeof *col);
                        continue;
                    }
                    /* ix = ox*s + off; valid for ox in [lo, hi) */
                    long base = (long)iy * g->w + off;
                    for (int ox = 0; ox < lo; ox++) col[ox] = 0.0f;
                    if (s == 1) {
                        if (hi > lo)
                            memcpy(col + lo, plane + base + lo,
                                   (size_t)(hi - lo) * sizeof *col);
                    } else {
                        for (int ox = lo; ox < hi; ox++)
                            col[ox] = plane[base + (long)ox * s];
                    }
                    for (int ox = hi; ox < ow; ox++) col[ox] = 0.0f;
                }
            }
    }
}

void advc_col2im(const advc_conv_geom *g, const float *col, float *img)
{
    const int s = g->stride, ow = g->ow;
    for (int ci = 0; ci < g->c; ci++) {
        float *plane = img + (size_t)ci * g->h * g->w;
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                int lo, hi;
                valid_cols(g, kx, &lo, &hi);
                int off = kx - g->pad;
                for (int oy = 0; oy < g->oh; oy++, col += ow) {
                    int iy = oy * s - g->pad + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    long base = (long)iy * g->w + off;
                    for (int ox = lo; ox < hi; ox++)
                        plane[base + (long)ox * s] += col[ox];
                }
            }
    }
}
