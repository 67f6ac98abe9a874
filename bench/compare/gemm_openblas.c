/* gemm_openblas.c: advc_sgemm next to OpenBLAS's cblas_sgemm, same inputs,
 * same process, one after the other for each case.
 *
 * Built and run only by gemm-vs-openblas.sh; never part of the library,
 * the tests or `make`.  Usage: gemm-openblas THREADS [REPS]; OpenBLAS's own
 * thread count comes from OPENBLAS_NUM_THREADS (the script sets both).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "advc/advc.h"

/* Timed repetitions per case; the median is printed. */
#define DEFAULT_REPS 15
#define MAX_REPS 101

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

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int reps = argc > 2 ? atoi(argv[2]) : DEFAULT_REPS;
    if (threads < 1 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "usage: gemm-openblas THREADS [REPS <= %d]\n",
                MAX_REPS);
        return 2;
    }
    advc_pool *pool = threads > 1 ? advc_pool_create(threads) : NULL;
    static const int sizes[] = { 512, 1024 };
    static const char *forms[] = { "NN", "TN", "NT" };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int s = sizes[si];
        size_t nn = (size_t)s * s;
        float *A = advc_alloc(nn * 4), *B = advc_alloc(nn * 4);
        float *C1 = advc_alloc(nn * 4), *C2 = advc_alloc(nn * 4);
        if (!A || !B || !C1 || !C2) return 1;
        fill(A, nn, 1);
        fill(B, nn, 2);
        for (int f = 0; f < 3; f++) {
            advc_trans ta = forms[f][0] == 'T', tb = forms[f][1] == 'T';
            double ta_s[MAX_REPS], tb_s[MAX_REPS];
            /* Each library's runs as one block (after a warm-up), with a
             * pause before it: both keep worker threads spinning for a
             * while after a call, and on a 2-core machine a spinning
             * thread of one would slow the other's next threaded run. */
            settle();
            advc_sgemm(pool, ta, tb, s, s, s, A, s, B, s, false, C1, s);
            for (int r = 0; r < reps; r++) {
                double t0 = advc_now();
                advc_sgemm(pool, ta, tb, s, s, s, A, s, B, s, false, C1, s);
                ta_s[r] = advc_now() - t0;
            }
            settle();
            for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
                double t0 = advc_now();
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                            tb ? CblasTrans : CblasNoTrans, s, s, s, 1.0f, A,
                            s, B, s, 0.0f, C2, s);
                if (r >= 0) tb_s[r] = advc_now() - t0;
            }
            double maxdiff = 0;
            for (size_t i = 0; i < nn; i++) {
                double d = fabs((double)C1[i] - C2[i]);
                if (d > maxdiff || d != d) maxdiff = d;
            }
            double flop = 2.0 * s * s * s;
            double ga = flop / median(ta_s, reps) * 1e-9;
            double go = flop / median(tb_s, reps) * 1e-9;
            /* Both are float GEMMs of k = s terms in [-1, 1): a difference
             * above 1e-3 means one of them is wrong, not just rounded. */
            printf("compare=sgemm form=%s threads=%d m=%d n=%d k=%d "
                   "advc_gflops=%.1f openblas_gflops=%.1f ratio=%.2f "
                   "maxdiff=%.1e status=%s\n", forms[f], threads, s, s, s,
                   ga, go, ga / go, maxdiff,
                   maxdiff < 1e-3 ? "PASS" : "FAIL");
            fflush(stdout);
        }
        advc_free(A);
        advc_free(B);
        advc_free(C1);
        advc_free(C2);
    }
    advc_pool_destroy(pool);
    return 0;
}
