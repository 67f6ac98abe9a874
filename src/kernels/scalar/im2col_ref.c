/* im2col_ref.c: the specification of im2col and col2im, written as the
 * definition reads: one output entry at a time.  Test oracle for
 * src/kernels/im2col.c. */
#include "advc/kernels.h"

/* col[(ci*kh + ky)*kw + kx][oy*ow + ox] =
 *     img[ci][oy*stride - pad + ky][ox*stride - pad + kx], 0 outside */
void advc_im2col_ref(const advc_conv_geom *g, const float *img, float *col)
{
    int ohw = g->oh * g->ow;
    for (int ci = 0; ci < g->c; ci++)
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                int row = (ci * g->kh + ky) * g->kw + kx;
                for (int oy = 0; oy < g->oh; oy++)
                    for (int ox = 0; ox < g->ow; ox++) {
                        int iy = oy * g->stride - g->pad + ky;
                        int ix = ox * g->stride - g->pad + kx;
                        int inside = iy >= 0 && iy < g->h && ix >= 0 &&
                                     ix < g->w;
                        col[(size_t)row * ohw + oy * g->ow + ox] =
                            inside ? img[((size_t)ci * g->h + iy) * g->w + ix]
                                   : 0.0f;
                    }
            }
}

/* img[ci][iy][ix] += sum of every col entry that im2col copied from it */
void advc_col2im_ref(const advc_conv_geom *g, const float *col, float *img)
{
    int ohw = g->oh * g->ow;
    for (int ci = 0; ci < g->c; ci++)
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                int row = (ci * g->kh + ky) * g->kw + kx;
                for (int oy = 0; oy < g->oh; oy++)
                    for (int ox = 0; ox < g->ow; ox++) {
                        int iy = oy * g->stride - g->pad + ky;
                        int ix = ox * g->stride - g->pad + kx;
                        if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
                            img[((size_t)ci * g->h + iy) * g->w + ix] +=
                                col[(size_t)row * ohw + oy * g->ow + ox];
                    }
            }
}
