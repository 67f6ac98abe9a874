/* msdnet.c: the multi-scale dense network (Huang et al., ICLR 2018), the
 * multi-exit model of Chen et al.'s fast adversarial training
 * (src/adv/METHODS.md section 5).  Structure follows the authors' CIFAR code.
 *
 * Keys (defaults):  scales=3 blocks=5 step=1 first=<step> stepmode=even
 *   base=16 growth=6 grfactor=1-2-4 bnfactor=1-2-4 bottleneck=1 prune=max
 *   reduction=0.5 head=128
 *
 * Scales: S feature maps, the finest at the input size, each next one half
 * as large (ceil): 28/14/7 on MNIST, 32/16/8 on CIFAR.  Channels at scale
 * i are always k * grfactor[i] for the current "unit" width k (k = base at
 * the start).  Every conv below is conv (no bias) - BN - act.
 *   "first.s0"  conv3x3 of the input to base*gr[0] channels; "first.s<i>"
 *               conv3x3 stride 2 of scale i-1 to base*gr[i] channels.
 *   layer l (l = 1, 2, ... across blocks), at each kept scale i:
 *       out_i = concat(x_i, "layer<l>.s<i>.normal"(x_i), "....down"(x_{i-1}))
 *     normal: bottleneck conv1 1x1 to min(c_in, bnfactor[i]*g) channels,
 *             then conv2 3x3 to g channels;
 *     down:   the same on scale i-1 with bnfactor[i-1], conv2 stride 2.
 *     With both paths each gives g/2 channels, g = growth*gr[i]; the
 *     finest kept scale has no down path (unless a scale is dropped at
 *     this layer: then its down path reads the dropped scale) and its
 *     normal path gives g.  k grows by growth per layer.
 *   prune=max (the paper's default): of L layers in all, with
 *     interval = ceil(L/S), layer l keeps the S - floor((l-1)/interval)
 *     coarsest scales; after a layer that dropped a scale, "trans<l>.s<i>"
 *     conv1x1 to floor(reduction*k)*gr[i] channels at every kept scale.
 *     prune=min keeps all scales until the last layers (S - 1 before the
 *     end, ...) and puts the transitions at layers floor(L/3), floor(2L/3).
 *     prune=none keeps every scale and has no transitions.
 *   blocks: block b has `first` layers (b = 0) or `step` layers (even) or
 *     step*b + 1 layers (stepmode=lin), then exit b on the coarsest scale:
 *     "exit<b>" conv1 3x3 stride 2 (head channels) - bn1 - act - conv2 3x3
 *     stride 2 (head) - bn2 - act - global average pool - "exit<b>.fc"
 *     dense(classes).  7x7 -> 4 -> 2 on MNIST, 8 -> 4 -> 2 on CIFAR.
 *   Each exit's loss weight is 1 (the training loss is the sum).
 *
 * Defaults are kept modest for MNIST on small CPUs: 5 blocks of 1 layer,
 * about 20M multiply-adds per 28x28 image (the five exit heads are most of
 * it), 1,342,062 parameters; a training step of 100 images took ~0.6 s of
 * CPU when measured (~6 CPU-minutes per MNIST epoch, split over the
 * threads).  Cheaper: head=64 (545,006 parameters, ~14M multiply-adds) or
 * fewer blocks.  The authors' CIFAR configuration (and Chen et al.'s, 5
 * blocks on CIFAR-10, 7 on CIFAR-100) is "msdnet:first=4,step=2" (their
 * --base 4 --step 2 --nChannels 16 --growthRate 6 --grFactor 1-2-4
 * --bnFactor 1-2-4 --prune max --reduction 0.5); note that their --base is
 * our `first` and their --nChannels our `base`.  Their head ends in a 2x2
 * average pool; ours pools globally, which is the same on 8x8 inputs and
 * also works for 7x7 ones.
 */
#include "model_spec.h"

#include <math.h>
#include <stdio.h>

#define MSD_MAX_SCALES 4

typedef struct {
    const mctx *m;
    int S;                      /* scales                                */
    int gr[MSD_MAX_SCALES];     /* growth factor per scale               */
    int bnf[MSD_MAX_SCALES];    /* bottleneck width factor per scale     */
    int growth;
    bool bottleneck;
} msd;

/* One path: [1x1 bottleneck -] 3x3 conv (stride 1 or 2) to nout. */
static int msd_path(const msd *n, const char *base, int x, int cin, int nout,
                    int bnf, int stride)
{
    if (n->bottleneck) {
        int inner = cin < bnf * nout ? cin : bnf * nout;
        x = mb_conv_bn(n->m, base, 1, x, inner, 1, 1, 0, true);
        return mb_conv_bn(n->m, base, 2, x, nout, 3, stride, 1, true);
    }
    return mb_conv_bn(n->m, base, 0, x, nout, 3, stride, 1, true);
}

/* Output scale i of layer l; k is the unit width of the inputs. */
static int msd_layer_scale(const msd *n, int l, int i, const int *xs, int k,
                           bool with_down)
{
    int g = n->growth * n->gr[i];
    char name[48];
    int parts[3], np = 0;
    parts[np++] = xs[i];
    snprintf(name, sizeof name, "layer%d.s%d.normal", l, i);
    parts[np++] = msd_path(n, name, xs[i], k * n->gr[i],
                           with_down ? g / 2 : g, n->bnf[i], 1);
    if (with_down) {
        snprintf(name, sizeof name, "layer%d.s%d.down", l, i);
        parts[np++] = msd_path(n, name, xs[i - 1], k * n->gr[i - 1], g / 2,
                               n->bnf[i - 1], 2);
    }
    for (int j = 0; j < np; j++)
        if (parts[j] < 0) return -1;
    return advc_concat(n->m->g, parts, np);
}

static int msd_exit(const msd *n, int b, int x, int head)
{
    char name[32];
    snprintf(name, sizeof name, "exit%d", b);
    x = mb_conv_bn(n->m, name, 1, x, head, 3, 2, 1, true);
    x = mb_conv_bn(n->m, name, 2, x, head, 3, 2, 1, true);
    x = x < 0 ? -1 : advc_global_avgpool(n->m->g, x);
    snprintf(name, sizeof name, "exit%d.fc", b);
    x = x < 0 ? -1 : advc_dense(n->m->g, name, x, n->m->classes, true);
    return mb_exit(n->m, x);
}

enum { PRUNE_MAX, PRUNE_MIN, PRUNE_NONE };

/* The keys that shape the network beyond msd's. */
typedef struct {
    int blocks, step, first, stepmode, base, head, prune;
    float reduction;
} msd_keys;

/* Reads the keys into n and k (defaults in the header comment) and checks
 * that growth*grfactor can be halved wherever two paths share it. */
static advc_status msd_read_keys(const mctx *m, msd *n, msd_keys *k)
{
    static const int pow2[MSD_MAX_SCALES] = {1, 2, 4, 8};
    static const char *const stepmodes[] = {"even", "lin", NULL};
    static const char *const prunes[] = {"max", "min", "none", NULL};
    const mspec *s = m->s;
    int ngr, nbn;
    advc_status st = mspec_int(s, "scales", 3, 1, MSD_MAX_SCALES, &n->S);
    if (st == ADVC_OK) st = mspec_int(s, "blocks", 5, 1, 32, &k->blocks);
    if (st == ADVC_OK) st = mspec_int(s, "step", 1, 1, 64, &k->step);
    if (st == ADVC_OK) st = mspec_int(s, "first", k->step, 1, 64, &k->first);
    if (st == ADVC_OK) st = mspec_choice(s, "stepmode", stepmodes, 0,
                                         &k->stepmode);
    if (st == ADVC_OK) st = mspec_int(s, "base", 16, 1, 1024, &k->base);
    if (st == ADVC_OK) st = mspec_int(s, "growth", 6, 1, 256, &n->growth);
    if (st == ADVC_OK) st = mspec_list(s, "grfactor", pow2, n->S, n->S, n->S,
                                       1, 16, n->gr, &ngr);
    if (st == ADVC_OK) st = mspec_list(s, "bnfactor", pow2, n->S, n->S, n->S,
                                       1, 16, n->bnf, &nbn);
    if (st == ADVC_OK) st = mspec_bool(s, "bottleneck", true, &n->bottleneck);
    if (st == ADVC_OK) st = mspec_choice(s, "prune", prunes, PRUNE_MAX,
                                         &k->prune);
    if (st == ADVC_OK) st = mspec_float(s, "reduction", 0.5f, 0.0f, 1.0f,
                                        &k->reduction);
    if (st == ADVC_OK) st = mspec_int(s, "head", 128, 1, 4096, &k->head);
    if (st != ADVC_OK) return st;
    for (int i = 1; i < n->S; i++) {
        if ((n->growth * n->gr[i]) % 2 != 0)
            return mspec_error(s, "growth*grfactor must be even at scales "
                                  "2..%d, where two paths share it (got "
                                  "%d*%d at scale %d)",
                               n->S, n->growth, n->gr[i], i + 1);
    }
    return ADVC_OK;
}

/* Layers per block into steps[] and their sum into *nall (at most 512). */
static advc_status msd_block_layers(const mspec *s, const msd_keys *k,
                                    int *steps, int *nall)
{
    *nall = 0;
    for (int b = 0; b < k->blocks; b++) {
        steps[b] = b == 0              ? k->first
                   : k->stepmode == 0 ? k->step
                                       : k->step * b + 1;
        *nall += steps[b];
    }
    if (*nall > 512)
        return mspec_error(s, "%d layers in all is too many (at most 512)",
                           *nall);
    return ADVC_OK;
}

/* "first.s<i>": the feature map of every scale, each from the one finer
 * (the input for scale 0), into xs. */
static void msd_first_layer(const msd *n, int base, int *xs)
{
    int x = advc_graph_input(n->m->g);
    for (int i = 0; i < n->S; i++) {
        char name[32];
        snprintf(name, sizeof name, "first.s%d", i);
        x = mb_conv_bn(n->m, name, 0, x, base * n->gr[i], 3, i ? 2 : 1, 1,
                       true);
        xs[i] = x;
    }
}

/* How many scales (the coarsest) layer l of nall reads (*in_s) and
 * writes (*out_s) under the pruning rule. */
static void msd_kept_scales(const msd *n, const msd_keys *k, int l,
                            int nall, int interval, int *in_s, int *out_s)
{
    *in_s = n->S;
    *out_s = n->S;
    if (k->prune == PRUNE_MAX) {
        *in_s = n->S - (l >= 2 ? l - 2 : 0) / interval;
        *out_s = n->S - (l - 1) / interval;
    } else if (k->prune == PRUNE_MIN) {
        *in_s = nall - l + 2 < n->S ? nall - l + 2 : n->S;
        *out_s = nall - l + 1 < n->S ? nall - l + 1 : n->S;
    }
}

/* "trans<l>.s<i>": 1x1 conv of every scale from lo on to
 * floor(reduction*k)*gr[i] channels; *k becomes floor(reduction*k). */
static advc_status msd_transition(const msd *n, const msd_keys *keys, int l,
                                  int lo, int *xs, int *k)
{
    int kt = (int)floor((double)keys->reduction * *k);
    if (kt < 1)
        return mspec_error(n->m->s, "reduction %g leaves no channels "
                                    "after layer %d",
                           (double)keys->reduction, l);
    for (int i = lo; i < n->S; i++) {
        char name[32];
        snprintf(name, sizeof name, "trans%d.s%d", l, i);
        xs[i] = mb_conv_bn(n->m, name, 0, xs[i], kt * n->gr[i], 1, 1, 0,
                           true);
    }
    *k = kt;
    return ADVC_OK;
}

/* Layer l of nall: every kept scale of xs, k wide, grown by growth, then
 * the transition where the pruning rule puts one. */
static advc_status msd_layer(const msd *n, const msd_keys *keys, int l,
                             int nall, int interval, int *xs, int *k)
{
    int in_s, out_s;
    msd_kept_scales(n, keys, l, nall, interval, &in_s, &out_s);
    int off = n->S - out_s; /* finest scale kept  */
    bool dropped = in_s > out_s;
    int ys[MSD_MAX_SCALES];
    for (int i = off; i < n->S; i++) {
        bool down = i > off || dropped;
        ys[i] = msd_layer_scale(n, l, i, xs, *k, down);
    }
    for (int i = off; i < n->S; i++) xs[i] = ys[i];
    *k += n->growth;
    bool trans = keys->reduction > 0 &&
                 ((keys->prune == PRUNE_MAX && dropped) ||
                  (keys->prune == PRUNE_MIN &&
                   (l == nall / 3 || l == 2 * nall / 3)));
    return trans ? msd_transition(n, keys, l, off, xs, k) : ADVC_OK;
}

advc_status advc_build_msdnet(const mctx *m)
{
    msd n = {.m = m};
    msd_keys keys;
    int steps[32], nall;
    advc_status st = msd_read_keys(m, &n, &keys);
    if (st == ADVC_OK) st = msd_block_layers(m->s, &keys, steps, &nall);
    if (st != ADVC_OK) return st;

    /* Feature maps by absolute scale (0 = finest); a layer that keeps
     * fewer leaves the finer ones behind. */
    int xs[MSD_MAX_SCALES], k = keys.base, l = 0;
    msd_first_layer(&n, keys.base, xs);
    int interval = (nall + n.S - 1) / n.S;
    for (int b = 0; b < keys.blocks; b++) {
        for (int t = 0; t < steps[b]; t++) {
            st = msd_layer(&n, &keys, ++l, nall, interval, xs, &k);
            if (st != ADVC_OK) return st;
        }
        if (msd_exit(&n, b, xs[n.S - 1], keys.head) < 0)
            return mspec_error(m->s, "cannot build exit %d for input "
                                     "(%d,%d,%d): %s",
                               b, m->in.c, m->in.h, m->in.w,
                               advc_last_error());
    }
    return ADVC_OK;
}
