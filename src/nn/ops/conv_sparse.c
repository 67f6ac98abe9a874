/* conv_sparse.c: the GEMM convolution's forward and input gradient for
 * attack passes on mostly-zero operands, with the GEMM path's bits.
 *
 * After ReLU and max pooling most values are zero: in attacks on the
 * MNIST `cnn`, conv2's input is about 5% nonzero and the gradients
 * reaching conv1 and conv2 1-4% (max pooling passes one value in four,
 * ReLU drops more).  The GEMM multiplies every zero.  Here each output
 * column is a sparse row times a dense matrix (advc_sparse_gemm), which
 * sums exactly as advc_sgemm does, skipping only products with a zero:
 *   forward   y[:, p] = W col(x)[:, p]: row p of col(x)^T (its nonzero
 *             taps k, increasing) times W^T (kdim, cout)
 *   input     dcol[:, p] = W^T dy[:, p]: row p of dy^T (its nonzero
 *   gradient  channels o) times W (cout, kdim); then col2im, column by
 *             column from the last: for every input pixel that adds its
 *             taps (ky, kx) in increasing order, as col2im does
 * Only stride-1 layers with k > 1 (col2im by columns into a plane with a
 * zero border needs no bounds checks then), and only when the operand's
 * nonzero terms are at most a quarter of the GEMM's (NN_SPARSE_SHARE).  The
 * forward keeps no lowered input, so it serves passes that no UPDATE
 * backward follows; the input gradient only overwrites dx (adding to
 * another consumer's dx would change the order of the sum).
 */
#include "conv2d_internal.h"

/* Output columns per block: their rows of the product (PB x kdim for the
 * input gradient, 25 KB-200 KB) are scattered right after they are made,
 * while in L1 or L2. */
enum { PB = 16 };

bool conv_sparse_fits(const conv_op *d)
{
    return d->geom.stride == 1 && !d->pointwise && d->geom.kh > 1 &&
           d->algo != ADVC_CONV_WINOGRAD;
}

static size_t plane_floats(const conv_op *d)
{
    const advc_conv_geom *g = &d->geom;
    return (size_t)g->c * (g->h + 2 * g->pad) * (g->w + 2 * g->pad);
}

/* Most entries of the sparse operand each path accepts, per image: its
 * multiply-adds (entries times the dense side's width) at most
 * 1/NN_SPARSE_SHARE of the GEMM's, cout * kdim * ohw. */
static size_t fwd_entries(const conv_op *d)
{
    return (size_t)d->kdim * d->ohw / NN_SPARSE_SHARE;
}
static size_t grad_entries(const conv_op *d)
{
    return (size_t)d->cout * d->ohw / NN_SPARSE_SHARE;
}
static size_t max_entries(const conv_op *d)
{
    size_t f = fwd_entries(d), g = grad_entries(d);
    return f > g ? f : g;
}

/* ints and floats are both 4 bytes here: the CSR arrays share the float
 * workspace. */
_Static_assert(sizeof(int) == sizeof(float), "int and float sizes differ");

size_t conv_sparse_thread_floats(const conv_op *d)
{
    if (!conv_sparse_fits(d)) return 0;
    size_t ohw = (size_t)d->ohw, e = max_entries(d);
    size_t csr = (ohw + 1) + 2 * e;                     /* ptr, idx, val */
    size_t fwd = csr + 3 * (size_t)d->geom.c * d->hw +  /* input values  */
                 (size_t)d->geom.c + 1 +                /* their starts  */
                 (size_t)PB * d->cout;                  /* out block     */
    size_t dx = csr + 2 * e +                           /* dy's values   */
                (size_t)PB * d->kdim + plane_floats(d);
    return fwd > dx ? fwd : dx;
}

/* ---- forward ------------------------------------------------------------ */

/* W^T (kdim, cout), B of the forward's sparse product: the copy made
 * when the parameters were held, else made in j->shared. */
void conv_sparse_prepare(conv_job *j)
{
    conv_op *d = (conv_op *)j->d; /* its held copy of W^T may be made */
    if (!d->held || !d->wtrans) {
        advc_transpose(d->cout, d->kdim, d->w, d->kdim, j->shared, d->cout);
        j->wt = j->shared;
        return;
    }
    j->wt = nn_held_transpose(d->cout, d->kdim, d->w, d->wtrans, &d->wt_ok);
}

void conv_sparse_hold(nn_node *v, bool on)
{
    conv_op *d = v->priv;
    d->held = on;
    d->wt_ok = false;
}

/* The forward's scratch on thread t: the CSR (ptr, idx, val), the
 * input's values (pos, v; then their rows and columns iy, ix), channel
 * starts and a block of output columns. */
typedef struct {
    int *ptr, *idx, *pos, *iy, *ix, *cstart;
    float *val, *v, *out;
} fwd_scratch;

static fwd_scratch fwd_buf(const conv_job *j, int t)
{
    const conv_op *d = j->d;
    size_t e = max_entries(d), in = (size_t)d->geom.c * d->hw;
    fwd_scratch s;
    s.ptr = (int *)conv_thread_buf(j, t);
    s.idx = s.ptr + d->ohw + 1;
    s.val = (float *)(s.idx + e);
    s.pos = (int *)(s.val + e);
    s.v = (float *)(s.pos + in);
    s.ix = (int *)(s.v + in);
    s.iy = s.pos; /* overwritten in place */
    s.cstart = s.ix + in;
    s.out = (float *)(s.cstart + d->geom.c + 1); /* (PB, cout) */
    return s;
}

/* Most input values the forward takes: each feeds at most kh*kw taps. */
static size_t fwd_values(const conv_op *d)
{
    return fwd_entries(d) / ((size_t)d->geom.kh * d->geom.kw);
}

bool conv_sparse_forward_ok(const conv_job *j, size_t i0, int m, int t)
{
    const conv_op *d = j->d;
    size_t in = (size_t)d->geom.c * d->hw, cap = fwd_values(d);
    fwd_scratch s = fwd_buf(j, t);
    for (int k = 0; k < m; k++)
        if (advc_values(in, j->x + (i0 + (size_t)k) * j->xld, cap, s.pos,
                        s.v) > cap)
            return false;
    return true;
}

/* CSR of col(x)^T for image x: row p holds the nonzero taps k of output
 * pixel p, increasing (channels, then ky, then kx, outermost first). */
static void forward_csr(const conv_op *d, const float *x, fwd_scratch *s)
{
    const advc_conv_geom *g = &d->geom;
    int ohw = d->ohw, c = 0;
    int np = (int)advc_values((size_t)g->c * d->hw, x, fwd_values(d),
                              s->pos, s->v);
    /* Each value's channel, row and column (s->iy overwrites s->pos). */
    s->cstart[0] = 0;
    for (int e = 0; e < np; e++) {
        while (s->pos[e] >= (c + 1) * d->hw) s->cstart[++c] = e;
        int q = s->pos[e] - c * d->hw;
        s->iy[e] = q / g->w;
        s->ix[e] = q - s->iy[e] * g->w;
    }
    while (c < g->c) s->cstart[++c] = np;
    int *ptr = s->ptr;
    for (int p = 0; p <= ohw; p++) ptr[p] = 0;
    /* Each tap's output pixel: counted (pass 0), then filled in (pass 1,
     * ptr[p] running from row p's start to its end). */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            int sum = 0;
            for (int p = 0; p < ohw; p++) {
                int cnt = ptr[p];
                ptr[p] = sum;
                sum += cnt;
            }
        }
        for (c = 0; c < g->c; c++)
            for (int ky = 0; ky < g->kh; ky++)
                for (int kx = 0; kx < g->kw; kx++) {
                    int k = (c * g->kh + ky) * g->kw + kx;
                    for (int e = s->cstart[c]; e < s->cstart[c + 1]; e++) {
                        int oy = s->iy[e] + g->pad - ky;
                        int ox = s->ix[e] + g->pad - kx;
                        if (oy < 0 || oy >= g->oh || ox < 0 || ox >= g->ow)
                            continue;
                        int p = oy * g->ow + ox;
                        if (pass == 0) {
                            ptr[p]++;
                            continue;
                        }
                        s->idx[ptr[p]] = k;
                        s->val[ptr[p]++] = s->v[e];
                    }
                }
    }
    for (int p = ohw; p > 0; p--) ptr[p] = ptr[p - 1];
    ptr[0] = 0;
}

/* y_i for image i, as the GEMM path computes it: with q = 1 and a bias,
 * y = ((b + block 0) + block 1) + ...; else the blocks' sum, then + b. */
void conv_sparse_forward(const conv_job *j, size_t i, int t)
{
    const conv_op *d = j->d;
    size_t ohw = (size_t)d->ohw;
    fwd_scratch s = fwd_buf(j, t);
    int *ptr = s.ptr, *idx = s.idx;
    float *val = s.val, *out = s.out;
    const float *x = j->x + i * j->xld;
    float *y = j->y + i * (size_t)d->cout * ohw;
    forward_csr(d, x, &s);
    bool bias_first = d->q == 1 && d->b;
    for (int p0 = 0; p0 < d->ohw; p0 += PB) {
        int rows = d->ohw - p0 < PB ? d->ohw - p0 : PB;
        if (bias_first)
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < d->cout; o++)
                    out[(size_t)r * d->cout + o] = d->b[o];
        advc_sparse_gemm(rows, d->cout, d->kdim, ptr + p0, idx, val, j->wt,
                         d->cout, bias_first, out, d->cout);
        for (int o = 0; o < d->cout; o++) {
            float *yo = y + (size_t)o * ohw + p0;
            float b = d->b && !bias_first ? d->b[o] : 0.0f;
            for (int r = 0; r < rows; r++) {
                float v = out[(size_t)r * d->cout + o];
                yo[r] = d->b && !bias_first ? v + b : v;
            }
        }
    }
}

/* ---- input gradient ----------------------------------------------------- */

/* CSR of dy^T for one image: row p holds the nonzero channels o of
 * dy[:, p], increasing; pos, v: room for grad_entries values.  False
 * (nothing usable) when there are more. */
static bool grad_csr(const conv_op *d, const float *dy, int *ptr, int *idx,
                     float *val, int *pos, float *v)
{
    int ohw = d->ohw;
    size_t cap = grad_entries(d);
    size_t nz = advc_values((size_t)d->cout * ohw, dy, cap, pos, v);
    if (nz > cap) return false;
    for (int p = 0; p <= ohw; p++) ptr[p] = 0;
    /* pos = o ohw + p, increasing: o steps up as pos passes (o+1) ohw.
     * Count each row, take the starts, then fill the rows in value order
     * (ptr[p] running to row p's end), which keeps o increasing. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            for (int p = 0; p < ohw; p++) ptr[p + 1] += ptr[p];
        size_t o = 0;
        for (size_t e = 0; e < nz; e++) {
            while ((size_t)pos[e] >= (o + 1) * (size_t)ohw) o++;
            int p = pos[e] - (int)(o * (size_t)ohw);
            if (pass == 0) {
                ptr[p + 1]++;
                continue;
            }
            idx[ptr[p]] = (int)o;
            val[ptr[p]++] = v[e];
        }
    }
    for (int p = ohw; p > 0; p--) ptr[p] = ptr[p - 1];
    ptr[0] = 0;
    return true;
}

/* plane (c, h + 2 pad, w + 2 pad) += column p of dcol (row (c, ky, kx)
 * at col[(c kh + ky) kw + kx]), at output pixel (oy, ox). */
static void add_column(const conv_op *d, const float *col, int oy, int ox,
                       float *plane)
{
    const advc_conv_geom *g = &d->geom;
    size_t pw = (size_t)g->w + 2 * g->pad, ph = (size_t)g->h + 2 * g->pad;
    for (int c = 0; c < g->c; c++)
        for (int ky = 0; ky < g->kh; ky++) {
            float *dst = plane + ((size_t)c * ph + oy + ky) * pw + ox;
            const float *src = col + (size_t)(c * g->kh + ky) * g->kw;
            for (int kx = 0; kx < g->kw; kx++) dst[kx] += src[kx];
        }
}

bool conv_sparse_input_grad(const conv_job *j, size_t i, int t)
{
    const conv_op *d = j->d;
    const advc_conv_geom *g = &d->geom;
    size_t e = max_entries(d), ohw = (size_t)d->ohw;
    int *ptr = (int *)conv_thread_buf(j, t), *idx = ptr + ohw + 1;
    float *val = (float *)(idx + e);
    int *pos = (int *)(val + e);
    float *v = (float *)(pos + e);
    float *col = v + e;                    /* (PB, kdim) */
    float *plane = col + (size_t)PB * d->kdim;
    const float *dy = j->dy + i * (size_t)d->cout * ohw;
    if (!grad_csr(d, dy, ptr, idx, val, pos, v)) return false;
    conv_zero(plane, plane_floats(d));
    int last = d->ohw;
    while (last > 0) {
        int p0 = last > PB ? last - PB : 0;
        advc_sparse_gemm(last - p0, d->kdim, d->cout, ptr + p0, idx, val,
                         d->w, d->kdim, false, col, d->kdim);
        for (int p = last - 1; p >= p0; p--)
            if (ptr[p + 1] > ptr[p]) /* an all-zero column adds only +0 */
                add_column(d, col + (size_t)(p - p0) * d->kdim, p / g->ow,
                           p % g->ow, plane);
        last = p0;
    }
    size_t pw = (size_t)g->w + 2 * g->pad, ph = (size_t)g->h + 2 * g->pad;
    float *dx = j->dx + i * j->xld;
    for (int c = 0; c < g->c; c++)
        for (int y = 0; y < g->h; y++)
            conv_copy(dx + ((size_t)c * g->h + y) * g->w,
                      plane + ((size_t)c * ph + y + g->pad) * pw + g->pad,
                      (size_t)g->w, false);
    return true;
}
