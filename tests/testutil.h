/* testutil.h: small helpers shared by the Check suites: seeded random
 * fills and error measures (absolute, relative, ulp). */
#ifndef ADVC_TESTUTIL_H
#define ADVC_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "advc/advc.h"

/* Lengths that reach every loop of every ISA's element-wise kernels: the
 * vec/ kernels step 4 vectors (sum, dot, max), 2 vectors (activations) or
 * 1 vector at a time, then a partial vector, and the widest vector is
 * AVX-512's 16 floats.  Every n in [0, TU_TILE_N] therefore covers, on
 * any ISA, two full 4-vector blocks followed by every count of whole and
 * partial vectors. */
#define TU_MAX_LANES 16
#define TU_TILE_N (8 * TU_MAX_LANES + 2)

/* Uniform fill in [lo, hi) from a seeded PCG stream. */
static inline void tu_fill(float *x, size_t n, float lo, float hi,
                           uint64_t seed)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 7);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * advc_rng_uniform(&r);
}

/* Distance in units in the last place between two finite floats (0 when
 * equal, counting across zero). */
static inline int64_t tu_ulp_diff(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    /* Map the sign-magnitude bit patterns onto a monotonic integer line. */
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

static inline double tu_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

/* True if every element is finite. */
static inline int tu_all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

#endif
