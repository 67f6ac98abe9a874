/* bench_util.c: medians, repeat-timing and thread lists for advc-bench. */
#include <stdlib.h>
#include <sys/resource.h>
#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

double bench_time(void (*fn)(void *ctx), void *ctx, int reps)
{
    double t[101];
    if (reps > 101) reps = 101;
    if (reps < 1) reps = 1;
    fn(ctx); /* warm caches, page in buffers, spin up the pool */
    for (int r = 0; r < reps; r++) {
        double t0 = advc_now();
        fn(ctx);
        t[r] = advc_now() - t0;
    }
    return bench_median(t, reps);
}

int bench_thread_list(const bench_opts *o, int out[2])
{
    if (o->threads > 0) {
        out[0] = o->threads;
        return 1;
    }
    int all = advc_default_threads();
    out[0] = 1;
    if (all > 1) {
        out[1] = all;
        return 2;
    }
    return 1;
}

double bench_max_rss_mb(void) /* ru_maxrss is in KiB on Linux */
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}
