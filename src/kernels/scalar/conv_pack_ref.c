/* conv_pack_ref.c: the specification of the implicit-GEMM packers
 * (advc_conv_cols, advc_conv_cols_t): every panel entry straight from the
 * definition of the lowered matrix col_c.  Test oracle for
 * src/kernels/conv_pack.c. */
#include <assert.h>
#include "advc/kernels.h"

/* col_c[row][col]: row = (ci*kh + ky)*kw + kx, col = i*oh*ow + oy*ow + ox
 * is x_i[ci][oy*stride - pad + ky][ox*stride - pad + kx], 0 outside. */
static float col_entry(const advc_conv_chunk *ch, int row, int col)
{
    const advc_conv_geom *g = ch->g;
    int ohw = g->oh * g->ow;
    int i = col / ohw, oy = (col % ohw) / g->ow, ox = col % g->ow;
    int kx = row % g->kw, ky = (row / g->kw) % g->kh, ci = row / (g->kw * g->kh);
    int iy = oy * g->stride - g->pad + ky, ix = ox * g->stride - g->pad + kx;
    assert(i < ch->q && ci < g->c);
    if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) return 0.0f;
    return ch->x[i * ch->stride + ((size_t)ci * g->h + iy) * g->w + ix];
}

/* dst[p*width + c] = col_c[p0 + p][j + c] (0 for c >= nr) */
void advc_conv_cols_ref(const void *chunk, int p0, int kc, int j, int nr,
                        int width, float *dst)
{
    for (int p = 0; p < kc; p++)
        for (int c = 0; c < width; c++)
            dst[(size_t)p * width + c] =
                c < nr ? col_entry(chunk, p0 + p, j + c) : 0.0f;
}

/* dst[p*width + c] = col_c[j + c][p0 + p] (0 for c >= nr) */
void advc_conv_cols_t_ref(const void *chunk, int p0, int kc, int j, int nr,
                          int width, float *dst)
{
    for (int p = 0; p < kc; p++)
        for (int c = 0; c < width; c++)
            dst[(size_t)p * width + c] =
                c < nr ? col_entry(chunk, j + c, p0 + p) : 0.0f;
}

/* dst[p*ld + c] = col_c[p][c0 + c] for every row p and c < nc */
void advc_conv_lower_ref(const advc_conv_chunk *ch, int c0, int nc,
                         float *dst, size_t ld)
{
    int rows = ch->g->c * ch->g->kh * ch->g->kw;
    for (int p = 0; p < rows; p++)
        for (int c = 0; c < nc; c++)
            dst[(size_t)p * ld + c] = col_entry(ch, p, c0 + c);
}
