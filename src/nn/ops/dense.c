/* dense.c: the fully connected layer; x is flattened per sample.
 *   forward   y = x W^T + b                       (GEMM NT)
 *   backward  dx = dy W                           (GEMM NN)
 *             dW += dy^T x,  db += sum_rows dy    (GEMM TN; UPDATE only)
 * x (n, in), W (out, in), b (out), y (n, out).
 *
 * Sparse operands: after ReLU and max pooling a dense layer's input and
 * the gradient reaching it are mostly zero in attacks (the MNIST `cnn`'s
 * fc1: 13-16% and 11% nonzero), so when at most 1/NN_SPARSE_SHARE of the
 * values are nonzero, x W^T and dy W are taken as sparse rows times W^T
 * or W (advc_sparse_gemm, the GEMM's bits).  The forward does it only
 * while the parameters are held (advc_graph_hold_params): it needs W^T,
 * made at its first use in a hold (not at the start: a training recipe's
 * attack on dense activations would pay for it and never use it); the
 * input gradient in every ATTACK pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/kernels.h"
#include "../graph_internal.h"

typedef struct {
    int in, out;
    float *w, *dw; /* (out, in)           */
    float *b, *db; /* (out), NULL if none */
    float *wt;     /* (in, out) W^T for the sparse forward       */
    bool held;     /* the parameters are held (nn_op.hold)        */
    bool wt_ok;    /* wt is W's transpose, made during this hold  */
} dense_op;

/* The sparse paths (NN_SPARSE_SHARE) run only for rows of W or W^T at
 * least this wide, over which an entry's overhead spreads: with
 * cnn-small's 100-wide fc1 (1568 -> 100) the sparse forward made Square
 * 22% slower (5.4 s -> 6.6 s, 200 images); with cnn's 1024-wide one it
 * is faster than the GEMM. */
enum { SPARSE_MIN_WIDTH = 256 };

/* A sparse operand (n, width) in CSR form in the workspace: ptr (n + 1),
 * idx and val (cap each). */
typedef struct {
    int *ptr, *idx;
    float *val;
} dense_csr;

static size_t csr_cap(int n, int width)
{
    return (size_t)n * (size_t)width / NN_SPARSE_SHARE;
}

/* a's nonzero values as CSR in ws; false when there are more than
 * csr_cap. */
static bool make_csr(const float *a, int n, int width, float *ws,
                     dense_csr *s)
{
    size_t cap = csr_cap(n, width), nz = 0;
    s->ptr = (int *)ws;
    s->idx = s->ptr + n + 1;
    s->val = (float *)(s->idx + cap);
    s->ptr[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t r = advc_values((size_t)width, a + (size_t)i * width,
                               cap - nz, s->idx + nz, s->val + nz);
        if (r > cap - nz) return false;
        nz += r;
        s->ptr[i + 1] = (int)nz;
    }
    return true;
}

/* C rows [lo, hi) = [C +] the CSR rows times B (k, ncols). */
typedef struct {
    const dense_csr *s;
    int ncols, k;
    const float *B;
    bool acc;
    float *C;
} sparse_job;

static void sparse_rows(void *p, size_t lo, size_t hi, int t)
{
    const sparse_job *j = p;
    (void)t;
    advc_sparse_gemm((int)(hi - lo), j->ncols, j->k, j->s->ptr + lo,
                     j->s->idx, j->s->val, j->B, j->ncols, j->acc,
                     j->C + lo * (size_t)j->ncols, j->ncols);
}

/* Threads are woken only when each gets at least this many
 * multiply-adds (the GEMM's rule, src/kernels/gemm.c; and a pool made
 * before a fork, as the tests' fixtures are, has no threads to wake). */
#define SPARSE_MACS_PER_THREAD ((size_t)1 << 20)

static void run_sparse(const nn_ctx *c, const dense_csr *s, int ncols, int k,
                       const float *B, bool acc, float *C)
{
    sparse_job j = { s, ncols, k, B, acc, C };
    size_t macs = (size_t)s->ptr[c->n] * (size_t)ncols;
    if (macs < (size_t)c->nthreads * SPARSE_MACS_PER_THREAD)
        sparse_rows(&j, 0, (size_t)c->n, 0);
    else
        nn_parallel(c->pool, (size_t)c->n, 1, 1, sparse_rows, &j);
}

static size_t dense_workspace(const nn_node *v, int batch, int nthreads)
{
    const dense_op *d = v->priv;
    int wide = d->in > d->out ? d->in : d->out;
    (void)nthreads;
    return (size_t)batch + 1 + 2 * csr_cap(batch, wide);
}

/* W^T (in, out) while the parameters are held, made once per hold. */
static const float *held_wt(dense_op *d)
{
    return nn_held_transpose(d->out, d->in, d->w, d->wt, &d->wt_ok);
}

/* y (n, out) starts as b, which the product then adds to: y = b + x W^T
 * as the GEMM sums it.  Nothing without a bias. */
static void start_with_bias(const dense_op *d, float *y, int n)
{
    for (int i = 0; d->b && i < n; i++)
        memcpy(y + (size_t)i * d->out, d->b, (size_t)d->out * sizeof *y);
}

/* y = x W^T (+ b) through the sparse path; false (nothing done) when it
 * does not apply. */
static bool dense_forward_sparse(nn_node *v, const nn_ctx *c)
{
    dense_op *d = v->priv;
    dense_csr s;
    if (!d->held || d->out < SPARSE_MIN_WIDTH ||
        !make_csr(v->in[0]->y, c->n, d->in, c->ws, &s))
        return false;
    const float *wt = held_wt(d);
    start_with_bias(d, v->y, c->n);
    run_sparse(c, &s, d->out, d->in, wt, d->b != NULL, v->y);
    return true;
}

static void dense_forward(nn_node *v, const nn_ctx *c)
{
    dense_op *d = v->priv;
    const float *x = v->in[0]->y; /* (n, in)  */
    float *y = v->y;              /* (n, out) */
    if (dense_forward_sparse(v, c)) return;
    start_with_bias(d, y, c->n);
    if (d->held) {
        /* While an attack holds the parameters, op(B) = W^T is read from
         * the held W^T: the GEMM packs its panels by row copies instead
         * of transposing W at every call (cnn-small's fc1: 157k floats per
         * forward, 8% of AutoAttack on Zen 4).  The same panels, so the
         * same sums. */
        advc_sgemm(c->pool, ADVC_NOTRANS, ADVC_NOTRANS, c->n, d->out, d->in,
                   x, d->in, held_wt(d), d->out, d->b != NULL, y, d->out);
        return;
    }
    advc_sgemm(c->pool, ADVC_NOTRANS, ADVC_TRANS, c->n, d->out, d->in, x,
               d->in, d->w, d->in, d->b != NULL, y, d->out);
}

static void dense_backward(nn_node *v, const nn_ctx *c)
{
    const dense_op *d = v->priv;
    const float *x = v->in[0]->y; /* (n, in)  */
    const float *dy = v->dy;      /* (n, out) */
    if (c->pass == ADVC_PASS_UPDATE) {
        advc_sgemm(c->pool, ADVC_TRANS, ADVC_NOTRANS, d->out, d->in, c->n, dy,
                   d->out, x, d->in, !c->fresh_grads, d->dw, d->in);
        if (d->b) {
            if (c->fresh_grads)
                for (int k = 0; k < d->out; k++) d->db[k] = 0.0f;
            for (int i = 0; i < c->n; i++)
                advc_axpy((size_t)d->out, 1.0f, dy + (size_t)i * d->out,
                          d->db);
        }
    }
    bool acc;
    float *dx = nn_input_grad(v, 0, &acc); /* (n, in) */
    dense_csr s;
    if (c->pass == ADVC_PASS_ATTACK && d->in >= SPARSE_MIN_WIDTH &&
        make_csr(dy, c->n, d->out, c->ws, &s)) {
        run_sparse(c, &s, d->in, d->out, d->w, acc, dx);
        return;
    }
    advc_sgemm(c->pool, ADVC_NOTRANS, ADVC_NOTRANS, c->n, d->in, d->out, dy,
               d->out, d->w, d->in, acc, dx, d->in);
}

static void dense_hold(nn_node *v, bool on)
{
    dense_op *d = v->priv;
    d->held = on;
    d->wt_ok = false; /* made again at its first use */
}

static void dense_describe(const nn_node *v, char *buf, size_t size)
{
    const dense_op *d = v->priv;
    snprintf(buf, size, "in=%d out=%d%s", d->in, d->out,
             d->b ? "" : " nobias");
}

static double dense_macs(const nn_node *v) /* y = W x: out * in */
{
    const dense_op *d = v->priv;
    return (double)d->out * d->in;
}

static const nn_op dense_vt = {
    .name = "dense", .forward = dense_forward, .backward = dense_backward,
    .describe = dense_describe, .macs = dense_macs,
    .workspace = dense_workspace, .hold = dense_hold,
};

int advc_dense(advc_graph *g, const char *name, int x, int out, bool bias)
{
    nn_node *u = nn_get(g, x, "dense");
    if (!u) return -1;
    if (out <= 0)
        return nn_fail(g, "dense: out = %d is not positive", out);
    size_t in = nn_size(u);
    if (in > (size_t)1 << 30)
        return nn_fail(g, "dense: %zu inputs is too many", in);
    dense_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "dense: out of memory");
    d->in = (int)in;
    d->out = out;
    nn_node *v = nn_add(g, &dense_vt, name, &u, 1, (advc_shape){ out, 1, 1 },
                        d);
    if (!v) return -1;
    int wd[2] = { out, d->in }, bd[1] = { out };
    if (!nn_param(g, v, "w", ADVC_TENSOR_WEIGHT, NN_INIT_WEIGHT, d->in, 2, wd,
                  &d->w, &d->dw))
        return -1;
    if (bias && !nn_param(g, v, "b", ADVC_TENSOR_BIAS, NN_INIT_BIAS, d->in,
                          1, bd, &d->b, &d->db))
        return -1;
    if (!nn_aux_floats(g, &d->wt, (size_t)d->in * d->out, 0)) return -1;
    return v->id;
}
