/* torch_names.c: THE table of PyTorch state_dict names and layouts for
 * every built-in model (advc_torch_entries), used by `advc import` and
 * `advc export` (model_torch.c) and mirrored, module for module, by
 * bench/compare/torch_models.py.  `advc import --model SPEC --list`
 * prints the full list for any spec.
 *
 * Names: the PyTorch key is advc's tensor name with its last part renamed
 * (the layer path, e.g. "stage2.block0.short", is kept as the module path):
 *
 *   advc tensor        PyTorch key               dtype  shape
 *   <L>.w              <L>.weight                <f4    conv2d (cout, cin,
 *                                                       k, k); dense and
 *                                                       maxout (out, in)
 *   <L>.b              <L>.bias                  <f4    (out)
 *   <L>.gamma          <L>.weight                <f4    batch norm (c)
 *   <L>.beta           <L>.bias                  <f4    (c)
 *   <L>.running_mean   <L>.running_mean          <f4    (c)
 *   <L>.running_var    <L>.running_var           <f4    (c), unbiased
 *   (none)             <L>.num_batches_tracked   <i8    () after each batch
 *                                                       norm's running_var
 *
 * Layers <L> per model (torch module: nn.Conv2d(cin, cout, k, stride,
 * padding), nn.Linear(in, out), nn.BatchNorm2d(c) with eps 1e-5 and
 * momentum 0.1, the defaults; C x H x W input, K classes):
 *   linear      fc Linear(C*H*W, K)
 *   mlp         fc1 .. fcN Linear (hidden sizes), fc Linear(hN, K)
 *   maxout      maxout1 .. maxoutN Linear(in, units*pieces): output row
 *               u*pieces + j is piece j of unit u (view(n, units,
 *               pieces).amax(2)); fc Linear(units, K)
 *   cnn-small   conv1 Conv2d(C, 16, 4, 2, 1), conv2 Conv2d(16, 32, 4, 2,
 *               1), fc1 Linear(32*H'*W', 100), fc Linear(100, K)
 *   cnn         conv1 Conv2d(C, 32, 5, 1, 2), conv2 Conv2d(32, 64, 5, 1,
 *               2), fc1 Linear(64*(H/4)*(W/4), 1024), fc Linear(1024, K)
 *   resnet      stem.conv, stem.bn; stage<s>.block<j>.conv1, bn1, conv2,
 *               bn2 (s from 1, j from 0); stage<s>.block0.short.conv,
 *               short.bn where the shape changes; fc.  preact=1: stem.conv
 *               only; blocks bn1, conv1, bn2, conv2, short.conv (no BN);
 *               final.bn; fc.  Convolutions have no bias.
 *   msdnet      first.s<i>.conv, bn; layer<l>.s<i>.normal and .down, each
 *               conv1, bn1 (1x1 bottleneck), conv2, bn2 (3x3), or conv, bn
 *               with bottleneck=0; trans<l>.s<i>.conv, bn; exit<b>.conv1,
 *               bn1, conv2, bn2, exit<b>.fc.  No conv biases.
 * Layouts are PyTorch's own on both sides: no transposes.  The flatten
 * before a model's first dense layer is C order over (c, h, w), which is
 * torch.flatten(x, 1) of an NCHW tensor (a model from an NHWC framework
 * needs its first dense weight's columns permuted first).
 * num_batches_tracked is not used by advc (momentum is fixed at 0.1);
 * import keeps the values in the checkpoint's metadata (META_KEY below)
 * so that export writes them back unchanged, and writes 0 for a model
 * advc trained.
 */
#include "model_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *advc, *torch;
} suffixes[] = {
    { "w", "weight" },
    { "b", "bias" },
    { "gamma", "weight" },
    { "beta", "bias" },
    { "running_mean", "running_mean" },
    { "running_var", "running_var" },
};
#define NSUFFIXES ((int)(sizeof suffixes / sizeof suffixes[0]))
/* The batch-norm tensor after which PyTorch lists its counter. */
#define BN_LAST "running_var"
#define BN_COUNTER "num_batches_tracked"

/* Renames the last dotted part of name[] into out[outsz]; false if the
 * name has no rule (a tensor kind this table does not know). */
static bool torch_name(const char *name, char *out, size_t outsz,
                       const char **suffix)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return false;
    for (int i = 0; i < NSUFFIXES; i++) {
        if (strcmp(dot + 1, suffixes[i].advc)) continue;
        int n = snprintf(out, outsz, "%.*s.%s", (int)(dot - name), name,
                         suffixes[i].torch);
        *suffix = suffixes[i].advc;
        return n > 0 && (size_t)n < outsz;
    }
    return false;
}

/* Appends one entry, growing the array. */
static bool push(advc_torch_entry **v, int *n, int *cap,
                 const advc_torch_entry *e)
{
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 32;
        advc_torch_entry *t = realloc(*v, (size_t)c * sizeof *t);
        if (!t) return false;
        *v = t;
        *cap = c;
    }
    (*v)[(*n)++] = *e;
    return true;
}

advc_status advc_torch_entries(const advc_graph *g, advc_torch_entry **out,
                               int *n)
{
    *out = NULL;
    *n = 0;
    int cap = 0, nt = advc_graph_num_tensors(g);
    for (int i = 0; i < nt; i++) {
        const advc_tensor_info *ti = advc_graph_tensor(g, i);
        advc_torch_entry e = { .tensor = i, .dtype = ADVC_NPY_F32,
                               .ndim = ti->ndim };
        memcpy(e.dims, ti->dims, sizeof e.dims);
        const char *suffix;
        if (!torch_name(ti->name, e.name, sizeof e.name, &suffix)) {
            free(*out);
            *out = NULL;
            *n = 0;
            return advc_set_error(ADVC_ERR_STATE, "tensor '%s' has no "
                                  "PyTorch name (src/models/torch_names.c)",
                                  ti->name);
        }
        bool ok = push(out, n, &cap, &e);
        if (ok && !strcmp(suffix, BN_LAST)) {
            advc_torch_entry c = { .tensor = -1, .dtype = ADVC_NPY_I64,
                                   .ndim = 0 };
            size_t layer = strlen(ti->name) - strlen(BN_LAST) - 1;
            snprintf(c.name, sizeof c.name, "%.*s.%s", (int)layer, ti->name,
                     BN_COUNTER);
            ok = push(out, n, &cap, &c);
        }
        if (!ok) {
            free(*out);
            *out = NULL;
            *n = 0;
            return advc_set_error(ADVC_ERR_NOMEM, "PyTorch names: no memory");
        }
    }
    return ADVC_OK;
}

const char *advc_torch_meta_key(void) { return "torch_num_batches_tracked"; }
