/* test_act.c: the activation kernels (whatever ISA advc_act_forward and
 * advc_act_backward dispatch to) against the double-precision references,
 * holding exactly the promises in src/kernels/act.h.
 *
 * Per activation (psoftplus with alpha = 1, 2, 10, 100), forward and
 * backward: a dense sweep of [-100, 100], every binade from the smallest
 * subnormal to FLT_MAX, special values; results always finite; in place
 * equals out of place; every length 0..TU_TILE_N at four offsets equals
 * the long array element by element (every loop and tail of every ISA)
 * and writes nothing past the end; the backward also against a central
 * difference of the double forward.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "act.h"

#define SWEEP_N 200001 /* x = -100 + 200 i / (SWEEP_N - 1) */

/* The cases: each activation once, psoftplus with four alphas. */
typedef struct {
    advc_act f;
    float alpha;
} act_case;

static const act_case cases[] = {
    { ADVC_ACT_IDENTITY, 1 },   { ADVC_ACT_RELU, 1 },
    { ADVC_ACT_SOFTPLUS, 1 },   { ADVC_ACT_PSOFTPLUS, 1 },
    { ADVC_ACT_PSOFTPLUS, 2 },  { ADVC_ACT_PSOFTPLUS, 10 },
    { ADVC_ACT_PSOFTPLUS, 100 }, { ADVC_ACT_SILU, 1 },
    { ADVC_ACT_GELU, 1 },       { ADVC_ACT_ELU, 1 },
    { ADVC_ACT_SIGMOID, 1 },    { ADVC_ACT_TANH, 1 },
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static float *falloc(size_t n)
{
    float *p = advc_alloc((n ? n : 1) * sizeof(float));
    if (!p) ck_abort_msg("out of memory");
    return p;
}

/* dy in +-[0.5, 2): magnitudes near 1, both signs, seeded */
static void fill_dy(float *dy, size_t n, uint64_t seed)
{
    tu_fill(dy, n, 0.5f, 2.0f, seed);
    for (size_t i = 0; i < n; i += 2) dy[i] = -dy[i];
}

/* Runs case c forward and backward on x (dy given) and checks every
 * element against the reference under the promise; `what` names the
 * input set in failure messages. */
static void check_all(const act_case *c, size_t n, const float *x,
                      const float *dy, const char *what)
{
    float *y = falloc(n), *ref = falloc(n);
    for (int bwd = 0; bwd < 2; bwd++) {
        act_promise P = act_promise_for(c->f, c->alpha, bwd);
        if (bwd) {
            advc_act_backward(c->f, c->alpha, n, x, dy, y);
            advc_act_backward_ref(c->f, c->alpha, n, x, dy, ref);
        } else {
            advc_act_forward(c->f, c->alpha, n, x, y);
            advc_act_forward_ref(c->f, c->alpha, n, x, ref);
        }
        for (size_t i = 0; i < n; i++) {
            double scale = bwd ? fabs((double)dy[i]) : 1.0;
            if (!isfinite(y[i]) || !act_within(P, y[i], ref[i], scale))
                ck_abort_msg("%s alpha=%g %s (%s): x=%a dy=%a gives %a, "
                             "ref %a (promise %g ulp + %g)",
                             advc_act_name(c->f), (double)c->alpha,
                             bwd ? "backward" : "forward", what,
                             (double)x[i], bwd ? (double)dy[i] : 0.0,
                             (double)y[i], (double)ref[i], P.ulps, P.abs);
        }
    }
    advc_free(y);
    advc_free(ref);
}

/* ---- names --------------------------------------------------------------- */

START_TEST(test_names)
{
    static const char *names[ADVC_ACT_COUNT] = {
        "identity", "relu", "softplus", "psoftplus", "silu",
        "gelu", "elu", "sigmoid", "tanh",
    };
    for (int f = 0; f < ADVC_ACT_COUNT; f++) {
        ck_assert_str_eq(advc_act_name((advc_act)f), names[f]);
        ck_assert_int_eq(advc_act_parse(names[f]), f);
    }
    ck_assert_int_eq(advc_act_parse("swish"), ADVC_ACT_COUNT);
    ck_assert_int_eq(advc_act_parse(""), ADVC_ACT_COUNT);
    ck_assert_int_eq(advc_act_parse("RELU"), ADVC_ACT_COUNT);
}
END_TEST

/* ---- accuracy ------------------------------------------------------------ */

/* Dense sweep of [-100, 100]: every smooth activation's interesting range,
 * the underflow cut-offs near -87 and GELU's near -13. */
START_TEST(test_sweep)
{
    const act_case *c = &cases[_i];
    float *x = falloc(SWEEP_N), *dy = falloc(SWEEP_N);
    for (size_t i = 0; i < SWEEP_N; i++)
        x[i] = (float)(-100.0 + 200.0 * (double)i / (SWEEP_N - 1));
    fill_dy(dy, SWEEP_N, 11);
    check_all(c, SWEEP_N, x, dy, "sweep [-100, 100]");
    advc_free(x);
    advc_free(dy);
}
END_TEST

/* 64 values in every binade, subnormals to FLT_MAX, both signs: every
 * magnitude, including the huge ones where nothing may overflow. */
START_TEST(test_binades)
{
    const act_case *c = &cases[_i];
    size_t cap = 2 * 64 * 280, n = 0;
    float *x = falloc(cap), *dy = falloc(cap);
    advc_rng r;
    advc_rng_seed(&r, 5, 9);
    for (uint32_t ex = 0; ex < 255; ex++) {
        for (int k = 0; k < 64; k++) {
            uint32_t bits = ex << 23 | (advc_rng_u32(&r) & 0x7fffffu);
            if (k == 0) bits = ex << 23; /* the power of two itself */
            float v;
            memcpy(&v, &bits, sizeof v);
            x[n++] = v;
            x[n++] = -v;
        }
    }
    fill_dy(dy, n, 12);
    check_all(c, n, x, dy, "binades");
    advc_free(x);
    advc_free(dy);
}
END_TEST

/* Special values, forward and backward, with dy = 1, -0.75, 1e30, -1e-30
 * (the huge and tiny dy check that dx = dy f'(x) neither overflows early
 * nor loses a tiny dy). */
START_TEST(test_special)
{
    const act_case *c = &cases[_i];
    static const float mags[] = {
        0.0f, 1e-30f, FLT_MIN, 0x1p-130f, 1e-40f, FLT_TRUE_MIN, 1.0f,
        15.0f, 88.0f, 89.0f, 1e4f, 1e30f, FLT_MAX, 0.5f, 13.0f, 87.3f,
    };
    static const float dys[] = { 1.0f, -0.75f, 1e30f, -1e-30f };
    enum { NM = sizeof mags / sizeof mags[0], ND = sizeof dys / sizeof dys[0] };
    float x[2 * NM * ND], dy[2 * NM * ND];
    size_t n = 0;
    for (int m = 0; m < NM; m++)
        for (int s = 0; s < 2; s++)
            for (int d = 0; d < ND; d++) {
                x[n] = s ? -mags[m] : mags[m];
                dy[n++] = dys[d];
            }
    check_all(c, n, x, dy, "special values");
}
END_TEST

/* relu'(0) = 0 (also at -0): the subgradient convention, so a dead unit
 * stays dead and relu' is the indicator of x > 0. */
START_TEST(test_relu_zero)
{
    float x[3] = { 0.0f, -0.0f, 1e-45f }, dy[3] = { 1, 1, 1 }, dx[3];
    advc_act_backward(ADVC_ACT_RELU, 1, 3, x, dy, dx);
    ck_assert(dx[0] == 0.0f && dx[1] == 0.0f && dx[2] == 1.0f);
    advc_act_forward(ADVC_ACT_RELU, 1, 3, x, dx);
    ck_assert(dx[0] == 0.0f && dx[1] == 0.0f && dx[2] == 1e-45f);
}
END_TEST

/* The backward against a central difference of the double forward, on a
 * grid of [-8, 8] (no point within 1e-3 of relu's and ELU's kink at 0).
 * h is small enough that the difference is good to ~1e-9 relative, so
 * this holds the kernel to its own promise plus one ulp. */
START_TEST(test_finite_difference)
{
    const act_case *c = &cases[_i];
    enum { N = 4001 };
    float *x = falloc(N), *dy = falloc(N), *dx = falloc(N);
    for (int i = 0; i < N; i++)
        x[i] = -8.0f + 16.0f * (float)i / (N - 1) + 0x1p-10f;
    fill_dy(dy, N, 13);
    advc_act_backward(c->f, c->alpha, N, x, dy, dx);
    act_promise P = act_promise_for(c->f, c->alpha, 1);
    double h = 1e-4 / (c->alpha > 1 ? c->alpha : 1.0);
    for (int i = 0; i < N; i++) {
        double xi = x[i];
        if ((c->f == ADVC_ACT_RELU || c->f == ADVC_ACT_ELU) &&
            fabs(xi) < 1e-3)
            continue;
        double fd = (act_ref_f(c->f, c->alpha, xi + h) -
                     act_ref_f(c->f, c->alpha, xi - h)) / (2 * h);
        double want = dy[i] * fd, err = fabs(dx[i] - want);
        double tol = (P.ulps + 1) * act_ulp((float)want) +
                     (P.abs + 1e-8) * fabs(dy[i]);
        if (!(err <= tol))
            ck_abort_msg("%s alpha=%g: backward at x=%a is %a, central "
                         "difference %a (err %.3g > %.3g)",
                         advc_act_name(c->f), (double)c->alpha, xi,
                         (double)dx[i], want, err, tol);
    }
    advc_free(x);
    advc_free(dy);
    advc_free(dx);
}
END_TEST

/* ---- aliasing and tails -------------------------------------------------- */

/* In place (y = x; dx = dy; dx = x) gives the out-of-place bits. */
START_TEST(test_in_place)
{
    const act_case *c = &cases[_i];
    enum { N = 1003 };
    float *x = falloc(N), *dy = falloc(N), *y = falloc(N), *b = falloc(N);
    float *b2 = falloc(N);
    tu_fill(x, N, -20.0f, 20.0f, 21);
    fill_dy(dy, N, 22);

    advc_act_forward(c->f, c->alpha, N, x, y);
    memcpy(b, x, N * sizeof *b);
    advc_act_forward(c->f, c->alpha, N, b, b);
    ck_assert_msg(memcmp(b, y, N * sizeof *y) == 0, "%s: forward in place",
                  advc_act_name(c->f));

    advc_act_backward(c->f, c->alpha, N, x, dy, y);
    memcpy(b, dy, N * sizeof *b);
    advc_act_backward(c->f, c->alpha, N, x, b, b);  /* dx = dy */
    ck_assert_msg(memcmp(b, y, N * sizeof *y) == 0, "%s: backward dx = dy",
                  advc_act_name(c->f));
    memcpy(b2, x, N * sizeof *b2);
    advc_act_backward(c->f, c->alpha, N, b2, dy, b2); /* dx = x */
    ck_assert_msg(memcmp(b2, y, N * sizeof *y) == 0, "%s: backward dx = x",
                  advc_act_name(c->f));
    advc_free(x);
    advc_free(dy);
    advc_free(y);
    advc_free(b);
    advc_free(b2);
}
END_TEST

/* Every n in [0, TU_TILE_N] at offsets 0..3 gives, element by element,
 * the bits of one long call (so vector body and tail compute the same
 * function), and writes nothing past n. */
START_TEST(test_tails)
{
    const act_case *c = &cases[_i];
    enum { LONG = TU_TILE_N + 4, GUARD = TU_MAX_LANES };
    const float sentinel = 1234.5f;
    float x[LONG], dy[LONG], ylong[LONG], dxlong[LONG];
    float out[LONG + GUARD];
    tu_fill(x, LONG, -10.0f, 10.0f, 31);
    fill_dy(dy, LONG, 32);
    advc_act_forward(c->f, c->alpha, LONG, x, ylong);
    advc_act_backward(c->f, c->alpha, LONG, x, dy, dxlong);
    for (int off = 0; off < 4; off++) {
        for (int n = 0; n <= TU_TILE_N; n++) {
            for (int bwd = 0; bwd < 2; bwd++) {
                for (int i = 0; i < LONG + GUARD; i++) out[i] = sentinel;
                if (bwd)
                    advc_act_backward(c->f, c->alpha, (size_t)n, x + off,
                                      dy + off, out);
                else
                    advc_act_forward(c->f, c->alpha, (size_t)n, x + off,
                                     out);
                const float *want = (bwd ? dxlong : ylong) + off;
                ck_assert_msg(memcmp(out, want, n * sizeof *out) == 0,
                              "%s %s: n=%d offset=%d differs from the long "
                              "call", advc_act_name(c->f),
                              bwd ? "backward" : "forward", n, off);
                for (int i = n; i < LONG + GUARD; i++)
                    ck_assert_msg(out[i] == sentinel,
                                  "%s: wrote past n=%d", advc_act_name(c->f),
                                  n);
            }
        }
    }
}
END_TEST

/* psoftplus with alpha = 1 is softplus, bit for bit, away from the
 * underflow cut-offs (which the two kernels place slightly apart). */
START_TEST(test_psoftplus_one)
{
    enum { N = 16001 };
    float *x = falloc(N), *y1 = falloc(N), *y2 = falloc(N);
    for (int i = 0; i < N; i++)
        x[i] = -80.0f + 160.0f * (float)i / (N - 1);
    advc_act_forward(ADVC_ACT_SOFTPLUS, 1, N, x, y1);
    advc_act_forward(ADVC_ACT_PSOFTPLUS, 1, N, x, y2);
    ck_assert(memcmp(y1, y2, N * sizeof *y1) == 0);
    advc_act_backward(ADVC_ACT_SOFTPLUS, 1, N, x, x, y1);
    advc_act_backward(ADVC_ACT_PSOFTPLUS, 1, N, x, x, y2);
    ck_assert(memcmp(y1, y2, N * sizeof *y1) == 0);
    advc_free(x);
    advc_free(y1);
    advc_free(y2);
}
END_TEST

Suite *advc_suite_act(void)
{
    Suite *s = suite_create("act");
    TCase *tc = tcase_create("act");
    tcase_set_timeout(tc, 300); /* the NEON build runs under qemu */
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_relu_zero);
    tcase_add_test(tc, test_psoftplus_one);
    tcase_add_loop_test(tc, test_sweep, 0, N_CASES);
    tcase_add_loop_test(tc, test_binades, 0, N_CASES);
    tcase_add_loop_test(tc, test_special, 0, N_CASES);
    tcase_add_loop_test(tc, test_finite_difference, 0, N_CASES);
    tcase_add_loop_test(tc, test_in_place, 0, N_CASES);
    tcase_add_loop_test(tc, test_tails, 0, N_CASES);
    suite_add_tcase(s, tc);
    return s;
}
