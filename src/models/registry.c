/* registry.c: the table of models (name -> builder, keys, help), the
 * advc_model_build entry point, the usage text, and activation specs
 * ("relu", "psoftplus:10", ...).
 *
 * Adding a model: write advc_build_<name> (model_spec.h), list its keys
 * here, and describe it in the usage text.  Not here: the models.
 */
#include "model_spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    advc_status (*build)(const mctx *m);
    const char *const *keys; /* NULL-terminated */
    advc_init init;          /* default weight initialisation */
} model_entry;

static const char *const keys_none[] = {NULL};
static const char *const keys_mlp[] = {"hidden", "dropout", NULL};
static const char *const keys_maxout[] = {"units", "pieces", "layers",
                                          "dropout", "indrop", NULL};
static const char *const keys_resnet[] = {"depth", "width", "preact",
                                          "blocks", NULL};
static const char *const keys_msdnet[] = {
    "scales", "blocks",    "step",  "first", "stepmode", "base", "growth",
    "grfactor", "bnfactor", "bottleneck", "prune", "reduction", "head",
    NULL};

static const model_entry models[] = {
    {"linear", advc_build_linear, keys_none, ADVC_INIT_UNIFORM},
    {"mlp", advc_build_mlp, keys_mlp, ADVC_INIT_UNIFORM},
    {"maxout", advc_build_maxout, keys_maxout, ADVC_INIT_UNIFORM},
    {"cnn-small", advc_build_cnn_small, keys_none, ADVC_INIT_UNIFORM},
    {"cnn", advc_build_cnn, keys_none, ADVC_INIT_UNIFORM},
    {"resnet", advc_build_resnet, keys_resnet, ADVC_INIT_HE},
    {"msdnet", advc_build_msdnet, keys_msdnet, ADVC_INIT_HE},
};
#define NMODELS ((int)(sizeof models / sizeof models[0]))

static const char usage_text[] =
    "Models (--model name[:key=value,...]); the activation is --act.\n"
    "Weights start uniform (PyTorch's layer default) for linear to cnn, he\n"
    "for resnet and msdnet; --init changes it.\n"
    "  linear      softmax regression: flatten - fc(classes)\n"
    "  mlp         flatten - [fc - act - dropout] per hidden size - fc\n"
    "                hidden=256-256   hidden sizes, dash-separated\n"
    "                dropout=0        dropout after each hidden layer\n"
    "  maxout      Goodfellow et al.'s MNIST maxout net (ignores --act):\n"
    "              dropout(indrop) - [maxout - dropout] x layers - fc\n"
    "                units=240 pieces=5 layers=2 dropout=0.5 indrop=0.2\n"
    "  cnn-small   Wong et al.'s MNIST net: conv16 4x4/2 - conv32 4x4/2 -\n"
    "              fc100 - fc\n"
    "  cnn         Madry et al.'s MNIST net: conv32 5x5 - maxpool2 -\n"
    "              conv64 5x5 - maxpool2 - fc1024 - fc\n"
    "  resnet      CIFAR-style ResNet, basic blocks, batch norm, 1x1\n"
    "              projection shortcuts where the shape changes\n"
    "                depth=20         6n+2: 3 stages of n blocks\n"
    "                width=16         channels of stage 1 (doubled per stage)\n"
    "                preact=0         1: pre-activation blocks (BN-act-conv)\n"
    "                blocks=          blocks per stage instead of depth,\n"
    "                                 e.g. preact=1,width=64,blocks=2-2-2-2\n"
    "                                 is PreActResNet-18\n"
    "  msdnet      multi-scale dense network, one exit per block\n"
    "                scales=3         feature scales (input size halved)\n"
    "                blocks=5         blocks = exits\n"
    "                step=1           layers per block (after the first)\n"
    "                first=step       layers in the first block\n"
    "                stepmode=even    even | lin (block b has step*b+1)\n"
    "                base=16          first layer's channels (x grfactor)\n"
    "                growth=6         channels added per layer (x grfactor)\n"
    "                grfactor=1-2-4   growth factor per scale\n"
    "                bnfactor=1-2-4   bottleneck width factor per scale\n"
    "                bottleneck=1     1x1 bottleneck before each 3x3 conv\n"
    "                prune=max        max | min | none: dropping scales\n"
    "                reduction=0.5    channels kept by transition layers\n"
    "                head=128         channels of each exit's two convs\n"
    "              the authors' CIFAR setting is msdnet:first=4,step=2\n"
    "Activations (--act): relu softplus psoftplus[:alpha, default 10] silu\n"
    "  gelu elu sigmoid tanh identity\n";

const char *advc_model_usage(void) { return usage_text; }

advc_init advc_model_default_init(const char *spec)
{
    size_t len = strcspn(spec ? spec : "", ":");
    for (int i = 0; spec && i < NMODELS; i++)
        if (strlen(models[i].name) == len &&
            strncmp(models[i].name, spec, len) == 0)
            return models[i].init;
    return ADVC_INIT_HE;
}

/* softplus(x) = log(1 + e^x) is 0.69 at 0 and never negative: from the
 * small uniform init its layers' outputs drift upward and cnn-small stays
 * near chance (36% after two MNIST epochs on 10k images, against 85% from
 * He's init; PyTorch stalls the same way), so softplus starts from He. */
advc_init advc_model_default_init_for(const char *spec, advc_act_spec act)
{
    if (act.f == ADVC_ACT_SOFTPLUS) return ADVC_INIT_HE;
    return advc_model_default_init(spec);
}

advc_status advc_model_build_into(advc_graph *g, const char *spec,
                                  int classes, advc_act_spec act)
{
    mspec s;
    advc_status st = mspec_parse(spec, &s);
    if (st != ADVC_OK) return st;
    const model_entry *e = NULL;
    for (int i = 0; i < NMODELS; i++)
        if (strcmp(models[i].name, s.name) == 0) e = &models[i];
    if (!e) {
        char list[160] = "";
        size_t len = 0;
        for (int i = 0; i < NMODELS; i++) {
            int w = snprintf(list + len, sizeof list - len, "%s%s",
                             i ? ", " : "", models[i].name);
            if (w < 0 || (size_t)w >= sizeof list - len) break;
            len += (size_t)w;
        }
        return mspec_error(&s, "unknown model '%s' (models: %s)", s.name,
                           list);
    }
    st = mspec_check_keys(&s, e->keys);
    if (st != ADVC_OK) return st;
    advc_shape input = advc_graph_input_shape(g);
    if (input.c < 1 || input.h < 1 || input.w < 1 || input.c > 4096 ||
        input.h > 65536 || input.w > 65536)
        return mspec_error(&s, "bad input shape (%d,%d,%d)", input.c,
                           input.h, input.w);
    if (classes < 1 || classes > 1000000)
        return mspec_error(&s, "bad number of classes %d", classes);
    if ((int)act.f < 0 || act.f >= ADVC_ACT_COUNT)
        return mspec_error(&s, "bad activation id %d", (int)act.f);
    mctx m = {.g = g, .s = &s, .in = input, .classes = classes, .act = act};
    return e->build(&m);
}

advc_status advc_model_build(const char *spec, advc_shape input, int classes,
                             advc_act_spec act, advc_graph **out)
{
    if (!out)
        return advc_set_error(ADVC_ERR_ARG, "advc_model_build: out is NULL");
    *out = NULL;
    advc_graph *g = advc_graph_new(input);
    if (!g) {
        mspec s;
        if (mspec_parse(spec, &s) == ADVC_OK)
            return mspec_error(&s, "bad input shape (%d,%d,%d)", input.c,
                               input.h, input.w);
        return advc_last_status();
    }
    advc_status st = advc_model_build_into(g, spec, classes, act);
    if (st != ADVC_OK) {
        advc_graph_free(g);
        return st;
    }
    *out = g;
    return ADVC_OK;
}

/* ---- activation specs ---------------------------------------------------- */

#define PSOFTPLUS_DEFAULT_ALPHA 10.0f

advc_status advc_act_spec_parse(const char *s, advc_act_spec *out)
{
    if (!s || !out)
        return advc_set_error(ADVC_ERR_ARG, "activation: NULL argument");
    char name[32];
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    advc_act f = ADVC_ACT_COUNT;
    if (len > 0 && len < sizeof name) {
        memcpy(name, s, len);
        name[len] = '\0';
        f = advc_act_parse(name);
    }
    if (f == ADVC_ACT_COUNT) {
        char list[160] = "";
        size_t n = 0;
        for (int i = 0; i < (int)ADVC_ACT_COUNT; i++) {
            int w = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                             advc_act_name((advc_act)i));
            if (w < 0 || (size_t)w >= sizeof list - n) break;
            n += (size_t)w;
        }
        return advc_set_error(ADVC_ERR_ARG,
                              "activation '%s': unknown (choose from %s)", s,
                              list);
    }
    float alpha = f == ADVC_ACT_PSOFTPLUS ? PSOFTPLUS_DEFAULT_ALPHA : 1.0f;
    if (colon) {
        if (f != ADVC_ACT_PSOFTPLUS)
            return advc_set_error(ADVC_ERR_ARG,
                                  "activation '%s': only psoftplus takes a "
                                  "parameter", s);
        char *end;
        errno = 0;
        alpha = strtof(colon + 1, &end);
        if (errno || end == colon + 1 || *end || !isfinite(alpha) ||
            alpha <= 0)
            return advc_set_error(ADVC_ERR_ARG,
                                  "activation '%s': psoftplus alpha must be "
                                  "a positive number", s);
    }
    out->f = f;
    out->alpha = alpha;
    return ADVC_OK;
}

void advc_act_spec_format(advc_act_spec a, char *out, size_t outsz)
{
    if (!out || outsz == 0) return;
    if ((int)a.f < 0 || a.f >= ADVC_ACT_COUNT) {
        snprintf(out, outsz, "?");
        return;
    }
    const char *name = advc_act_name(a.f);
    if (a.f != ADVC_ACT_PSOFTPLUS) {
        snprintf(out, outsz, "%s", name);
        return;
    }
    /* Shortest of %g / %.9g that reads back to the same float (9
     * significant digits always do). */
    char num[32];
    snprintf(num, sizeof num, "%g", (double)a.alpha);
    if (strtof(num, NULL) != a.alpha)
        snprintf(num, sizeof num, "%.9g", (double)a.alpha);
    snprintf(out, outsz, "%s:%s", name, num);
}
