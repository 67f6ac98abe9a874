/* test_conv.c: the convolution kernels against their references.
 *  - the direct references agree with each other (adjoint identities) and
 *    with im2col + GEMM;
 *  - the implicit-GEMM packers equal their references bit for bit, over
 *    geometries, chunks of several images and every panel cut, and
 *    advc_sgemm_src on them equals advc_sgemm on the materialised matrix
 *    bit for bit;
 *  - the Winograd transforms match their matrix-form references, and the
 *    whole Winograd convolution (forward, the input gradient through
 *    flipped filters, and the weight gradient in the transform domain)
 *    stays within the bound stated in advc/kernels.h of the direct
 *    reference, at tile boundaries (sizes 1..9, 14, 28) and for paddings 0
 *    and 1. */
#include <stdio.h>
#include <stdlib.h>
#include "testutil.h"

/* The bound of advc/kernels.h: |y - y_ref| <= WINO_TOL 2^-24 sum|w||x|. */
#define WINO_TOL 512.0

static float *frand(size_t n, uint64_t seed)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    tu_fill(x, n, -1, 1, seed);
    return x;
}

/* <conv(x), dy> = <x, input_grad(dy)> and = <w, weight_grad(x, dy)>. */
static void check_adjoint(int c, int h, int k, int s, int p, int cout)
{
    advc_conv_geom g;
    ck_assert(advc_conv_geom_init(&g, c, h, h + 1, k, k, s, p));
    size_t nx = (size_t)c * h * (h + 1), ny = (size_t)cout * g.oh * g.ow;
    size_t nw = (size_t)cout * c * k * k;
    float *x = frand(nx, 1), *w = frand(nw, 2), *dy = frand(ny, 3);
    float *y = malloc(ny * sizeof *y), *dx = calloc(nx, sizeof *dx);
    float *dw = calloc(nw, sizeof *dw);
    advc_conv2d_ref(&g, cout, x, w, NULL, y);
    advc_conv2d_input_grad_ref(&g, cout, dy, w, dx);
    advc_conv2d_weight_grad_ref(&g, cout, x, dy, dw);
    double a = 0, b = 0, d = 0;
    for (size_t i = 0; i < ny; i++) a += (double)y[i] * dy[i];
    for (size_t i = 0; i < nx; i++) b += (double)x[i] * dx[i];
    for (size_t i = 0; i < nw; i++) d += (double)w[i] * dw[i];
    ck_assert_msg(fabs(a - b) <= 1e-5 * (1 + fabs(a)), "input adjoint");
    ck_assert_msg(fabs(a - d) <= 1e-5 * (1 + fabs(a)), "weight adjoint");
    /* And the forward is W . im2col(x). */
    float *col = malloc((size_t)c * k * k * g.oh * g.ow * sizeof *col);
    float *y2 = malloc(ny * sizeof *y2);
    advc_im2col_ref(&g, x, col);
    advc_sgemm_ref(ADVC_NOTRANS, ADVC_NOTRANS, cout, g.oh * g.ow, c * k * k,
                   w, c * k * k, col, g.oh * g.ow, false, y2, g.oh * g.ow);
    ck_assert(tu_max_abs_diff(y, y2, ny) <= 1e-5);
    free(x), free(w), free(dy), free(y), free(dx), free(dw), free(col);
    free(y2);
}

START_TEST(test_reference_adjoints)
{
    check_adjoint(3, 7, 3, 1, 1, 4);
    check_adjoint(2, 9, 4, 2, 1, 3);
    check_adjoint(2, 8, 5, 1, 2, 2);
    check_adjoint(3, 6, 1, 2, 0, 5);
    check_adjoint(1, 10, 3, 3, 2, 2);
}
END_TEST

/* Every panel of both packers for a chunk of q images, for panel widths
 * 4, 12 and 16 and several (p0, kc), against the references. */
static void check_packers(int c, int h, int w, int k, int s, int p, int q)
{
    advc_conv_geom g;
    if (!advc_conv_geom_init(&g, c, h, w, k, k, s, p)) return;
    size_t per = (size_t)c * h * w + 3; /* a gap between images */
    float *x = frand(per * q, (uint64_t)(h * 7 + w + k));
    advc_conv_chunk ch = { &g, x, per, q };
    int rows = c * k * k, cols = q * g.oh * g.ow;
    static const int widths[] = { 4, 12, 16 };
    float *a = malloc(16 * (size_t)(rows > cols ? rows : cols) * sizeof *a);
    float *b = malloc(16 * (size_t)(rows > cols ? rows : cols) * sizeof *b);
    for (int wi = 0; wi < 3; wi++) {
        int width = widths[wi];
        for (int j = 0; j < cols; j += width) { /* forward: col_c */
            int nr = cols - j < width ? cols - j : width;
            for (int p0 = 0; p0 < rows; p0 += 5) {
                int kc = rows - p0 < 7 ? rows - p0 : 7;
                advc_conv_cols(&ch, p0, kc, j, nr, width, a);
                advc_conv_cols_ref(&ch, p0, kc, j, nr, width, b);
                ck_assert(memcmp(a, b, (size_t)kc * width * 4) == 0);
            }
        }
        for (int j = 0; j < rows; j += width) { /* weight grad: col_c^T */
            int nr = rows - j < width ? rows - j : width;
            for (int p0 = 0; p0 < cols; p0 += 37) {
                int kc = cols - p0 < 50 ? cols - p0 : 50;
                advc_conv_cols_t(&ch, p0, kc, j, nr, width, a);
                advc_conv_cols_t_ref(&ch, p0, kc, j, nr, width, b);
                ck_assert(memcmp(a, b, (size_t)kc * width * 4) == 0);
            }
        }
    }
    /* Blocks of the lowered matrix, rows ld = nc + 3 apart. */
    for (int c0 = 0; c0 < cols; c0 += 23) {
        int nc = cols - c0 < 40 ? cols - c0 : 40;
        size_t ld = (size_t)nc + 3;
        float *la = malloc((size_t)rows * ld * sizeof *la);
        float *lb = malloc((size_t)rows * ld * sizeof *lb);
        for (size_t e = 0; e < (size_t)rows * ld; e++) la[e] = lb[e] = 5.0f;
        advc_conv_lower(&ch, c0, nc, la, ld);
        advc_conv_lower_ref(&ch, c0, nc, lb, ld);
        ck_assert(memcmp(la, lb, (size_t)rows * ld * 4) == 0);
        free(la), free(lb);
    }
    free(a), free(b), free(x);
}

START_TEST(test_packers_match_reference)
{
    static const int geo[][5] = { /* h, w, k, stride, pad */
        { 7, 7, 3, 1, 1 }, { 8, 5, 3, 2, 1 }, { 14, 14, 5, 1, 2 },
        { 14, 14, 4, 2, 1 }, { 4, 4, 3, 2, 1 }, { 2, 3, 1, 1, 0 },
        { 9, 9, 1, 2, 0 }, { 6, 11, 3, 3, 2 }, { 28, 28, 3, 1, 1 },
    };
    for (size_t i = 0; i < sizeof geo / sizeof geo[0]; i++)
        for (int q = 1; q <= 3; q += 2)
            check_packers(2, geo[i][0], geo[i][1], geo[i][2], geo[i][3],
                          geo[i][4], q);
}
END_TEST

/* advc_sgemm_src over the packers = advc_sgemm over im2col, bit for bit,
 * for the forward (NN) and the weight gradient (NT), 1 and 2 threads. */
START_TEST(test_implicit_gemm_bitwise)
{
    advc_conv_geom g;
    ck_assert(advc_conv_geom_init(&g, 5, 9, 10, 3, 3, 2, 1));
    int q = 3, cout = 7, rows = 5 * 9, ohw = g.oh * g.ow, cols = q * ohw;
    size_t per = (size_t)5 * 9 * 10;
    float *x = frand(per * q, 4), *w = frand((size_t)cout * rows, 5);
    float *col = malloc((size_t)rows * cols * sizeof *col);
    float *one = malloc((size_t)rows * ohw * sizeof *one);
    for (int i = 0; i < q; i++) { /* col_c: the images side by side */
        advc_im2col_ref(&g, x + i * per, one);
        for (int r = 0; r < rows; r++)
            memcpy(col + (size_t)r * cols + i * ohw, one + (size_t)r * ohw,
                   ohw * sizeof *col);
    }
    float *dy = frand((size_t)cout * cols, 6);
    float *y1 = malloc((size_t)cout * cols * sizeof *y1);
    float *y2 = malloc((size_t)cout * cols * sizeof *y2);
    float *w1 = malloc((size_t)cout * rows * sizeof *w1);
    float *w2 = malloc((size_t)cout * rows * sizeof *w2);
    advc_conv_chunk ch = { &g, x, per, q };
    advc_gemm_bsrc fwd = { advc_conv_cols, &ch }, wgt = { advc_conv_cols_t,
                                                           &ch };
    for (int t = 1; t <= 2; t++) {
        advc_pool *pool = advc_pool_create(t);
        advc_sgemm(pool, ADVC_NOTRANS, ADVC_NOTRANS, cout, cols, rows, w,
                   rows, col, cols, false, y1, cols);
        advc_sgemm_src(pool, ADVC_NOTRANS, cout, cols, rows, w, rows, &fwd,
                       false, y2, cols);
        ck_assert(memcmp(y1, y2, (size_t)cout * cols * 4) == 0);
        advc_sgemm(pool, ADVC_NOTRANS, ADVC_TRANS, cout, rows, cols, dy,
                   cols, col, cols, false, w1, rows);
        advc_sgemm_src(pool, ADVC_NOTRANS, cout, rows, cols, dy, cols, &wgt,
                       false, w2, rows);
        ck_assert(memcmp(w1, w2, (size_t)cout * rows * 4) == 0);
        advc_pool_destroy(pool);
    }
    free(x), free(w), free(col), free(one), free(dy), free(y1), free(y2);
    free(w1), free(w2);
}
END_TEST

/* The fast transforms against the matrix-form references. */
START_TEST(test_wino_transforms)
{
    advc_conv_geom g;
    ck_assert(advc_conv_geom_init(&g, 3, 9, 7, 3, 3, 1, 1));
    int T = advc_wino_tiles(&g), n = 2, nt = n * T - 3;
    int ld = nt + ADVC_WINO_PAD;
    ck_assert_int_eq(T, 3 * 2);
    int cout = 5;
    float *w = frand((size_t)cout * 3 * 9, 7);
    float *u1 = malloc((size_t)36 * cout * 3 * 4), *u2 = malloc(36 * cout *
                                                                 3 * 4);
    for (int flip = 0; flip <= 1; flip++)
        for (int trans = 0; trans <= 1; trans++) {
            advc_wino_weights(cout, 3, w, flip, trans, u1);
            advc_wino_weights_ref(cout, 3, w, flip, trans, u2);
            ck_assert(tu_max_abs_diff(u1, u2, (size_t)36 * cout * 3) <=
                      1e-6);
        }
    size_t nx = (size_t)n * 3 * 9 * 7;
    float *x = frand(nx, 8);
    float *v1 = calloc((size_t)36 * 3 * ld, 4), *v2 = calloc(36 * 3 * ld, 4);
    advc_wino_input(&g, x, 1, nt, v1, ld);
    advc_wino_input_ref(&g, x, 1, nt, v2, ld);
    /* |V| <= 100 for |x| <= 1 (row sums of |B^T| are at most 10). */
    ck_assert(tu_max_abs_diff(v1, v2, (size_t)36 * 3 * ld) <= 100 * 0x1p-22);
    float *m = frand((size_t)36 * cout * ld, 9), *b = frand(cout, 10);
    size_t ny = (size_t)n * cout * 9 * 7;
    float *y1 = frand(ny, 11), *y2 = malloc(ny * 4);
    memcpy(y2, y1, ny * 4);
    for (int acc = 0; acc <= 1; acc++) {
        advc_wino_output(&g, cout, m, ld, 1, nt, acc ? NULL : b, acc, y1);
        advc_wino_output_ref(&g, cout, m, ld, 1, nt, acc ? NULL : b, acc,
                             y2);
        /* |Y| <= 400 + 1 (row sums of |A^T| are at most 19, squared) */
        ck_assert(tu_max_abs_diff(y1, y2, ny) <= 401 * 0x1p-22);
    }
    /* The weight gradient's transforms: D = A dY A^T and G^T dU G. */
    float *dy = frand(ny, 15), *d1 = calloc((size_t)36 * cout * ld, 4);
    float *d2 = calloc((size_t)36 * cout * ld, 4);
    advc_wino_output_adjoint(&g, cout, dy, 1, nt, d1, ld);
    advc_wino_output_adjoint_ref(&g, cout, dy, 1, nt, d2, ld);
    for (int r = 0; r < 36 * cout; r++) /* the spare columns are scratch */
        for (int k = 0; k < nt; k++)
            ck_assert(fabsf(d1[r * ld + k] - d2[r * ld + k]) <=
                      400 * 0x1p-22);
    float *du = frand((size_t)36 * cout * 3, 16);
    float *w1 = frand((size_t)cout * 3 * 9, 17), *w2 = malloc(cout * 27 * 4);
    memcpy(w2, w1, (size_t)cout * 27 * 4);
    advc_wino_weights_adjoint(cout, 3, du, w1);
    advc_wino_weights_adjoint_ref(cout, 3, du, w2);
    ck_assert(tu_max_abs_diff(w1, w2, (size_t)cout * 27) <= 1e-6);
    free(w), free(u1), free(u2), free(x), free(v1), free(v2), free(m);
    free(b), free(y1), free(y2), free(dy), free(d1), free(d2), free(du);
    free(w1), free(w2);
}
END_TEST

/* Winograd convolution of n images of geometry g: U, then per chunk of 11
 * tiles V, 36 GEMMs and the output transform.  flip runs the
 * input-gradient form: x is dy (g->c = the layer's cout channels), y is dx
 * (cout = the layer's input channels), w is the layer's (g->c, cout, 3, 3)
 * filters. */
static void wino_conv(const advc_conv_geom *g, int cout, const float *x,
                      const float *w, bool flip, const float *b, int n,
                      float *y)
{
    int T = advc_wino_tiles(g), chunk = 11, cin = g->c;
    int ld = chunk + ADVC_WINO_PAD;
    float *U = malloc((size_t)36 * cout * cin * 4);
    float *V = calloc((size_t)36 * cin * ld, 4);
    float *Mx = calloc((size_t)36 * cout * ld, 4);
    advc_wino_weights(flip ? cin : cout, flip ? cout : cin, w, flip, true,
                      U);
    size_t tiles = (size_t)n * T;
    for (size_t t0 = 0; t0 < tiles; t0 += chunk) {
        int nt = tiles - t0 < (size_t)chunk ? (int)(tiles - t0) : chunk;
        advc_wino_input(g, x, t0, nt, V, ld);
        for (int xi = 0; xi < 36; xi++)
            advc_sgemm(NULL, ADVC_TRANS, ADVC_NOTRANS, cout, nt, cin,
                       U + (size_t)xi * cout * cin, cout,
                       V + (size_t)xi * cin * ld, ld, false,
                       Mx + (size_t)xi * cout * ld, ld);
        advc_wino_output(g, cout, Mx, ld, t0, nt, b, false, y);
    }
    free(U), free(V), free(Mx);
}

static float *fabs_copy(const float *x, size_t n)
{
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = fabsf(x[i]);
    return a;
}

/* max_k |y_k - ref_k| / (2^-24 s_k), s_k the same operation on |x|, |w|
 * (the sum of |w||x| over output k's terms; the bias is exact). */
static double scaled_error(const float *y, const float *ref, const float *s,
                           size_t n)
{
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
        double r = fabs((double)y[k] - ref[k]) / (0x1p-24 * (s[k] + 1e-30));
        if (r > worst || r != r) worst = r;
    }
    return worst;
}

static double check_wino(int c, int cout, int h, int w, int pad, int n)
{
    advc_conv_geom g;
    ck_assert(advc_conv_geom_init(&g, c, h, w, 3, 3, 1, pad));
    size_t per = (size_t)c * h * w, ny = (size_t)cout * g.oh * g.ow;
    size_t nw = (size_t)cout * c * 9;
    float *x = frand(per * n, (uint64_t)(h * 31 + w)), *wt = frand(nw, 12);
    float *b = frand(cout, 13), *dy = frand(ny * n, 14);
    float *ax = fabs_copy(x, per * n), *aw = fabs_copy(wt, nw);
    float *ady = fabs_copy(dy, ny * n);
    float *y = malloc(ny * n * 4), *ref = malloc(ny * n * 4);
    float *s = malloc(ny * n * 4);
    wino_conv(&g, cout, x, wt, false, b, n, y);
    for (int i = 0; i < n; i++) {
        advc_conv2d_ref(&g, cout, x + i * per, wt, b, ref + i * ny);
        advc_conv2d_ref(&g, cout, ax + i * per, aw, NULL, s + i * ny);
    }
    double e = scaled_error(y, ref, s, ny * n);
    ck_assert_msg(e <= WINO_TOL, "forward c%d->%d %dx%d pad %d: %.1f", c,
                  cout, h, w, pad, e);

    /* Input gradient: dx (c, h, w) from dy (cout, oh, ow) is the Winograd
     * convolution of dy with the flipped filters and padding 2 - pad. */
    advc_conv_geom gb;
    ck_assert(advc_conv_geom_init(&gb, cout, g.oh, g.ow, 3, 3, 1, 2 - pad));
    ck_assert(gb.oh == h && gb.ow == w);
    float *dx = malloc(per * n * 4), *dref = calloc(per * n, 4);
    float *sb = calloc(per * n, 4);
    wino_conv(&gb, c, dy, wt, true, NULL, n, dx);
    for (int i = 0; i < n; i++) {
        advc_conv2d_input_grad_ref(&g, cout, dy + i * ny, wt, dref + i * per);
        advc_conv2d_input_grad_ref(&g, cout, ady + i * ny, aw, sb + i * per);
    }
    double eb = scaled_error(dx, dref, sb, per * n);
    ck_assert_msg(eb <= WINO_TOL, "input grad c%d->%d %dx%d pad %d: %.1f", c,
                  cout, h, w, pad, eb);

    /* Weight gradient: dU_xi = sum_t D_xi V_xi^T, dw = G^T dU G. */
    int T = advc_wino_tiles(&g), nt = n * T, ld = nt + ADVC_WINO_PAD;
    float *V = calloc((size_t)36 * c * ld, 4), *D = calloc(36 * cout * ld, 4);
    float *dU = malloc((size_t)36 * cout * c * 4), *dw = calloc(nw, 4);
    float *wref = calloc(nw, 4), *sw = calloc(nw, 4);
    advc_wino_input(&g, x, 0, nt, V, ld);
    advc_wino_output_adjoint(&g, cout, dy, 0, nt, D, ld);
    for (int xi = 0; xi < 36; xi++)
        advc_sgemm(NULL, ADVC_NOTRANS, ADVC_TRANS, cout, c, nt,
                   D + (size_t)xi * cout * ld, ld, V + (size_t)xi * c * ld,
                   ld, false, dU + (size_t)xi * cout * c, c);
    advc_wino_weights_adjoint(cout, c, dU, dw);
    for (int i = 0; i < n; i++) {
        advc_conv2d_weight_grad_ref(&g, cout, x + i * per, dy + i * ny, wref);
        advc_conv2d_weight_grad_ref(&g, cout, ax + i * per, ady + i * ny, sw);
    }
    double ew = scaled_error(dw, wref, sw, nw);
    ck_assert_msg(ew <= WINO_TOL, "weight grad c%d->%d %dx%d pad %d: %.1f", c,
                  cout, h, w, pad, ew);
    if (ew > eb) eb = ew;
    free(V), free(D), free(dU), free(dw), free(wref), free(sw);
    free(x), free(wt), free(b), free(dy), free(ax), free(aw), free(ady);
    free(y), free(ref), free(s), free(dx), free(dref), free(sb);
    return e > eb ? e : eb;
}

START_TEST(test_wino_conv_bound)
{
    double worst = 0;
    for (int h = 1; h <= 9; h++)
        for (int pad = 0; pad <= 1; pad++) {
            if (h + 2 * pad < 3) continue;
            double e = check_wino(3, 4, h, h + 2 > 9 ? 9 : h + 2, pad, 2);
            if (e > worst) worst = e;
        }
    double e = check_wino(16, 16, 14, 14, 1, 2);
    if (e > worst) worst = e;
    e = check_wino(32, 8, 28, 28, 1, 1);
    if (e > worst) worst = e;
    e = check_wino(64, 64, 7, 7, 1, 2);
    if (e > worst) worst = e;
    if (getenv("ADVC_WINO_VERBOSE"))
        printf("winograd: worst error %.1f x 2^-24 sum|w||x|\n", worst);
}
END_TEST

Suite *advc_suite_conv(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = tcase_create("conv");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_reference_adjoints);
    tcase_add_test(tc, test_packers_match_reference);
    tcase_add_test(tc, test_implicit_gemm_bitwise);
    tcase_add_test(tc, test_wino_transforms);
    tcase_add_test(tc, test_wino_conv_bound);
    suite_add_tcase(s, tc);
    return s;
}
