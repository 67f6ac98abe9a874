/* winograd.c: the Winograd F(4x4, 3x3) transforms (advc/kernels.h states
 * the method, the layouts and the accuracy), factored and vectorised.
 *
 * Same results as scalar/winograd_ref.c up to rounding: the matrix
 * products are factored into the few adds and scalings each row needs
 * (B^T 6x6: 12 adds, 6 scalings per 1-D transform), and L = 8 tiles are
 * transformed together, one per vector lane: every step below is a loop
 * over the L lanes that the compiler turns into one 8-float vector
 * operation (a fixed trip count and restrict pointers; checked in the
 * assembly for AVX2 and NEON).  Gathering a patch into the lanes and
 * scattering the 4x4 results back are plain loads and stores.
 * Not here: the GEMMs between the transforms (src/nn/ops/conv_wino.c).
 */
#include <stddef.h>
#include "advc/kernels.h"

enum {
    M = ADVC_WINO_TILE,  /* output tile side            */
    A = ADVC_WINO_ALPHA, /* input patch side            */
    L = 8                /* tiles transformed together  */
};

int advc_wino_tiles(const advc_conv_geom *g)
{
    return ((g->oh + M - 1) / M) * ((g->ow + M - 1) / M);
}

/* ---- 1-D transforms on L lanes -------------------------------------------
 * in[k*is + l], k < 6 (or 3): the k-th value of lane l; likewise out. */

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

/* ---- tiles --------------------------------------------------------------- */

/* n <= L consecutive tiles: each one's image and origin (its first output
 * row and column), and whether all of them are whole: every input patch
 * inside the image and every output inside the map. */
typedef struct {
    int n;
    size_t img[L];
    int oy[L], ox[L];
    bool whole;
} tile_group;

static void group_init(const advc_conv_geom *g, size_t t, int n,
                       tile_group *tg)
{
    int tw = (g->ow + M - 1) / M, T = advc_wino_tiles(g);
    tg->n = n;
    tg->whole = true;
    for (int l = 0; l < n; l++, t++) {
        int r = (int)(t % (size_t)T);
        tg->img[l] = t / (size_t)T;
        tg->oy[l] = (r / tw) * M;
        tg->ox[l] = (r % tw) * M;
        int iy = tg->oy[l] - g->pad, ix = tg->ox[l] - g->pad;
        if (iy < 0 || ix < 0 || iy + A > g->h || ix + A > g->w ||
            tg->oy[l] + M > g->oh || tg->ox[l] + M > g->ow)
            tg->whole = false;
    }
}

/* d[(r*6 + s)*L + l] = the patch of lane l in channel ci (0 outside). */
static void gather_patches(const advc_conv_geom *g, const float *x, int ci,
                           const tile_group *tg, float *d)
{
    size_t hw = (size_t)g->h * g->w;
    for (int l = 0; l < tg->n; l++) {
        int iy = tg->oy[l] - g->pad, ix = tg->ox[l] - g->pad;
        const float *p = x + (tg->img[l] * g->c + ci) * hw;
        if (tg->whole) {
            p += (size_t)iy * g->w + ix;
            for (int r = 0; r < A; r++, p += g->w)
                for (int s = 0; s < A; s++) d[(r * A + s) * L + l] = p[s];
            continue;
        }
        for (int r = 0; r < A; r++)
            for (int s = 0; s < A; s++) {
                int y = iy + r, xx = ix + s;
                d[(r * A + s) * L + l] =
                    y >= 0 && y < g->h && xx >= 0 && xx < g->w
                        ? p[(size_t)y * g->w + xx] : 0.0f;
            }
    }
}

/* dst[l] = v[l] for the group's lanes. */
static inline void put_lanes(float *dst, const float *v, int n)
{
    if (n == L) {
        for (int l = 0; l < L; l++) dst[l] = v[l];
        return;
    }
    for (int l = 0; l < n; l++) dst[l] = v[l];
}

void advc_wino_input(const advc_conv_geom *g, const float *x, size_t t0,
                     int nt, float *V, int ldv)
{
    float d[A * A * L], t[A * A * L], v[A * A * L];
    size_t plane = (size_t)g->c * ldv;
    for (int k0 = 0; k0 < nt; k0 += L) {
        tile_group tg;
        group_init(g, t0 + (size_t)k0, nt - k0 < L ? nt - k0 : L, &tg);
        for (int k = 0; k < A * A * L; k++) d[k] = 0.0f;
        for (int ci = 0; ci < g->c; ci++) {
            gather_patches(g, x, ci, &tg, d);
            for (int s = 0; s < A; s++) /* columns: t = B^T d */
                bt_1d(d + s * L, A * L, t + s * L, A * L);
            for (int r = 0; r < A; r++) /* rows: v = t B */
                bt_1d(t + r * A * L, L, v + r * A * L, L);
            float *dst = V + (size_t)ci * ldv + k0;
            for (int xi = 0; xi < A * A; xi++)
                put_lanes(dst + xi * plane, v + xi * L, tg.n);
        }
    }
}

/* Adds bias and writes (or adds) lane l's 4x4 outputs o[(i*4 + j)*L + l]
 * to output channel plane y (oh, ow). */
static void scatter_tile(const advc_conv_geom *g, const tile_group *tg,
                         int l, const float *o, float bias, bool accumulate,
                         float *y)
{
    int mi = g->oh - tg->oy[l], mj = g->ow - tg->ox[l];
    if (mi > M) mi = M;
    if (mj > M) mj = M;
    float *row = y + (size_t)tg->oy[l] * g->ow + tg->ox[l];
    for (int i = 0; i < mi; i++, row += g->ow)
        for (int j = 0; j < mj; j++) {
            float v = o[(i * M + j) * L + l] + bias;
            row[j] = accumulate ? row[j] + v : v;
        }
}

void advc_wino_output(const advc_conv_geom *g, int cout, const float *Mt,
                      int ldm, size_t t0, int nt, const float *bias,
                      bool accumulate, float *y)
{
    float m[A * A * L], t[M * A * L], o[M * M * L];
    size_t plane = (size_t)cout * ldm, ohw = (size_t)g->oh * g->ow;
    for (int k0 = 0; k0 < nt; k0 += L) {
        tile_group tg;
        group_init(g, t0 + (size_t)k0, nt - k0 < L ? nt - k0 : L, &tg);
        for (int k = 0; k < A * A * L; k++) m[k] = 0.0f;
        for (int co = 0; co < cout; co++) {
            const float *src = Mt + (size_t)co * ldm + k0;
            for (int xi = 0; xi < A * A; xi++)
                put_lanes(m + xi * L, src + xi * plane, tg.n);
            for (int s = 0; s < A; s++) /* columns: t = A^T m */
                at_1d(m + s * L, A * L, t + s * L, A * L);
            for (int i = 0; i < M; i++) /* rows: o = t A */
                at_1d(t + i * A * L, L, o + i * M * L, L);
            float b = bias ? bias[co] : 0.0f;
            for (int l = 0; l < tg.n; l++)
                scatter_tile(g, &tg, l, o, b, accumulate,
                             y + (tg.img[l] * cout + co) * ohw);
        }
    }
}
