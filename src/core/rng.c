/* rng.c: PCG32 random numbers (O'Neill, "PCG: a family of simple fast
 * space-efficient statistically good algorithms", 2014), plus the few
 * derived draws advc needs.  State is explicit: same seed, same stream. */
#include <math.h>
#include "advc/core.h"

/* The PCG reference multiplier for 64-bit LCGs. */
#define PCG_MULT 6364136223846793005ULL

void advc_rng_seed(advc_rng *r, uint64_t seed, uint64_t stream)
{
    r->state = 0;
    r->inc = (stream << 1) | 1u; /* any odd increment selects a stream */
    advc_rng_u32(r);
    r->state += seed;
    advc_rng_u32(r);
}

uint32_t advc_rng_u32(advc_rng *r)
{
    uint64_t old = r->state;
    r->state = old * PCG_MULT + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

uint32_t advc_rng_below(advc_rng *r, uint32_t n)
{
    /* Lemire (2019): multiply-shift, rejecting the small biased zone. */
    uint64_t m = (uint64_t)advc_rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)advc_rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float advc_rng_uniform(advc_rng *r)
{
    /* Top 24 bits times 2^-24: every value exactly representable, in [0,1). */
    return (float)(advc_rng_u32(r) >> 8) * 0x1p-24f;
}

float advc_rng_normal(advc_rng *r)
{
    /* Box-Muller; u1 in (0, 1] so log(u1) is finite. */
    double u1 = ((double)(advc_rng_u32(r) >> 8) + 1.0) * 0x1p-24;
    double u2 = (double)(advc_rng_u32(r) >> 8) * 0x1p-24;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void advc_rng_shuffle(advc_rng *r, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)advc_rng_below(r, (uint32_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

uint64_t advc_mix64(uint64_t a, uint64_t b)
{
    uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
