/* bench_peak.c: the single-core floating-point peak of this build's ISA,
 * measured with a register-only multiply-add loop (no memory traffic), so
 * GEMM speeds can be reported as a share of what the core can do.
 *
 * AVX2: 12 independent ymm FMA chains; NEON: 16 q-register FMA chains;
 * scalar: 48 float multiply-add chains.  Each ISA's loop is one small
 * function; which one runs is fixed by dispatch.h at compile time.
 */
#include "bench.h"
#include "dispatch.h"

#if defined(ADVC_ISA_AVX2)
#  include <immintrin.h>
#elif defined(ADVC_ISA_NEON)
#  include <arm_neon.h>
#endif

/* Multiplier and addend of every chain: x = x * MUL + ADD converges to
 * ADD / (1 - MUL) = 1, so values stay normal (no denormal slow-down) and
 * finite however long the loop runs. */
#define MUL 0.999f
#define ADD 0.001f

/* Loop trips of one timed run: 2^20 trips x 12 FMAs x 16 flops is about
 * 0.2 GFLOP for AVX2, ~2 ms on a 3+ GHz core: long enough to time, short
 * enough that some of the runs miss interruptions by other processes. */
#define TRIPS (1L << 20)
/* Timed runs; the fastest one is the peak (a peak is what the core can
 * do, so the best run is the estimate, not the median). */
#define RUNS 15

#if defined(ADVC_ISA_AVX2)
/* Zen 4 / Haswell-class cores have 2 FMA pipes with 4-5 cycles latency:
 * 2 x 5 = 10 chains keep both busy; 12 leaves margin.  Named variables,
 * not an array, so that every chain lives in a register. */
enum { CHAINS = 12, FLOPS_PER_FMA = 16 };
static inline __m256 fma8(__m256 x, __m256 mul, __m256 add)
{
    return _mm256_fmadd_ps(x, mul, add);
}
static float peak_loop(long trips)
{
    __m256 mul = _mm256_set1_ps(MUL), add = _mm256_set1_ps(ADD);
    __m256 x0 = _mm256_set1_ps(0), x1 = _mm256_set1_ps(1);
    __m256 x2 = _mm256_set1_ps(2), x3 = _mm256_set1_ps(3);
    __m256 x4 = _mm256_set1_ps(4), x5 = _mm256_set1_ps(5);
    __m256 x6 = _mm256_set1_ps(6), x7 = _mm256_set1_ps(7);
    __m256 x8 = _mm256_set1_ps(8), x9 = _mm256_set1_ps(9);
    __m256 x10 = _mm256_set1_ps(10), x11 = _mm256_set1_ps(11);
    for (long t = 0; t < trips; t++) {
        x0 = fma8(x0, mul, add); x1 = fma8(x1, mul, add);
        x2 = fma8(x2, mul, add); x3 = fma8(x3, mul, add);
        x4 = fma8(x4, mul, add); x5 = fma8(x5, mul, add);
        x6 = fma8(x6, mul, add); x7 = fma8(x7, mul, add);
        x8 = fma8(x8, mul, add); x9 = fma8(x9, mul, add);
        x10 = fma8(x10, mul, add); x11 = fma8(x11, mul, add);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(x0, x1),
                                           _mm256_add_ps(x2, x3)),
                             _mm256_add_ps(_mm256_add_ps(x4, x5),
                                           _mm256_add_ps(x6, x7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(x8, x9),
                                       _mm256_add_ps(x10, x11)));
    return _mm256_cvtss_f32(s);
}
#elif defined(ADVC_ISA_NEON)
/* Big Arm cores have 2-4 128-bit FMA pipes with 4 cycles latency: 16
 * chains cover 4 x 4.  Named variables keep every chain in a register. */
enum { CHAINS = 16, FLOPS_PER_FMA = 8 };
static inline float32x4_t fma4(float32x4_t x, float32x4_t mul,
                               float32x4_t add)
{
    return vfmaq_f32(add, x, mul);
}
static float peak_loop(long trips)
{
    float32x4_t mul = vdupq_n_f32(MUL), add = vdupq_n_f32(ADD);
    float32x4_t x0 = vdupq_n_f32(0), x1 = vdupq_n_f32(1);
    float32x4_t x2 = vdupq_n_f32(2), x3 = vdupq_n_f32(3);
    float32x4_t x4 = vdupq_n_f32(4), x5 = vdupq_n_f32(5);
    float32x4_t x6 = vdupq_n_f32(6), x7 = vdupq_n_f32(7);
    float32x4_t x8 = vdupq_n_f32(8), x9 = vdupq_n_f32(9);
    float32x4_t x10 = vdupq_n_f32(10), x11 = vdupq_n_f32(11);
    float32x4_t x12 = vdupq_n_f32(12), x13 = vdupq_n_f32(13);
    float32x4_t x14 = vdupq_n_f32(14), x15 = vdupq_n_f32(15);
    for (long t = 0; t < trips; t++) {
        x0 = fma4(x0, mul, add); x1 = fma4(x1, mul, add);
        x2 = fma4(x2, mul, add); x3 = fma4(x3, mul, add);
        x4 = fma4(x4, mul, add); x5 = fma4(x5, mul, add);
        x6 = fma4(x6, mul, add); x7 = fma4(x7, mul, add);
        x8 = fma4(x8, mul, add); x9 = fma4(x9, mul, add);
        x10 = fma4(x10, mul, add); x11 = fma4(x11, mul, add);
        x12 = fma4(x12, mul, add); x13 = fma4(x13, mul, add);
        x14 = fma4(x14, mul, add); x15 = fma4(x15, mul, add);
    }
    float32x4_t s = vaddq_f32(vaddq_f32(vaddq_f32(x0, x1), vaddq_f32(x2, x3)),
                              vaddq_f32(vaddq_f32(x4, x5), vaddq_f32(x6, x7)));
    s = vaddq_f32(s, vaddq_f32(vaddq_f32(x8, x9), vaddq_f32(x10, x11)));
    s = vaddq_f32(s, vaddq_f32(vaddq_f32(x12, x13), vaddq_f32(x14, x15)));
    return vgetq_lane_f32(s, 0);
}
#else
/* Plain float multiply-adds in rows of four, like the scalar
 * micro-kernel's rows, so the compiler treats both alike: where it
 * vectorises the kernel's rows (e.g. with SSE on x86-64) it vectorises
 * these too, and pct_peak compares like with like.  12 rows: a multiply
 * then an add is ~6 cycles of latency, times 2 pipes. */
enum { CHAINS = 48, FLOPS_PER_FMA = 2 };
static inline void row4(float x[4])
{
    for (int j = 0; j < 4; j++)
        x[j] = x[j] * MUL + ADD;
}
static inline float sum4(const float x[4])
{
    return (x[0] + x[1]) + (x[2] + x[3]);
}
static float peak_loop(long trips)
{
    float x0[4] = { 0 }, x1[4] = { 1 }, x2[4] = { 2 }, x3[4] = { 3 };
    float x4[4] = { 4 }, x5[4] = { 5 }, x6[4] = { 6 }, x7[4] = { 7 };
    float x8[4] = { 8 }, x9[4] = { 9 }, x10[4] = { 10 }, x11[4] = { 11 };
    for (long t = 0; t < trips; t++) {
        row4(x0), row4(x1), row4(x2), row4(x3), row4(x4), row4(x5);
        row4(x6), row4(x7), row4(x8), row4(x9), row4(x10), row4(x11);
    }
    return sum4(x0) + sum4(x1) + sum4(x2) + sum4(x3) + sum4(x4) +
           sum4(x5) + sum4(x6) + sum4(x7) + sum4(x8) + sum4(x9) +
           sum4(x10) + sum4(x11);
}
#endif

/* Keeps the loop's result observable so it cannot be removed. */
static volatile float sink;

static void run_peak(void *ctx)
{
    sink = peak_loop(*(const long *)ctx);
}

double bench_peak_gflops(void)
{
    static double cached;
    if (cached > 0) return cached;
    long trips = TRIPS;
    double best = 0;
    for (int r = 0; r < RUNS; r++) {
        /* One warm-up and one timed run each; bench_time is in another
         * file, so the loop cannot be moved out of the timed region. */
        double t = bench_time(run_peak, &trips, 1);
        if (best == 0 || t < best) best = t;
    }
    cached = (double)trips * CHAINS * FLOPS_PER_FMA / best * 1e-9;
    return cached;
}

/* Every worker of the pool runs the peak loop at once. */
static void peak_task(void *ctx, int t, int nthreads)
{
    (void)t, (void)nthreads;
    sink = peak_loop(*(const long *)ctx);
}

static void run_peak_all(void *ctx)
{
    advc_pool *pool = *(advc_pool **)ctx;
    long trips = TRIPS;
    advc_pool_run(pool, peak_task, &trips);
}

/* Peak of T cores together (best of RUNS): on a virtual machine two
 * vCPUs may share one physical core, and this line shows it. */
static double peak_threads(int T)
{
    advc_pool *pool = advc_pool_create(T);
    if (!pool) return 0;
    double best = 0;
    for (int r = 0; r < RUNS; r++) {
        double t = bench_time(run_peak_all, &pool, 1);
        if (best == 0 || t < best) best = t;
    }
    advc_pool_destroy(pool);
    return (double)TRIPS * CHAINS * FLOPS_PER_FMA * T / best * 1e-9;
}

int bench_peak(const bench_opts *o)
{
    double g = bench_peak_gflops();
    /* A peak below 0.1 GFLOP/s means the timer or the loop is broken. */
    int ok = g > 0.1, failed = !ok;
    printf("bench=peak isa=%s threads=1 chains=%d peak_gflops=%.1f "
           "status=%s\n", advc_isa_name(), CHAINS, g, ok ? "PASS" : "FAIL");
    int threads[2];
    int nt = bench_thread_list(o, threads);
    for (int i = 0; i < nt; i++) {
        if (threads[i] < 2) continue;
        double gt = peak_threads(threads[i]);
        ok = gt > 0.1;
        failed += !ok;
        /* scaling: how many single cores' worth the T threads deliver */
        printf("bench=peak isa=%s threads=%d chains=%d peak_gflops=%.1f "
               "scaling=%.2f status=%s\n", advc_isa_name(), threads[i],
               CHAINS, gt, gt / g, ok ? "PASS" : "FAIL");
    }
    return failed;
}
