/* winograd_ref.c: the specification of the Winograd F(4x4, 3x3) transforms
 * as matrix products with the matrices written out (Lavin and Gray 2016,
 * points 0, 1, -1, 2, -2, infinity), in double, rounded once.  Test oracle
 * for src/kernels/winograd.c; tests/test_conv.c checks both against the
 * direct convolution (scalar/conv_ref.c). */
#include "advc/kernels.h"

enum { M = ADVC_WINO_TILE, A = ADVC_WINO_ALPHA, P = ADVC_WINO_POINTS };

static const double BT[A][A] = { /* input:  V = B^T d B */
    { 4, 0, -5, 0, 1, 0 },  { 0, -4, -4, 1, 1, 0 }, { 0, 4, -4, -1, 1, 0 },
    { 0, -2, -1, 2, 1, 0 }, { 0, 2, -1, -2, 1, 0 }, { 0, 4, 0, -5, 0, 1 },
};
static const double G[A][3] = { /* filter: U = G g G^T */
    { 1.0 / 4, 0, 0 },
    { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
    { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
    { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
    { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
    { 0, 0, 1 },
};
static const double AT[M][A] = { /* output: Y = A^T m A */
    { 1, 1, 1, 1, 1, 0 },
    { 0, 1, -1, 2, -2, 0 },
    { 0, 1, 1, 4, 4, 0 },
    { 0, 1, -1, 8, -8, 1 },
};

void advc_wino_weights_ref(int cout, int c, const float *w, bool flip,
                           bool trans, float *U)
{
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < c; i++) {
            const float *f = w + ((size_t)o * c + i) * 9;
            double gg[3][3], t[A][3];
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++)
                    gg[y][x] = flip ? f[(2 - y) * 3 + (2 - x)] : f[y * 3 + x];
            for (int r = 0; r < A; r++)
                for (int x = 0; x < 3; x++) {
                    t[r][x] = 0;
                    for (int y = 0; y < 3; y++) t[r][x] += G[r][y] * gg[y][x];
                }
            /* flip: the input gradient maps dy (cout) to dx (c); trans
             * transposes that. */
            size_t at = flip != trans ? (size_t)i * cout + o
                                      : (size_t)o * c + i;
            for (int r = 0; r < A; r++)
                for (int s = 0; s < A; s++) {
                    double u = 0;
                    for (int x = 0; x < 3; x++) u += t[r][x] * G[s][x];
                    U[(size_t)(r * A + s) * cout * c + at] = (float)u;
                }
        }
}

/* Tile t's image index and patch origin (input row and column). */
static void tile_origin(const advc_conv_geom *g, size_t t, size_t *img,
                        int *iy, int *ix)
{
    int tw = (g->ow + M - 1) / M, T = advc_wino_tiles(g);
    *img = t / (size_t)T;
    int r = (int)(t % (size_t)T);
    *iy = (r / tw) * M - g->pad;
    *ix = (r % tw) * M - g->pad;
}

void advc_wino_input_ref(const advc_conv_geom *g, const float *x, size_t t0,
                         int nt, float *V, int ldv)
{
    size_t hw = (size_t)g->h * g->w;
    for (int k = 0; k < nt; k++) {
        size_t img;
        int iy, ix;
        tile_origin(g, t0 + (size_t)k, &img, &iy, &ix);
        for (int ci = 0; ci < g->c; ci++) {
            const float *p = x + (img * g->c + ci) * hw;
            double d[A][A], t[A][A];
            for (int r = 0; r < A; r++)
                for (int s = 0; s < A; s++) {
                    int y = iy + r, xx = ix + s;
                    d[r][s] = y >= 0 && y < g->h && xx >= 0 && xx < g->w
                                  ? p[(size_t)y * g->w + xx] : 0.0;
                }
            for (int r = 0; r < A; r++)
                for (int s = 0; s < A; s++) {
                    t[r][s] = 0;
                    for (int q = 0; q < A; q++) t[r][s] += BT[r][q] * d[q][s];
                }
            for (int r = 0; r < A; r++)
                for (int s = 0; s < A; s++) {
                    double v = 0;
                    for (int q = 0; q < A; q++) v += t[r][q] * BT[s][q];
                    V[((size_t)(r * A + s) * g->c + ci) * ldv + k] = (float)v;
                }
        }
    }
}

void advc_wino_output_ref(const advc_conv_geom *g, int cout, const float *M_,
                          int ldm, size_t t0, int nt, const float *bias,
                          bool accumulate, float *y)
{
    size_t ohw = (size_t)g->oh * g->ow;
    for (int k = 0; k < nt; k++) {
        size_t img;
        int oy, ox;
        tile_origin(g, t0 + (size_t)k, &img, &oy, &ox);
        oy += g->pad, ox += g->pad; /* the tile's first output */
        for (int o = 0; o < cout; o++) {
            double m[A][A], t[M][A];
            for (int r = 0; r < A; r++)
                for (int s = 0; s < A; s++)
                    m[r][s] = M_[((size_t)(r * A + s) * cout + o) * ldm + k];
            for (int i = 0; i < M; i++)
                for (int s = 0; s < A; s++) {
                    t[i][s] = 0;
                    for (int r = 0; r < A; r++) t[i][s] += AT[i][r] * m[r][s];
                }
            float *yo = y + (img * cout + o) * ohw;
            for (int i = 0; i < M && oy + i < g->oh; i++)
                for (int j = 0; j < M && ox + j < g->ow; j++) {
                    double v = bias ? bias[o] : 0.0;
                    for (int s = 0; s < A; s++) v += t[i][s] * AT[j][s];
                    float *d = &yo[(size_t)(oy + i) * g->ow + ox + j];
                    *d = accumulate ? (float)(*d + v) : (float)v;
                }
        }
    }
}

void advc_wino_output_adjoint_ref(const advc_conv_geom *g, int cout,
                                  const float *dy, size_t t0, int nt,
                                  float *D, int ldd)
{
    size_t ohw = (size_t)g->oh * g->ow;
    for (int k = 0; k < nt; k++) {
        size_t img;
        int oy, ox;
        tile_origin(g, t0 + (size_t)k, &img, &oy, &ox);
        oy += g->pad, ox += g->pad;
        for (int o = 0; o < cout; o++) {
            const float *p = dy + (img * cout + o) * ohw;
            double y[M][M], t[A][M];
            for (int i = 0; i < M; i++)
                for (int j = 0; j < M; j++)
                    y[i][j] = oy + i < g->oh && ox + j < g->ow
                                  ? p[(size_t)(oy + i) * g->ow + ox + j] : 0.0;
            for (int r = 0; r < A; r++) /* t = A y: A = (A^T)^T */
                for (int j = 0; j < M; j++) {
                    t[r][j] = 0;
                    for (int i = 0; i < M; i++) t[r][j] += AT[i][r] * y[i][j];
                }
            for (int r = 0; r < A; r++) /* D = t A^T */
                for (int s = 0; s < A; s++) {
                    double v = 0;
                    for (int j = 0; j < M; j++) v += t[r][j] * AT[j][s];
                    D[((size_t)(r * A + s) * cout + o) * ldd + k] = (float)v;
                }
        }
    }
}

void advc_wino_weights_adjoint_ref(int cout, int c, const float *dU,
                                   float *dw)
{
    size_t plane = (size_t)cout * c;
    for (size_t at = 0; at < plane; at++) {
        double t[3][A];
        for (int x = 0; x < 3; x++) /* t = G^T dU */
            for (int s = 0; s < A; s++) {
                t[x][s] = 0;
                for (int r = 0; r < A; r++)
                    t[x][s] += G[r][x] * dU[(size_t)(r * A + s) * plane + at];
            }
        for (int x = 0; x < 3; x++) /* dw += t G */
            for (int y = 0; y < 3; y++) {
                double v = 0;
                for (int s = 0; s < A; s++) v += t[x][s] * G[s][y];
                float *d = &dw[at * 9 + (size_t)x * 3 + y];
                *d = (float)(*d + v);
            }
    }
}
