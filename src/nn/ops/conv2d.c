/* conv2d.c: 2-D convolution, NCHW, lowered to GEMM with im2col.
 *   forward   y_i = W . col(x_i) + b                       per image i
 *   backward  dx_i = col2im(W^T . dy_i)
 *             dW += sum_i dy_i . col(x_i)^T,  db += sum dy  (UPDATE only)
 * x_i (cin, h, w), W (cout, cin*k*k), col(x_i) (cin*k*k, oh*ow),
 * y_i (cout, oh*ow).  A 1x1 stride-1 unpadded convolution has col(x) = x.
 *
 * Threads take whole images, each lowering into its own column buffer
 * and running a one-thread GEMM (advc_sgemm with no pool) per image: no
 * copies, one pool hand-off per layer, and every thread busy even on
 * layers too small for a threaded GEMM.  Measured (AVX2, one thread, batch
 * 128, the cnn's conv2 32->64 5x5 on 14x14, forward): this 39 ms; one
 * GEMM per image 39 ms; chunks of 32 images lowered into one (K, 32*ohw)
 * GEMM 46 ms (the copies in and out cost more than the wider n gains).
 * With threads, per-image threaded GEMMs hand off to the pool once per
 * image instead of once per layer; they are used only when there are
 * fewer images than threads.
 * The weight gradient sums over images, so images are dealt into G groups
 * fixed by n alone; each group sums into its own partial dW and the
 * partials are added in group order: the result does not depend on the
 * number of threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../graph_internal.h"

typedef struct {
    advc_conv_geom geom; /* (cin, h, w) -> (cout, oh, ow), k, stride, pad */
    int cout;
    int kdim;            /* cin*k*k: rows of col                        */
    bool pointwise;      /* col(x) = x                                  */
    float *w, *dw;       /* (cout, cin*k*k)                             */
    float *b, *db;       /* (cout), NULL if none                        */
} conv_op;

/* Groups for the weight gradient: at most 32, and their partial sums
 * (G, cout, kdim) within 2^22 floats. */
static int conv_groups(const conv_op *d, int n)
{
    size_t wcount = (size_t)d->cout * d->kdim;
    size_t cap = ((size_t)1 << 22) / wcount;
    int G = n < 32 ? n : 32;
    if ((size_t)G > cap) G = cap > 0 ? (int)cap : 1;
    return G;
}

static size_t col_floats(const conv_op *d)
{
    return d->pointwise ? 0
                        : (size_t)d->kdim * d->geom.oh * d->geom.ow;
}

/* Workspace: a column buffer per thread, then the G partial dW. */
static size_t conv_workspace(const nn_node *v, int batch, int nthreads)
{
    const conv_op *d = v->priv;
    return (size_t)nthreads * col_floats(d) +
           (size_t)conv_groups(d, batch) * d->cout * d->kdim;
}

typedef struct {
    const conv_op *d;
    const nn_ctx *c;
    const float *x, *dy; /* (n, cin, h, w), (n, cout, oh, ow) */
    float *y, *dx;       /* (n, cout, oh, ow), (n, cin, h, w) */
    bool dx_acc, update;
    int groups;
    float *part;         /* (groups, cout, kdim)              */
    advc_pool *gemm_pool; /* NULL: one-thread GEMMs in pool tasks */
} conv_job;

/* Runs fn over the n images: in pool tasks with one-thread GEMMs, or, with
 * fewer images than threads, on this thread with threaded GEMMs (the same
 * bits: a GEMM's sums do not depend on its thread count). */
static void run_images(conv_job *j, size_t count, nn_range_fn fn)
{
    if ((size_t)j->c->n < (size_t)j->c->nthreads) {
        j->gemm_pool = j->c->pool;
        fn(j, 0, count, 0);
    } else {
        j->gemm_pool = NULL;
        nn_parallel(j->c->pool, count, 1, 2, fn, j);
    }
}

static size_t in_floats(const conv_op *d)
{
    return (size_t)d->geom.c * d->geom.h * d->geom.w;
}

static size_t out_floats(const conv_op *d)
{
    return (size_t)d->cout * d->geom.oh * d->geom.ow;
}

/* The lowered image x_i: col(x_i) in this thread's buffer, or x_i. */
static const float *lower(const conv_job *j, const float *xi, int t)
{
    if (j->d->pointwise) return xi;
    float *col = j->c->ws + (size_t)t * col_floats(j->d);
    advc_im2col(&j->d->geom, xi, col);
    return col;
}

static void forward_images(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    const conv_op *d = j->d;
    int ohw = d->geom.oh * d->geom.ow;
    for (size_t i = lo; i < hi; i++) {
        float *yi = j->y + i * out_floats(d);
        if (d->b)
            for (int o = 0; o < d->cout; o++)
                for (int q = 0; q < ohw; q++)
                    yi[(size_t)o * ohw + q] = d->b[o];
        const float *col = lower(j, j->x + i * in_floats(d), t);
        advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_NOTRANS, d->cout, ohw,
                   d->kdim, d->w, d->kdim, col, ohw, d->b != NULL, yi, ohw);
    }
}

static void conv_forward(nn_node *v, const nn_ctx *c)
{
    conv_job j = { v->priv, c, v->in[0]->y, NULL, v->y, NULL,
                   false, false, 0, NULL, NULL };
    run_images(&j, (size_t)c->n, forward_images);
}

/* Image i's share of the backward pass; part is its group's dW partial,
 * first says whether i opens the group (overwrite rather than add). */
static void backward_image(const conv_job *j, size_t i, float *part,
                           bool first, int t)
{
    const conv_op *d = j->d;
    int ohw = d->geom.oh * d->geom.ow;
    const float *dyi = j->dy + i * out_floats(d); /* (cout, ohw) */
    float *dxi = j->dx + i * in_floats(d);       /* (cin, h, w) */
    if (j->update) {
        const float *col = lower(j, j->x + i * in_floats(d), t);
        advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_TRANS, d->cout, d->kdim,
                   ohw, dyi, ohw, col, ohw, !first, part, d->kdim);
    }
    if (d->pointwise) {
        advc_sgemm(j->gemm_pool, ADVC_TRANS, ADVC_NOTRANS, d->kdim, ohw,
                   d->cout, d->w, d->kdim, dyi, ohw, j->dx_acc, dxi, ohw);
        return;
    }
    /* The column buffer is free again: dcol = W^T dy_i there. */
    float *dcol = j->c->ws + (size_t)t * col_floats(d);
    advc_sgemm(j->gemm_pool, ADVC_TRANS, ADVC_NOTRANS, d->kdim, ohw, d->cout,
               d->w, d->kdim, dyi, ohw, false, dcol, ohw);
    if (!j->dx_acc) memset(dxi, 0, in_floats(d) * sizeof *dxi);
    advc_col2im(&d->geom, dcol, dxi);
}

static void backward_images(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    for (size_t i = lo; i < hi; i++) backward_image(j, i, NULL, false, t);
}

static void backward_groups(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    size_t wcount = (size_t)j->d->cout * j->d->kdim;
    for (size_t gi = lo; gi < hi; gi++) {
        size_t i0, i1;
        advc_split_range((size_t)j->c->n, (int)gi, j->groups, 1, &i0, &i1);
        for (size_t i = i0; i < i1; i++)
            backward_image(j, i, j->part + gi * wcount, i == i0, t);
    }
}

/* dW += ((part_0 + part_1) + part_2) + ..., for entries [lo, hi), a
 * block of entries at a time so the adds run along contiguous rows. */
static void reduce_dw(void *p, size_t lo, size_t hi, int t)
{
    enum { BLOCK = 256 };
    const conv_job *j = p;
    size_t wcount = (size_t)j->d->cout * j->d->kdim;
    float s[BLOCK];
    (void)t;
    for (size_t e0 = lo; e0 < hi; e0 += BLOCK) {
        size_t len = hi - e0 < BLOCK ? hi - e0 : BLOCK;
        memcpy(s, j->part + e0, len * sizeof *s);
        for (int gi = 1; gi < j->groups; gi++) {
            const float *pg = j->part + gi * wcount + e0;
            for (size_t k = 0; k < len; k++) s[k] += pg[k];
        }
        for (size_t k = 0; k < len; k++) j->d->dw[e0 + k] += s[k];
    }
}

/* db[o] += sum over images and pixels of dy, for channels [lo, hi). */
static void reduce_db(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    const conv_op *d = j->d;
    size_t ohw = (size_t)d->geom.oh * d->geom.ow;
    (void)t;
    for (size_t o = lo; o < hi; o++) {
        float s = 0.0f;
        for (int i = 0; i < j->c->n; i++)
            s += advc_sum(ohw, j->dy + i * out_floats(d) + o * ohw);
        d->db[o] += s;
    }
}

static void conv_backward(nn_node *v, const nn_ctx *c)
{
    conv_op *d = v->priv;
    conv_job j = { d, c, v->in[0]->y, v->dy, NULL, NULL, false,
                   c->pass == ADVC_PASS_UPDATE, 0, NULL, NULL };
    j.dx = nn_input_grad(v, 0, &j.dx_acc);
    if (!j.update) {
        run_images(&j, (size_t)c->n, backward_images);
        return;
    }
    j.groups = conv_groups(d, c->n);
    j.part = c->ws + (size_t)c->nthreads * col_floats(d);
    run_images(&j, (size_t)j.groups, backward_groups);
    nn_parallel(c->pool, (size_t)d->cout * d->kdim, 16, 1 << 14, reduce_dw,
                &j);
    if (d->b) nn_parallel(c->pool, (size_t)d->cout, 1, 64, reduce_db, &j);
}

static void conv_describe(const nn_node *v, char *buf, size_t size)
{
    const conv_op *d = v->priv;
    snprintf(buf, size, "k=%d s=%d p=%d%s%s", d->geom.kh, d->geom.stride,
             d->geom.pad, d->pointwise ? " pointwise" : "",
             d->b ? "" : " nobias");
}

static const nn_op conv_vt = { "conv2d", conv_forward, conv_backward,
                               conv_workspace, conv_describe };

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
    nn_node *v = nn_add(g, &conv_vt, name, &u, 1,
                        (advc_shape){ cout, d->geom.oh, d->geom.ow }, d);
    if (!v) return -1;
    int wd[4] = { cout, s.c, k, k }, bd[1] = { cout };
    if (!nn_param(g, v, "w", ADVC_TENSOR_WEIGHT, NN_INIT_HE, d->kdim, 4, wd,
                  &d->w, &d->dw))
        return -1;
    if (bias && !nn_param(g, v, "b", ADVC_TENSOR_BIAS, NN_INIT_ZERO, 0, 1, bd,
                          &d->b, &d->db))
        return -1;
    return v->id;
}
