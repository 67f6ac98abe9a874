/* bench_peak.c: the single-core floating-point peak, measured with
 * register-only multiply-add loops (no memory traffic), so GEMM speeds
 * can be reported as a share of what the core can do.
 *
 * On x86-64 both the 256-bit (AVX2 + FMA, ymm) and the 512-bit (AVX-512F,
 * zmm) FMA peaks are measured whenever the CPU has them, whatever this
 * build's ISA (each loop is compiled for its own instruction set with a
 * target attribute and run only after a CPUID check): on Zen 4 the two
 * are about equal (512-bit FMAs are split in two halves), on Zen 5 and
 * Intel server cores 512 bits give about twice the 256-bit rate.  The peak
 * GEMM figures are measured against (bench_peak_gflops) is the one of the
 * build's ISA: zmm for avx512, ymm for avx2, q registers for NEON and
 * plain float multiply-adds for scalar.
 */
#include "bench.h"
#include "dispatch.h"

#if defined(__x86_64__) && defined(__GNUC__)
#  define PEAK_X86 1
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
 * 0.2 GFLOP for ymm, ~2 ms on a 3+ GHz core: long enough to time, short
 * enough that some of the runs miss interruptions by other processes. */
#define TRIPS (1L << 20)
/* Timed runs; the fastest one is the peak (a peak is what the core can
 * do, so the best run is the estimate, not the median). */
#define RUNS 15

/* Independent FMA chains of the vector loops: current x86 cores have 2
 * FMA pipes with 4-5 cycles latency, so 2 x 5 = 10 chains keep both busy;
 * 12 leaves margin.  Named variables, not an array, so that every chain
 * lives in a register. */
enum { VCHAINS = 12 };

typedef float (*peak_fn)(long trips);

/* One peak loop and what it computes per trip. */
typedef struct {
    const char *width; /* "512", "256", "128" or "scalar" */
    peak_fn loop;
    int chains;
    int flops_per_fma; /* 2 x lanes */
} peak_kind;

#if defined(PEAK_X86)
#define T256 __attribute__((target("avx2,fma")))
#define T512 __attribute__((target("avx512f")))

static inline T256 __m256 fma8(__m256 x, __m256 mul, __m256 add)
{
    return _mm256_fmadd_ps(x, mul, add);
}

static T256 float peak_loop_256(long trips)
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

static inline T512 __m512 fma16(__m512 x, __m512 mul, __m512 add)
{
    return _mm512_fmadd_ps(x, mul, add);
}

static T512 float peak_loop_512(long trips)
{
    __m512 mul = _mm512_set1_ps(MUL), add = _mm512_set1_ps(ADD);
    __m512 x0 = _mm512_set1_ps(0), x1 = _mm512_set1_ps(1);
    __m512 x2 = _mm512_set1_ps(2), x3 = _mm512_set1_ps(3);
    __m512 x4 = _mm512_set1_ps(4), x5 = _mm512_set1_ps(5);
    __m512 x6 = _mm512_set1_ps(6), x7 = _mm512_set1_ps(7);
    __m512 x8 = _mm512_set1_ps(8), x9 = _mm512_set1_ps(9);
    __m512 x10 = _mm512_set1_ps(10), x11 = _mm512_set1_ps(11);
    for (long t = 0; t < trips; t++) {
        x0 = fma16(x0, mul, add); x1 = fma16(x1, mul, add);
        x2 = fma16(x2, mul, add); x3 = fma16(x3, mul, add);
        x4 = fma16(x4, mul, add); x5 = fma16(x5, mul, add);
        x6 = fma16(x6, mul, add); x7 = fma16(x7, mul, add);
        x8 = fma16(x8, mul, add); x9 = fma16(x9, mul, add);
        x10 = fma16(x10, mul, add); x11 = fma16(x11, mul, add);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x0, x1),
                                           _mm512_add_ps(x2, x3)),
                             _mm512_add_ps(_mm512_add_ps(x4, x5),
                                           _mm512_add_ps(x6, x7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(x8, x9),
                                       _mm512_add_ps(x10, x11)));
    return _mm512_cvtss_f32(s);
}

static const peak_kind PEAK_256 = { "256", peak_loop_256, VCHAINS, 16 };
static const peak_kind PEAK_512 = { "512", peak_loop_512, VCHAINS, 32 };

/* The x86 widths this CPU runs, widest last; returns how many. */
static int x86_kinds(const peak_kind *out[2])
{
    int n = 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        out[n++] = &PEAK_256;
    if (__builtin_cpu_supports("avx512f"))
        out[n++] = &PEAK_512;
    return n;
}
#endif /* PEAK_X86 */

#if defined(ADVC_ISA_NEON)
/* Big Arm cores have 2-4 128-bit FMA pipes with 4 cycles latency: 16
 * chains cover 4 x 4.  Named variables keep every chain in a register. */
static inline float32x4_t fma4(float32x4_t x, float32x4_t mul,
                               float32x4_t add)
{
    return vfmaq_f32(add, x, mul);
}
static float peak_loop_neon(long trips)
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
static const peak_kind PEAK_NEON = { "128", peak_loop_neon, 16, 8 };
#endif

#if defined(PEAK_X86) || defined(ADVC_ISA_SCALAR)
/* Plain float multiply-adds in rows of four, like the scalar
 * micro-kernel's rows, so the compiler treats both alike: where it
 * vectorises the kernel's rows (e.g. with SSE on x86-64) it vectorises
 * these too, and pct_peak compares like with like.  12 rows: a multiply
 * then an add is ~6 cycles of latency, times 2 pipes. */
static inline void row4(float x[4])
{
    for (int j = 0; j < 4; j++)
        x[j] = x[j] * MUL + ADD;
}
static inline float sum4(const float x[4])
{
    return (x[0] + x[1]) + (x[2] + x[3]);
}
static float peak_loop_scalar(long trips)
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
static const peak_kind PEAK_SCALAR = { "scalar", peak_loop_scalar, 48, 2 };
#endif

/* The peak loop of this build's ISA. */
static const peak_kind *isa_kind(void)
{
#if defined(ADVC_ISA_AVX512)
    return &PEAK_512;
#elif defined(ADVC_ISA_AVX2)
    return &PEAK_256;
#elif defined(ADVC_ISA_NEON)
    return &PEAK_NEON;
#else
    return &PEAK_SCALAR;
#endif
}

/* Keeps the loop's result observable so it cannot be removed. */
static volatile float sink;

typedef struct {
    const peak_kind *kind;
    advc_pool *pool; /* NULL: run on this thread */
} peak_run;

/* Every worker of the pool runs the peak loop at once. */
static void peak_task(void *ctx, int t, int nthreads)
{
    (void)t, (void)nthreads;
    sink = ((const peak_run *)ctx)->kind->loop(TRIPS);
}

static void run_peak(void *ctx)
{
    const peak_run *r = ctx;
    if (r->pool)
        advc_pool_run(r->pool, peak_task, ctx);
    else
        sink = r->kind->loop(TRIPS);
}

/* GFLOP/s of `kind` on T threads together (best of RUNS; T = 1 runs on
 * the calling thread).  On a virtual machine two vCPUs may share one
 * physical core, and the T-thread figure shows it. */
static double measure(const peak_kind *kind, int T)
{
    peak_run r = { kind, T > 1 ? advc_pool_create(T) : NULL };
    if (T > 1 && !r.pool) return 0;
    double best = 0;
    for (int i = 0; i < RUNS; i++) {
        /* One warm-up and one timed run each; bench_time is in another
         * file, so the loop cannot be moved out of the timed region. */
        double t = bench_time(run_peak, &r, 1);
        if (best == 0 || t < best) best = t;
    }
    advc_pool_destroy(r.pool);
    return (double)TRIPS * kind->chains * kind->flops_per_fma * T / best *
           1e-9;
}

double bench_peak_gflops(void)
{
    static double cached;
    if (cached <= 0)
        cached = measure(isa_kind(), 1);
    return cached;
}

/* One line per loop: a peak below 0.1 GFLOP/s means the timer or the
 * loop is broken. */
static int print_peak(const peak_kind *k, int T, double g, double one)
{
    int ok = g > 0.1;
    printf("bench=peak isa=%s width=%s isa_width=%s threads=%d chains=%d "
           "peak_gflops=%.1f", advc_isa_name(), k->width,
           k == isa_kind() ? "yes" : "no", T, k->chains, g);
    if (T > 1) /* how many single cores' worth the T threads deliver */
        printf(" scaling=%.2f", g / one);
    printf(" status=%s\n", ok ? "PASS" : "FAIL");
    return !ok;
}

int bench_peak(const bench_opts *o)
{
    int failed = 0;
    bench_print_cpu();
    double one = bench_peak_gflops();
#if defined(PEAK_X86)
    /* Both x86 widths the CPU runs, and their ratio. */
    const peak_kind *kinds[2];
    int nk = x86_kinds(kinds);
    double g[2] = { 0, 0 };
    for (int i = 0; i < nk; i++) {
        g[i] = kinds[i] == isa_kind() ? one : measure(kinds[i], 1);
        failed += print_peak(kinds[i], 1, g[i], g[i]);
    }
    if (nk == 2)
        printf("bench=peak_ratio width=512/256 ratio=%.2f\n", g[1] / g[0]);
    if (isa_kind() == &PEAK_SCALAR)
        failed += print_peak(&PEAK_SCALAR, 1, one, one);
#else
    failed += print_peak(isa_kind(), 1, one, one);
#endif
    int threads[2];
    int nt = bench_thread_list(o, threads);
    for (int i = 0; i < nt; i++)
        if (threads[i] >= 2)
            failed += print_peak(isa_kind(), threads[i],
                                 measure(isa_kind(), threads[i]), one);
    return failed;
}
