/* simple.c: the small MNIST-era models, each a straight chain of layers.
 * "act" is the model's activation (--act); parameter names in quotes.
 *
 *   linear     softmax regression (FGSM paper's shallow classifier):
 *              flatten - "fc" dense(classes).          784-10: 7,850 params
 *   mlp        flatten - ["fc1" dense(h1) - act - dropout?] ... - "fc"
 *              dense(classes); hidden=256-256 by default (784-256-256-10:
 *              269,322 params).  dropout=p (default 0) after each hidden act.
 *   maxout     Goodfellow et al.'s MNIST maxout network (FGSM paper, after
 *              Goodfellow et al. 2013): flatten - dropout(indrop=0.2) -
 *              ["maxout1" maxout(units=240, pieces=5) - dropout(0.5)] x
 *              layers=2 - "fc" dense(classes).  Maxout is its own
 *              nonlinearity: the --act choice is not used.  (The original
 *              also used a max-norm constraint on the weights; that is a
 *              training-time option, not part of the graph.)  1,233,610
 *              params on MNIST.
 *   cnn-small  Wong et al.'s fast-AT MNIST net: "conv1" conv 16 4x4 s2 p1 -
 *              act - "conv2" conv 32 4x4 s2 p1 - act - flatten - "fc1"
 *              dense(100) - act - "fc" dense(classes).  166,406 params on
 *              1x28x28.
 *   cnn        Madry et al.'s MNIST net: "conv1" conv 32 5x5 p2 - act -
 *              maxpool 2 - "conv2" conv 64 5x5 p2 - act - maxpool 2 -
 *              flatten - "fc1" dense(1024) - act - "fc" dense(classes).
 *              3,274,634 params on 1x28x28.
 * All convolutions and dense layers here have biases (no batch norm).
 */
#include "model_spec.h"

#include <stdio.h>

/* Fails with a message naming the input shape when the chain broke
 * (node -1): the graph's own message says which layer. */
static advc_status finish(const mctx *m, int logits)
{
    if (logits < 0 || mb_exit(m, logits) < 0) {
        return mspec_error(m->s, "cannot build for input (%d,%d,%d): %s",
                           m->in.c, m->in.h, m->in.w, advc_last_error());
    }
    return ADVC_OK;
}

static int dense(const mctx *m, const char *name, int x, int out)
{
    return x < 0 ? -1 : advc_dense(m->g, name, x, out, true);
}

static int dropout(const mctx *m, int x, float p)
{
    if (x < 0) return -1;
    return p > 0 ? advc_dropout(m->g, x, p) : x;
}

advc_status advc_build_linear(const mctx *m)
{
    int x = advc_flatten(m->g, advc_graph_input(m->g));
    return finish(m, dense(m, "fc", x, m->classes));
}

advc_status advc_build_mlp(const mctx *m)
{
    static const int def_hidden[] = {256, 256};
    int hidden[MSPEC_MAX_LIST], nh;
    float p;
    advc_status st = mspec_list(m->s, "hidden", def_hidden, 2, 1,
                                MSPEC_MAX_LIST, 1, 1 << 16, hidden, &nh);
    if (st == ADVC_OK)
        st = mspec_float(m->s, "dropout", 0.0f, 0.0f, 0.95f, &p);
    if (st != ADVC_OK) return st;

    int x = advc_flatten(m->g, advc_graph_input(m->g));
    for (int i = 0; i < nh; i++) {
        char name[32];
        snprintf(name, sizeof name, "fc%d", i + 1);
        x = dense(m, name, x, hidden[i]);
        x = dropout(m, mb_act(m, x), p);
    }
    return finish(m, dense(m, "fc", x, m->classes));
}

advc_status advc_build_maxout(const mctx *m)
{
    int units, pieces, layers;
    float p, pin;
    advc_status st = mspec_int(m->s, "units", 240, 1, 1 << 16, &units);
    if (st == ADVC_OK) st = mspec_int(m->s, "pieces", 5, 1, 64, &pieces);
    if (st == ADVC_OK) st = mspec_int(m->s, "layers", 2, 1, 16, &layers);
    if (st == ADVC_OK)
        st = mspec_float(m->s, "dropout", 0.5f, 0.0f, 0.95f, &p);
    if (st == ADVC_OK)
        st = mspec_float(m->s, "indrop", 0.2f, 0.0f, 0.95f, &pin);
    if (st != ADVC_OK) return st;

    int x = advc_flatten(m->g, advc_graph_input(m->g));
    x = dropout(m, x, pin);
    for (int i = 0; i < layers; i++) {
        char name[32];
        snprintf(name, sizeof name, "maxout%d", i + 1);
        x = x < 0 ? -1 : advc_maxout(m->g, name, x, units, pieces);
        x = dropout(m, x, p);
    }
    return finish(m, dense(m, "fc", x, m->classes));
}

static int conv(const mctx *m, const char *name, int x, int cout, int k,
                int stride, int pad)
{
    return x < 0 ? -1 : advc_conv2d(m->g, name, x, cout, k, stride, pad,
                                    true);
}

static int maxpool2(const mctx *m, int x)
{
    return x < 0 ? -1 : advc_maxpool(m->g, x, 2, 2, 0);
}

static int flatten(const mctx *m, int x)
{
    return x < 0 ? -1 : advc_flatten(m->g, x);
}

advc_status advc_build_cnn_small(const mctx *m)
{
    if (mb_out_size(mb_out_size(m->in.h, 4, 2, 1), 4, 2, 1) < 1 ||
        mb_out_size(mb_out_size(m->in.w, 4, 2, 1), 4, 2, 1) < 1)
        return mspec_error(m->s, "input %dx%d is too small (needs >= 2x2)",
                           m->in.h, m->in.w);
    int x = advc_graph_input(m->g);
    x = mb_act(m, conv(m, "conv1", x, 16, 4, 2, 1));
    x = mb_act(m, conv(m, "conv2", x, 32, 4, 2, 1));
    x = mb_act(m, dense(m, "fc1", flatten(m, x), 100));
    return finish(m, dense(m, "fc", x, m->classes));
}

advc_status advc_build_cnn(const mctx *m)
{
    if (m->in.h < 4 || m->in.w < 4)
        return mspec_error(m->s, "input %dx%d is too small (needs >= 4x4)",
                           m->in.h, m->in.w);
    int x = advc_graph_input(m->g);
    x = maxpool2(m, mb_act(m, conv(m, "conv1", x, 32, 5, 1, 2)));
    x = maxpool2(m, mb_act(m, conv(m, "conv2", x, 64, 5, 1, 2)));
    x = mb_act(m, dense(m, "fc1", flatten(m, x), 1024));
    return finish(m, dense(m, "fc", x, m->classes));
}
