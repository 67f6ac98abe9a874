/* bench_conv.c: the GEMMs a convolution turns into, at the shapes of the
 * MNIST networks (batch 128), in all three forms a training step uses:
 *   forward      Y(cout, B*oh*ow)   = W(cout, K) . col(K, B*oh*ow)     NN
 *   weight grad  dW(cout, K)        = dY(cout, N) . col(K, N)^T        NT
 *   input grad   dcol(K, N)         = W(cout, K)^T . dY(cout, N)       TN
 * with K = cin*kh*kw, plus im2col itself for the same layer.  Each GEMM is
 * verified on 2 x 64 sampled output columns against advc_sgemm_ref first. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

typedef struct {
    const char *layer;
    advc_trans ta, tb;
    int m, n, k;
} conv_case;

typedef struct {
    advc_pool *pool;
    const conv_case *c;
    const float *A, *B;
    float *C;
    int lda, ldb;
} gemm_call;

static void run_gemm(void *v)
{
    gemm_call *g = v;
    advc_sgemm(g->pool, g->c->ta, g->c->tb, g->c->m, g->c->n, g->c->k, g->A,
               g->lda, g->B, g->ldb, false, g->C, g->c->n);
}

/* Max |C - ref| / (sum_k |a||b| + tiny) over columns [j0, j0+w). */
static double verify_cols(const gemm_call *g, int j0, int w)
{
    const conv_case *c = g->c;
    float *ref = malloc((size_t)c->m * w * sizeof *ref);
    float *bound = malloc((size_t)c->m * w * sizeof *bound);
    const float *Bj = c->tb == ADVC_NOTRANS ? g->B + j0
                                            : g->B + (size_t)j0 * g->ldb;
    advc_sgemm_ref(c->ta, c->tb, c->m, w, c->k, g->A, g->lda, Bj, g->ldb,
                   false, ref, w);
    /* |A| |B| with the same call on absolute values bounds the rounding. */
    size_t na = (size_t)c->m * c->k, nb = (size_t)c->k * c->n;
    float *absA = malloc(na * sizeof *absA), *absB = malloc(nb * sizeof *absB);
    for (size_t i = 0; i < na; i++) absA[i] = fabsf(g->A[i]);
    for (size_t i = 0; i < nb; i++) absB[i] = fabsf(g->B[i]);
    const float *absBj = c->tb == ADVC_NOTRANS ? absB + j0
                                               : absB + (size_t)j0 * g->ldb;
    advc_sgemm_ref(c->ta, c->tb, c->m, w, c->k, absA, g->lda, absBj, g->ldb,
                   false, bound, w);
    double worst = 0;
    for (int i = 0; i < c->m; i++)
        for (int j = 0; j < w; j++) {
            double d = fabs((double)g->C[(size_t)i * c->n + j0 + j] -
                            ref[(size_t)i * w + j]);
            double r = d / ((double)bound[(size_t)i * w + j] + 1e-30);
            if (r > worst || r != r) worst = r;
        }
    free(ref), free(bound), free(absA), free(absB);
    return worst;
}

static int bench_conv_case(const conv_case *c, advc_pool *pool, int threads,
                           int reps, double peak)
{
    size_t na = (size_t)c->m * c->k, nb = (size_t)c->k * c->n;
    float *A = advc_alloc(na * sizeof *A), *B = advc_alloc(nb * sizeof *B);
    float *C = advc_alloc((size_t)c->m * c->n * sizeof *C);
    advc_rng r;
    advc_rng_seed(&r, 1, 0);
    for (size_t i = 0; i < na; i++) A[i] = advc_rng_uniform(&r) - 0.5f;
    for (size_t i = 0; i < nb; i++) B[i] = advc_rng_uniform(&r) - 0.5f;
    gemm_call g = { pool, c, A, B, C,
                    c->ta == ADVC_NOTRANS ? c->k : c->m,
                    c->tb == ADVC_NOTRANS ? c->n : c->k };
    run_gemm(&g);
    int w = c->n < 64 ? c->n : 64;
    double err = verify_cols(&g, 0, w);
    double err2 = verify_cols(&g, c->n - w, w);
    if (err2 > err) err = err2;
    /* fp32 accumulation over k terms: error ~ k * 2^-24 relative to |A||B|;
     * allow a factor 4 on that worst case. */
    int pass = err <= 4.0 * c->k * 0x1p-24;
    double sec = bench_time(run_gemm, &g, reps);
    double gflops = 2.0 * c->m * c->n * (double)c->k / sec * 1e-9;
    printf("bench=conv isa=%s layer=%s form=%s threads=%d m=%d n=%d k=%d "
           "gflops=%.1f pct_peak=%.0f relerr=%.1e status=%s\n",
           advc_isa_name(), c->layer,
           c->ta == ADVC_NOTRANS ? (c->tb == ADVC_NOTRANS ? "NN" : "NT")
                                 : "TN",
           threads, c->m, c->n, c->k, gflops,
           peak > 0 ? 100.0 * gflops / (peak * threads) : 0.0, err,
           pass ? "PASS" : "FAIL");
    advc_free(A), advc_free(B), advc_free(C);
    return !pass;
}

typedef struct {
    advc_conv_geom g;
    int batch;
    const float *img;
    float *col;
} im2col_call;

static void run_im2col(void *v)
{
    im2col_call *c = v;
    size_t per_img = (size_t)c->g.c * c->g.h * c->g.w;
    size_t per_col = (size_t)c->g.c * c->g.kh * c->g.kw * c->g.oh * c->g.ow;
    for (int b = 0; b < c->batch; b++)
        advc_im2col(&c->g, c->img + b * per_img, c->col + b * per_col);
}

static int bench_im2col(const char *layer, int cin, int hw, int kk, int s,
                        int p, int batch, int reps)
{
    im2col_call c;
    advc_conv_geom_init(&c.g, cin, hw, hw, kk, kk, s, p);
    c.batch = batch;
    size_t per_img = (size_t)cin * hw * hw;
    size_t per_col = (size_t)cin * kk * kk * c.g.oh * c.g.ow;
    float *img = advc_alloc(per_img * batch * sizeof *img);
    float *col = advc_alloc(per_col * batch * sizeof *col);
    float *ref = malloc(per_col * sizeof *ref);
    for (size_t i = 0; i < per_img * batch; i++) img[i] = (float)(i % 97);
    c.img = img, c.col = col;
    run_im2col(&c);
    advc_im2col_ref(&c.g, img + (batch - 1) * per_img, ref);
    int pass = memcmp(ref, col + (batch - 1) * per_col,
                      per_col * sizeof *ref) == 0;
    double sec = bench_time(run_im2col, &c, reps);
    printf("bench=im2col isa=%s layer=%s batch=%d c=%d hw=%d k=%d stride=%d "
           "pad=%d ms=%.3f gbytes_per_s=%.1f status=%s\n",
           advc_isa_name(), layer, batch, cin, hw, kk, s, p, sec * 1e3,
           per_col * batch * sizeof(float) / sec * 1e-9,
           pass ? "PASS" : "FAIL");
    advc_free(img), advc_free(col), free(ref);
    return !pass;
}

int bench_conv(const bench_opts *o)
{
    if (o->model) return bench_conv_model(o);
    const int B = 128;
    /* cnn conv2: 32 -> 64 channels, 5x5 pad 2 on 14x14; cnn-small conv2:
     * 16 -> 32, 4x4 stride 2 on 14x14 -> 7x7; the 3x3 example. */
    const conv_case cases[] = {
        { "cnn.conv2.fwd", ADVC_NOTRANS, ADVC_NOTRANS, 64, B * 196, 800 },
        { "cnn.conv2.wgrad", ADVC_NOTRANS, ADVC_TRANS, 64, 800, B * 196 },
        { "cnn.conv2.igrad", ADVC_TRANS, ADVC_NOTRANS, 800, B * 196, 64 },
        { "cnn-small.conv2.fwd", ADVC_NOTRANS, ADVC_NOTRANS, 32, B * 49,
          256 },
        { "conv3x3.c32.fwd", ADVC_NOTRANS, ADVC_NOTRANS, 64, B * 196, 288 },
    };
    int th[2], nth = bench_thread_list(o, th), failed = 0;
    double peak = bench_peak_gflops();
    for (int ti = 0; ti < nth; ti++) {
        advc_pool *pool = advc_pool_create(th[ti]);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            failed += bench_conv_case(&cases[i], pool, th[ti], o->reps, peak);
        advc_pool_destroy(pool);
    }
    failed += bench_im2col("cnn.conv2", 32, 14, 5, 1, 2, B, o->reps);
    failed += bench_im2col("cnn-small.conv2", 16, 14, 4, 2, 1, B, o->reps);
    return failed;
}
