/* conv_ref.c: the specification of 2-D convolution and its two gradients,
 * one image, NCHW, written as the definitions read: one output entry at a
 * time, sums in double, rounded once.  Test oracle for every fast way of
 * computing a convolution (implicit GEMM, Winograd, direct).  Not fast. */
#include "advc/kernels.h"

/* x[i][iy][ix] if inside the image, else 0 (the zero padding). */
static double at(const advc_conv_geom *g, const float *x, int i, int iy,
                 int ix)
{
    if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) return 0.0;
    return x[((size_t)i * g->h + iy) * g->w + ix];
}

static size_t widx(const advc_conv_geom *g, int o, int i, int ky, int kx)
{
    return (((size_t)o * g->c + i) * g->kh + ky) * g->kw + kx;
}

/* y[o][oy][ox] = b[o] + sum_{i,ky,kx} w[o][i][ky][kx] x[i][iy][ix],
 * iy = oy*stride - pad + ky, ix = ox*stride - pad + kx */
void advc_conv2d_ref(const advc_conv_geom *g, int cout, const float *x,
                     const float *w, const float *b, float *y)
{
    for (int o = 0; o < cout; o++)
        for (int oy = 0; oy < g->oh; oy++)
            for (int ox = 0; ox < g->ow; ox++) {
                double s = b ? b[o] : 0.0;
                for (int i = 0; i < g->c; i++)
                    for (int ky = 0; ky < g->kh; ky++)
                        for (int kx = 0; kx < g->kw; kx++)
                            s += w[widx(g, o, i, ky, kx)] *
                                 at(g, x, i, oy * g->stride - g->pad + ky,
                                    ox * g->stride - g->pad + kx);
                y[((size_t)o * g->oh + oy) * g->ow + ox] = (float)s;
            }
}

/* dx[i][iy][ix] += sum of w[o][i][ky][kx] dy[o][oy][ox] over every
 * (o, oy, ox, ky, kx) whose forward term read x[i][iy][ix] */
void advc_conv2d_input_grad_ref(const advc_conv_geom *g, int cout,
                                const float *dy, const float *w, float *dx)
{
    for (int i = 0; i < g->c; i++)
        for (int iy = 0; iy < g->h; iy++)
            for (int ix = 0; ix < g->w; ix++) {
                double s = 0.0;
                for (int o = 0; o < cout; o++)
                    for (int ky = 0; ky < g->kh; ky++)
                        for (int kx = 0; kx < g->kw; kx++) {
                            int ty = iy + g->pad - ky, tx = ix + g->pad - kx;
                            if (ty < 0 || tx < 0 || ty % g->stride ||
                                tx % g->stride)
                                continue;
                            int oy = ty / g->stride, ox = tx / g->stride;
                            if (oy >= g->oh || ox >= g->ow) continue;
                            s += w[widx(g, o, i, ky, kx)] *
                                 (double)dy[((size_t)o * g->oh + oy) * g->ow +
                                            ox];
                        }
                float *d = &dx[((size_t)i * g->h + iy) * g->w + ix];
                *d = (float)(*d + s);
            }
}

/* dw[o][i][ky][kx] += sum_{oy,ox} dy[o][oy][ox] x[i][iy][ix] */
void advc_conv2d_weight_grad_ref(const advc_conv_geom *g, int cout,
                                 const float *x, const float *dy, float *dw)
{
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < g->c; i++)
            for (int ky = 0; ky < g->kh; ky++)
                for (int kx = 0; kx < g->kw; kx++) {
                    double s = 0.0;
                    for (int oy = 0; oy < g->oh; oy++)
                        for (int ox = 0; ox < g->ow; ox++)
                            s += dy[((size_t)o * g->oh + oy) * g->ow + ox] *
                                 at(g, x, i, oy * g->stride - g->pad + ky,
                                    ox * g->stride - g->pad + kx);
                    float *d = &dw[widx(g, o, i, ky, kx)];
                    *d = (float)(*d + s);
                }
}
