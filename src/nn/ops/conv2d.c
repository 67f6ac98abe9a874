/* conv2d.c: 2-D convolution, NCHW: the layer, the choice of algorithm and
 * the pieces every algorithm shares.
 *   forward   y_i = W col(x_i) + b       W (cout, cin*k*k), col(x_i) the
 *                                        lowered input (cin*k*k, oh*ow)
 *   backward  dx_i = col2im(W^T dy_i)    the adjoint of the lowering
 *             dW += sum_i dy_i col(x_i)^T,  db += sum dy   (UPDATE only)
 *
 * Algorithms (advc_conv_algo), fixed per layer at compile by conv_choose
 * from the layer's shape and the graph's setting, never from timing:
 *   gemm      conv_gemm.c: im2col of a chunk of images, one GEMM
 *   implicit  conv_gemm.c: the same GEMM packing its panels straight
 *             from the NCHW input (no im2col buffer; the same bits)
 *   winograd  conv_wino.c: F(4x4, 3x3) for 3x3 stride-1 layers, all
 *             three passes
 * The weight gradient sums over chunks (of images, or of Winograd tiles),
 * dealt into G groups fixed by the batch and the geometry; each group
 * sums into its own partial dW and the partials are added in group order.  Every sum thus
 * has an order fixed by the shapes, so results are bitwise independent of
 * the thread count, and an image's outputs do not depend on the others in
 * its batch.
 */
/* The short zero-fill and copy loops here stay loops: GCC would turn
 * them into memset/memcpy calls (loop distribution), which on runs of
 * 14-28 floats cost more than the stores (2.6% of a cnn training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conv2d_internal.h"

enum {
    CHUNK_COLS = 512,      /* aim for about this many GEMM columns      */
    MAX_CHUNK = 16,        /* images per chunk, at most                 */
    COL_FLOATS = 1 << 20,  /* a lowered chunk per thread, at most (4 MB) */
    BLOCK_FLOATS = 1 << 16 /* W^T dY per thread for the input gradient,
                              at most (256 KB, in L2)                   */
};

/* Images per chunk for columns of ohw pixels: about CHUNK_COLS columns
 * (a 7x7 map gives 49-column GEMMs one image at a time, about half of
 * peak, and a weight gradient with an inner dimension of 49), with a
 * (rows, q*ohw) buffer within cap floats. */
static int chunk_size(int ohw, size_t rows, size_t cap)
{
    int q = (CHUNK_COLS + ohw - 1) / ohw;
    if (q > MAX_CHUNK) q = MAX_CHUNK;
    while (q > 1 && rows * ohw * (size_t)q > cap) q--;
    return q;
}

/* Groups for the weight gradient: one per chunk up to 64 (so the threads
 * share out whole chunks evenly: 43 chunks dealt into 32 groups gave one
 * thread 27 chunks and the other 16), and their partial sums
 * (G, cout, kdim) within 2^22 floats. */
static int conv_groups(const conv_op *d, int n)
{
    size_t wcount = (size_t)d->cout * d->kdim;
    size_t cap = ((size_t)1 << 22) / wcount;
    size_t nc = conv_nchunks((size_t)n, (size_t)d->q);
    int G = nc < 64 ? (int)nc : 64;
    if ((size_t)G > cap) G = cap > 0 ? (int)cap : 1;
    return G;
}

/* ---- choosing the algorithm ------------------------------------------- */

static bool wino_fits(const conv_op *d)
{
    const advc_conv_geom *g = &d->geom;
    return g->kh == 3 && g->kw == 3 && g->stride == 1 && g->pad <= 2;
}

/* The algorithm for layer d when the graph asks for `want`.  auto takes
 * Winograd for every 3x3 stride-1 layer with at least WINO_MIN_CH input
 * and output channels, else gemm (measured with advc-bench conv --model;
 * bench/RESULTS.md). */
enum { WINO_MIN_CH = 4 };

static advc_conv_algo conv_choose(const conv_op *d, advc_conv_algo want)
{
    if (want == ADVC_CONV_GEMM || want == ADVC_CONV_IMPLICIT) return want;
    if (want == ADVC_CONV_WINOGRAD && wino_fits(d)) return ADVC_CONV_WINOGRAD;
    if (wino_fits(d) && d->geom.c >= WINO_MIN_CH && d->cout >= WINO_MIN_CH)
        return ADVC_CONV_WINOGRAD;
    return ADVC_CONV_GEMM;
}

static void conv_prepare(nn_node *v, const advc_graph *g)
{
    conv_op *d = v->priv;
    d->algo = conv_choose(d, advc_graph_conv_algo(g));
    if (d->algo == ADVC_CONV_WINOGRAD) conv_wino_plan(d);
}

/* ---- workspace ---------------------------------------------------------- */

size_t conv_shared_floats(const conv_op *d)
{
    return d->algo == ADVC_CONV_WINOGRAD ? conv_wino_shared_floats(d)
                                         : conv_gemm_shared_floats(d);
}

size_t conv_thread_floats(const conv_op *d)
{
    size_t t = d->algo == ADVC_CONV_WINOGRAD ? conv_wino_thread_floats(d)
                                             : conv_gemm_thread_floats(d);
    return (t + 15) / 16 * 16; /* whole cache lines per thread */
}

/* The weight gradient's partial sums for a batch of n. */
static size_t part_floats(const conv_op *d, int n)
{
    if (d->algo == ADVC_CONV_WINOGRAD) return conv_wino_part_floats(d, n);
    return (size_t)conv_groups(d, n) * d->cout * d->kdim;
}

static size_t conv_workspace(const nn_node *v, int batch, int nthreads)
{
    const conv_op *d = v->priv;
    return conv_shared_floats(d) + (size_t)nthreads * conv_thread_floats(d) +
           part_floats(d, batch);
}

float *conv_thread_buf(const conv_job *j, int t)
{
    return j->c->ws + conv_shared_floats(j->d) +
           (size_t)t * conv_thread_floats(j->d);
}

/* ---- shared helpers ------------------------------------------------------ */

void conv_run_chunks(conv_job *j, size_t count, nn_range_fn fn, void *ctx)
{
    if (!ctx) ctx = j;
    if (count < (size_t)j->c->nthreads) {
        j->gemm_pool = j->c->pool;
        fn(ctx, 0, count, 0);
    } else {
        j->gemm_pool = NULL;
        nn_parallel(j->c->pool, count, 1, 1, fn, ctx);
    }
}

void conv_chunk_images(const conv_job *j, int q, size_t ch, size_t *i0,
                       int *m)
{
    size_t n = (size_t)j->c->n;
    *i0 = ch * (size_t)q;
    *m = (int)(n - *i0 < (size_t)q ? n - *i0 : (size_t)q);
}

void conv_zero(float *dst, size_t n)
{
    size_t k = 0; /* blocks of 8: vector stores, not a memset call */
    for (; k + 8 <= n; k += 8)
        for (int e = 0; e < 8; e++) dst[k + e] = 0.0f;
    for (; k < n; k++) dst[k] = 0.0f;
}

void conv_copy(float *restrict dst, const float *restrict src, size_t n,
               bool acc)
{
    size_t k = 0; /* blocks of 8: see conv2d_internal.h */
    if (acc) {
        for (; k + 8 <= n; k += 8)
            for (int e = 0; e < 8; e++) dst[k + e] += src[k + e];
        for (; k < n; k++) dst[k] += src[k];
        return;
    }
    for (; k + 8 <= n; k += 8)
        for (int e = 0; e < 8; e++) dst[k + e] = src[k + e];
    for (; k < n; k++) dst[k] = src[k];
}

/* ---- forward and backward -------------------------------------------- */

static conv_job make_job(nn_node *v, const nn_ctx *c)
{
    conv_job j;
    memset(&j, 0, sizeof j);
    j.d = v->priv;
    j.c = c;
    j.x = v->in[0]->y;
    j.xld = v->in[0]->ld;
    j.shared = c->ws;
    j.cols = c->keep_saved ? v->saved : NULL; /* NULL: lower again */
    return j;
}

static size_t conv_saved(const nn_node *v)
{
    return conv_gemm_saved_floats(v->priv);
}

static void conv_forward(nn_node *v, const nn_ctx *c)
{
    conv_job j = make_job(v, c);
    j.y = v->y;
    j.sparse = !c->keep_saved && conv_sparse_fits(j.d);
    if (j.d->algo == ADVC_CONV_WINOGRAD) conv_wino_forward(&j);
    else conv_gemm_forward(&j);
}

typedef struct {
    const conv_job *j;
    size_t per;
    float *dst;
    bool acc, zero_first;
} reduce_job;

/* dst (+)= ((part_0 + part_1) + part_2) + ..., for entries [lo, hi), a
 * block of entries at a time so the adds run along contiguous rows. */
static void reduce_range(void *p, size_t lo, size_t hi, int t)
{
    enum { BLOCK = 256 };
    const reduce_job *r = p;
    const float *part = r->j->part;
    float s[BLOCK];
    (void)t;
    for (size_t e0 = lo; e0 < hi; e0 += BLOCK) {
        size_t len = hi - e0 < BLOCK ? hi - e0 : BLOCK;
        conv_copy(s, part + e0, len, false);
        for (int gi = 1; gi < r->j->groups; gi++)
            conv_copy(s, part + gi * r->per + e0, len, true);
        if (r->zero_first) /* 0 + s: the bits of adding to zeroed grads */
            for (size_t k = 0; k < len; k++) s[k] = 0.0f + s[k];
        conv_copy(r->dst + e0, s, len, r->acc);
    }
}

void conv_reduce_parts(const conv_job *j, size_t per, float *dst, bool acc)
{
    /* Adding to freshly zeroed gradients (nn_ctx.fresh_grads): dst = 0 + s */
    bool zero_first = acc && j->c->fresh_grads;
    reduce_job r = { j, per, dst, acc && !zero_first, zero_first };
    nn_parallel(j->c->pool, per, 16, 1 << 14, reduce_range, &r);
}

/* db[o] += sum over images and pixels of dy, for channels [lo, hi). */
static void reduce_db(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    const conv_op *d = j->d;
    size_t ohw = (size_t)d->ohw, out = (size_t)d->cout * ohw;
    (void)t;
    for (size_t o = lo; o < hi; o++) {
        float s = 0.0f;
        for (int i = 0; i < j->c->n; i++)
            s += advc_sum(ohw, j->dy + i * out + o * ohw);
        d->db[o] = (j->c->fresh_grads ? 0.0f : d->db[o]) + s;
    }
}

static void conv_backward(nn_node *v, const nn_ctx *c)
{
    conv_job j = make_job(v, c);
    const conv_op *d = j.d;
    j.dy = v->dy;
    if (c->pass == ADVC_PASS_UPDATE) {
        j.part = c->ws + conv_shared_floats(d) +
                 (size_t)c->nthreads * conv_thread_floats(d);
        if (d->algo == ADVC_CONV_WINOGRAD) {
            conv_wino_weight_grad(&j);
        } else {
            j.groups = conv_groups(d, c->n);
            conv_gemm_weight_grad(&j);
            conv_reduce_parts(&j, (size_t)d->cout * d->kdim, d->dw, true);
        }
        if (d->b) nn_parallel(c->pool, (size_t)d->cout, 1, 64, reduce_db, &j);
    }
    j.dx = nn_input_grad(v, 0, &j.dx_acc);
    j.sparse = c->pass == ADVC_PASS_ATTACK && !j.dx_acc &&
               conv_sparse_fits(d);
    if (d->algo == ADVC_CONV_WINOGRAD) conv_wino_input_grad(&j);
    else conv_gemm_input_grad(&j);
}

/* ---- the layer ------------------------------------------------------- */

static void conv_describe(const nn_node *v, char *buf, size_t size)
{
    const conv_op *d = v->priv;
    snprintf(buf, size, "k=%d s=%d p=%d%s%s algo=%s", d->geom.kh,
             d->geom.stride, d->geom.pad, d->pointwise ? " pointwise" : "",
             d->b ? "" : " nobias", advc_conv_algo_name(d->algo));
}

/* y = W col(x): cout * cin*k*k * oh*ow multiply-adds */
static double conv_macs(const nn_node *v)
{
    const conv_op *d = v->priv;
    return (double)d->cout * d->kdim * d->ohw;
}

/* x may be a concat's slice (place.c) but for Winograd, whose input
 * transform reads whole batches of tiles. */
static bool conv_reads_strided(const nn_node *v)
{
    return ((const conv_op *)v->priv)->algo != ADVC_CONV_WINOGRAD;
}

static const nn_op conv_vt = {
    .name = "conv2d", .forward = conv_forward, .backward = conv_backward,
    .workspace = conv_workspace, .describe = conv_describe,
    .macs = conv_macs, .prepare = conv_prepare, .saved = conv_saved,
    .reach = conv_reach, .patch = conv_patch,
    .reads_strided = conv_reads_strided,
    .patch_floats = conv_patch_floats, .hold = conv_sparse_hold,
};

bool advc_graph_conv_layer(const advc_graph *g, int i, advc_conv_layer *out)
{
    for (int k = 0; k < nn_num_nodes(g); k++) {
        const nn_node *v = nn_node_at(g, k);
        if (v->op != &conv_vt || i-- > 0) continue;
        const conv_op *d = v->priv;
        *out = (advc_conv_layer){ v->name, d->geom, d->cout, d->b != NULL,
                                  d->algo };
        return true;
    }
    return false;
}

/* The GEMM path's chunking, fixed by the geometry. */
static void plan_chunks(conv_op *d)
{
    const advc_conv_geom *g = &d->geom;
    d->q = chunk_size(d->ohw, (size_t)d->kdim, COL_FLOATS);
    /* A forward that keeps nothing lowers a chunk at a time into the
     * thread's buffer, which the GEMM then reads: at most BLOCK_FLOATS
     * (cnn-small's conv2: 5 images, 250 KB, not 11 and 552 KB, whose
     * lowering missed L2 on Zen 4's; im2col was 5% of AutoAttack).  The
     * columns are independent sums, so the chunk changes no bits; only
     * q = 1 (b first, then the GEMM's blocks) must stay 1. */
    d->qa = chunk_size(d->ohw, (size_t)d->kdim, BLOCK_FLOATS);
    if (d->q == 1) d->qa = 1;
    else if (d->qa < 2) d->qa = 2;
    if (d->qa > d->q) d->qa = d->q;
    /* Input gradient: of a 1x1 stride-1 layer, dx = W^T dy straight into
     * dx (the flipped 1x1 filters are W^T); of every other layer,
     * W^T dY (cin*k*k rows) into an L2-sized block per thread, then
     * col2im.  The flipped-filter convolution also fits k > 1 stride-1
     * layers, but it lowers dy, cout*k*k rows where col2im reads cin*k*k,
     * into a GEMM of only cin rows: with it on cnn's 5x5 32->64 layer a
     * training step took 12% more CPU time (advc-bench train, perf). */
    d->flip = d->pointwise;
    if (d->flip) {
        advc_conv_geom_init(&d->bgeom, d->cout, g->oh, g->ow, g->kh, g->kw, 1,
                            g->kh - 1 - g->pad);
        d->qb = chunk_size(d->hw, (size_t)d->cout * g->kh * g->kw,
                           COL_FLOATS);
    } else {
        d->qb = chunk_size(d->ohw, (size_t)d->kdim + d->cout, BLOCK_FLOATS);
    }
}

int advc_conv2d(advc_graph *g, const char *name, int x, int cout, int k,
                int stride, int pad, bool bias)
{
    nn_node *u = nn_get(g, x, "conv2d");
    if (!u) return -1;
    advc_shape s = u->shape;
    if (cout <= 0 || k <= 0 || stride <= 0 || pad < 0)
        return nn_fail(g, "conv2d: cout %d, k %d, stride %d must be positive "
                       "and pad %d not negative", cout, k, stride, pad);
    conv_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "conv2d: out of memory");
    if (!advc_conv_geom_init(&d->geom, s.c, s.h, s.w, k, k, stride, pad)) {
        free(d);
        return nn_fail(g, "conv2d: kernel %d (pad %d) is larger than the "
                       "input %dx%d", k, pad, s.h, s.w);
    }
    d->cout = cout;
    d->kdim = s.c * k * k;
    d->pointwise = advc_conv_is_pointwise(&d->geom);
    d->ohw = d->geom.oh * d->geom.ow;
    d->hw = s.h * s.w;
    d->algo = ADVC_CONV_AUTO; /* conv_prepare chooses at compile */
    plan_chunks(d);
    nn_node *v = nn_add(g, &conv_vt, name, &u, 1,
                        (advc_shape){ cout, d->geom.oh, d->geom.ow }, d);
    if (!v) return -1;
    int wd[4] = { cout, s.c, k, k }, bd[1] = { cout };
    if (!nn_param(g, v, "w", ADVC_TENSOR_WEIGHT, NN_INIT_WEIGHT, d->kdim, 4,
                  wd, &d->w, &d->dw))
        return -1;
    if (bias && !nn_param(g, v, "b", ADVC_TENSOR_BIAS, NN_INIT_BIAS, d->kdim,
                          1, bd, &d->b, &d->db))
        return -1;
    /* W^T for the sparse products (conv_sparse.c): stride-1 layers with
     * k > 1, the only ones they take (the algorithm is chosen later) */
    if (stride == 1 && k > 1 &&
        !nn_aux_floats(g, &d->wtrans, (size_t)d->kdim * cout, 0))
        return -1;
    return v->id;
}
