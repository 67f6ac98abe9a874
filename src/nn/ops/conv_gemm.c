/* conv_gemm.c: convolution as GEMM over the lowered input (conv2d.c has
 * the formulas), for the gemm and implicit algorithms.
 *
 * A chunk is q consecutive images whose lowered inputs sit side by side
 * as one (cin*k*k, q*oh*ow) matrix col_c, so one GEMM covers q images
 * (small maps would otherwise give GEMMs of 49 columns).  gemm writes
 * col_c into a per-thread buffer (im2col, one image at a time); implicit
 * never writes it: advc_sgemm_src packs the GEMM's B panels straight from
 * the NCHW images.  Both feed the GEMM the same panels, so they give the
 * same bits; which is faster depends on the shape (advc-bench conv).
 *   forward       Y_c = W . col_c  (+ b); q = 1 writes y_i in place, q > 1
 *                 a (cout, q*oh*ow) buffer scattered to NCHW
 *   weight grad   dW_g (+)= dY_c . col_c^T, dY_c gathered when q > 1
 *                 (always lowered: the transposed panels gather one
 *                 float at a time and measured slower)
 *   input grad    1x1 stride 1 (d->flip): dx is the convolution of dy
 *                 with the filters flipped (W_f (cin, cout*k*k), here
 *                 W^T), so the forward's machinery computes it; else
 *                 dcol = W^T dY_c into a per-thread block (the chunk is
 *                 chosen to keep it in L2), then col2im
 * 1x1 stride-1 layers of one image per chunk read x_i (or dy_i) as the
 * GEMM operand directly.
 */
#include "conv2d_internal.h"

static size_t in_floats(const conv_op *d)
{
    return (size_t)d->geom.c * d->hw;
}

static size_t out_floats(const conv_op *d)
{
    return (size_t)d->cout * d->ohw;
}

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

/* Floats of a lowered chunk of q images of geometry g (0 when the
 * operand is read in place). */
static size_t col_floats(const advc_conv_geom *g, int q, bool lowered)
{
    if (!lowered || (advc_conv_is_pointwise(g) && q == 1)) return 0;
    return (size_t)g->c * g->kh * g->kw * q * g->oh * g->ow;
}

/* gemm keeps each forward's lowered input for the weight gradient, which
 * then skips a second im2col, when it is small: at most KEEP_FLOATS per
 * image (64 KB; 8 MB at batch 128, a quarter of this machine's L3).  A
 * larger one goes to memory and back: keeping cnn's conv2 (157k floats
 * per image, 80 MB per batch) cost 5% more CPU time per training step
 * than lowering twice.  Only a forward that an UPDATE backward may follow
 * keeps it (nn_ctx.keep_saved): an attack's forward lowers into the
 * thread's buffer, which stays in L2 (writing the kept copy to memory was
 * a quarter of a Square attack's time on cnn-small: 4.2 s against 3.1 s
 * for 256 images and 1000 queries at one thread).  Implicit keeps none. */
enum { KEEP_FLOATS = 1 << 14 };

size_t conv_gemm_saved_floats(const conv_op *d)
{
    if (d->algo != ADVC_CONV_GEMM) return 0;
    size_t n = col_floats(&d->geom, 1, true); /* 0 when read in place */
    return n <= KEEP_FLOATS ? n : 0;
}

size_t conv_gemm_thread_floats(const conv_op *d)
{
    size_t outs = d->q > 1 ? (size_t)d->cout * d->q * d->ohw : 0;
    /* forward, and the weight gradient (lowered into the thread's buffer
     * unless the forward's is kept; a forward that keeps nothing, for an
     * attack, lowers there too) */
    size_t f = col_floats(&d->geom, d->q, true) + outs;
    size_t b; /* input gradient */
    if (d->flip)
        b = col_floats(&d->bgeom, d->qb, d->algo != ADVC_CONV_IMPLICIT) +
            (d->qb > 1 ? (size_t)d->geom.c * d->qb * d->hw : 0);
    else
        b = ((size_t)d->kdim + (d->qb > 1 ? d->cout : 0)) * d->qb * d->ohw;
    return maxz(maxz(f, b), conv_sparse_thread_floats(d));
}

size_t conv_gemm_shared_floats(const conv_op *d)
{
    /* W_f, or W^T for the sparse forward */
    return d->flip || conv_sparse_fits(d) ? (size_t)d->cout * d->kdim : 0;
}

/* C (+)= A col_c: the M-row GEMM over the lowered chunk of m images of
 * geometry g at x0 (stride floats apart), lowered into col (lowered) or
 * packed by the GEMM from the images. */
static void gemm_cols(const conv_job *j, bool lowered,
                      const advc_conv_geom *g, const float *x0,
                      size_t stride, int m, int M, const float *A, int lda,
                      bool acc, float *C, float *col)
{
    int rows = g->c * g->kh * g->kw, ohw = g->oh * g->ow, cols = m * ohw;
    if (advc_conv_is_pointwise(g) && m == 1) {
        advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_NOTRANS, M, ohw, rows, A,
                   lda, x0, ohw, acc, C, ohw);
    } else if (lowered) {
        for (int k = 0; k < m; k++)
            advc_im2col_ld(g, x0 + k * stride, col + (size_t)k * ohw,
                           (size_t)cols);
        advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_NOTRANS, M, cols, rows,
                   A, lda, col, cols, acc, C, cols);
    } else {
        advc_conv_chunk src = { g, x0, stride, m };
        advc_gemm_bsrc b = { advc_conv_cols, &src };
        advc_sgemm_src(j->gemm_pool, ADVC_NOTRANS, M, cols, rows, A, lda, &b,
                       acc, C, cols);
    }
}

/* buf (cout, m*ohw) = the dy of images [i0, i0 + m) side by side. */
static void gather_dy(const conv_job *j, size_t i0, int m, float *buf)
{
    const conv_op *d = j->d;
    size_t ld = (size_t)m * d->ohw;
    const float *dy0 = j->dy + i0 * out_floats(d);
    for (int k = 0; k < m; k++)
        for (int o = 0; o < d->cout; o++)
            conv_copy(buf + o * ld + (size_t)k * d->ohw,
                      dy0 + k * out_floats(d) + (size_t)o * d->ohw,
                      (size_t)d->ohw, false);
}

/* ---- forward --------------------------------------------------------- */

/* y = b, n values (blocks of 8: see conv_copy) */
static void fill_bias(float *restrict y, size_t n, float b)
{
    size_t q = 0;
    for (; q + 8 <= n; q += 8)
        for (int k = 0; k < 8; k++) y[q + k] = b;
    for (; q < n; q++) y[q] = b;
}

/* dst = src + b, n values */
static void add_bias(float *restrict dst, const float *restrict src,
                     size_t n, float b)
{
    size_t q = 0;
    for (; q + 8 <= n; q += 8)
        for (int k = 0; k < 8; k++) dst[q + k] = src[q + k] + b;
    for (; q < n; q++) dst[q] = src[q] + b;
}

/* Where the lowered input of the chunk starting at image i0 goes (or
 * is): the kept buffer, else the start of thread t's area (room for it is
 * made there whenever nothing is kept: implicit's weight gradient lowers
 * too); *rest is the thread's area after it. */
static float *chunk_cols(const conv_job *j, size_t i0, int t, float **rest)
{
    const conv_op *d = j->d;
    float *buf = conv_thread_buf(j, t);
    if (j->cols) {
        *rest = buf;
        return j->cols + i0 * (size_t)d->kdim * d->ohw;
    }
    *rest = buf + col_floats(&d->geom, d->q, true);
    return buf;
}

/* Images per forward chunk: q when the lowered input is kept (its layout
 * is the weight gradient's), else qa. */
static int forward_q(const conv_job *j)
{
    return j->cols ? j->d->q : j->d->qa;
}

static void forward_chunks(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    const conv_op *d = j->d;
    int ohw = d->ohw, q = forward_q(j);
    bool low = d->algo != ADVC_CONV_IMPLICIT;
    for (size_t ch = lo; ch < hi; ch++) {
        size_t i0;
        int m;
        conv_chunk_images(j, q, ch, &i0, &m);
        if (j->sparse && conv_sparse_forward_ok(j, i0, m, t)) {
            for (int k = 0; k < m; k++) conv_sparse_forward(j, i0 + k, t);
            continue;
        }
        float *outs, *col = chunk_cols(j, i0, t, &outs);
        float *y0 = j->y + i0 * out_floats(d);
        int cols = m * ohw;
        /* q = 1: y_i = b, then y_i += W col(x_i) in place. */
        float *C = q == 1 ? y0 : outs;
        bool acc = q == 1 && d->b;
        if (acc)
            for (int o = 0; o < d->cout; o++)
                fill_bias(y0 + (size_t)o * ohw, (size_t)ohw, d->b[o]);
        gemm_cols(j, low, &d->geom, j->x + i0 * j->xld, j->xld, m, d->cout,
                  d->w, d->kdim, acc, C, col);
        if (q == 1) continue;
        for (int k = 0; k < m; k++) /* y_i[o] = Y_c[o, k-th block] + b[o] */
            for (int o = 0; o < d->cout; o++) {
                const float *src = C + (size_t)o * cols + (size_t)k * ohw;
                float *dst = y0 + k * out_floats(d) + (size_t)o * ohw;
                if (!d->b) {
                    conv_copy(dst, src, (size_t)ohw, false);
                    continue;
                }
                add_bias(dst, src, (size_t)ohw, d->b[o]);
            }
    }
}

void conv_gemm_forward(conv_job *j)
{
    if (j->sparse) conv_sparse_prepare(j);
    conv_run_chunks(j, conv_nchunks((size_t)j->c->n, (size_t)forward_q(j)),
                    forward_chunks, NULL);
}

/* ---- weight gradient ------------------------------------------------- */

/* Chunk ch's dY_c col_c^T into part, overwriting when first. */
static void weight_chunk(const conv_job *j, size_t ch, float *part,
                         bool first, int t)
{
    const conv_op *d = j->d;
    size_t i0;
    int m;
    conv_chunk_images(j, d->q, ch, &i0, &m);
    int ld = m * d->ohw;
    const float *x0 = j->x + i0 * j->xld;
    const float *A = j->dy + i0 * out_floats(d); /* (cout, ld) */
    float *buf, *col = chunk_cols(j, i0, t, &buf);
    if (d->q > 1) {
        gather_dy(j, i0, m, buf);
        A = buf;
    }
    const float *B = x0; /* (kdim, ld): x_i itself, or lowered */
    if (!(d->pointwise && d->q == 1)) {
        if (!j->cols) /* else the forward's is there */
            for (int k = 0; k < m; k++)
                advc_im2col_ld(&d->geom, x0 + k * j->xld,
                               col + (size_t)k * d->ohw, (size_t)ld);
        B = col;
    }
    advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_TRANS, d->cout, d->kdim, ld,
               A, ld, B, ld, !first, part, d->kdim);
}

static void weight_groups(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    size_t wcount = (size_t)j->d->cout * j->d->kdim;
    size_t nc = conv_nchunks((size_t)j->c->n, (size_t)j->d->q);
    for (size_t gi = lo; gi < hi; gi++) {
        size_t c0, c1;
        advc_split_range(nc, (int)gi, j->groups, 1, &c0, &c1);
        for (size_t ch = c0; ch < c1; ch++)
            weight_chunk(j, ch, j->part + gi * wcount, ch == c0, t);
    }
}

void conv_gemm_weight_grad(conv_job *j)
{
    conv_run_chunks(j, (size_t)j->groups, weight_groups, NULL);
}

/* ---- input gradient ---------------------------------------------------- */

/* W_f[ci][o][ky][kx] = W[o][ci][k-1-ky][k-1-kx]: (cin, cout*k*k). */
static void flip_filters(const conv_op *d, float *wf)
{
    int kh = d->geom.kh, kw = d->geom.kw, c = d->geom.c, kk = kh * kw;
    for (int o = 0; o < d->cout; o++)
        for (int ci = 0; ci < c; ci++) {
            const float *src = d->w + ((size_t)o * c + ci) * kk;
            float *dst = wf + ((size_t)ci * d->cout + o) * kk;
            for (int k = 0; k < kk; k++) dst[k] = src[kk - 1 - k];
        }
}

/* dx of a qb-image chunk as the convolution of dy with W_f. */
static void flip_chunks(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    const conv_op *d = j->d;
    int cin = d->geom.c, hw = d->hw;
    bool low = d->algo != ADVC_CONV_IMPLICIT;
    float *col = conv_thread_buf(j, t);
    float *outs = col + col_floats(&d->bgeom, d->qb, low);
    for (size_t ch = lo; ch < hi; ch++) {
        size_t i0;
        int m;
        conv_chunk_images(j, d->qb, ch, &i0, &m);
        const float *dy0 = j->dy + i0 * out_floats(d);
        float *dx0 = j->dx + i0 * j->xld;
        int cols = m * hw;
        bool direct = d->qb == 1;
        float *C = direct ? dx0 : outs;
        gemm_cols(j, low, &d->bgeom, dy0, out_floats(d), m, cin, j->shared,
                  d->cout * d->geom.kh * d->geom.kw, direct && j->dx_acc, C,
                  col);
        if (direct) continue;
        for (int k = 0; k < m; k++)
            for (int ci = 0; ci < cin; ci++)
                conv_copy(dx0 + k * j->xld + (size_t)ci * hw,
                          C + (size_t)ci * cols + (size_t)k * hw, (size_t)hw,
                          j->dx_acc);
    }
}

/* dx of images [i0, i0 + m) by dcol = W^T dY_c, then col2im. */
static void col2im_images(const conv_job *j, size_t i0, int m, int t)
{
    const conv_op *d = j->d;
    int ld = m * d->ohw;
    float *dcol = conv_thread_buf(j, t); /* (kdim, ld) */
    const float *dyc = j->dy + i0 * out_floats(d);
    if (d->qb > 1) {
        float *buf = dcol + (size_t)d->kdim * d->qb * d->ohw;
        gather_dy(j, i0, m, buf);
        dyc = buf;
    }
    advc_sgemm(j->gemm_pool, ADVC_TRANS, ADVC_NOTRANS, d->kdim, ld, d->cout,
               d->w, d->kdim, dyc, ld, false, dcol, ld);
    for (int k = 0; k < m; k++) {
        float *dxi = j->dx + (i0 + (size_t)k) * j->xld;
        if (!j->dx_acc) conv_zero(dxi, in_floats(d));
        advc_col2im_ld(&d->geom, dcol + (size_t)k * d->ohw, (size_t)ld, dxi);
    }
}

/* dx of a qb-image chunk: image by image by the sparse path where dy is
 * sparse enough (each image's columns are summed alike either way, so
 * the bits do not depend on the chunk), else col2im_images. */
static void col2im_chunks(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    for (size_t ch = lo; ch < hi; ch++) {
        size_t i0;
        int m;
        conv_chunk_images(j, j->d->qb, ch, &i0, &m);
        if (!j->sparse) {
            col2im_images(j, i0, m, t);
            continue;
        }
        for (int k = 0; k < m; k++)
            if (!conv_sparse_input_grad(j, i0 + (size_t)k, t))
                col2im_images(j, i0 + (size_t)k, 1, t);
    }
}

void conv_gemm_input_grad(conv_job *j)
{
    const conv_op *d = j->d;
    size_t nc = conv_nchunks((size_t)j->c->n, (size_t)d->qb);
    if (!d->flip) {
        conv_run_chunks(j, nc, col2im_chunks, NULL);
        return;
    }
    flip_filters(d, j->shared);
    conv_run_chunks(j, nc, flip_chunks, NULL);
}
