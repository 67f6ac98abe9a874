/* gemm_openblas.c: advc_sgemm next to OpenBLAS's cblas_sgemm, same inputs,
 * same process, for the square sizes and the convolution shapes of
 * `advc-bench conv`, each in the three forms a training step uses.
 *
 * Built and run only by gemm-vs-openblas.sh; never part of the library,
 * the tests or `make`.  Usage: gemm-openblas THREADS [REPS]; OpenBLAS's own
 * thread count comes from OPENBLAS_NUM_THREADS (the script sets both).
 * Prints which kernel OpenBLAS chose (openblas_get_corename) and its
 * build configuration first.  Both results are verified on sampled
 * entries against a double-precision dot product before anything is
 * timed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "advc/advc.h"

/* Timed repetitions per case; the median is printed. */
#define DEFAULT_REPS 7
#define MAX_REPS 101
/* Entries of C checked against the double reference, per case. */
#define SAMPLES 64
/* Unit roundoff of float, 2^-24. */
#define U_FLOAT 5.9604644775390625e-8

typedef struct {
    const char *shape; /* "square" or the layer of advc-bench conv */
    const char *form;  /* "NN", "TN" (A^T B) or "NT" (A B^T) */
    int m, n, k;
} gemm_case;

static const gemm_case CASES[] = {
    { "square", "NN", 512, 512, 512 },    { "square", "TN", 512, 512, 512 },
    { "square", "NT", 512, 512, 512 },    { "square", "NN", 1024, 1024, 1024 },
    { "square", "TN", 1024, 1024, 1024 }, { "square", "NT", 1024, 1024, 1024 },
    /* The layers of advc-bench conv, batch 128: cnn conv2 (5x5, 32 -> 64
     * on 14x14), cnn-small conv2 (4x4 stride 2, 16 -> 32, 14x14 -> 7x7)
     * and a 3x3 layer 32 -> 64 on 14x14.  With cout filters, K = cin kh kw
     * and N = 128 oh ow: forward Y(cout, N) = W(cout, K) col(K, N) (NN),
     * weight gradient dW(cout, K) = dY col^T (NT), column gradient
     * dcol(K, N) = W^T dY (TN). */
    { "cnn.conv2.fwd", "NN", 64, 25088, 800 },
    { "cnn.conv2.wgrad", "NT", 64, 800, 25088 },
    { "cnn.conv2.igrad", "TN", 800, 25088, 64 },
    { "cnn-small.conv2.fwd", "NN", 32, 6272, 256 },
    { "cnn-small.conv2.wgrad", "NT", 32, 256, 6272 },
    { "cnn-small.conv2.igrad", "TN", 256, 6272, 32 },
    { "conv3x3.c32.fwd", "NN", 64, 25088, 288 },
    { "conv3x3.c32.wgrad", "NT", 64, 288, 25088 },
    { "conv3x3.c32.igrad", "TN", 288, 25088, 64 },
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Sleeps 0.2 s: longer than either library's worker threads spin before
 * they block. */
static void settle(void)
{
    struct timespec ts = { 0, 200000000L };
    nanosleep(&ts, NULL);
}

static void fill(float *x, size_t n, uint64_t seed)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 3);
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * advc_rng_uniform(&r) - 1.0f; /* uniform in [-1, 1) */
}

/* One case's operands and the two results. */
typedef struct {
    const gemm_case *c;
    int ta, tb, lda, ldb;
    float *A, *B, *C1, *C2;
    advc_pool *pool;
} problem;

static void run_advc(const problem *p)
{
    advc_sgemm(p->pool, p->ta ? ADVC_TRANS : ADVC_NOTRANS,
               p->tb ? ADVC_TRANS : ADVC_NOTRANS, p->c->m, p->c->n, p->c->k,
               p->A, p->lda, p->B, p->ldb, false, p->C1, p->c->n);
}

static void run_openblas(const problem *p)
{
    cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans,
                p->tb ? CblasTrans : CblasNoTrans, p->c->m, p->c->n, p->c->k,
                1.0f, p->A, p->lda, p->B, p->ldb, 0.0f, p->C2, p->c->n);
}

/* Checks SAMPLES entries of both results against a double dot product:
 * each must be within (k + 2) u sum_p |a_ip b_pj| (the classic float dot
 * product bound).  Returns the number of entries outside it. */
static int verify(const problem *p)
{
    const gemm_case *c = p->c;
    advc_rng r;
    advc_rng_seed(&r, 99, 1);
    int bad = 0;
    for (int s = 0; s < SAMPLES; s++) {
        int i = (int)advc_rng_below(&r, (uint32_t)c->m);
        int j = (int)advc_rng_below(&r, (uint32_t)c->n);
        double dot = 0, mag = 0;
        for (int q = 0; q < c->k; q++) {
            double a = p->ta ? p->A[(size_t)q * p->lda + i]
                             : p->A[(size_t)i * p->lda + q];
            double b = p->tb ? p->B[(size_t)j * p->ldb + q]
                             : p->B[(size_t)q * p->ldb + j];
            dot += a * b;
            mag += fabs(a * b);
        }
        double tol = (c->k + 2) * U_FLOAT * mag;
        size_t e = (size_t)i * c->n + j;
        bad += !(fabs(p->C1[e] - dot) <= tol);
        bad += !(fabs(p->C2[e] - dot) <= tol);
    }
    return bad;
}

/* Times both libraries on one case: with one thread the calls alternate
 * (each pair meets the same machine state); with more, each library's
 * runs form one block after a pause, because both keep worker threads
 * spinning for a while after a call, and on a small machine a spinning
 * thread of one would slow the other's next threaded run. */
static void time_case(const problem *p, int threads, int reps, double *ta,
                      double *tb)
{
    run_advc(p);
    run_openblas(p);
    for (int r = 0; r < reps; r++) {
        if (threads > 1 && r == 0) settle();
        double t0 = advc_now();
        run_advc(p);
        ta[r] = advc_now() - t0;
        if (threads == 1) {
            t0 = advc_now();
            run_openblas(p);
            tb[r] = advc_now() - t0;
        }
    }
    for (int r = 0; threads > 1 && r < reps; r++) {
        if (r == 0) settle();
        double t0 = advc_now();
        run_openblas(p);
        tb[r] = advc_now() - t0;
    }
}

static int bench_case(const gemm_case *c, advc_pool *pool, int threads,
                      int reps)
{
    problem p = { c, c->form[0] == 'T', c->form[1] == 'T', 0, 0,
                  NULL, NULL, NULL, NULL, pool };
    p.lda = p.ta ? c->m : c->k;
    p.ldb = p.tb ? c->k : c->n;
    size_t na = (size_t)c->m * c->k, nb = (size_t)c->k * c->n;
    size_t nc = (size_t)c->m * c->n;
    p.A = advc_alloc(na * 4), p.B = advc_alloc(nb * 4);
    p.C1 = advc_alloc(nc * 4), p.C2 = advc_alloc(nc * 4);
    if (!p.A || !p.B || !p.C1 || !p.C2) {
        fprintf(stderr, "gemm-openblas: out of memory\n");
        exit(1);
    }
    fill(p.A, na, 1);
    fill(p.B, nb, 2);
    run_advc(&p);
    run_openblas(&p);
    int bad = verify(&p);
    double ta[MAX_REPS], tb[MAX_REPS];
    time_case(&p, threads, reps, ta, tb);
    double flop = 2.0 * c->m * c->n * (double)c->k;
    double ga = flop / median(ta, reps) * 1e-9;
    double go = flop / median(tb, reps) * 1e-9;
    printf("compare=sgemm isa=%s shape=%s form=%s threads=%d m=%d n=%d "
           "k=%d advc_gflops=%.1f openblas_gflops=%.1f ratio=%.2f "
           "reps=%d status=%s\n", advc_isa_name(), c->shape, c->form,
           threads, c->m, c->n, c->k, ga, go, ga / go, reps,
           bad ? "FAIL" : "PASS");
    fflush(stdout);
    advc_free(p.A), advc_free(p.B), advc_free(p.C1), advc_free(p.C2);
    return bad != 0;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int reps = argc > 2 ? atoi(argv[2]) : DEFAULT_REPS;
    if (threads < 1 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "usage: gemm-openblas THREADS [REPS <= %d]\n",
                MAX_REPS);
        return 2;
    }
    /* OpenBLAS's own choice, so every table says what it was against. */
    printf("openblas corename=%s config=\"%s\" coretype_env=%s\n",
           openblas_get_corename(), openblas_get_config(),
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE")
                                       : "(unset: automatic)");
    advc_pool *pool = threads > 1 ? advc_pool_create(threads) : NULL;
    int failed = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        failed += bench_case(&CASES[i], pool, threads, reps);
    advc_pool_destroy(pool);
    return failed ? 1 : 0;
}
