/* resnet.c: CIFAR-style residual networks of basic blocks with batch norm
 * (He et al. 2016, "Deep residual learning", section 4.2), and the
 * pre-activation variant (He et al. 2016, "Identity mappings").
 *
 * resnet:depth=6n+2 (default 20),width=w (16),preact=0|1 (0),
 *        blocks=b1-b2-... (optional: blocks per stage, overrides depth)
 *
 * Layer list (post-activation, preact=0):
 *   "stem" conv3x3 w - BN - act
 *   stage s = 1..S (S = 3 from depth; widths w, 2w, 4w, ...), block j:
 *     "stage<s>.block<j>" conv1 3x3 (stride 2 if s > 1 and j = 0) - bn1 -
 *     act - conv2 3x3 - bn2, plus the shortcut, then add - act.
 *     Shortcut: identity, or when the shape changes (first block of
 *     stages 2..S) a projection "short" conv1x1 stride 2 - BN ("option B"
 *     of the paper: projections only where dimensions change, identity
 *     elsewhere; option A's zero-padding has no parameters but makes the
 *     block's output depend on a fixed subsampling, B is what most
 *     reference code uses).
 *   global average pool - "fc" dense(classes).
 * Pre-activation (preact=1): "stem" conv3x3 w (no BN/act), blocks
 *     a = act(bn1(x)); conv1(a) - bn2 - act - conv2; plus the shortcut:
 *     identity on x, or "short.conv" 1x1 stride 2 applied to a (no BN: the
 *     input is already normalised, as in the paper's reference code);
 *     after the last stage "final.bn" - act - global average pool - "fc".
 * Convolutions have no bias (batch norm follows or precedes them).
 *
 * depth = 2 * (blocks in all stages) + 2.  resnet (depth 20) has 272,474
 * parameters on CIFAR-10; "resnet:preact=1,width=64,blocks=2-2-2-2" is
 * the PreActResNet-18 of Wong et al. (11,172,170 with the final BN).  Works on any input size:
 * stride-2 3x3 convs with padding 1 give ceil(h/2) (28 -> 14 -> 7,
 * 32 -> 16 -> 8).
 */
#include "model_spec.h"

#include <stdio.h>

/* Most residual blocks a spec may ask for.  ResNet-1202, the deepest
 * network of the paper, has 600; a spec far beyond is a typo that would
 * take minutes to compile and train.  (fuzz_model_spec found
 * resnet:depth=4604 running past its 10 s timeout: building was then
 * quadratic in the tensor count, which the name table of graph.c has
 * since made linear.) */
#define RESNET_MAX_BLOCKS 1000

static int conv(const mctx *m, const char *name, int x, int cout, int k,
                int stride, int pad)
{
    return x < 0 ? -1 : advc_conv2d(m->g, name, x, cout, k, stride, pad,
                                    false);
}

static int bn(const mctx *m, const char *name, int x)
{
    return x < 0 ? -1 : advc_batchnorm(m->g, name, x);
}

static int add(const mctx *m, int a, int b)
{
    return (a < 0 || b < 0) ? -1 : advc_add(m->g, a, b);
}

/* conv1-bn1-act-conv2-bn2 (+ shortcut) - act. */
static int block_post(const mctx *m, const char *base, int x, int cin,
                      int cout, int stride)
{
    int y = mb_conv_bn(m, base, 1, x, cout, 3, stride, 1, true);
    y = mb_conv_bn(m, base, 2, y, cout, 3, 1, 1, false);
    int sc = x;
    if (stride != 1 || cin != cout) {
        char sb[64];
        snprintf(sb, sizeof sb, "%s.short", base);
        sc = mb_conv_bn(m, sb, 0, x, cout, 1, stride, 0, false);
    }
    return mb_act(m, add(m, y, sc));
}

/* bn1-act-conv1-bn2-act-conv2 (+ shortcut), no act after the add. */
static int block_pre(const mctx *m, const char *base, int x, int cin,
                     int cout, int stride)
{
    char n1[64], n2[64];
    snprintf(n1, sizeof n1, "%s.bn1", base);
    int a = mb_act(m, bn(m, n1, x));
    snprintf(n1, sizeof n1, "%s.conv1", base);
    int y = conv(m, n1, a, cout, 3, stride, 1);
    snprintf(n2, sizeof n2, "%s.bn2", base);
    y = mb_act(m, bn(m, n2, y));
    snprintf(n2, sizeof n2, "%s.conv2", base);
    y = conv(m, n2, y, cout, 3, 1, 1);
    int sc = x;
    if (stride != 1 || cin != cout) {
        snprintf(n1, sizeof n1, "%s.short.conv", base);
        sc = conv(m, n1, a, cout, 1, stride, 0);
    }
    return add(m, y, sc);
}

advc_status advc_build_resnet(const mctx *m)
{
    int depth, width, blocks[MSPEC_MAX_LIST], nstages;
    bool preact;
    advc_status st = mspec_int(m->s, "depth", 20, 1, 10000, &depth);
    if (st == ADVC_OK) st = mspec_int(m->s, "width", 16, 1, 1024, &width);
    if (st == ADVC_OK) st = mspec_bool(m->s, "preact", false, &preact);
    if (st != ADVC_OK) return st;
    if (mspec_get(m->s, "blocks")) {
        if (mspec_get(m->s, "depth"))
            return mspec_error(m->s, "give depth or blocks, not both");
        st = mspec_list(m->s, "blocks", NULL, 0, 1, 6, 1, 1000, blocks,
                        &nstages);
        if (st != ADVC_OK) return st;
    } else {
        if (depth < 8 || (depth - 2) % 6 != 0)
            return mspec_error(m->s, "depth must be 6n+2 with n >= 1, "
                                     "e.g. 20, 32, 56 (got %d)", depth);
        nstages = 3;
        for (int s = 0; s < 3; s++) blocks[s] = (depth - 2) / 6;
    }
    int total = 0;
    for (int s = 0; s < nstages; s++) total += blocks[s];
    if (total > RESNET_MAX_BLOCKS)
        return mspec_error(m->s, "%d residual blocks in all is too many (at "
                                 "most %d; ResNet-1202 has 600)", total,
                           RESNET_MAX_BLOCKS);
    if ((long)width << (nstages - 1) > 4096)
        return mspec_error(m->s, "width %d doubled over %d stages exceeds "
                                 "4096 channels", width, nstages);

    int x = advc_graph_input(m->g);
    if (preact)
        x = conv(m, "stem.conv", x, width, 3, 1, 1);
    else
        x = mb_conv_bn(m, "stem", 0, x, width, 3, 1, 1, true);
    int cin = width;
    for (int s = 0; s < nstages; s++) {
        int cout = width << s;
        for (int j = 0; j < blocks[s]; j++) {
            char base[48];
            snprintf(base, sizeof base, "stage%d.block%d", s + 1, j);
            int stride = (s > 0 && j == 0) ? 2 : 1;
            x = preact ? block_pre(m, base, x, cin, cout, stride)
                       : block_post(m, base, x, cin, cout, stride);
            cin = cout;
        }
    }
    if (preact) x = mb_act(m, bn(m, "final.bn", x));
    x = x < 0 ? -1 : advc_global_avgpool(m->g, x);
    x = x < 0 ? -1 : advc_dense(m->g, "fc", x, m->classes, true);
    if (mb_exit(m, x) < 0)
        return mspec_error(m->s, "cannot build for input (%d,%d,%d): %s",
                           m->in.c, m->in.h, m->in.w, advc_last_error());
    return ADVC_OK;
}
