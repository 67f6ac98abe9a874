/* act.c: the public activation kernels (advc/kernels.h), forwarded to this
 * build's ISA (see dispatch.h), and the activations' names.  The formulas
 * live in scalar/act_ref.c (the specification) and the per-ISA files; the
 * accuracy each kernel promises is in act.h.
 */
#include <assert.h>
#include <float.h>
#include <string.h>
#include "dispatch.h"

static const char *const act_names[ADVC_ACT_COUNT] = {
    [ADVC_ACT_IDENTITY] = "identity", [ADVC_ACT_RELU] = "relu",
    [ADVC_ACT_SOFTPLUS] = "softplus", [ADVC_ACT_PSOFTPLUS] = "psoftplus",
    [ADVC_ACT_SILU] = "silu",         [ADVC_ACT_GELU] = "gelu",
    [ADVC_ACT_ELU] = "elu",           [ADVC_ACT_SIGMOID] = "sigmoid",
    [ADVC_ACT_TANH] = "tanh",
};

/* psoftplus needs alpha > 0 with 1/alpha finite; the others ignore it. */
static void check_args(advc_act f, float alpha)
{
    assert((unsigned)f < ADVC_ACT_COUNT);
    assert(f != ADVC_ACT_PSOFTPLUS || (alpha > 0 && 1.0f / alpha <= FLT_MAX));
    (void)f;
    (void)alpha;
}

/* y = f(x) */
void advc_act_forward(advc_act f, float alpha, size_t n, const float *x,
                      float *y)
{
    check_args(f, alpha);
    isa_act_forward(f, alpha, n, x, y);
}

/* dx = dy * f'(x), x the forward input */
void advc_act_backward(advc_act f, float alpha, size_t n, const float *x,
                       const float *dy, float *dx)
{
    check_args(f, alpha);
    isa_act_backward(f, alpha, n, x, dy, dx);
}

const char *advc_act_name(advc_act f)
{
    return (unsigned)f < ADVC_ACT_COUNT ? act_names[f] : "unknown";
}

advc_act advc_act_parse(const char *name)
{
    for (int f = 0; name && f < ADVC_ACT_COUNT; f++)
        if (strcmp(name, act_names[f]) == 0) return (advc_act)f;
    return ADVC_ACT_COUNT;
}
