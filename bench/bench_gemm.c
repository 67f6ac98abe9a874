/* bench_gemm.c: SGEMM speed against the measured FMA peak.
 *
 * Default set: m = n = k = 512 and 1024 in the NN, TN and NT forms, then
 * the GEMMs of one 3x3 convolution layer (64 filters over 32 channels on
 * 128 images of 14 x 14: forward NN, weight-gradient NT, input-gradient
 * TN) and a 5x5 first layer (32 filters, 1 channel, 64 images of 28 x 28).
 * --m/--n/--k replace the set by one size in the three forms.  Each case
 * is verified against advc_sgemm_ref before it is timed, and the result
 * with T threads must be bitwise equal to the one-thread result.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

typedef struct {
    const char *shape;  /* "square", "conv" or "user" */
    advc_trans ta, tb;
    int m, n, k;
} gemm_case;

/* Unit roundoff of float, 2^-24. */
#define U_FLOAT 5.9604644775390625e-8

/* Problems with more output than this many elements are verified on a
 * sample of rows only: the reference is a slow triple loop, and for
 * m = n = 1024 checking every row already costs about a second. */
#define FULL_CHECK_ELEMS (1024L * 1024L)
/* Rows checked in a sampled verification, evenly spread (first and last
 * included). */
#define SAMPLE_ROWS 32

typedef struct {
    advc_pool *pool;
    const gemm_case *c;
    const float *A, *B;
    float *C;
    int lda, ldb;
} gemm_run;

static void run_sgemm(void *ctx)
{
    const gemm_run *r = ctx;
    const gemm_case *c = r->c;
    advc_sgemm(r->pool, c->ta, c->tb, c->m, c->n, c->k, r->A, r->lda, r->B,
               r->ldb, false, r->C, c->n);
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

static void fill(float *x, size_t n, uint64_t seed)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 11);
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * advc_rng_uniform(&r) - 1.0f; /* uniform in [-1, 1) */
}

/* Checks row i of C against the reference.  The error allowed for each
 * element is the classic bound for a k-term float dot product,
 * (k + 2) u sum_p |a_ip||b_pj| (+1 u for the reference's final rounding),
 * computed with the reference on |A| and |B|.  Updates *maxerr (absolute)
 * and returns the number of elements outside the bound. */
static long check_row(const gemm_case *c, const float *A, int lda,
                      const float *absA, const float *B, int ldb,
                      const float *absB, const float *C, int i, float *ref,
                      float *bound, double *maxerr)
{
    /* Row i of op(A): row i of A, or column i of A stored k x m. */
    size_t off = c->ta == ADVC_NOTRANS ? (size_t)i * lda : (size_t)i;
    advc_sgemm_ref(c->ta, c->tb, 1, c->n, c->k, A + off, lda, B, ldb, false,
                   ref, c->n);
    advc_sgemm_ref(c->ta, c->tb, 1, c->n, c->k, absA + off, lda, absB, ldb,
                   false, bound, c->n);
    long bad = 0;
    const float *ci = C + (size_t)i * c->n;
    for (int j = 0; j < c->n; j++) {
        double e = fabs((double)ci[j] - ref[j]);
        if (e > *maxerr || e != e) *maxerr = e;
        if (!(e <= (c->k + 3) * U_FLOAT * bound[j])) bad++;
    }
    return bad;
}

static int bench_case(const gemm_case *c, const int *threads, int nt,
                      int reps, double peak)
{
    int ra = c->ta == ADVC_NOTRANS ? c->m : c->k;  /* rows of stored A */
    int lda = c->ta == ADVC_NOTRANS ? c->k : c->m;
    int rb = c->tb == ADVC_NOTRANS ? c->k : c->n;  /* rows of stored B */
    int ldb = c->tb == ADVC_NOTRANS ? c->n : c->k;
    size_t na = (size_t)ra * lda, nb = (size_t)rb * ldb;
    size_t nc = (size_t)c->m * c->n;
    float *A = alloc_or_die(na), *B = alloc_or_die(nb);
    float *absA = alloc_or_die(na), *absB = alloc_or_die(nb);
    float *C1 = alloc_or_die(nc), *C = alloc_or_die(nc);
    float *ref = alloc_or_die((size_t)c->n), *bound = alloc_or_die(c->n);
    fill(A, na, 1);
    fill(B, nb, 2);
    for (size_t i = 0; i < na; i++) absA[i] = fabsf(A[i]);
    for (size_t i = 0; i < nb; i++) absB[i] = fabsf(B[i]);

    /* Verify the one-thread result once (full or sampled rows). */
    advc_sgemm(NULL, c->ta, c->tb, c->m, c->n, c->k, A, lda, B, ldb, false,
               C1, c->n);
    double maxerr = 0;
    long bad = 0;
    int sampled = (long)c->m * c->n > FULL_CHECK_ELEMS;
    int rows = sampled && c->m > SAMPLE_ROWS ? SAMPLE_ROWS : c->m;
    for (int s = 0; s < rows; s++) {
        int i = rows < c->m ? (int)((long)s * (c->m - 1) / (rows - 1)) : s;
        bad += check_row(c, A, lda, absA, B, ldb, absB, C1, i, ref, bound,
                         &maxerr);
    }

    int failed = 0;
    for (int ti = 0; ti < nt; ti++) {
        int T = threads[ti];
        advc_pool *pool = T > 1 ? advc_pool_create(T) : NULL;
        gemm_run r = { pool, c, A, B, C, lda, ldb };
        memset(C, 0, nc * sizeof *C);
        double t = bench_time(run_sgemm, &r, reps);
        /* Any thread count must give the one-thread bits exactly. */
        int same = memcmp(C, C1, nc * sizeof *C) == 0;
        int ok = bad == 0 && same;
        double gflops = 2.0 * c->m * c->n * c->k / t * 1e-9;
        printf("bench=sgemm isa=%s shape=%s form=%c%c threads=%d m=%d n=%d "
               "k=%d gflops=%.1f pct_peak=%.0f peak=%.1f ms=%.3f maxerr=%.1e "
               "check=%s bitwise_vs_1t=%s status=%s\n",
               advc_isa_name(), c->shape, c->ta ? 'T' : 'N',
               c->tb ? 'T' : 'N', T, c->m, c->n, c->k, gflops,
               100.0 * gflops / (peak * T), peak * T, t * 1e3, maxerr,
               sampled ? "rows" : "full", same ? "yes" : "no",
               ok ? "PASS" : "FAIL");
        fflush(stdout);
        failed += !ok;
        advc_pool_destroy(pool);
    }
    advc_free(A);
    advc_free(B);
    advc_free(absA);
    advc_free(absB);
    advc_free(C1);
    advc_free(C);
    advc_free(ref);
    advc_free(bound);
    return failed;
}

int bench_gemm(const bench_opts *o)
{
    int threads[2];
    int nt = bench_thread_list(o, threads);
    double peak = bench_peak_gflops();
    const advc_trans N = ADVC_NOTRANS, T = ADVC_TRANS;
    gemm_case user[] = {
        { "user", N, N, o->m, o->n, o->k },
        { "user", T, N, o->m, o->n, o->k },
        { "user", N, T, o->m, o->n, o->k },
    };
    gemm_case defaults[] = {
        { "square", N, N, 512, 512, 512 },
        { "square", T, N, 512, 512, 512 },
        { "square", N, T, 512, 512, 512 },
        { "square", N, N, 1024, 1024, 1024 },
        { "square", T, N, 1024, 1024, 1024 },
        { "square", N, T, 1024, 1024, 1024 },
        /* 3x3 conv, 32 -> 64 channels, 128 images of 14 x 14:
         * out(64, 25088) = W(64, 288) col(288, 25088) */
        { "conv", N, N, 64, 128 * 14 * 14, 32 * 3 * 3 },
        /* its weight gradient dW(64, 288) = dout col^T */
        { "conv", N, T, 64, 32 * 3 * 3, 128 * 14 * 14 },
        /* its column gradient dcol(288, 25088) = W^T dout */
        { "conv", T, N, 32 * 3 * 3, 128 * 14 * 14, 64 },
        /* 5x5 first layer, 1 -> 32 channels, 64 images of 28 x 28 */
        { "conv", N, N, 32, 64 * 28 * 28, 1 * 5 * 5 },
        { "conv", N, T, 32, 1 * 5 * 5, 64 * 28 * 28 },
    };
    const gemm_case *cases = o->m ? user : defaults;
    size_t n = o->m ? sizeof user / sizeof user[0]
                    : sizeof defaults / sizeof defaults[0];
    int failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += bench_case(&cases[i], threads, nt, o->reps, peak);
    return failed;
}
