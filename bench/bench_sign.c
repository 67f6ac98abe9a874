/* bench_sign.c: the attack steps and BLAS-1 / optimizer kernels against
 * their scalar references, one thread.
 *
 * Sizes: 784*128 = 100352 (one MNIST batch of images: 1.2 MiB for the
 * projected step's three arrays, about L2) and 2^20 (12-28 MiB: memory).
 * Each case is first verified on fresh inputs: the sign steps, axpy, SGD
 * and Adam must match the ref bit for bit (maxerr = max |fast - ref| = 0),
 * the L2 step to 1 ulp, max exactly; for sum and dot maxerr is |fast - ref|
 * / sum|terms|, which must be <= (n/L + 10) 2^-24 with L = 32 partial sums
 * (avx2) or 16 (neon).  Then each timed call
 * makes enough passes to last ~4M elements; the median of --reps calls
 * gives ns_per_elem and gbytes_per_s (bytes each element moves in or out).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "dispatch.h"

#define N_BATCH 100352  /* 784 * 128: an MNIST batch of images */
#define N_BIG   1048576 /* 2^20: well past the L2 cache */
#define PASS_ELEMS 4194304.0 /* elements per timed call (~ms, not us) */

/* The step sizes of a usual MNIST L-inf PGD, and optimizer settings. */
#define STEP_A   (2.0f / 255)
#define STEP_EPS (8.0f / 255)

typedef enum {
    OP_SIGN_PROJ, OP_SIGN, OP_L2, OP_AXPY, OP_DOT, OP_SUM, OP_MAX, OP_SGD,
    OP_ADAM, OP_COUNT
} op_id;

static const struct {
    const char *name;
    int bytes; /* bytes read + written per element */
} OPS[OP_COUNT] = {
    { "sign_step_proj", 16 }, /* x in/out, g, x0          */
    { "sign_step", 12 },      /* x in/out, g              */
    { "l2_step", 16 },        /* g twice, x in/out        */
    { "axpy", 12 },           /* x, y in/out              */
    { "dot", 8 },             /* x, y                     */
    { "sum", 4 },
    { "max", 4 },
    { "sgd_nesterov", 20 },   /* w in/out, g, v in/out    */
    { "adam", 28 },           /* w, m, v in/out, g        */
};

/* One side's arrays: x and w, v, m are written; g and x0 only read. */
typedef struct {
    float *x, *w, *v, *m;
    const float *g, *x0;
    float out;  /* result of a reduction */
} state;

typedef struct {
    op_id op;
    int ref;     /* 1: run the _ref kernel */
    size_t n;
    int passes;  /* calls per timed run */
    state *s;
} run_ctx;

static void run_op(op_id op, int ref, size_t n, state *s)
{
    switch (op) {
    case OP_SIGN_PROJ:
        (ref ? advc_sign_step_proj_ref : advc_sign_step_proj)(
            n, s->x, s->g, s->x0, STEP_A, STEP_EPS, 0.0f, 1.0f);
        break;
    case OP_SIGN:
        (ref ? advc_sign_step_ref : advc_sign_step)(n, s->x, s->g, STEP_A);
        break;
    case OP_L2:
        (ref ? advc_l2_step_ref : advc_l2_step)(n, s->x, s->g, 0.5f);
        break;
    case OP_AXPY:
        (ref ? advc_axpy_ref : advc_axpy)(n, 1e-3f, s->g, s->w);
        break;
    case OP_DOT:
        s->out = (ref ? advc_dot_ref : advc_dot)(n, s->g, s->x0);
        break;
    case OP_SUM:
        s->out = (ref ? advc_sum_ref : advc_sum)(n, s->g);
        break;
    case OP_MAX:
        s->out = (ref ? advc_max_ref : advc_max)(n, s->g);
        break;
    case OP_SGD:
        (ref ? advc_sgd_update_ref : advc_sgd_update)(
            n, s->w, s->g, s->v, 0.01f, 0.9f, 5e-4f, true);
        break;
    case OP_ADAM:
        (ref ? advc_adam_update_ref : advc_adam_update)(
            n, s->w, s->g, s->m, s->v, 1e-3f, 0.9f, 0.999f, 1e-8f, 5e-4f, 3);
        break;
    default:
        break;
    }
}

static void run_timed(void *ctx)
{
    run_ctx *c = ctx;
    for (int p = 0; p < c->passes; p++)
        run_op(c->op, c->ref, c->n, c->s);
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

/* The inputs every case starts from. */
typedef struct {
    float *x, *g, *x0, *w, *v, *m;
} inputs;

static void reset(state *s, const inputs *in, size_t n)
{
    memcpy(s->x, in->x, n * sizeof(float));
    memcpy(s->w, in->w, n * sizeof(float));
    memcpy(s->v, in->v, n * sizeof(float));
    memcpy(s->m, in->m, n * sizeof(float));
    s->g = in->g, s->x0 = in->x0, s->out = 0.0f;
}

/* Distance in ulps between two floats: the sign-magnitude bit patterns
 * mapped onto one monotonic integer line. */
static long ulp_dist(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, sizeof ia), memcpy(&ib, &b, sizeof ib);
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return (long)(la > lb ? la - lb : lb - la);
}

/* Largest |a - b| and ulp distance over n elements (NaN counts as inf). */
static void diff(const float *a, const float *b, size_t n, double *maxabs,
                 long *maxulp)
{
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d != d) d = INFINITY;
        if (d > *maxabs) *maxabs = d;
        long u = isnan(a[i]) || isnan(b[i]) ? 1L << 40 : ulp_dist(a[i], b[i]);
        if (u > *maxulp) *maxulp = u;
    }
}

/* Verifies op on fresh inputs; returns maxerr, sets *ok. */
static double verify(op_id op, size_t n, const inputs *in, state *f,
                     state *r, int *ok)
{
    reset(f, in, n), reset(r, in, n);
    run_op(op, 0, n, f);
    run_op(op, 1, n, r);
    double maxabs = 0;
    long maxulp = 0;
    switch (op) {
    case OP_SIGN_PROJ: case OP_SIGN: case OP_L2:
        diff(f->x, r->x, n, &maxabs, &maxulp);
        *ok = op == OP_L2 ? maxulp <= 1 : maxulp == 0;
        return maxabs;
    case OP_AXPY: case OP_SGD: case OP_ADAM:
        diff(f->w, r->w, n, &maxabs, &maxulp);
        diff(f->v, r->v, n, &maxabs, &maxulp);
        diff(f->m, r->m, n, &maxabs, &maxulp);
        *ok = maxulp == 0;
        return maxabs;
    case OP_MAX:
        *ok = f->out == r->out;
        return fabs((double)f->out - (double)r->out);
    default: { /* sum, dot: error relative to the sum of |terms| */
        double mag = 0;
        for (size_t i = 0; i < n; i++)
            mag += fabs((double)in->g[i] * (op == OP_DOT ? in->x0[i] : 1));
        /* partial sums this build's kernel keeps (dispatch.h) */
        double lanes = ISA_SUM_PARTIALS;
        double err = fabs((double)f->out - (double)r->out) / mag;
        *ok = err <= (n / lanes + 10) * 0x1p-24;
        return err;
    }
    }
}

int bench_sign(const bench_opts *o)
{
    static const size_t sizes[] = { N_BATCH, N_BIG };
    const size_t nmax = N_BIG;
    inputs in;
    in.x = alloc_or_die(nmax), in.g = alloc_or_die(nmax);
    in.x0 = alloc_or_die(nmax), in.w = alloc_or_die(nmax);
    in.v = alloc_or_die(nmax), in.m = alloc_or_die(nmax);
    advc_rng rng;
    advc_rng_seed(&rng, 2024, 5);
    for (size_t i = 0; i < nmax; i++) {
        in.x0[i] = advc_rng_uniform(&rng);                     /* image   */
        in.x[i] = in.x0[i] + STEP_EPS * (2 * advc_rng_uniform(&rng) - 1);
        in.g[i] = i % 16 == 5 ? 0.0f : advc_rng_normal(&rng);  /* some 0  */
        in.w[i] = 0.1f * advc_rng_normal(&rng);
        in.v[i] = 0.01f * advc_rng_uniform(&rng);
        in.m[i] = 0.01f * advc_rng_normal(&rng);
    }
    state f, r;
    f.x = alloc_or_die(nmax), f.w = alloc_or_die(nmax);
    f.v = alloc_or_die(nmax), f.m = alloc_or_die(nmax);
    r.x = alloc_or_die(nmax), r.w = alloc_or_die(nmax);
    r.v = alloc_or_die(nmax), r.m = alloc_or_die(nmax);

    int failed = 0;
    for (size_t si = 0; si < 2; si++) {
        size_t n = sizes[si];
        int passes = (int)(PASS_ELEMS / (double)n + 0.5);
        for (int op = 0; op < OP_COUNT; op++) {
            int ok;
            double maxerr = verify((op_id)op, n, &in, &f, &r, &ok);
            run_ctx cf = { (op_id)op, 0, n, passes, &f };
            run_ctx cr = { (op_id)op, 1, n, passes, &r };
            double t = bench_time(run_timed, &cf, o->reps);
            double tr = bench_time(run_timed, &cr, o->reps);
            double elems = (double)n * passes;
            printf("bench=sign isa=%s op=%s n=%zu ns_per_elem=%.3f "
                   "gbytes_per_s=%.1f ref_ns_per_elem=%.3f "
                   "speedup_vs_ref=%.1f maxerr=%.3g status=%s\n",
                   advc_isa_name(), OPS[op].name, n, t / elems * 1e9,
                   OPS[op].bytes * elems / t * 1e-9, tr / elems * 1e9,
                   tr / t, maxerr, ok ? "PASS" : "FAIL");
            fflush(stdout);
            failed += !ok;
        }
    }
    advc_free(in.x), advc_free(in.g), advc_free(in.x0);
    advc_free(in.w), advc_free(in.v), advc_free(in.m);
    advc_free(f.x), advc_free(f.w), advc_free(f.v), advc_free(f.m);
    advc_free(r.x), advc_free(r.w), advc_free(r.v), advc_free(r.m);
    return failed;
}
