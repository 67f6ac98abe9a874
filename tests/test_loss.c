/* test_loss.c: the losses of advc/loss.h against straightforward double-
 * precision versions of their formulas, and their gradients against
 * central finite differences (of those double versions, and of the float
 * loss itself).  Also: dz is added into, scale is honoured, logits of
 * +-1e4 stay finite, sign conventions, KL(p||p) = 0, argmax ties.
 */
#include <float.h>
#include <stdlib.h>
#include "testutil.h"

#define C 10 /* classes in most tests */
#define N 5  /* samples in most tests */

/* ---- double-precision references (plain formulas) ----------------------- */

typedef enum { L_XENT, L_CW, L_CW_T, L_DLR, L_DLR_T, L_KL_P, L_KL_Q } lkind;

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static double ref_logsumexp(int c, const double *z)
{
    double s = 0;
    for (int j = 0; j < c; j++) s += exp(z[j]);
    return log(s);
}

/* max_{j != skip} z_j */
static double ref_max_except(int c, const double *z, int skip)
{
    double m = -INFINITY;
    for (int j = 0; j < c; j++)
        if (j != skip && z[j] > m) m = z[j];
    return m;
}

/* One sample's loss; for KL, z is p's logits and z2 q's. */
static double ref_loss(lkind k, int c, const double *z, const double *z2,
                       int y, int t)
{
    double s[64];
    switch (k) {
    case L_XENT:
        return ref_logsumexp(c, z) - z[y];
    case L_CW:
        return ref_max_except(c, z, y) - z[y];
    case L_CW_T:
        return z[t] - ref_max_except(c, z, t);
    case L_DLR:
    case L_DLR_T:
        memcpy(s, z, (size_t)c * sizeof *s);
        qsort(s, (size_t)c, sizeof *s, cmp_desc);
        if (k == L_DLR)
            return -(z[y] - ref_max_except(c, z, y)) /
                   (s[0] - s[2] + 1e-12);
        return -(z[y] - z[t]) / (s[0] - 0.5 * (s[2] + s[3]) + 1e-12);
    case L_KL_P:
    case L_KL_Q: {
        double lp = ref_logsumexp(c, z), lq = ref_logsumexp(c, z2), kl = 0;
        for (int j = 0; j < c; j++)
            kl += exp(z[j] - lp) * ((z[j] - lp) - (z2[j] - lq));
        return kl;
    }
    }
    return NAN;
}

/* Runs the library loss k on float logits: returns the mean, fills losses
 * and adds scale * gradient into dz (w.r.t. zp for L_KL_P, zq for L_KL_Q;
 * for KL, z is zp and z2 is zq). */
static float run_loss(lkind k, int n, int c, const float *z, const float *z2,
                      const int *y, const int *t, float *losses, float *dz,
                      float scale)
{
    switch (k) {
    case L_XENT: return advc_loss_xent(n, c, z, y, losses, dz, scale);
    case L_CW: return advc_loss_cw(n, c, z, y, NULL, losses, dz, scale);
    case L_CW_T: return advc_loss_cw(n, c, z, y, t, losses, dz, scale);
    case L_DLR: return advc_loss_dlr(n, c, z, y, NULL, losses, dz, scale);
    case L_DLR_T: return advc_loss_dlr(n, c, z, y, t, losses, dz, scale);
    case L_KL_P: return advc_loss_kl(n, c, z, z2, losses, dz, NULL, scale);
    case L_KL_Q: return advc_loss_kl(n, c, z, z2, losses, NULL, dz, scale);
    }
    return NAN;
}

/* Logits with no near-ties: row i is a shuffle of an evenly spaced ladder
 * on [-3, 3] (spacing 6/(c-1)) plus noise under a tenth of the spacing, so
 * every gap between two logits is over 0.8 spacings.  Away from CW's and
 * DLR's kinks, as finite differences need. */
static void fill_untied(float *z, int n, int c, uint64_t seed)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 3);
    double gap = 6.0 / (c - 1);
    int perm[64];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < c; j++) perm[j] = j;
        advc_rng_shuffle(&r, perm, c);
        for (int j = 0; j < c; j++)
            z[i * c + j] = (float)(-3.0 + gap * perm[j] +
                                   0.1 * gap * (advc_rng_uniform(&r) - 0.5));
    }
}

static void fill_labels(int *y, int *t, int n, int c, uint64_t seed)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 5);
    for (int i = 0; i < n; i++) {
        y[i] = (int)advc_rng_below(&r, (uint32_t)c);
        /* a target different from the label */
        t[i] = (y[i] + 1 + (int)advc_rng_below(&r, (uint32_t)c - 1)) % c;
    }
}

static void to_double(const float *x, double *d, int n)
{
    for (int i = 0; i < n; i++) d[i] = x[i];
}

static const lkind all_kinds[] = { L_XENT, L_CW, L_CW_T, L_DLR, L_DLR_T,
                                   L_KL_P, L_KL_Q };
#define NKINDS ((int)(sizeof all_kinds / sizeof all_kinds[0]))
static const char *kind_name[] = { "xent", "cw", "cw-targeted", "dlr",
                                   "dlr-targeted", "kl(dzp)", "kl(dzq)" };

/* ---- values against the double references ------------------------------- */

START_TEST(values_match_double_reference)
{
    float z[N * C], z2[N * C], losses[N];
    int y[N], t[N];
    for (int seed = 1; seed <= 20; seed++) {
        fill_untied(z, N, C, (uint64_t)seed);
        tu_fill(z2, N * C, -4, 4, (uint64_t)seed + 100);
        fill_labels(y, t, N, C, (uint64_t)seed);
        for (int ki = 0; ki < NKINDS; ki++) {
            lkind k = all_kinds[ki];
            float mean = run_loss(k, N, C, z, z2, y, t, losses, NULL, 1.0f);
            double sum = 0;
            for (int i = 0; i < N; i++) {
                double zd[C], z2d[C];
                to_double(z + i * C, zd, C);
                to_double(z2 + i * C, z2d, C);
                double want = ref_loss(k, C, zd, z2d, y[i], t[i]);
                sum += want;
                ck_assert_msg(fabs(losses[i] - want) <=
                                  2e-6 * fmax(1.0, fabs(want)),
                              "%s seed %d row %d: %.9g, want %.9g",
                              kind_name[k], seed, i, (double)losses[i], want);
            }
            ck_assert_msg(fabs(mean - sum / N) <=
                              2e-6 * fmax(1.0, fabs(sum / N)),
                          "%s mean %.9g, want %.9g", kind_name[k],
                          (double)mean, sum / N);
        }
    }
}
END_TEST

/* xent agrees with the kernel advc_softmax_xent / _grad */
START_TEST(xent_matches_kernel)
{
    float z[N * C], l1[N], l2[N], g1[N * C], g2[N * C];
    int y[N], t[N];
    tu_fill(z, N * C, -8, 8, 9);
    fill_labels(y, t, N, C, 9);
    memset(g1, 0, sizeof g1);
    float m1 = advc_loss_xent(N, C, z, y, l1, g1, 1.0f / N);
    float m2 = advc_softmax_xent_ref(N, C, z, y, l2);
    advc_softmax_xent_grad_ref(N, C, z, y, 1.0f / N, g2);
    ck_assert_float_eq_tol(m1, m2, 1e-6f);
    for (int i = 0; i < N; i++) ck_assert_float_eq_tol(l1[i], l2[i], 1e-6f);
    ck_assert(tu_max_abs_diff(g1, g2, N * C) < 1e-7);
}
END_TEST

/* ---- gradients ---------------------------------------------------------- */

/* The library's dz (scale 1/n, so that it is the gradient of the mean)
 * against central differences of the double reference (h = 1e-6), and of
 * the library's own float mean loss (h = 1e-2, sized by the actual
 * perturbation after rounding to float). */
START_TEST(gradients_match_finite_differences)
{
    float z[N * C], z2[N * C], g[N * C];
    int y[N], t[N];
    for (int seed = 1; seed <= 8; seed++) {
        fill_untied(z, N, C, (uint64_t)seed * 7);
        fill_untied(z2, N, C, (uint64_t)seed * 7 + 1);
        fill_labels(y, t, N, C, (uint64_t)seed * 7);
        for (int ki = 0; ki < NKINDS; ki++) {
            lkind k = all_kinds[ki];
            /* the perturbed set: zq for L_KL_Q, else z */
            float *zv = k == L_KL_Q ? z2 : z;
            memset(g, 0, sizeof g);
            run_loss(k, N, C, z, z2, y, t, NULL, g, 1.0f / N);
            for (int i = 0; i < N; i++) {
                double zd[C], z2d[C];
                to_double(z + i * C, zd, C);
                to_double(z2 + i * C, z2d, C);
                double *vd = k == L_KL_Q ? z2d : zd;
                for (int j = 0; j < C; j++) {
                    /* central difference of the double reference */
                    const double h = 1e-6;
                    double keep = vd[j];
                    vd[j] = keep + h;
                    double lp = ref_loss(k, C, zd, z2d, y[i], t[i]);
                    vd[j] = keep - h;
                    double lm = ref_loss(k, C, zd, z2d, y[i], t[i]);
                    vd[j] = keep;
                    double want = (lp - lm) / (2 * h) / N;
                    double got = g[i * C + j];
                    ck_assert_msg(fabs(got - want) <=
                                      1e-5 * fmax(1.0, fabs(want)),
                                  "%s seed %d (%d,%d): dz %.9g, fd %.9g",
                                  kind_name[k], seed, i, j, got, want);

                    /* central difference of the float library loss */
                    float fk = zv[i * C + j];
                    float up = fk + 1e-2f, dn = fk - 1e-2f;
                    zv[i * C + j] = up;
                    double Lp = run_loss(k, N, C, z, z2, y, t, NULL, NULL,
                                         1);
                    zv[i * C + j] = dn;
                    double Lm = run_loss(k, N, C, z, z2, y, t, NULL, NULL,
                                         1);
                    zv[i * C + j] = fk;
                    double fd = (Lp - Lm) / ((double)up - (double)dn);
                    ck_assert_msg(fabs(got - fd) <= 2e-4 + 1e-3 * fabs(fd),
                                  "%s seed %d (%d,%d): dz %.9g, float fd "
                                  "%.9g", kind_name[k], seed, i, j, got, fd);
                }
            }
        }
    }
}
END_TEST

/* dz is added into, never overwritten, and scale multiplies it. */
START_TEST(dz_accumulates_and_scales)
{
    float z[N * C], z2[N * C], base[N * C], g1[N * C], g2[N * C];
    int y[N], t[N];
    fill_untied(z, N, C, 31);
    fill_untied(z2, N, C, 32);
    fill_labels(y, t, N, C, 31);
    tu_fill(base, N * C, -1, 1, 33);
    for (int ki = 0; ki < NKINDS; ki++) {
        lkind k = all_kinds[ki];
        memset(g1, 0, sizeof g1);
        run_loss(k, N, C, z, z2, y, t, NULL, g1, 1.0f);
        /* added into a non-zero buffer */
        memcpy(g2, base, sizeof g2);
        run_loss(k, N, C, z, z2, y, t, NULL, g2, 1.0f);
        for (int i = 0; i < N * C; i++)
            ck_assert_msg(fabsf(g2[i] - (base[i] + g1[i])) <= 1e-6f,
                          "%s: dz[%d] = %g, want %g + %g", kind_name[k], i,
                          (double)g2[i], (double)base[i], (double)g1[i]);
        /* twice = double */
        memcpy(g2, g1, sizeof g2);
        run_loss(k, N, C, z, z2, y, t, NULL, g2, 1.0f);
        for (int i = 0; i < N * C; i++)
            ck_assert_float_eq_tol(g2[i], 2 * g1[i], 1e-6f);
        /* scale */
        memset(g2, 0, sizeof g2);
        run_loss(k, N, C, z, z2, y, t, NULL, g2, -0.375f);
        for (int i = 0; i < N * C; i++)
            ck_assert_float_eq_tol(g2[i], -0.375f * g1[i], 1e-6f);
        /* scale 0 adds nothing */
        memcpy(g2, base, sizeof g2);
        run_loss(k, N, C, z, z2, y, t, NULL, g2, 0.0f);
        ck_assert(memcmp(g2, base, sizeof g2) == 0);
    }
}
END_TEST

/* Logits of +-1e4: every loss and gradient finite, and the values the
 * formulas give. */
START_TEST(huge_logits_are_finite)
{
    float z[2 * C] = { 1e4f, -1e4f, 0, 1, 2, -3, 5, -1e4f, 3, 4,
                       -1e4f, 1e4f, 9999.0f, 1e4f, -1e4f, 0, 0, 1, -1, 2 };
    float z2[2 * C], losses[2], g[2 * C];
    int y[2] = { 1, 0 }, t[2] = { 2, 3 };
    for (int j = 0; j < 2 * C; j++) z2[j] = -z[j];
    for (int ki = 0; ki < NKINDS; ki++) {
        lkind k = all_kinds[ki];
        memset(g, 0, sizeof g);
        float m = run_loss(k, 2, C, z, z2, y, t, losses, g, 0.5f);
        ck_assert_msg(isfinite(m) && tu_all_finite(losses, 2) &&
                          tu_all_finite(g, 2 * C),
                      "%s: not finite at +-1e4", kind_name[k]);
    }
    /* row 0: z0 = 1e4 is the max, z1 = -1e4 the label: xent = 2e4 */
    advc_loss_xent(1, C, z, y, losses, NULL, 1);
    ck_assert_float_eq_tol(losses[0], 2e4f, 1e-2f);
    /* and the gradient is softmax - onehot: +1 at z0, -1 at z1 */
    memset(g, 0, sizeof g);
    advc_loss_xent(1, C, z, y, NULL, g, 1);
    ck_assert_float_eq_tol(g[0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(g[1], -1.0f, 1e-6f);
    /* KL of two opposite saturated distributions: finite, >= 0 */
    advc_loss_kl(2, C, z, z2, losses, NULL, NULL, 1);
    ck_assert(losses[0] >= 0 && losses[1] >= 0);
    ck_assert(losses[0] > 1e3f);
}
END_TEST

/* ---- CW ----------------------------------------------------------------- */

START_TEST(cw_sign_conventions)
{
    /* sample 0 classified correctly as 2; sample 1 misclassified (label 0,
     * predicted 3) */
    float z[2 * 4] = { 0.0f, 1.0f, 3.0f, -1.0f,
                       1.0f, 0.5f, -2.0f, 4.0f };
    int y[2] = { 2, 0 }, t[2] = { 1, 3 };
    float l[2];
    advc_loss_cw(2, 4, z, y, NULL, l, NULL, 1);
    ck_assert_float_eq(l[0], 1.0f - 3.0f); /* max other - z_y < 0: not yet */
    ck_assert_float_eq(l[1], 4.0f - 1.0f); /* > 0: succeeded                */
    advc_loss_cw(2, 4, z, y, t, l, NULL, 1);
    ck_assert_float_eq(l[0], 1.0f - 3.0f); /* target 1 not reached          */
    ck_assert_float_eq(l[1], 4.0f - 1.0f); /* target 3 reached              */
    /* gradient: +1 at the positive term, -1 at the negative */
    float g[8] = { 0 };
    advc_loss_cw(2, 4, z, y, NULL, NULL, g, 1);
    const float want[8] = { 0, 1, -1, 0, -1, 0, 0, 1 };
    for (int j = 0; j < 8; j++) ck_assert_float_eq(g[j], want[j]);
    memset(g, 0, sizeof g);
    advc_loss_cw(2, 4, z, y, t, NULL, g, 1);
    const float want_t[8] = { 0, 1, -1, 0, -1, 0, 0, 1 };
    for (int j = 0; j < 8; j++) ck_assert_float_eq(g[j], want_t[j]);
}
END_TEST

/* At ties the subgradient goes to the first maximiser. */
START_TEST(cw_ties_first_maximiser)
{
    float z[4] = { 2.0f, 5.0f, 5.0f, 0.0f };
    int y[1] = { 0 };
    float g[4] = { 0 }, l;
    advc_loss_cw(1, 4, z, y, NULL, &l, g, 1);
    ck_assert_float_eq(l, 3.0f);
    ck_assert_float_eq(g[1], 1.0f);
    ck_assert_float_eq(g[2], 0.0f);
}
END_TEST

/* ---- DLR ---------------------------------------------------------------- */

/* DLR is invariant to z -> a z + b, a > 0 (its point, per Croce & Hein). */
START_TEST(dlr_shift_and_scale_invariant)
{
    float z[N * C], z2[N * C], l1[N], l2[N];
    int y[N], t[N];
    fill_untied(z, N, C, 77);
    fill_labels(y, t, N, C, 77);
    for (int tg = 0; tg < 2; tg++) {
        const int *tt = tg ? t : NULL;
        advc_loss_dlr(N, C, z, y, tt, l1, NULL, 1);
        for (int i = 0; i < N * C; i++) z2[i] = 4.0f * z[i] + 100.0f;
        advc_loss_dlr(N, C, z2, y, tt, l2, NULL, 1);
        for (int i = 0; i < N; i++) ck_assert_float_eq_tol(l1[i], l2[i], 1e-5f);
    }
}
END_TEST

/* A correctly classified sample has DLR < 0, a misclassified one > 0, and
 * the untargeted value is exactly -(z_y - z_other)/(z1 - z3). */
START_TEST(dlr_hand_values)
{
    float z[5] = { 4.0f, 1.0f, 3.0f, 0.0f, 2.0f }; /* sorted: 4 3 2 1 0 */
    int y = 0, wrong = 2, t = 4;
    float l;
    advc_loss_dlr(1, 5, z, &y, NULL, &l, NULL, 1);
    ck_assert_float_eq_tol(l, -(4.0f - 3.0f) / (4.0f - 2.0f), 1e-7f);
    advc_loss_dlr(1, 5, z, &wrong, NULL, &l, NULL, 1);
    ck_assert_float_eq_tol(l, -(3.0f - 4.0f) / (4.0f - 2.0f), 1e-7f);
    /* targeted, y = 0, t = 4: -(4 - 2) / (4 - (2 + 1)/2) */
    advc_loss_dlr(1, 5, z, &y, &t, &l, NULL, 1);
    ck_assert_float_eq_tol(l, -(4.0f - 2.0f) / (4.0f - 1.5f), 1e-7f);
    /* gradient of the untargeted, misclassified case, by hand:
     * N = z_y - z_a = 3 - 4 = -1, D = 2; dl/dz_y = -1/2, dl/dz_a = +1/2,
     * plus p1 = a gets N/D^2 = -1/4, p3 = index 4 gets +1/4 */
    float g[5] = { 0 };
    advc_loss_dlr(1, 5, z, &wrong, NULL, NULL, g, 1);
    ck_assert_float_eq_tol(g[0], 0.5f - 0.25f, 1e-7f);
    ck_assert_float_eq_tol(g[2], -0.5f, 1e-7f);
    ck_assert_float_eq_tol(g[4], 0.25f, 1e-7f);
    ck_assert_float_eq(g[1], 0.0f);
    ck_assert_float_eq(g[3], 0.0f);
}
END_TEST

/* ---- KL ----------------------------------------------------------------- */

START_TEST(kl_of_equal_is_zero)
{
    float z[N * C], l[N], gp[N * C], gq[N * C];
    tu_fill(z, N * C, -20, 20, 41);
    z[3] = 1e4f;
    z[C + 2] = -1e4f;
    memset(gp, 0, sizeof gp);
    memset(gq, 0, sizeof gq);
    float m = advc_loss_kl(N, C, z, z, l, gp, gq, 1);
    ck_assert_float_eq(m, 0.0f);
    for (int i = 0; i < N; i++) ck_assert_float_eq(l[i], 0.0f);
    for (int i = 0; i < N * C; i++) {
        ck_assert_float_eq(gp[i], 0.0f);
        ck_assert_float_eq(gq[i], 0.0f);
    }
    /* shifting p's logits by a constant changes nothing either */
    float z2[N * C];
    for (int i = 0; i < N * C; i++) z2[i] = z[i] + 8.0f;
    advc_loss_kl(N, C, z2, z, l, NULL, NULL, 1);
    for (int i = 0; i < N; i++) ck_assert(fabsf(l[i]) < 1e-5f);
}
END_TEST

START_TEST(kl_nonnegative)
{
    float zp[N * C], zq[N * C], l[N];
    for (int seed = 0; seed < 200; seed++) {
        tu_fill(zp, N * C, -5, 5, (uint64_t)seed);
        memcpy(zq, zp, sizeof zq);
        /* q close to p: KL tiny, where rounding could make it negative */
        for (int i = 0; i < N * C; i++)
            zq[i] += 1e-4f * (float)((i * 7 + seed) % 5 - 2);
        advc_loss_kl(N, C, zp, zq, l, NULL, NULL, 1);
        for (int i = 0; i < N; i++) ck_assert(l[i] >= 0.0f);
        tu_fill(zq, N * C, -5, 5, (uint64_t)seed + 1000);
        advc_loss_kl(N, C, zp, zq, l, NULL, NULL, 1);
        for (int i = 0; i < N; i++) ck_assert(l[i] >= 0.0f);
    }
}
END_TEST

/* ---- argmax, empty batch ------------------------------------------------ */

START_TEST(argmax_rows_first_max)
{
    float z[3 * 4] = { 1, 3, 3, 2,
                       -1, -2, -3, -4,
                       0, 0, 0, 7 };
    int p[3];
    advc_argmax_rows(3, 4, z, p);
    ck_assert_int_eq(p[0], 1);
    ck_assert_int_eq(p[1], 0);
    ck_assert_int_eq(p[2], 3);
    float big[2] = { -1e4f, 1e4f };
    advc_argmax_rows(1, 2, big, p);
    ck_assert_int_eq(p[0], 1);
}
END_TEST

START_TEST(empty_batch_is_zero)
{
    float z[C] = { 0 };
    int y[1] = { 0 };
    ck_assert_float_eq(advc_loss_xent(0, C, z, y, NULL, NULL, 1), 0.0f);
    ck_assert_float_eq(advc_loss_cw(0, C, z, y, NULL, NULL, NULL, 1), 0.0f);
    ck_assert_float_eq(advc_loss_dlr(0, C, z, y, NULL, NULL, NULL, 1), 0.0f);
    ck_assert_float_eq(advc_loss_kl(0, C, z, z, NULL, NULL, NULL, 1), 0.0f);
}
END_TEST

Suite *advc_suite_loss(void)
{
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("loss");
    tcase_add_test(tc, values_match_double_reference);
    tcase_add_test(tc, xent_matches_kernel);
    tcase_add_test(tc, gradients_match_finite_differences);
    tcase_add_test(tc, dz_accumulates_and_scales);
    tcase_add_test(tc, huge_logits_are_finite);
    tcase_add_test(tc, cw_sign_conventions);
    tcase_add_test(tc, cw_ties_first_maximiser);
    tcase_add_test(tc, dlr_shift_and_scale_invariant);
    tcase_add_test(tc, dlr_hand_values);
    tcase_add_test(tc, kl_of_equal_is_zero);
    tcase_add_test(tc, kl_nonnegative);
    tcase_add_test(tc, argmax_rows_first_max);
    tcase_add_test(tc, empty_batch_is_zero);
    suite_add_tcase(s, tc);
    return s;
}
