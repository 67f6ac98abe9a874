/* test_vec.c: the attack steps, softmax cross-entropy and BLAS-1 /
 * optimizer kernels against their scalar references, at every size 0..
 * TU_TILE_N (every loop and tail length of every ISA) and one long odd
 * size.  Sign steps and
 * element-wise kernels must match bit for bit; sums, dots, the L2 step and
 * softmax cross-entropy within stated bounds (u = 2^-24).  Arrays are
 * allocated at their exact size, so ASan sees any read past the end, and a
 * guard test checks that no kernel writes outside [0, n).
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "dispatch.h"

/* Check records every passing ck_assert (a write to a pipe), which costs
 * seconds over 10^6 elements; per-element checks call Check only when they
 * fail. */
#define EXPECT(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);                               \
    } while (0)

#define U 0x1p-24          /* float unit roundoff: half an ulp of 1.0 */
#define N_SMALL (TU_TILE_N + 1) /* sizes 0..TU_TILE_N: see testutil.h */
#define N_LONG ((size_t)100003) /* long and odd: the main loops, then tails */

/* Size number k of the sweep: 0..TU_TILE_N, then N_LONG. */
static size_t sweep_n(int k)
{
    return k < N_SMALL ? (size_t)k : N_LONG;
}
#define N_SWEEP (N_SMALL + 1)

/* An exact-size float array (one float for n = 0, so never NULL). */
static float *fvec(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static float *fdup(const float *x, size_t n)
{
    float *p = fvec(n);
    if (n)
        memcpy(p, x, n * sizeof *p);
    return p;
}

/* Partial sums this build's sum/dot keep (the ref adds one at a time):
 * dispatch.h says how many. */
static double sum_lanes(void) { return ISA_SUM_PARTIALS; }

/* ---- sign steps ---------------------------------------------------------
 * Gradients mix ordinary values with the awkward ones: +-0, +-1e30 and
 * subnormals (both must give a full +-a step). */
static void fill_grad(float *g, size_t n, uint64_t seed)
{
    tu_fill(g, n, -1.0f, 1.0f, seed);
    for (size_t i = 0; i < n; i++) {
        if (i % 7 == 3) g[i] = 0.0f;
        if (i % 11 == 5) g[i] = -0.0f;
        if (i % 13 == 6) g[i] = i % 2 ? 1e30f : -1e30f;
        if (i % 17 == 8) g[i] = i % 2 ? 1e-40f : -1e-40f; /* subnormal */
    }
}

typedef struct {
    float a, eps, lo, hi;
    int alias;      /* 1: x0 is x itself (step, then clip the step to eps) */
    int at_bounds;  /* 1: put some x and x0 exactly on lo, hi and x0 +- eps */
} proj_case;

/* Runs the fused projected step against the ref for one size and checks
 * bit equality and that the result is in the ball and the box. */
static void run_proj(size_t n, const proj_case *pc, uint64_t seed)
{
    float *x = fvec(n), *g = fvec(n), *x0 = fvec(n);
    float out = 0.1f * (pc->hi - pc->lo); /* some x0 outside the box: the
                                             box must win over the ball */
    tu_fill(x0, n, pc->lo - out, pc->hi + out, seed);
    tu_fill(x, n, pc->lo - 0.2f, pc->hi + 0.2f, seed + 1); /* some outside */
    fill_grad(g, n, seed + 2);
    for (size_t i = 0; pc->at_bounds && i < n; i++) {
        if (i % 5 == 0) x0[i] = i % 2 ? pc->hi : pc->lo;
        if (i % 3 == 0) x[i] = i % 2 ? pc->hi : pc->lo;
        if (i % 3 == 1) x[i] = x0[i] + (i % 2 ? pc->eps : -pc->eps);
    }
    float *xf = fdup(x, n), *xr = fdup(x, n);
    advc_sign_step_proj(n, xf, g, pc->alias ? xf : x0, pc->a, pc->eps,
                        pc->lo, pc->hi);
    advc_sign_step_proj_ref(n, xr, g, pc->alias ? xr : x0, pc->a, pc->eps,
                            pc->lo, pc->hi);
    for (size_t i = 0; i < n; i++) {
        EXPECT(memcmp(&xf[i], &xr[i], sizeof(float)) == 0,
               "proj n=%zu i=%zu: %a != ref %a (x=%a g=%a x0=%a)", n, i,
               xf[i], xr[i], x[i], g[i], x0[i]);
        float c = pc->alias ? x[i] : x0[i]; /* the ball's centre */
        float blo = fmaxf(c - pc->eps, pc->lo);
        float bhi = fminf(c + pc->eps, pc->hi);
        if (blo <= bhi) /* the ball meets the box: the result is in both */
            EXPECT(xf[i] >= blo && xf[i] <= bhi,
                   "proj n=%zu i=%zu left the ball: %a", n, i, xf[i]);
        EXPECT(xf[i] >= pc->lo && xf[i] <= pc->hi,
               "proj n=%zu i=%zu left the box: %a", n, i, xf[i]);
    }
    free(x), free(g), free(x0), free(xf), free(xr);
}

START_TEST(test_sign_proj_matches_ref)
{
    const float a = 2.0f / 255, eps = 8.0f / 255; /* the usual MNIST PGD */
    const proj_case cases[] = {
        { a, eps, 0.0f, 1.0f, 0, 0 },
        { a, eps, 0.0f, 1.0f, 0, 1 },     /* x, x0 on the bounds       */
        { a, eps, 0.0f, 1.0f, 1, 0 },     /* in place: x0 == x         */
        { a, 0.0f, 0.0f, 1.0f, 0, 1 },    /* eps = 0: x = clamp(x0)    */
        { a, 10.0f, 0.0f, 1.0f, 0, 1 },   /* ball larger than the box  */
        { a, eps, 0.3f, 0.7f, 0, 1 },     /* ball often misses the box */
        { 0.0f, eps, 0.0f, 1.0f, 0, 0 },  /* a = 0: projection only    */
        { 0.3f, 0.1f, -1.0f, 1.0f, 0, 1 },
        { 1e30f, 1e30f, -3e30f, 3e30f, 0, 0 }, /* extreme but finite   */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int k = 0; k < N_SWEEP; k++)
            run_proj(sweep_n(k), &cases[c], 100 * c + (uint64_t)k);
}
END_TEST

/* eps = 0 pins x to x0 (inside the box), whatever g says. */
START_TEST(test_sign_proj_eps_zero_gives_x0)
{
    size_t n = 37;
    float *x = fvec(n), *g = fvec(n), *x0 = fvec(n);
    tu_fill(x, n, 0, 1, 1), tu_fill(x0, n, 0, 1, 2), fill_grad(g, n, 3);
    advc_sign_step_proj(n, x, g, x0, 0.1f, 0.0f, 0.0f, 1.0f);
    for (size_t i = 0; i < n; i++)
        EXPECT(x[i] == x0[i], "eps = 0: x[%zu] != x0", i);
    free(x), free(g), free(x0);
}
END_TEST

/* A NaN gradient gives a zero step (x already inside is left as is). */
START_TEST(test_sign_nan_grad_is_zero_step)
{
    size_t n = 29;
    float *x = fvec(n), *g = fvec(n), *x0, *xp = fvec(n);
    tu_fill(x, n, 0.25f, 0.75f, 4);
    x0 = fdup(x, n);
    for (size_t i = 0; i < n; i++) g[i] = NAN;
    memcpy(xp, x, n * sizeof *x);
    advc_sign_step_proj(n, x, g, x0, 0.1f, 0.2f, 0.0f, 1.0f);
    advc_sign_step(n, xp, g, 0.1f);
    ck_assert(memcmp(x, x0, n * sizeof *x) == 0);
    ck_assert(memcmp(xp, x0, n * sizeof *x) == 0);
    free(x), free(g), free(x0), free(xp);
}
END_TEST

START_TEST(test_sign_step_matches_ref)
{
    for (int k = 0; k < N_SWEEP; k++) {
        size_t n = sweep_n(k);
        float *x = fvec(n), *g = fvec(n);
        tu_fill(x, n, -1, 1, 10 + (uint64_t)k), fill_grad(g, n, 20);
        float *xf = fdup(x, n), *xr = fdup(x, n);
        advc_sign_step(n, xf, g, 0.01f);
        advc_sign_step_ref(n, xr, g, 0.01f);
        ck_assert(n == 0 || memcmp(xf, xr, n * sizeof *x) == 0);
        for (size_t i = 0; i < n; i++) /* sign(0) = 0: zeros never move */
            EXPECT(g[i] != 0.0f || xf[i] == x[i], "sign(0) moved x");
        free(x), free(g), free(xf), free(xr);
    }
}
END_TEST

/* ---- L2 step ------------------------------------------------------------ */

START_TEST(test_l2_step_zero_grad_unchanged)
{
    for (int k = 0; k < N_SMALL; k++) {
        size_t n = (size_t)k;
        float *x = fvec(n), *g = fvec(n);
        tu_fill(x, n, 0, 1, 30 + (uint64_t)k);
        for (size_t i = 0; i < n; i++) g[i] = i % 2 ? 0.0f : -0.0f;
        float *x1 = fdup(x, n);
        advc_l2_step(n, x1, g, 0.5f);
        ck_assert(n == 0 || memcmp(x1, x, n * sizeof *x) == 0);
        free(x), free(g), free(x1);
    }
}
END_TEST

START_TEST(test_l2_step_matches_ref)
{
    for (int k = 0; k < N_SWEEP; k++) {
        size_t n = sweep_n(k);
        float *x = fvec(n), *g = fvec(n);
        tu_fill(x, n, 0, 1, 40 + (uint64_t)k);
        tu_fill(g, n, -1, 1, 50 + (uint64_t)k);
        float *xf = fdup(x, n), *xr = fdup(x, n);
        advc_l2_step(n, xf, g, 0.7f);
        advc_l2_step_ref(n, xr, g, 0.7f);
        for (size_t i = 0; i < n; i++) /* same double math, other order */
            EXPECT(tu_ulp_diff(xf[i], xr[i]) <= 1, "l2 n=%zu i=%zu", n, i);
        free(x), free(g), free(xf), free(xr);
    }
}
END_TEST

/* From x = 0 the step is exactly a*g/||g||: its length is a, also for
 * tiny (subnormal) and huge gradients that would overflow in float. */
START_TEST(test_l2_step_length_is_a)
{
    const float gscale[] = { 1.0f, 1e-40f, 1e30f, 3e38f };
    const size_t sizes[] = { 1, 7, 784, N_LONG };
    for (size_t s = 0; s < 4; s++)
        for (size_t z = 0; z < 4; z++) {
            size_t n = sizes[z];
            float *x = fvec(n), *g = fvec(n);
            memset(x, 0, n * sizeof *x);
            tu_fill(g, n, 0.5f, 1.0f, 60 + z);
            for (size_t i = 0; i < n; i++)
                g[i] = (i % 2 ? -gscale[s] : gscale[s]) * g[i];
            advc_l2_step(n, x, g, 0.5f);
            double len = 0;
            for (size_t i = 0; i < n; i++) len += (double)x[i] * x[i];
            ck_assert_msg(fabs(sqrt(len) - 0.5) <= 0.5 * 4 * U,
                          "|step| = %.9g for g ~ %g, n = %zu", sqrt(len),
                          (double)gscale[s], n);
            free(x), free(g);
        }
}
END_TEST

/* ---- softmax cross-entropy ---------------------------------------------- */

typedef struct {
    int n, c;
    float *z, *dz, *dzr, *loss, *lossr;
    int *y;
} xent_data;

static void xent_make(xent_data *d, int n, int c, float zlo, float zhi,
                      uint64_t seed)
{
    size_t nc = (size_t)n * (size_t)c;
    d->n = n, d->c = c;
    d->z = fvec(nc), d->dz = fvec(nc), d->dzr = fvec(nc);
    d->loss = fvec((size_t)n), d->lossr = fvec((size_t)n);
    d->y = malloc(((size_t)n + 1) * sizeof *d->y);
    ck_assert_ptr_nonnull(d->y);
    tu_fill(d->z, nc, zlo, zhi, seed);
    advc_rng r;
    advc_rng_seed(&r, seed, 3);
    for (int i = 0; i < n; i++) d->y[i] = (int)advc_rng_below(&r, (uint32_t)c);
}

static void xent_free(xent_data *d)
{
    free(d->z), free(d->dz), free(d->dzr), free(d->loss), free(d->lossr);
    free(d->y);
}

/* Loss (mean and per row) and gradient against the double ref: losses to
 * 2e-6 relative (plus c u absolute for the sum of c exps), gradient
 * entries (which are in [-1, 1] * scale) to (c + 4) u * scale, and each
 * gradient row sums to ~0. */
static void xent_check(xent_data *d, float scale)
{
    int n = d->n, c = d->c;
    float mean = advc_softmax_xent(n, c, d->z, d->y, d->loss);
    float meanr = advc_softmax_xent_ref(n, c, d->z, d->y, d->lossr);
    double ltol = 2e-6 + c * U;
    ck_assert_msg(fabs(mean - meanr) <= ltol * (1 + fabs(meanr)),
                  "mean loss %.9g vs ref %.9g", mean, meanr);
    for (int i = 0; i < n; i++) {
        EXPECT(isfinite(d->loss[i]), "loss[%d] not finite", i);
        EXPECT(fabs(d->loss[i] - d->lossr[i]) <=
                   ltol * (1 + fabs(d->lossr[i])),
               "loss[%d] %.9g vs ref %.9g", i, d->loss[i], d->lossr[i]);
    }
    ck_assert_float_eq(advc_softmax_xent(n, c, d->z, d->y, NULL), mean);
    advc_softmax_xent_grad(n, c, d->z, d->y, scale, d->dz);
    advc_softmax_xent_grad_ref(n, c, d->z, d->y, scale, d->dzr);
    double gtol = (c + 4) * U * fabs(scale);
    for (int i = 0; i < n; i++) {
        double rowsum = 0;
        for (int j = 0; j < c; j++) {
            size_t ij = (size_t)i * (size_t)c + (size_t)j;
            EXPECT(fabs(d->dz[ij] - d->dzr[ij]) <= gtol,
                   "dz[%d][%d] %a vs ref %a", i, j, d->dz[ij], d->dzr[ij]);
            rowsum += d->dz[ij];
        }
        EXPECT(fabs(rowsum) <= 2 * gtol, "row %d sums to %g", i, rowsum);
    }
}

START_TEST(test_xent_random_vs_ref)
{
    const int cs[] = { 1, 2, 10, 100, 1000 };
    for (int k = 0; k < 5; k++) {
        xent_data d;
        xent_make(&d, 33, cs[k], -6.0f, 6.0f, 70 + (uint64_t)k);
        xent_check(&d, 1.0f / 33);
        xent_check(&d, -2.5f);
        xent_free(&d);
    }
}
END_TEST

/* Logits of +-1e4: finite and correct.  A confident right row has loss 0
 * and gradient 0; a confident wrong row has loss 2e4 and gradient
 * (+1 at the winner, -1 at the label) * scale. */
START_TEST(test_xent_huge_logits)
{
    xent_data d;
    xent_make(&d, 20, 10, -1e4f, 1e4f, 80);
    xent_check(&d, 0.05f);
    for (int j = 0; j < 10; j++) {
        d.z[j] = j == 3 ? 1e4f : -1e4f;        /* row 0: right, label 3 */
        d.z[10 + j] = j == 7 ? 1e4f : -1e4f;   /* row 1: wrong, label 2 */
    }
    d.y[0] = 3, d.y[1] = 2;
    advc_softmax_xent(2, 10, d.z, d.y, d.loss);
    ck_assert_float_eq(d.loss[0], 0.0f);
    ck_assert_float_eq(d.loss[1], 2e4f);
    advc_softmax_xent_grad(2, 10, d.z, d.y, 0.5f, d.dz);
    for (int j = 0; j < 10; j++) {
        ck_assert_float_eq(d.dz[j], 0.0f);
        ck_assert_float_eq(d.dz[10 + j], j == 7 ? 0.5f : j == 2 ? -0.5f
                                                                 : 0.0f);
    }
    xent_check(&d, 1.0f);
    xent_free(&d);
}
END_TEST

/* Gradient against central differences of the (float) per-row loss:
 * h = 1e-2 gives truncation ~h^2/6 and rounding ~u*L/h, both < 1e-4. */
START_TEST(test_xent_grad_finite_differences)
{
    const float h = 1e-2f;
    xent_data d;
    xent_make(&d, 6, 10, -3.0f, 3.0f, 90);
    advc_softmax_xent_grad(6, 10, d.z, d.y, 1.0f, d.dz);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 10; j++) {
            float *zi = d.z + i * 10, keep = zi[j], lp, lm;
            zi[j] = keep + h;
            advc_softmax_xent(1, 10, zi, d.y + i, &lp);
            zi[j] = keep - h;
            advc_softmax_xent(1, 10, zi, d.y + i, &lm);
            zi[j] = keep;
            double fd = ((double)lp - lm) / ((double)(keep + h) - (keep - h));
            ck_assert_msg(fabs(fd - d.dz[i * 10 + j]) < 5e-4, "row %d col %d"
                          ": fd %.6g vs dz %.6g", i, j, fd, d.dz[i * 10 + j]);
        }
    xent_free(&d);
}
END_TEST

/* Softmax against exact (double) values: each p within (|z - max| + c + 2)
 * u relatively (the rounding of z - max is magnified by exp's slope; expf,
 * the sum of c terms and the division add c + 2), plus 2^-148 for
 * subnormal results.  Rows sum to 1, and p == z (in place) gives the same
 * bits. */
START_TEST(test_softmax)
{
    xent_data d;
    xent_make(&d, 17, 12, -1e4f, 1e4f, 100);
    for (size_t i = 0; i < 17 * 6; i++) d.z[i] *= 1e-3f; /* some moderate */
    advc_softmax(17, 12, d.z, d.dz);
    for (int i = 0; i < 17; i++) {
        const float *zi = d.z + i * 12;
        double m = -INFINITY, se = 0, s = 0;
        for (int j = 0; j < 12; j++) m = zi[j] > m ? zi[j] : m;
        for (int j = 0; j < 12; j++) se += exp(zi[j] - m);
        for (int j = 0; j < 12; j++) {
            float p = d.dz[i * 12 + j];
            double pr = exp(zi[j] - m) / se;
            double tol = (fabs(zi[j] - m) + 12 + 2) * U * pr + 0x1p-148;
            EXPECT(fabs(p - pr) <= tol, "p[%d][%d] = %a vs %a", i, j, p, pr);
            s += p;
        }
        EXPECT(fabs(s - 1.0) <= 16 * U, "row %d sums to %.9g", i, s);
    }
    advc_softmax(17, 12, d.z, d.z); /* in place */
    ck_assert(memcmp(d.z, d.dz, 17 * 12 * sizeof(float)) == 0);
    ck_assert_float_eq(advc_softmax_xent(0, 12, d.z, d.y, NULL), 0.0f);
    xent_free(&d);
}
END_TEST

/* ---- BLAS-1 ------------------------------------------------------------- */

/* Element-wise kernels round exactly as the ref: bit-equal outputs. */
static void check_same(const char *what, size_t n, const float *fast,
                       const float *ref)
{
    for (size_t i = 0; i < n; i++)
        EXPECT(memcmp(&fast[i], &ref[i], sizeof *fast) == 0,
               "%s: n=%zu i=%zu fast=%a ref=%a", what, n, i, fast[i],
               ref[i]);
}

/* FAB's box moves match the reference bit for bit (the sign of zero moves
 * too) and return the same largest move: pixels on the box edges and
 * inside it, gradients with exact zeros, both directions, lambda below,
 * inside and above the rooms, every length of the sweep. */
START_TEST(test_box_move_matches_ref)
{
    const float lams[] = { 0.0f, 0.01f, 0.3f, 2.0f };
    for (int k = 0; k < N_SWEEP; k++) {
        size_t n = sweep_n(k);
        float *t = malloc((n + 1) * sizeof *t), *w = malloc((n + 1) * sizeof *w);
        float *df = malloc((n + 1) * sizeof *df);
        float *dr = malloc((n + 1) * sizeof *dr);
        tu_fill(t, n, 0, 1, 7 + (uint64_t)k);
        tu_fill(w, n, -1, 1, 70 + (uint64_t)k);
        for (size_t i = 0; i < n; i += 3) t[i] = (float)(i % 2); /* edges */
        for (size_t i = 0; i < n; i += 5) w[i] = i % 10 ? 0.0f : -0.0f;
        for (int c = 0; c < 8; c++) {
            float sg = c & 1 ? -1.0f : 1.0f, lam = lams[c / 2];
            df[n] = dr[n] = 99.0f; /* past the end: never written */
            float mf = advc_box_move(n, t, w, sg, lam, 0.0f, 1.0f, df);
            float mr = advc_box_move_ref(n, t, w, sg, lam, 0.0f, 1.0f, dr);
            check_same("box move", n + 1, df, dr);
            EXPECT(memcmp(&mf, &mr, sizeof mf) == 0,
                   "box move n=%zu: max %a, ref %a", n, mf, mr);
        }
        free(t), free(w), free(df), free(dr);
    }
}
END_TEST

START_TEST(test_axpy_scale_vs_ref)
{
    for (int k = 0; k < N_SWEEP; k++) {
        size_t n = sweep_n(k);
        float *x = fvec(n), *y = fvec(n);
        tu_fill(x, n, -1, 1, 110 + (uint64_t)k);
        tu_fill(y, n, -1, 1, 120 + (uint64_t)k);
        float *yf = fdup(y, n), *yr = fdup(y, n);
        advc_axpy(n, -0.37f, x, yf);
        advc_axpy_ref(n, -0.37f, x, yr);
        check_same("axpy", n, yf, yr);
        advc_scale(n, 3.3f, yf);
        advc_scale_ref(n, 3.3f, yr);
        check_same("scale", n, yf, yr);
        free(x), free(y), free(yf), free(yr);
    }
}
END_TEST

/* sum and dot: the SIMD kernels keep L partial sums, so each term passes
 * through at most n/L + log2(L) + 3 roundings: |err| <= (n/L + 10) u
 * sum|terms|, plus the ref's own final rounding. */
START_TEST(test_sum_dot_vs_ref)
{
    double lanes = sum_lanes();
    for (int k = 0; k < N_SWEEP; k++) {
        size_t n = sweep_n(k);
        float *x = fvec(n), *y = fvec(n);
        tu_fill(x, n, -1, 1, 130 + (uint64_t)k);
        tu_fill(y, n, -2, 3, 140 + (uint64_t)k);
        double ax = 0, axy = 0;
        for (size_t i = 0; i < n; i++)
            ax += fabs(x[i]), axy += fabs((double)x[i] * y[i]);
        double bound = (n / lanes + 10) * U;
        float s = advc_sum(n, x), sr = advc_sum_ref(n, x);
        ck_assert_msg(fabs(s - sr) <= bound * ax + U * fabs(sr),
                      "sum n=%zu: %.9g vs %.9g", n, s, sr);
        float d = advc_dot(n, x, y), dr = advc_dot_ref(n, x, y);
        ck_assert_msg(fabs(d - dr) <= bound * axy + U * fabs(dr),
                      "dot n=%zu: %.9g vs %.9g", n, d, dr);
        for (size_t i = 0; i < n; i++) /* small integers: exact in any order */
            x[i] = (float)((int)(i % 9) - 4), y[i] = (float)(i % 5);
        ck_assert_float_eq(advc_sum(n, x), advc_sum_ref(n, x));
        ck_assert_float_eq(advc_dot(n, x, y), advc_dot_ref(n, x, y));
        free(x), free(y);
    }
    ck_assert_float_eq(advc_sum(0, NULL), 0.0f);
    ck_assert_float_eq(advc_dot(0, NULL, NULL), 0.0f);
}
END_TEST

/* max: equal to the ref at every size and every position of the maximum
 * (each lane and each tail slot); -inf for n = 0; NaNs are skipped. */
START_TEST(test_max_vs_ref)
{
    ck_assert(isinf(advc_max(0, NULL)) && advc_max(0, NULL) < 0);
    for (int k = 0; k < N_SWEEP; k++) {
        size_t n = sweep_n(k);
        float *x = fvec(n);
        tu_fill(x, n, -3, -1, 150 + (uint64_t)k); /* all negative: a 0 from
                                                     a padded lane would win */
        ck_assert_float_eq(advc_max(n, x), advc_max_ref(n, x));
        for (size_t p = 0; p < n && p < 48; p++) {
            float keep = x[p];
            x[p] = -0.5f;
            EXPECT(advc_max(n, x) == -0.5f, "max missed position %zu", p);
            x[p] = keep;
        }
        if (n) {
            x[n - 1] = 5.0f;
            ck_assert_float_eq(advc_max(n, x), 5.0f);
        }
        for (size_t i = 0; i < n; i += 3) x[i] = NAN;
        ck_assert_float_eq(advc_max(n, x), advc_max_ref(n, x));
        for (size_t i = 0; i < n; i++) x[i] = NAN;
        float m = advc_max(n, x);
        ck_assert(isinf(m) && m < 0);
        free(x);
    }
}
END_TEST

/* SGD, every combination of momentum / nesterov / weight decay, five steps
 * at every size, bit-equal to the ref after each step. */
START_TEST(test_sgd_vs_ref)
{
    for (int cfg = 0; cfg < 8; cfg++) {
        float mu = cfg & 1 ? 0.9f : 0.0f, wd = cfg & 2 ? 5e-4f : 0.0f;
        bool nesterov = (cfg & 4) != 0;
        for (int k = 0; k < N_SWEEP; k++) {
            size_t n = sweep_n(k);
            float *w = fvec(n), *g = fvec(n), *v = fvec(n);
            tu_fill(w, n, -1, 1, 160 + (uint64_t)k);
            tu_fill(v, n, -0.1f, 0.1f, 170 + (uint64_t)k);
            float *wr = fdup(w, n), *vr = fdup(v, n);
            for (int step = 0; step < 5; step++) {
                tu_fill(g, n, -1, 1, 180 + (uint64_t)(k * 8 + step));
                advc_sgd_update(n, w, g, v, 0.05f, mu, wd, nesterov);
                advc_sgd_update_ref(n, wr, g, vr, 0.05f, mu, wd, nesterov);
                check_same("sgd v", n, v, vr);
                check_same("sgd w", n, w, wr);
            }
            free(w), free(g), free(v), free(wr), free(vr);
        }
    }
}
END_TEST

/* Adam over steps t = 1..6 and t = 1000 (the bias corrections change with
 * t), with and without weight decay, bit-equal to the ref after each. */
START_TEST(test_adam_vs_ref)
{
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    const int ts[] = { 1, 2, 3, 4, 5, 6, 1000 };
    for (int cfg = 0; cfg < 2; cfg++) {
        float wd = cfg ? 1e-2f : 0.0f;
        for (int k = 0; k < N_SWEEP; k++) {
            size_t n = sweep_n(k);
            float *w = fvec(n), *g = fvec(n), *m = fvec(n), *v = fvec(n);
            tu_fill(w, n, -1, 1, 190 + (uint64_t)k);
            if (n) memset(m, 0, n * sizeof *m), memset(v, 0, n * sizeof *v);
            float *wr = fdup(w, n), *mr = fdup(m, n), *vr = fdup(v, n);
            for (int s = 0; s < 7; s++) {
                tu_fill(g, n, -1, 1, 200 + (uint64_t)(k * 8 + s));
                if (s == 3) /* some zero gradients: v stays tiny, eps counts */
                    for (size_t i = 0; i < n; i += 5) g[i] = 0.0f;
                advc_adam_update(n, w, g, m, v, lr, b1, b2, eps, wd, ts[s]);
                advc_adam_update_ref(n, wr, g, mr, vr, lr, b1, b2, eps, wd,
                                     ts[s]);
                check_same("adam m", n, m, mr);
                check_same("adam v", n, v, vr);
                check_same("adam w", n, w, wr);
            }
            free(w), free(g), free(m), free(v), free(wr), free(mr), free(vr);
        }
    }
}
END_TEST

/* ---- no writes outside [0, n) ------------------------------------------- */

#define GUARD (TU_MAX_LANES + 4) /* guard floats after the array:
                                  more than one vector of any ISA */
#define SENTINEL 1234.5f

/* Buffers of 1 + n + GUARD floats filled with SENTINEL; the kernels get
 * base + 1 (also an unaligned address), and the guards must survive. */
START_TEST(test_no_writes_outside)
{
    enum { NB = 7 };
    float buf[NB][1 + TU_TILE_N + GUARD];
    for (size_t n = 0; n <= TU_TILE_N; n++) {
        for (int b = 0; b < NB; b++) {
            for (size_t i = 0; i < 1 + n + GUARD; i++) buf[b][i] = SENTINEL;
            tu_fill(buf[b] + 1, n, 0.1f, 0.9f, 210 + (uint64_t)(b + 8 * n));
        }
        float *x = buf[0] + 1, *g = buf[1] + 1, *x0 = buf[2] + 1;
        float *w = buf[3] + 1, *v = buf[4] + 1, *m = buf[5] + 1;
        float *y = buf[6] + 1;
        advc_sign_step_proj(n, x, g, x0, 0.1f, 0.05f, 0.0f, 1.0f);
        advc_sign_step(n, x, g, 0.1f);
        advc_l2_step(n, x, g, 0.1f);
        advc_axpy(n, 0.5f, g, y);
        advc_scale(n, 0.5f, y);
        advc_sgd_update(n, w, g, v, 0.1f, 0.9f, 1e-4f, true);
        advc_adam_update(n, w, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 3);
        if (n)
            advc_softmax(1, (int)n, g, y);
        for (int b = 0; b < NB; b++) {
            ck_assert_msg(buf[b][0] == SENTINEL, "n=%zu buf %d: before", n,
                          b);
            for (size_t i = 1 + n; i < 1 + n + GUARD; i++)
                EXPECT(buf[b][i] == SENTINEL,
                       "n=%zu buf %d: wrote past the end at %zu", n, b,
                       i - 1 - n);
        }
    }
}
END_TEST

Suite *advc_suite_vec(void)
{
    Suite *s = suite_create("vec");
    TCase *tc = tcase_create("sign");
    tcase_set_timeout(tc, 120); /* qemu and sanitizer runs are slow */
    tcase_add_test(tc, test_sign_proj_matches_ref);
    tcase_add_test(tc, test_box_move_matches_ref);
    tcase_add_test(tc, test_sign_proj_eps_zero_gives_x0);
    tcase_add_test(tc, test_sign_nan_grad_is_zero_step);
    tcase_add_test(tc, test_sign_step_matches_ref);
    tcase_add_test(tc, test_l2_step_zero_grad_unchanged);
    tcase_add_test(tc, test_l2_step_matches_ref);
    tcase_add_test(tc, test_l2_step_length_is_a);
    suite_add_tcase(s, tc);
    tc = tcase_create("xent");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_xent_random_vs_ref);
    tcase_add_test(tc, test_xent_huge_logits);
    tcase_add_test(tc, test_xent_grad_finite_differences);
    tcase_add_test(tc, test_softmax);
    suite_add_tcase(s, tc);
    tc = tcase_create("blas1");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_axpy_scale_vs_ref);
    tcase_add_test(tc, test_sum_dot_vs_ref);
    tcase_add_test(tc, test_max_vs_ref);
    tcase_add_test(tc, test_sgd_vs_ref);
    tcase_add_test(tc, test_adam_vs_ref);
    tcase_add_test(tc, test_no_writes_outside);
    suite_add_tcase(s, tc);
    return s;
}
