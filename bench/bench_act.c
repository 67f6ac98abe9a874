/* bench_act.c: activation kernels against the same formula written with
 * libm's scalar float functions, one thread.
 *
 * Data: n = 65536 floats per array, x uniform in [-8, 8), dy uniform in
 * [-2, 2).  Forward touches x and y (512 KiB), backward x, dy and dx
 * (768 KiB): both stay in a 1 MiB L2, so this measures arithmetic, not
 * memory.  Each timed call makes PASSES passes over the arrays (1M
 * elements); the median of --reps calls is reported.  Before timing, each
 * kernel is checked against the `_ref` kernel on these inputs and on a
 * sweep of [-100, 100], with the promise in src/kernels/act.h:
 * status=FAIL if any element is outside it.  maxrel and maxulp are the
 * worst relative and ulp errors where the ulp part of the promise
 * governs (not in the underflow or zero-crossing zones).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "act.h"

#define N_ELEMS 65536
#define PASSES  16
#define SWEEP_N 200001 /* x = -100 + 200 i / (SWEEP_N - 1) */

typedef struct {
    advc_act f;
    float alpha;
    int bwd;           /* 0: forward, 1: backward */
    int libm;          /* 0: advc kernel, 1: libm formula */
    size_t n;
    const float *x, *dy;
    float *out;
} act_run;

/* ---- the libm baselines: the textbook formula, one element at a time ---- */

static float libm_fwd(advc_act f, float a, float x)
{
    switch (f) {
    case ADVC_ACT_IDENTITY:  return x;
    case ADVC_ACT_RELU:      return x > 0 ? x : 0.0f;
    case ADVC_ACT_SOFTPLUS:  return log1pf(expf(x));
    case ADVC_ACT_PSOFTPLUS: return log1pf(expf(a * x)) / a;
    case ADVC_ACT_SILU:      return x / (1.0f + expf(-x));
    case ADVC_ACT_GELU:      return 0.5f * x * erfcf(-x * 0.70710678f);
    case ADVC_ACT_ELU:       return x > 0 ? x : expm1f(x);
    case ADVC_ACT_SIGMOID:   return 1.0f / (1.0f + expf(-x));
    case ADVC_ACT_TANH:      return tanhf(x);
    default:                 return 0.0f;
    }
}

static float libm_bwd(advc_act f, float a, float x, float dy)
{
    switch (f) {
    case ADVC_ACT_IDENTITY:  return dy;
    case ADVC_ACT_RELU:      return x > 0 ? dy : 0.0f;
    case ADVC_ACT_SOFTPLUS:  return dy / (1.0f + expf(-x));
    case ADVC_ACT_PSOFTPLUS: return dy / (1.0f + expf(-a * x));
    case ADVC_ACT_SILU: {
        float s = 1.0f / (1.0f + expf(-x));
        return dy * s * (1.0f + x * (1.0f - s));
    }
    case ADVC_ACT_GELU:
        return dy * (0.5f * erfcf(-x * 0.70710678f) +
                     x * expf(-0.5f * x * x) * 0.3989422804f);
    case ADVC_ACT_ELU:       return x > 0 ? dy : dy * expf(x);
    case ADVC_ACT_SIGMOID: {
        float s = 1.0f / (1.0f + expf(-x));
        return dy * s * (1.0f - s);
    }
    case ADVC_ACT_TANH: {
        float t = tanhf(x);
        return dy * (1.0f - t * t);
    }
    default:                 return 0.0f;
    }
}

static void run_act(void *ctx)
{
    const act_run *r = ctx;
    for (int p = 0; p < PASSES; p++) {
        if (r->libm && r->bwd)
            for (size_t i = 0; i < r->n; i++)
                r->out[i] = libm_bwd(r->f, r->alpha, r->x[i], r->dy[i]);
        else if (r->libm)
            for (size_t i = 0; i < r->n; i++)
                r->out[i] = libm_fwd(r->f, r->alpha, r->x[i]);
        else if (r->bwd)
            advc_act_backward(r->f, r->alpha, r->n, r->x, r->dy, r->out);
        else
            advc_act_forward(r->f, r->alpha, r->n, r->x, r->out);
    }
}

static float *alloc_or_die(size_t n)
{
    float *p = advc_alloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "advc-bench: out of memory (%zu floats)\n", n);
        exit(1);
    }
    return p;
}

/* Error statistics of out against the reference, under promise P. */
typedef struct {
    double maxrel;  /* max |err|/|ref| where the ulp term governs    */
    double maxulp;  /* max |err|/ulp(ref) where the ulp term governs */
    long bad;       /* elements outside the promise, or not finite   */
} act_check;

static void check(act_check *c, const act_promise *P, size_t n,
                  const float *out, const float *ref, const float *dy)
{
    for (size_t i = 0; i < n; i++) {
        double scale = dy ? fabs((double)dy[i]) : 1.0;
        double err = fabs((double)out[i] - (double)ref[i]);
        if (!isfinite(out[i]) || !act_within(*P, out[i], ref[i], scale))
            c->bad++;
        /* only where the ulp term is the larger part of the bound */
        if (ref[i] == 0 || P->ulps * act_ulp(ref[i]) < P->abs * scale)
            continue;
        if (err / act_ulp(ref[i]) > c->maxulp)
            c->maxulp = err / act_ulp(ref[i]);
        if (err / fabs((double)ref[i]) > c->maxrel)
            c->maxrel = err / fabs((double)ref[i]);
    }
}

/* Verifies one kernel on the bench data and on the sweep. */
static act_check verify(advc_act f, float alpha, int bwd, const float *x,
                        const float *dy, const float *sx, const float *sdy,
                        float *out, float *ref)
{
    act_promise P = act_promise_for(f, alpha, bwd);
    act_check c = { 0, 0, 0 };
    const float *xs[2] = { x, sx }, *dys[2] = { dy, sdy };
    size_t ns[2] = { N_ELEMS, SWEEP_N };
    for (int k = 0; k < 2; k++) {
        if (bwd) {
            advc_act_backward(f, alpha, ns[k], xs[k], dys[k], out);
            advc_act_backward_ref(f, alpha, ns[k], xs[k], dys[k], ref);
        } else {
            advc_act_forward(f, alpha, ns[k], xs[k], out);
            advc_act_forward_ref(f, alpha, ns[k], xs[k], ref);
        }
        check(&c, &P, ns[k], out, ref, bwd ? dys[k] : NULL);
    }
    return c;
}

int bench_act(const bench_opts *o)
{
    float *x = alloc_or_die(N_ELEMS), *dy = alloc_or_die(N_ELEMS);
    float *y = alloc_or_die(N_ELEMS);
    float *sx = alloc_or_die(SWEEP_N), *sdy = alloc_or_die(SWEEP_N);
    float *out = alloc_or_die(SWEEP_N), *ref = alloc_or_die(SWEEP_N);
    advc_rng rng;
    advc_rng_seed(&rng, 2024, 3);
    for (size_t i = 0; i < N_ELEMS; i++) {
        x[i] = -8.0f + 16.0f * advc_rng_uniform(&rng);
        dy[i] = -2.0f + 4.0f * advc_rng_uniform(&rng);
    }
    for (size_t i = 0; i < SWEEP_N; i++) {
        sx[i] = (float)(-100.0 + 200.0 * (double)i / (SWEEP_N - 1));
        sdy[i] = 0.5f + advc_rng_uniform(&rng);
    }

    static const float alphas[] = { 1.0f, 10.0f };
    int failed = 0;
    for (int f = 0; f < ADVC_ACT_COUNT; f++) {
        int na = f == ADVC_ACT_PSOFTPLUS ? 2 : 1;
        for (int ai = 0; ai < na; ai++) {
            float alpha = f == ADVC_ACT_PSOFTPLUS ? alphas[ai] : 1.0f;
            for (int bwd = 0; bwd < 2; bwd++) {
                act_check c = verify(f, alpha, bwd, x, dy, sx, sdy, out,
                                     ref);
                act_run r = { f, alpha, bwd, 0, N_ELEMS, x, dy, y };
                double t = bench_time(run_act, &r, o->reps);
                r.libm = 1;
                double tl = bench_time(run_act, &r, o->reps);
                double elems = (double)N_ELEMS * PASSES;
                int ok = c.bad == 0;
                char name[32];
                if (f == ADVC_ACT_PSOFTPLUS)
                    snprintf(name, sizeof name, "psoftplus alpha=%g",
                             (double)alpha);
                else
                    snprintf(name, sizeof name, "%s", advc_act_name(f));
                printf("bench=act isa=%s act=%s dir=%s n=%d "
                       "ns_per_elem=%.3f libm_ns_per_elem=%.3f "
                       "speedup_vs_libm=%.1f maxrel=%.2g maxulp=%.0f "
                       "promise_ulp=%.0f status=%s\n",
                       advc_isa_name(), name, bwd ? "bwd" : "fwd", N_ELEMS,
                       t / elems * 1e9, tl / elems * 1e9, tl / t, c.maxrel,
                       c.maxulp, act_promise_for(f, alpha, bwd).ulps,
                       ok ? "PASS" : "FAIL");
                fflush(stdout);
                failed += !ok;
            }
        }
    }
    advc_free(x);
    advc_free(dy);
    advc_free(y);
    advc_free(sx);
    advc_free(sdy);
    advc_free(out);
    advc_free(ref);
    return failed;
}
