/* bench.h: shared pieces of advc-bench.  Every benchmark verifies its
 * output against the scalar reference before it times anything, and
 * prints one line per case as key=value pairs ending in status=PASS|FAIL.
 * Timings are medians over --reps runs. */
#ifndef ADVC_BENCH_H
#define ADVC_BENCH_H

#include <stdio.h>
#include "advc/advc.h"
#include "advc/train.h"

typedef struct {
    int m, n, k;      /* GEMM sizes from --m --n --k (0 = the default set) */
    int threads;      /* --threads (0 = the default set: 1 and, if >1, all) */
    int reps;         /* --reps: timed repetitions, the median is reported */
    const char *model;   /* --model (train bench, later issues)            */
    int batch;           /* --batch                                        */
    const char *attack;  /* --attack (attack bench; NULL = pgd)            */
    int steps;           /* --steps: attack/recipe iterations (0 = default) */
    float eps;           /* --eps: L-inf budget (0 = default, 0.3)         */
    const char *recipe;  /* --recipe (train bench; NULL = std)             */
} bench_opts;

/* Peak resident memory of this process so far, in MiB. */
double bench_max_rss_mb(void);

/* Median of x[0..n) (sorts x). */
double bench_median(double *x, int n);

/* Runs fn(ctx) once to warm up, then reps times; returns the median
 * seconds per call. */
double bench_time(void (*fn)(void *ctx), void *ctx, int reps);

/* Thread counts a benchmark should cover: --threads T alone, or 1 and the
 * number of online CPUs.  Returns how many were written to out (<= 2). */
int bench_thread_list(const bench_opts *o, int out[2]);

/* Prints one line naming the CPU: model, vendor, family, model number and
 * the SIMD flags that matter here (from /proc/cpuinfo where it exists). */
void bench_print_cpu(void);

/* The machine's measured single-core FMA peak in GFLOP/s for this build's
 * ISA (512-bit for avx512, 256-bit for avx2; cached after the first call;
 * computed by bench_peak.c with a register-only loop). */
double bench_peak_gflops(void);

/* Subcommands: each returns the number of failed cases. */
int bench_peak(const bench_opts *o);
int bench_gemm(const bench_opts *o);
int bench_conv(const bench_opts *o);
int bench_act(const bench_opts *o);
int bench_sign(const bench_opts *o);
int bench_train(const bench_opts *o); /* not part of `all` */
int bench_attack(const bench_opts *o); /* not part of `all` */

#endif
