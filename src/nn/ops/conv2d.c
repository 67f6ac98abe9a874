/* conv2d.c: 2-D convolution, NCHW, lowered to GEMM with im2col.
 *   forward   Y_c = W . [col(x_i) ...] + b          per chunk c of images
 *   backward  [dcol_i ...] = W^T . dY_c,  dx_i = col2im(dcol_i)
 *             dW += dY_c . [col(x_i) ...]^T,  db += sum dy  (UPDATE only)
 * x_i (cin, h, w), W (cout, cin*k*k), col(x_i) (cin*k*k, oh*ow),
 * y_i (cout, oh*ow).  A chunk is q consecutive images lowered side by side
 * into one (cin*k*k, q*oh*ow) matrix, so one GEMM covers q images and has
 * q*oh*ow columns; Y_c and dY_c are (cout, q*oh*ow) copies of the chunk's
 * outputs / output gradients, scattered to and gathered from NCHW.
 *
 * Why chunks: one GEMM per image is fine for 28x28 outputs (784 columns),
 * but a ResNet's 7x7 stage gives 49-column GEMMs (about half of peak) and
 * a weight gradient with an inner dimension of 49, and W is packed once per
 * image.  q is chosen from the geometry alone (q*oh*ow near CHUNK_COLS
 * columns, the column buffer within COL_FLOATS), so results do not depend
 * on the thread count.  q = 1 (outputs of 16x16 and up) skips the copies:
 * the GEMM reads x_i (1x1 stride-1 unpadded: col(x) = x) or its column
 * buffer and writes y_i directly.
 *
 * Threads take whole chunks, each lowering into its own column buffer and
 * running one-thread GEMMs (advc_sgemm with no pool): one pool hand-off per
 * layer, every thread busy even on layers too small for a threaded GEMM.
 * With fewer chunks than threads, the chunks run on this thread with
 * threaded GEMMs instead.  The weight gradient sums over chunks, so chunks
 * are dealt into G groups fixed by n and q alone; each group sums into its
 * own partial dW and the partials are added in group order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../graph_internal.h"

enum {
    CHUNK_COLS = 512,        /* aim for about this many GEMM columns      */
    MAX_CHUNK = 16,          /* images per chunk, at most                 */
    COL_FLOATS = 1 << 20     /* column buffer per thread, at most (4 MB)  */
};

typedef struct {
    advc_conv_geom geom; /* (cin, h, w) -> (cout, oh, ow), k, stride, pad */
    int cout;
    int kdim;            /* cin*k*k: rows of col                        */
    int ohw;             /* oh*ow: columns per image                    */
    int q;               /* images per chunk                            */
    bool pointwise;      /* col(x) = x                                  */
    float *w, *dw;       /* (cout, cin*k*k)                             */
    float *b, *db;       /* (cout), NULL if none                        */
} conv_op;

static int chunk_size(int kdim, int ohw)
{
    int q = (CHUNK_COLS + ohw - 1) / ohw;
    if (q > MAX_CHUNK) q = MAX_CHUNK;
    while (q > 1 && (size_t)kdim * ohw * q > COL_FLOATS) q--;
    return q;
}

static int n_chunks(const conv_op *d, int n) { return (n + d->q - 1) / d->q; }

/* Groups for the weight gradient: one per chunk up to 64 (so the threads
 * share out whole chunks evenly: 43 chunks dealt into 32 groups gave one
 * thread 27 chunks and the other 16), and their partial sums
 * (G, cout, kdim) within 2^22 floats. */
static int conv_groups(const conv_op *d, int n)
{
    size_t wcount = (size_t)d->cout * d->kdim;
    size_t cap = ((size_t)1 << 22) / wcount;
    int nc = n_chunks(d, n);
    int G = nc < 64 ? nc : 64;
    if ((size_t)G > cap) G = cap > 0 ? (int)cap : 1;
    return G;
}

/* Per-thread floats: the column buffer (none for an unchunked pointwise
 * layer) and, when q > 1, the (cout, q*ohw) chunk of outputs. */
static size_t thread_floats(const conv_op *d)
{
    size_t cols = (size_t)d->q * d->ohw;
    size_t col = d->pointwise && d->q == 1 ? 0 : (size_t)d->kdim * cols;
    return col + (d->q > 1 ? (size_t)d->cout * cols : 0);
}

/* Workspace: per-thread buffers, then the G partial dW. */
static size_t conv_workspace(const nn_node *v, int batch, int nthreads)
{
    const conv_op *d = v->priv;
    return (size_t)nthreads * thread_floats(d) +
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

/* Runs fn over the chunks: in pool tasks with one-thread GEMMs, or, with
 * fewer chunks than threads, on this thread with threaded GEMMs (the same
 * bits: a GEMM's sums do not depend on its thread count). */
static void run_chunks(conv_job *j, size_t count, nn_range_fn fn)
{
    if (count < (size_t)j->c->nthreads) {
        j->gemm_pool = j->c->pool;
        fn(j, 0, count, 0);
    } else {
        j->gemm_pool = NULL;
        nn_parallel(j->c->pool, count, 1, 1, fn, j);
    }
}

static size_t in_floats(const conv_op *d)
{
    return (size_t)d->geom.c * d->geom.h * d->geom.w;
}

static size_t out_floats(const conv_op *d)
{
    return (size_t)d->cout * d->ohw;
}

/* Chunk ch: images [*i0, *i0 + *m). */
static void chunk_range(const conv_job *j, size_t ch, size_t *i0, int *m)
{
    size_t q = (size_t)j->d->q, n = (size_t)j->c->n;
    *i0 = ch * q;
    *m = (int)(n - *i0 < q ? n - *i0 : q);
}

static float *col_buf(const conv_job *j, int t)
{
    return j->c->ws + (size_t)t * thread_floats(j->d);
}

/* The chunk's (cout, q*ohw) output buffer (q > 1 only). */
static float *out_buf(const conv_job *j, int t)
{
    const conv_op *d = j->d;
    size_t col = (size_t)d->kdim * d->q * d->ohw;
    return col_buf(j, t) + col;
}

/* Lowers images [i0, i0 + m) side by side: (kdim, m*ohw), or x_i itself
 * when m = 1 and the layer is pointwise. */
static const float *lower(const conv_job *j, size_t i0, int m, int t)
{
    const conv_op *d = j->d;
    const float *x0 = j->x + i0 * in_floats(d);
    if (d->pointwise && d->q == 1) return x0; /* then m = 1 too */
    float *col = col_buf(j, t);
    size_t ld = (size_t)m * d->ohw;
    for (int k = 0; k < m; k++)
        advc_im2col_ld(&d->geom, x0 + (size_t)k * in_floats(d),
                       col + (size_t)k * d->ohw, ld);
    return col;
}

static void forward_chunks(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    const conv_op *d = j->d;
    int ohw = d->ohw;
    for (size_t ch = lo; ch < hi; ch++) {
        size_t i0;
        int m;
        chunk_range(j, ch, &i0, &m);
        const float *col = lower(j, i0, m, t);
        float *y0 = j->y + i0 * out_floats(d);
        if (d->q == 1) { /* y_i = b, then y_i += W col */
            if (d->b)
                for (int o = 0; o < d->cout; o++)
                    for (int q = 0; q < ohw; q++)
                        y0[(size_t)o * ohw + q] = d->b[o];
            advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_NOTRANS, d->cout, ohw,
                       d->kdim, d->w, d->kdim, col, ohw, d->b != NULL, y0,
                       ohw);
            continue;
        }
        size_t ld = (size_t)m * ohw;
        float *yc = out_buf(j, t);
        advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_NOTRANS, d->cout, (int)ld,
                   d->kdim, d->w, d->kdim, col, (int)ld, false, yc, (int)ld);
        for (int k = 0; k < m; k++) /* y_i[o] = Y_c[o, k-th block] + b[o] */
            for (int o = 0; o < d->cout; o++) {
                const float *src = yc + (size_t)o * ld + (size_t)k * ohw;
                float *dst = y0 + (size_t)k * out_floats(d) + (size_t)o * ohw;
                float bo = d->b ? d->b[o] : 0.0f;
                if (d->b)
                    for (int q = 0; q < ohw; q++) dst[q] = src[q] + bo;
                else
                    memcpy(dst, src, (size_t)ohw * sizeof *dst);
            }
    }
}

static void conv_forward(nn_node *v, const nn_ctx *c)
{
    conv_job j = { v->priv, c, v->in[0]->y, NULL, v->y, NULL,
                   false, false, 0, NULL, NULL };
    run_chunks(&j, (size_t)n_chunks(j.d, c->n), forward_chunks);
}

/* Chunk ch's share of the backward pass; part is its group's dW partial,
 * first says whether ch opens the group (overwrite rather than add). */
static void backward_chunk(const conv_job *j, size_t ch, float *part,
                           bool first, int t)
{
    const conv_op *d = j->d;
    int ohw = d->ohw, m;
    size_t i0;
    chunk_range(j, ch, &i0, &m);
    size_t ld = (size_t)m * ohw;
    const float *dy0 = j->dy + i0 * out_floats(d);
    float *dx0 = j->dx + i0 * in_floats(d);
    const float *dyc = dy0; /* (cout, ld) */
    if (d->q > 1) {         /* gather dY_c from the m images */
        float *buf = out_buf(j, t);
        for (int k = 0; k < m; k++)
            for (int o = 0; o < d->cout; o++)
                memcpy(buf + (size_t)o * ld + (size_t)k * ohw,
                       dy0 + (size_t)k * out_floats(d) + (size_t)o * ohw,
                       (size_t)ohw * sizeof *buf);
        dyc = buf;
    }
    if (j->update) {
        const float *col = lower(j, i0, m, t);
        advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_TRANS, d->cout, d->kdim,
                   (int)ld, dyc, (int)ld, col, (int)ld, !first, part,
                   d->kdim);
    }
    if (d->pointwise && d->q == 1) { /* dx_i (+)= W^T dy_i */
        advc_sgemm(j->gemm_pool, ADVC_TRANS, ADVC_NOTRANS, d->kdim, ohw,
                   d->cout, d->w, d->kdim, dyc, ohw, j->dx_acc, dx0, ohw);
        return;
    }
    /* The column buffer is free again: dcol = W^T dY_c there. */
    float *dcol = col_buf(j, t);
    advc_sgemm(j->gemm_pool, ADVC_TRANS, ADVC_NOTRANS, d->kdim, (int)ld,
               d->cout, d->w, d->kdim, dyc, (int)ld, false, dcol, (int)ld);
    for (int k = 0; k < m; k++) {
        float *dxi = dx0 + (size_t)k * in_floats(d);
        if (!j->dx_acc) memset(dxi, 0, in_floats(d) * sizeof *dxi);
        advc_col2im_ld(&d->geom, dcol + (size_t)k * ohw, ld, dxi);
    }
}

static void backward_chunks(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    for (size_t ch = lo; ch < hi; ch++) backward_chunk(j, ch, NULL, false, t);
}

static void backward_groups(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    size_t wcount = (size_t)j->d->cout * j->d->kdim;
    size_t nc = (size_t)n_chunks(j->d, j->c->n);
    for (size_t gi = lo; gi < hi; gi++) {
        size_t c0, c1;
        advc_split_range(nc, (int)gi, j->groups, 1, &c0, &c1);
        for (size_t ch = c0; ch < c1; ch++)
            backward_chunk(j, ch, j->part + gi * wcount, ch == c0, t);
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
    size_t ohw = (size_t)d->ohw;
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
        run_chunks(&j, (size_t)n_chunks(d, c->n), backward_chunks);
        return;
    }
    j.groups = conv_groups(d, c->n);
    j.part = c->ws + (size_t)c->nthreads * thread_floats(d);
    run_chunks(&j, (size_t)j.groups, backward_groups);
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

/* y = W col(x): cout * cin*k*k * oh*ow multiply-adds */
static double conv_macs(const nn_node *v)
{
    const conv_op *d = v->priv;
    return (double)d->cout * d->kdim * d->ohw;
}

static const nn_op conv_vt = {
    .name = "conv2d", .forward = conv_forward, .backward = conv_backward,
    .workspace = conv_workspace, .describe = conv_describe, .macs = conv_macs,
};

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
    d->q = chunk_size(d->kdim, d->ohw);
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
    return v->id;
}
