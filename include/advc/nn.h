/* advc/nn.h: networks as small static graphs, with forward, backward and
 * the input gradient that attacks need.
 *
 * Life of a graph:
 *   1. build:    g = advc_graph_new(input shape); add nodes (each returns
 *                its node id, or -1 after an error, which is sticky and
 *                reported by compile); mark one or more outputs (exits).
 *   2. compile:  advc_graph_compile(g, batch, pool) sizes every buffer for
 *                `batch` samples and allocates once: the parameter slab, its
 *                gradient slab, the state slab (batch-norm running stats),
 *                activations, gradients, workspace.  May be called again
 *                with another batch size (parameters are kept).
 *   3. init:     advc_graph_init_params(g, seed): He/Kaiming-style init for
 *                the relu family, same seed => same bits.
 *   4. run:      forward(x, n <= batch, mode) -> each exit's logits;
 *                write dL/dlogits into advc_graph_dlogits(g, e) for every
 *                exit; backward(pass) -> input gradient, and (for UPDATE
 *                passes) parameter gradients accumulated with +=.
 * A training step allocates nothing.  The graph never changes its own
 * parameters: optimizers do (nn/optim), attacks never do.
 *
 * Not here: losses (advc/loss.h), optimizers, schedules, model builders.
 */
#ifndef ADVC_NN_H
#define ADVC_NN_H

#include <stdbool.h>
#include <stddef.h>
#include "advc/core.h"
#include "advc/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-sample shape; a flat vector of f features is (f, 1, 1). */
typedef struct {
    int c, h, w;
} advc_shape;

static inline size_t advc_shape_size(advc_shape s)
{
    return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

typedef enum {
    ADVC_MODE_EVAL = 0, /* batch norm uses running stats; dropout off   */
    ADVC_MODE_TRAIN     /* batch norm uses batch stats and updates the
                           running ones; dropout on                      */
} advc_mode;

/* Which backward pass: ATTACK computes the input gradient only (no
 * parameter gradients; attacks use it); UPDATE computes parameter
 * gradients (accumulated into the gradient slab) and the input gradient.
 * Each pass kind can use its own activation-derivative rule (the SAT
 * ablation, src/adv/METHODS.md section 4). */
typedef enum { ADVC_PASS_ATTACK = 0, ADVC_PASS_UPDATE = 1 } advc_pass;

/* An activation with its parameter (psoftplus's a; ignored by others). */
typedef struct {
    advc_act f;
    float alpha;
} advc_act_spec;

typedef struct advc_graph advc_graph;

/* ---- building ----------------------------------------------------------
 * Every builder takes the input node id(s) and returns the new node's id
 * (>= 0), or -1 if an argument is invalid (the graph then records the
 * error; advc_graph_compile reports it).  Node 0 is the input.
 * `name` prefixes the node's parameter names in checkpoints, e.g. "conv1"
 * gives "conv1.w", "conv1.b"; it may be NULL (a name is generated). */
advc_graph *advc_graph_new(advc_shape input);
void advc_graph_free(advc_graph *g);
int advc_graph_input(const advc_graph *g); /* always 0 */

/* y = x W^T + b; W (out, in), b (out); x is flattened per sample. */
int advc_dense(advc_graph *g, const char *name, int x, int out, bool bias);
/* y = conv2d(x, W) + b, NCHW; W (cout, cin, k, k), b (cout).  How it is
 * computed is chosen per layer at compile (advc_graph_set_conv_algo). */
int advc_conv2d(advc_graph *g, const char *name, int x, int cout, int k,
                int stride, int pad, bool bias);
/* How convolutions are computed (the results differ only by rounding):
 *   gemm      im2col of a chunk of images into a per-thread buffer, then
 *             one GEMM; every layer can use it
 *   implicit  the same GEMM, its panels packed straight from the NCHW
 *             input (no im2col buffer); bitwise equal to gemm
 *   winograd  Winograd F(4x4, 3x3) for 3x3 stride-1 layers: forward,
 *             input gradient and weight gradient
 *   auto      per layer by shape (src/nn/ops/conv2d.c, conv_choose): the
 *             fastest measured; the default
 * In every algorithm the input gradient of a stride-1 layer is itself a
 * stride-1 convolution (of dy with the flipped filters), and of a strided
 * layer W^T dy followed by col2im.  Asking for winograd where a layer
 * cannot use it gives that layer the auto choice.  Read at the next
 * advc_graph_compile, which records each layer's choice
 * (advc_graph_describe shows it). */
typedef enum {
    ADVC_CONV_AUTO = 0,
    ADVC_CONV_GEMM,
    ADVC_CONV_IMPLICIT,
    ADVC_CONV_WINOGRAD,
    ADVC_CONV_COUNT
} advc_conv_algo;
/* A convolution layer of a graph (for benchmarks and tools). */
typedef struct {
    const char *name;     /* the node's name (valid while the graph is)   */
    advc_conv_geom geom;  /* input (c, h, w), kernel, stride, pad, output */
    int cout;
    bool bias;
    advc_conv_algo algo;  /* chosen at the last compile (AUTO before)     */
} advc_conv_layer;
/* The i-th convolution in build order; false when there are fewer. */
bool advc_graph_conv_layer(const advc_graph *g, int i, advc_conv_layer *out);
const char *advc_conv_algo_name(advc_conv_algo a);
advc_conv_algo advc_conv_algo_parse(const char *s); /* COUNT if unknown */
void advc_graph_set_conv_algo(advc_graph *g, advc_conv_algo a);
/* Fusion: batch norm and add apply the activation that follows them in
 * their own pass over memory (no separate pass, and the pre-activation
 * values are not stored but recomputed in backward), and a concat's inputs
 * are written straight into its output where their producers and readers
 * allow (no copy either way); the same bits as apart.  On by default; off
 * (for tests and profiles) from the next compile. */
void advc_graph_set_fusion(advc_graph *g, bool on);
advc_conv_algo advc_graph_conv_algo(const advc_graph *g);
/* y = gamma (x - mean) / sqrt(var + 1e-5) + beta per channel; train mode
 * uses batch statistics and updates running ones with momentum 0.1
 * (running = 0.9 running + 0.1 batch, unbiased var); eval mode uses the
 * running ones.  gamma, beta (c); running mean, var (c) are state. */
int advc_batchnorm(advc_graph *g, const char *name, int x);
/* y = f(x); its backward rule is f' unless the graph's override for the
 * pass says otherwise (advc_graph_set_backward_act). */
int advc_activation(advc_graph *g, int x, advc_act_spec act);
/* y_i = max_j (x W_ij^T + b_ij), j < pieces; W (units*pieces, in). */
int advc_maxout(advc_graph *g, const char *name, int x, int units,
                int pieces);
/* Max / average pooling, k x k window, stride, zero padding (padding is
 * ignored by max and excluded from the average's count). */
int advc_maxpool(advc_graph *g, int x, int k, int stride, int pad);
int advc_avgpool(advc_graph *g, int x, int k, int stride, int pad);
/* (c, h, w) -> (c, 1, 1): the mean over h*w. */
int advc_global_avgpool(advc_graph *g, int x);
/* Train mode: y = x * mask / (1 - p), mask ~ Bernoulli(1 - p), seeded;
 * eval mode: y = x. */
int advc_dropout(advc_graph *g, int x, float p);
/* y = a + b (same shapes). */
int advc_add(advc_graph *g, int a, int b);
/* y = (1/n) sum_i x_i over n nodes of the same shape (an ensemble's
 * averaged logits). */
int advc_mean(advc_graph *g, const int *xs, int n);
/* Channel concatenation of n inputs with equal h, w. */
int advc_concat(advc_graph *g, const int *xs, int n);
/* (c, h, w) -> (c*h*w, 1, 1); no copy. */
int advc_flatten(advc_graph *g, int x);

/* Marks node x as an exit (its per-sample shape must be (classes, 1, 1)).
 * Exits are numbered in the order they are marked; the last one is the
 * "final" exit.  weight is its default weight in a summed loss. */
int advc_graph_add_exit(advc_graph *g, int x, float weight);
/* Nodes added from now on have their names (and so their tensors' names)
 * prefixed: "m0." makes "conv1.w" "m0.conv1.w" (ensembles build several
 * models into one graph).  "" turns it off. */
void advc_graph_set_name_prefix(advc_graph *g, const char *prefix);
/* Replaces the exits so far by one exit, their mean (advc_mean): the
 * averaged logits of the models built into g.  Returns the exit or -1. */
int advc_graph_mean_of_exits(advc_graph *g);

/* ---- compile, parameters ----------------------------------------------- */
advc_status advc_graph_compile(advc_graph *g, int batch, advc_pool *pool);
/* How weights (and layer biases) are drawn, fan_in = inputs per output:
 *   he       w ~ N(0, 2 / fan_in), b = 0 (He et al. 2015; the ResNet and
 *            MSDNet references)
 *   uniform  w, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's Linear
 *            and Conv2d default (kaiming_uniform with a = sqrt 5), which
 *            the fast-AT, PGD-AT and TRADES MNIST scripts leave in place
 * Batch-norm gamma starts at 1 and beta at 0 in both. */
typedef enum { ADVC_INIT_HE, ADVC_INIT_UNIFORM, ADVC_INIT_COUNT } advc_init;
const char *advc_init_name(advc_init how);
advc_init advc_init_parse(const char *s); /* ADVC_INIT_COUNT if unknown */
/* Draws all parameters from `seed` by `how`; batch-norm state to mean 0,
 * var 1.  A tensor's values depend on the seed and its index only. */
void advc_graph_init_params_as(advc_graph *g, uint64_t seed, advc_init how);
/* advc_graph_init_params_as(g, seed, ADVC_INIT_HE). */
void advc_graph_init_params(advc_graph *g, uint64_t seed);

int advc_graph_batch(const advc_graph *g);   /* compiled batch size */
advc_shape advc_graph_input_shape(const advc_graph *g);
int advc_graph_num_exits(const advc_graph *g);
int advc_graph_classes(const advc_graph *g); /* logits per exit */
float advc_graph_exit_weight(const advc_graph *g, int e);
advc_pool *advc_graph_pool(const advc_graph *g);

/* Named tensors: every parameter and state tensor, in build order.  The
 * checkpoint format stores exactly these. */
typedef enum {
    ADVC_TENSOR_WEIGHT, /* trainable, weight-decayed by default          */
    ADVC_TENSOR_BIAS,   /* trainable, not decayed (biases, BN gamma/beta) */
    ADVC_TENSOR_STATE   /* not trainable: BN running mean / var          */
} advc_tensor_kind;

typedef struct {
    char name[64];          /* e.g. "exit2.fc.w"                        */
    advc_tensor_kind kind;
    int ndim, dims[4];      /* e.g. (cout, cin, k, k)                    */
    size_t offset, count;   /* range in the params slab (WEIGHT, BIAS)
                               or in the state slab (STATE)             */
} advc_tensor_info;

int advc_graph_num_tensors(const advc_graph *g);
const advc_tensor_info *advc_graph_tensor(const advc_graph *g, int i);
/* Index of the tensor with this name, or -1. */
int advc_graph_find_tensor(const advc_graph *g, const char *name);
/* The slabs: all trainable parameters are one contiguous array, their
 * gradients another of the same length; state is a third. */
float *advc_graph_params(advc_graph *g, size_t *count);
float *advc_graph_grads(advc_graph *g, size_t *count);
float *advc_graph_state(advc_graph *g, size_t *count);
size_t advc_graph_num_params(const advc_graph *g);
/* Multiply-adds of one sample's forward pass in the conv, dense and maxout
 * layers (the GEMM work; a training step does about 3x: forward, input
 * gradient, weight gradient). */
double advc_graph_forward_macs(const advc_graph *g);

/* ---- running ------------------------------------------------------------ */
/* x: (n, c, h, w) with n <= the compiled batch.  Copies x in. */
void advc_graph_forward(advc_graph *g, const float *x, int n, advc_mode mode);
/* The same forward for a caller that knows which backward may follow:
 * with next = ADVC_PASS_ATTACK (or none at all) it skips keeping what
 * only an UPDATE backward's weight gradients read (a convolution's
 * lowered input, written to memory and never read in an attack).  The
 * outputs are bitwise the same; an UPDATE backward after it still works
 * (it lowers again).  advc_graph_forward is next = ADVC_PASS_UPDATE. */
void advc_graph_forward_for(advc_graph *g, const float *x, int n,
                            advc_mode mode, advc_pass next);
/* Exit e's logits from the last forward: (n, classes). */
const float *advc_graph_logits(const advc_graph *g, int e);
/* What exit e's last layer reads (its input node: for a dense classifier,
 * the feature vector): the per-sample shape, and in *values (may be NULL)
 * the last forward's values, (n, c*h*w), valid until the next forward. */
advc_shape advc_graph_exit_features(const advc_graph *g, int e,
                                    const float **values);
/* Where the caller writes dL/dlogits of exit e before backward: (n, classes).
 * backward() reads every exit's buffer; the caller must write all of them
 * (zeros for an exit that is not in the loss). */
float *advc_graph_dlogits(advc_graph *g, int e);
/* Backward through the last forward (same n, same mode).  UPDATE adds the
 * parameter gradients into the gradient slab (zero it first with
 * advc_graph_zero_grads); both kinds write the input gradient. */
void advc_graph_backward(advc_graph *g, advc_pass pass);
/* Narrows the last forward to the k rows rows[0..k) (strictly increasing,
 * each < its n), in that order, as if it had been run on those samples
 * alone: the next backward then goes back through them only (k rows of
 * dlogits; row j is old row rows[j]).  For a caller that has read the
 * logits and wants the gradient of some of the samples: the rows' values
 * move, nothing is recomputed, so their gradients are bitwise those of a
 * forward of the k samples.  Returns false, changing nothing, when rows
 * are not independent of each other: a TRAIN-mode forward (batch
 * statistics), or an op whose saved state is not per sample. */
bool advc_graph_keep_rows(advc_graph *g, const int *rows, int k);
/* dL/dx from the last backward: (n, c, h, w). */
const float *advc_graph_input_grad(const advc_graph *g);
/* Between hold(g, true) and hold(g, false) the caller promises not to
 * change the parameters (an attack run), so ops may keep copies derived
 * from them across passes (a dense layer's W^T for its sparse forward);
 * each hold(g, true) starts afresh.  Results are the same bits either
 * way. */
void advc_graph_hold_params(advc_graph *g, bool on);
void advc_graph_zero_grads(advc_graph *g);

/* ---- incremental forward passes (src/nn/forward_patch.c) ---------------
 * For searches that change one rectangle of the input at a time (the
 * Square attack): per sample, the activations of its current point are
 * kept; a candidate that differs from that point only inside a rectangle
 * of the input plane (all channels) is evaluated by recomputing each
 * convolution, activation and pooling layer only on the output rectangle
 * the change reaches, then the layers from the first dense one on in
 * full.  The logits are bitwise those of advc_graph_forward of the
 * candidate (the same GEMM sums, the same elementwise kernels).  EVAL
 * mode only; no backward may follow. */
typedef struct {
    int y0, y1, x0, x1;     /* rows [y0, y1), columns [x0, x1)           */
} advc_rect;
typedef struct advc_patch advc_patch;

/* *out = kept activations for samples 0 .. n-1 (n <= the compiled batch)
 * of the compiled g, for square windows of side up to
 * advc_patch_max_side; NULL when g is not a chain of layers this can
 * patch (branches, more than one exit, a Winograd convolution, a dense
 * layer first) or when no window is small enough to pay (the caller then
 * runs full forwards).  Returns ADVC_ERR_NOMEM (*out NULL) when out of
 * memory, else ADVC_OK. */
advc_status advc_patch_new(advc_graph *g, int n, advc_patch **out);
void advc_patch_free(advc_patch *p);
/* The largest window side whose patched forward costs less than a full
 * one (by the layers' multiply-adds; see forward_patch.c). */
int advc_patch_max_side(const advc_patch *p);
/* Keeps rows 0 .. m-1 of the last advc_graph_forward (in EVAL mode) as
 * the points of samples idx[0 .. m). */
void advc_patch_keep(advc_patch *p, const int *idx, int m);
/* The forward of m candidates: candidate j is row idx[j] of x (n, c, h,
 * w), equal to sample idx[j]'s kept point outside r[j] (a window of side
 * <= advc_patch_max_side).  Logits in advc_graph_logits rows 0 .. m-1.
 * Then advc_patch_settle says which candidates become the kept points. */
void advc_patch_forward(advc_patch *p, const float *x, const int *idx,
                        const advc_rect *r, int m);
/* After advc_patch_forward: keep[j] != 0 makes candidate j sample idx[j]'s
 * kept point; the others are undone. */
void advc_patch_settle(advc_patch *p, const unsigned char *keep);

/* Activation-derivative override for one pass kind: every activation node
 * whose forward is `forward` (ADVC_ACT_COUNT: every activation node) uses
 * rule.f' in backward passes of that kind.  rule.f = ADVC_ACT_COUNT clears
 * the override (backward uses the forward's own derivative). */
void advc_graph_set_backward_act(advc_graph *g, advc_pass pass,
                                 advc_act forward, advc_act_spec rule);

/* Dropout and any other randomness in forward passes draw from this seed
 * and an internal step counter, so a run is reproducible. */
void advc_graph_set_seed(advc_graph *g, uint64_t seed);
/* That randomness as it stands (the seed and the count of TRAIN forwards
 * since it was set), and setting both back: a resumed run continues the
 * dropout masks where the interrupted one stopped. */
void advc_graph_rng_state(const advc_graph *g, uint64_t *seed,
                          uint64_t *step);
void advc_graph_set_rng_state(advc_graph *g, uint64_t seed, uint64_t step);

/* A one-line description per node (for `advc info` and debugging). */
void advc_graph_describe(const advc_graph *g, void (*line)(const char *s,
                                                           void *ctx),
                         void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_NN_H */
