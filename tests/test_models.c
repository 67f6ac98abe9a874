/* test_models.c: the model builders and model files: every model builds,
 * compiles and runs on 1x28x28 and 3x32x32 with finite logits per exit;
 * parameter counts equal hand-computed values; spec errors name the bad
 * part; activation specs round-trip; save -> load is bit-exact (params,
 * batch-norm state, logits) and a file that does not match its spec is
 * refused; a few SGD steps on cnn-small lower the loss. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"

static const advc_shape MNIST = {1, 28, 28};
static const advc_shape CIFAR = {3, 32, 32};

static advc_act_spec relu(void)
{
    advc_act_spec a = {ADVC_ACT_RELU, 1.0f};
    return a;
}

/* Builds, compiles (no pool) and initialises spec; fails the test on
 * error. */
static advc_graph *make(const char *spec, advc_shape in, int batch,
                        uint64_t seed)
{
    advc_graph *g = NULL;
    advc_status st = advc_model_build(spec, in, 10, relu(), &g);
    ck_assert_msg(st == ADVC_OK, "build '%s' (%d,%d,%d): %s", spec, in.c,
                  in.h, in.w, advc_last_error());
    st = advc_graph_compile(g, batch, NULL);
    ck_assert_msg(st == ADVC_OK, "compile '%s' (%d,%d,%d): %s", spec, in.c,
                  in.h, in.w, advc_last_error());
    advc_graph_init_params(g, seed);
    return g;
}

/* path = a fresh scratch directory (testutil.h) + "/<tag>.advc". */
static void tmp_path(tu_tmpdir *td, char *path, const char *tag)
{
    char name[64];
    snprintf(name, sizeof name, "%s.advc", tag);
    tu_tmpdir_make(td, "models");
    strcpy(path, tu_tmpdir_path(td, name));
}

/* ---- every model builds and runs ---------------------------------------- */

typedef struct {
    const char *spec;
    int exits;
    int cifar; /* also run on 3x32x32 */
} model_case;

static const model_case cases[] = {
    {"linear", 1, 1},
    {"mlp", 1, 1},
    {"mlp:hidden=64-32-16,dropout=0.2", 1, 0},
    {"maxout", 1, 1},
    {"maxout:units=32,pieces=3,layers=3,indrop=0,dropout=0.3", 1, 0},
    {"cnn-small", 1, 1},
    {"cnn", 1, 1},
    {"resnet", 1, 1},
    {"resnet:preact=1", 1, 1},
    {"resnet:depth=8,width=8", 1, 1},
    {"resnet:preact=1,width=8,blocks=1-1-1-1", 1, 1},
    {"msdnet", 5, 1},
    {"msdnet:first=4,step=2", 5, 1},
    {"msdnet:blocks=3,prune=min", 3, 1},
    {"msdnet:blocks=3,prune=none", 3, 0},
    {"msdnet:blocks=4,stepmode=lin", 4, 0},
    {"msdnet:blocks=2,scales=4,grfactor=1-2-4-4,bnfactor=1-2-4-4", 2, 1},
    {"msdnet:blocks=2,scales=1", 2, 0},
    {"msdnet:blocks=2,bottleneck=0,head=32,base=8,growth=4", 2, 0},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static void run_case(const model_case *mc, advc_shape in)
{
    const int batch = 3;
    advc_graph *g = make(mc->spec, in, batch, 1);
    ck_assert_int_eq(advc_graph_num_exits(g), mc->exits);
    ck_assert_int_eq(advc_graph_classes(g), 10);
    ck_assert_int_eq(advc_graph_batch(g), batch);
    size_t nx = (size_t)batch * advc_shape_size(in);
    float *x = malloc(nx * sizeof *x);
    tu_fill(x, nx, 0.0f, 1.0f, 3);
    for (int mode = 0; mode < 2; mode++) {
        advc_graph_forward(g, x, batch, mode ? ADVC_MODE_TRAIN
                                             : ADVC_MODE_EVAL);
        for (int e = 0; e < mc->exits; e++) {
            const float *z = advc_graph_logits(g, e);
            ck_assert_msg(tu_all_finite(z, (size_t)batch * 10),
                          "'%s' exit %d: non-finite logits", mc->spec, e);
            /* Distinct inputs give distinct logits (the chain is live). */
            ck_assert_msg(memcmp(z, z + 10, 10 * sizeof *z) != 0,
                          "'%s' exit %d: equal logits for two samples",
                          mc->spec, e);
        }
    }
    /* Exit heads are named "exit<i>.fc" (multi-exit) or "fc". */
    for (int e = 0; e < mc->exits; e++) {
        char name[32];
        if (mc->exits > 1) snprintf(name, sizeof name, "exit%d.fc.w", e);
        else snprintf(name, sizeof name, "fc.w");
        ck_assert_msg(advc_graph_find_tensor(g, name) >= 0,
                      "'%s': no tensor %s", mc->spec, name);
    }
    free(x);
    advc_graph_free(g);
}

START_TEST(test_model_builds_and_runs)
{
    const model_case *mc = &cases[_i];
    run_case(mc, MNIST);
    if (mc->cifar) run_case(mc, CIFAR);
}
END_TEST

/* ---- parameter counts ---------------------------------------------------- */

static size_t nparams(const char *spec, advc_shape in)
{
    advc_graph *g = make(spec, in, 1, 1);
    size_t n = advc_graph_num_params(g);
    advc_graph_free(g);
    return n;
}

START_TEST(test_param_counts)
{
    /* 784*10 + 10 */
    ck_assert_uint_eq(nparams("linear", MNIST), 7850);
    /* 784*256+256 + 256*256+256 + 256*10+10 */
    ck_assert_uint_eq(nparams("mlp", MNIST), 269322);
    /* 784*1200+1200 + 240*1200+1200 + 240*10+10 */
    ck_assert_uint_eq(nparams("maxout", MNIST), 1233610);
    /* conv1 16*1*4*4+16 = 272, conv2 32*16*16+32 = 8224,
     * fc1 (32*7*7)*100+100 = 156900, fc 100*10+10 = 1010 */
    ck_assert_uint_eq(nparams("cnn-small", MNIST), 166406);
    /* conv1 32*25+32 = 832, conv2 64*32*25+64 = 51264,
     * fc1 (64*7*7)*1024+1024 = 3212288, fc 1024*10+10 = 10250 */
    ck_assert_uint_eq(nparams("cnn", MNIST), 3274634);
    /* CIFAR: fc1 sees 32*8*8 = 2048 -> 204900 instead of 156900 */
    ck_assert_uint_eq(nparams("cnn-small", CIFAR), 166406 - 156900 +
                                                   204900 + 16 * 2 * 16);
    /* ResNet-20 (option B), CIFAR: stem 3*16*9 + bn 32 = 464;
     * stage 1: 6 x (16*16*9 + 32) = 14016;
     * stage 2: 32*16*9+64 + 5 x (32*32*9+64) + proj 16*32+64 = 51648;
     * stage 3: 64*32*9+128 + 5 x (64*64*9+128) + proj 32*64+128 = 205696;
     * fc 64*10+10 = 650 */
    ck_assert_uint_eq(nparams("resnet", CIFAR), 272474);
    /* Pre-activation: the stem loses its BN (-32), every block swaps
     * bn2-after-conv2 for bn1-before-conv1 (the first stage's blocks see
     * 16 channels either way; the first blocks of stages 2, 3 see 16 and
     * 32 instead of 32 and 64: -32, -64), projections lose their BN
     * (-64, -128), and a final BN on 64 channels is added (+128). */
    ck_assert_uint_eq(nparams("resnet:preact=1", CIFAR),
                      272474 - 32 - 32 - 64 - 64 - 128 + 128);
    /* PreActResNet-18 (Wong et al.): 11,171,146 without the final BN, as in
     * the widely used reference code, + 2*512 for it. */
    ck_assert_uint_eq(nparams("resnet:preact=1,width=64,blocks=2-2-2-2",
                              CIFAR), 11171146 + 1024);
    /* MSDNet: from an independent layer-by-layer count of the same
     * structure (see the file header of src/models/msdnet.c). */
    ck_assert_uint_eq(nparams("msdnet", MNIST), 1342062);
    ck_assert_uint_eq(nparams("msdnet:first=4,step=2", CIFAR), 1892990);
}
END_TEST

START_TEST(test_same_seed_same_weights)
{
    advc_graph *a = make("msdnet:blocks=2", MNIST, 2, 42);
    advc_graph *b = make("msdnet:blocks=2", MNIST, 2, 42);
    advc_graph *c = make("msdnet:blocks=2", MNIST, 2, 43);
    size_t na, nb, nc;
    const float *pa = advc_graph_params(a, &na);
    const float *pb = advc_graph_params(b, &nb);
    const float *pc = advc_graph_params(c, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(pa, pb, na * sizeof *pa) == 0);
    ck_assert(memcmp(pa, pc, na * sizeof *pa) != 0);
    advc_graph_free(a);
    advc_graph_free(b);
    advc_graph_free(c);
}
END_TEST

/* ---- spec errors ---------------------------------------------------------- */

typedef struct {
    const char *spec;
    const char *expect; /* substring of the message */
} bad_case;

static const bad_case bad[] = {
    {"resnet:depth=21", "depth must be 6n+2"},
    {"resnet:depth=abc", "depth must be an integer"},
    {"resnet:depth=20,blocks=2-2", "depth or blocks"},
    {"resnet:blocks=2-0-2", "blocks must be"},
    {"resnet:preact=2", "preact must be one of"},
    /* found by fuzz_model_spec: took over 10 s to build (quadratic) */
    {"resnet:depth=4604", "2301 residual blocks in all is too many"},
    {"resnet:blocks=1000-1", "1001 residual blocks in all"},
    {"resnet:depth", "'depth' is not key=value"},
    {"resnet:depth=", "missing value for key 'depth'"},
    {"resnet:depth=20,,width=4", "empty key=value"},
    {"resnet:depth=20,depth=32", "key 'depth' given twice"},
    {"cnn:foo=1", "unknown key 'foo' (keys: conv)"},
    {"mlp:hiden=3", "unknown key 'hiden' (keys: hidden, dropout, conv)"},
    {"resnet:conv=fast", "conv must be one of auto|gemm|implicit|winograd"},
    {"mlp:hidden=256-x", "hidden must be"},
    {"mlp:dropout=1.5", "dropout must be a number"},
    {"maxout:pieces=0", "pieces must be an integer"},
    {"msdnet:prune=maybe", "prune must be one of max|min|none"},
    {"msdnet:stepmode=log", "stepmode must be one of even|lin"},
    {"msdnet:grfactor=1-2", "grfactor must be 3 dash-separated"},
    {"msdnet:scales=2,bnfactor=1-2-4", "bnfactor must be 2 dash-separated"},
    {"msdnet:growth=5,grfactor=1-1-1", "growth*grfactor must be even"},
    {"msdnet:scales=9", "scales must be an integer in [1, 4]"},
    {"nosuch", "unknown model 'nosuch' (models: linear, mlp, maxout, "
               "cnn-small, cnn, resnet, msdnet)"},
    {":depth=3", "missing model name"},
    {"", "empty model spec"},
};
#define NBAD ((int)(sizeof bad / sizeof bad[0]))

/* The deepest resnets the cap allows still build (graph only), and each
 * of their 3,000-10,000 tensors is found by name at its own index (the
 * name table is a hash table that grows as tensors are added). */
START_TEST(test_deep_resnet_builds)
{
    const char *specs[] = { "resnet:depth=1202", "resnet:blocks=500-500" };
    for (int i = 0; i < 2; i++) {
        advc_graph *g = NULL;
        ck_assert_msg(advc_model_build(specs[i], CIFAR, 10, relu(), &g) ==
                          ADVC_OK, "%s", advc_last_error());
        int nt = advc_graph_num_tensors(g);
        ck_assert_int_gt(nt, 3000);
        for (int j = 0; j < nt; j++)
            ck_assert_int_eq(
                advc_graph_find_tensor(g, advc_graph_tensor(g, j)->name), j);
        ck_assert_int_eq(advc_graph_find_tensor(g, "stage1.block0.x"), -1);
        advc_graph_free(g);
    }
}
END_TEST

START_TEST(test_spec_errors)
{
    const bad_case *bc = &bad[_i];
    advc_graph *g = (advc_graph *)&g; /* must be reset to NULL */
    advc_status st = advc_model_build(bc->spec, MNIST, 10, relu(), &g);
    ck_assert_int_eq(st, ADVC_ERR_ARG);
    ck_assert_ptr_null(g);
    const char *msg = advc_last_error();
    char prefix[300];
    snprintf(prefix, sizeof prefix, "model '%s': ", bc->spec);
    ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0,
                  "'%s': message '%s' does not start with the spec",
                  bc->spec, msg);
    ck_assert_msg(strstr(msg, bc->expect) != NULL,
                  "'%s': message '%s' lacks '%s'", bc->spec, msg,
                  bc->expect);
    ck_assert_ptr_null(strchr(msg, '\n'));
}
END_TEST

/* Each model's default initialisation, keys or not; unknown names get he. */
START_TEST(test_default_init)
{
    static const char *const uni[] = {"linear", "mlp:hidden=32", "maxout",
                                      "cnn-small", "cnn"};
    static const char *const he[] = {"resnet", "resnet:depth=8", "msdnet",
                                     "msdnet:blocks=2", "cnn-smallx", ""};
    for (size_t i = 0; i < sizeof uni / sizeof uni[0]; i++)
        ck_assert_msg(advc_model_default_init(uni[i]) == ADVC_INIT_UNIFORM,
                      "%s", uni[i]);
    for (size_t i = 0; i < sizeof he / sizeof he[0]; i++)
        ck_assert_msg(advc_model_default_init(he[i]) == ADVC_INIT_HE, "%s",
                      he[i]);
    ck_assert(advc_model_default_init(NULL) == ADVC_INIT_HE);
    advc_act_spec sp = { ADVC_ACT_SOFTPLUS, 0 }, si = { ADVC_ACT_SILU, 0 };
    ck_assert(advc_model_default_init_for("cnn-small", sp) == ADVC_INIT_HE);
    ck_assert(advc_model_default_init_for("cnn-small", si) ==
              ADVC_INIT_UNIFORM);
}
END_TEST

/* cnn-small's GEMM work by hand: conv1 16 x 16 x 14*14, conv2 32 x 256 x
 * 7*7, fc1 100 x 1568, fc 10 x 100 multiply-adds. */
START_TEST(test_forward_macs)
{
    advc_graph *g = NULL;
    ck_assert_int_eq(advc_model_build("cnn-small", MNIST, 10, relu(), &g),
                     ADVC_OK);
    double want = 16.0 * 16 * 196 + 32.0 * 256 * 49 + 100.0 * 1568 + 1000;
    ck_assert(advc_graph_forward_macs(g) == want);
    advc_graph_free(g);
}
END_TEST

/* conv=...: every model takes it; compile records each layer's choice. */
START_TEST(test_conv_key)
{
    static const struct {
        const char *spec;
        int wino; /* 3x3 stride-1 layers: 1 winograd, 0 gemm, 2 auto rule */
    } cs[] = { {"resnet:depth=8,conv=gemm", 0},
               {"resnet:depth=8,conv=winograd", 1},
               {"resnet:depth=8", 2},
               {"msdnet:blocks=2,conv=implicit", 0},
               {"cnn:conv=winograd", 1} };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        advc_graph *g = make(cs[i].spec, MNIST, 2, 1);
        advc_conv_layer L;
        int n = 0;
        for (; advc_graph_conv_layer(g, n, &L); n++) {
            const advc_conv_geom *c = &L.geom;
            bool fits = c->kh == 3 && c->stride == 1;
            advc_conv_algo want = fits && cs[i].wino == 1 ? ADVC_CONV_WINOGRAD
                                                          : ADVC_CONV_GEMM;
            if (strstr(cs[i].spec, "implicit")) want = ADVC_CONV_IMPLICIT;
            if (cs[i].wino == 2) /* auto: Winograd from 4 channels on */
                want = fits && c->c >= 4 && L.cout >= 4 ? ADVC_CONV_WINOGRAD
                                                        : ADVC_CONV_GEMM;
            ck_assert_msg(L.algo == want, "%s: layer %s got %s", cs[i].spec,
                          L.name, advc_conv_algo_name(L.algo));
        }
        ck_assert_int_gt(n, 1);
        advc_graph_free(g);
    }
    advc_graph *g = make("linear:conv=winograd", MNIST, 2, 1);
    advc_conv_layer L;
    ck_assert(!advc_graph_conv_layer(g, 0, &L)); /* no conv: nothing */
    advc_graph_free(g);
}
END_TEST

/* One training-mode step of spec on n seeded MNIST-shaped images with
 * `threads` threads and fusion on or off: every exit's logits, the input
 * gradient, the parameter gradients and the BN state, then an attack
 * pass's input gradient (the passes that keep nothing), into out (returns
 * the count). */
static size_t model_step_as(const char *spec, int threads, int n,
                            bool fusion, float *out)
{
    advc_pool *pool = advc_pool_create(threads);
    advc_graph *g = NULL;
    ck_assert(advc_model_build(spec, MNIST, 10, relu(), &g) == ADVC_OK);
    advc_graph_set_fusion(g, fusion);
    ck_assert(advc_graph_compile(g, n, pool) == ADVC_OK);
    advc_graph_init_params(g, 5);
    size_t nx = (size_t)n * 28 * 28, k = 0, np, ns;
    float *x = malloc(nx * sizeof *x);
    tu_fill(x, nx, 0, 1, 6);
    advc_graph_forward(g, x, n, ADVC_MODE_TRAIN);
    for (int e = 0; e < advc_graph_num_exits(g); e++) {
        tu_fill(advc_graph_dlogits(g, e), (size_t)n * 10, -1, 1, 7 + e);
        memcpy(out + k, advc_graph_logits(g, e), (size_t)n * 10 * 4);
        k += (size_t)n * 10;
    }
    advc_graph_zero_grads(g);
    advc_graph_backward(g, ADVC_PASS_UPDATE);
    memcpy(out + k, advc_graph_input_grad(g), nx * 4);
    k += nx;
    const float *gr = advc_graph_grads(g, &np), *st = advc_graph_state(g, &ns);
    memcpy(out + k, gr, np * 4);
    k += np;
    memcpy(out + k, st, ns * 4);
    k += ns;
    advc_graph_forward_for(g, x, n, ADVC_MODE_EVAL, ADVC_PASS_ATTACK);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    memcpy(out + k, advc_graph_input_grad(g), nx * 4);
    k += nx;
    free(x);
    advc_graph_free(g);
    advc_pool_destroy(pool);
    return k;
}

static size_t model_step(const char *spec, int threads, int n, float *out)
{
    return model_step_as(spec, threads, n, true, out);
}

/* Whole models at 1 and 2 threads give the same bits: their convolutions
 * run many chunks (GEMM and Winograd) dealt into weight-gradient groups,
 * with 20 images; the fused batch-norm/add activations too. */
START_TEST(test_models_threads_bitwise)
{
    static const char *const specs[] = {"resnet:depth=8", "msdnet:blocks=2",
                                        "resnet:depth=8,conv=gemm",
                                        "cnn-small", "cnn"};
    size_t cap = (size_t)1 << 23;
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        size_t na = model_step(specs[i], 1, 20, a);
        ck_assert(na <= cap);
        ck_assert(model_step(specs[i], 2, 20, b) == na);
        ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0,
                      "%s: 1 and 2 threads differ", specs[i]);
    }
    free(a), free(b);
}
END_TEST

static void count_in_place(const char *line, void *ctx)
{
    const char *at = strstr(line, "in place=");
    if (at) *(int *)ctx += atoi(at + strlen("in place="));
}

/* MSDNet's concatenations write in place (src/nn/place.c): its layers'
 * new channels and the previous layer's output go straight into the
 * concat's output, and the bits are those of copying (fusion off), at 1
 * and 2 threads, through 1x1 and 3x3 (Winograd: never placed) readers,
 * four scales, the other pruning rule and the gemm algorithm.  The slow
 * configurations (tu_quick: qemu, ASan) take two of the models, at 2
 * threads. */
START_TEST(test_msdnet_concat_in_place)
{
    static const char *const specs[] = {
        "msdnet:blocks=2,head=16",
        "msdnet:blocks=2,bottleneck=0,head=16,base=8,growth=4",
        "msdnet:blocks=3,prune=min,head=16,conv=gemm",
        "msdnet:blocks=2,scales=4,grfactor=1-2-4-4,bnfactor=1-2-4-4,head=16",
    };
    size_t cap = (size_t)1 << 23, nspecs = sizeof specs / sizeof specs[0];
    float *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    for (size_t i = 0; i < nspecs; i += tu_quick() ? 3 : 1) {
        advc_graph *g = NULL;
        ck_assert(advc_model_build(specs[i], MNIST, 10, relu(), &g) ==
                  ADVC_OK);
        ck_assert(advc_graph_compile(g, 2, NULL) == ADVC_OK);
        int placed = 0;
        advc_graph_describe(g, count_in_place, &placed);
        advc_graph_free(g);
        ck_assert_msg(placed > 0, "%s: no concat input in place", specs[i]);
        for (int t = tu_quick() ? 2 : 1; t <= 2; t++) {
            size_t na = model_step_as(specs[i], t, 5, true, a);
            ck_assert(na <= cap);
            ck_assert(model_step_as(specs[i], t, 5, false, b) == na);
            ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0,
                          "%s, %d threads: in place and copied differ",
                          specs[i], t);
        }
    }
    free(a), free(b);
}
END_TEST

START_TEST(test_bad_shapes_and_classes)
{
    advc_graph *g = NULL;
    advc_shape tiny = {1, 1, 1};
    ck_assert_int_eq(advc_model_build("cnn", tiny, 10, relu(), &g),
                     ADVC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), "too small"));
    ck_assert_int_eq(advc_model_build("linear", MNIST, 0, relu(), &g),
                     ADVC_ERR_ARG);
    advc_shape zero = {0, 28, 28};
    ck_assert_int_eq(advc_model_build("linear", zero, 10, relu(), &g),
                     ADVC_ERR_ARG);
    ck_assert_ptr_null(g);
    /* Small inputs that do work: the strided models shrink to 1x1. */
    ck_assert_int_eq(advc_model_build("resnet:depth=8", tiny, 10, relu(), &g),
                     ADVC_OK);
    ck_assert_int_eq(advc_graph_compile(g, 2, NULL), ADVC_OK);
    advc_graph_free(g);
    ck_assert_int_eq(advc_model_build("msdnet:blocks=2", tiny, 10, relu(),
                                      &g), ADVC_OK);
    ck_assert_int_eq(advc_graph_compile(g, 2, NULL), ADVC_OK);
    advc_graph_free(g);
}
END_TEST

START_TEST(test_usage_lists_models_and_keys)
{
    const char *u = advc_model_usage();
    static const char *const words[] = {
        "linear", "mlp", "maxout", "cnn-small", "cnn", "resnet", "msdnet",
        "hidden=256-256", "units=240", "pieces=5", "indrop=0.2", "depth=20",
        "width=16", "preact=0", "blocks=", "scales=3", "blocks=5", "step=1",
        "first=", "stepmode=even", "base=16", "growth=6", "grfactor=1-2-4",
        "bnfactor=1-2-4", "bottleneck=1", "prune=max", "reduction=0.5",
        "head=128", "psoftplus"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        ck_assert_msg(strstr(u, words[i]), "usage lacks '%s'", words[i]);
}
END_TEST

/* ---- activation specs ----------------------------------------------------- */

START_TEST(test_act_spec_round_trip)
{
    for (int i = 0; i < (int)ADVC_ACT_COUNT; i++) {
        const char *name = advc_act_name((advc_act)i);
        advc_act_spec a;
        ck_assert_int_eq(advc_act_spec_parse(name, &a), ADVC_OK);
        ck_assert_int_eq(a.f, i);
        char buf[64];
        advc_act_spec_format(a, buf, sizeof buf);
        advc_act_spec b;
        ck_assert_int_eq(advc_act_spec_parse(buf, &b), ADVC_OK);
        ck_assert_int_eq(b.f, a.f);
        ck_assert(b.alpha == a.alpha);
    }
    advc_act_spec a;
    char buf[64];
    ck_assert_int_eq(advc_act_spec_parse("psoftplus", &a), ADVC_OK);
    ck_assert_int_eq(a.f, ADVC_ACT_PSOFTPLUS);
    ck_assert(a.alpha == 10.0f);
    advc_act_spec_format(a, buf, sizeof buf);
    ck_assert_str_eq(buf, "psoftplus:10");
    ck_assert_int_eq(advc_act_spec_parse("psoftplus:2.5", &a), ADVC_OK);
    ck_assert(a.alpha == 2.5f);
    advc_act_spec_format(a, buf, sizeof buf);
    ck_assert_str_eq(buf, "psoftplus:2.5");
    /* A value %g would round: the format must still read back exactly. */
    a.alpha = 0.1f + 1e-7f;
    advc_act_spec_format(a, buf, sizeof buf);
    advc_act_spec b;
    ck_assert_int_eq(advc_act_spec_parse(buf, &b), ADVC_OK);
    ck_assert(b.alpha == a.alpha);
    ck_assert_int_eq(advc_act_spec_parse("relu", &a), ADVC_OK);
    advc_act_spec_format(a, buf, sizeof buf);
    ck_assert_str_eq(buf, "relu");

    static const char *const bad_acts[] = {
        "swish", "", "relu:3", "psoftplus:", "psoftplus:-1", "psoftplus:abc",
        "psoftplus:inf", ":10"};
    for (size_t i = 0; i < sizeof bad_acts / sizeof bad_acts[0]; i++) {
        ck_assert_msg(advc_act_spec_parse(bad_acts[i], &a) == ADVC_ERR_ARG,
                      "'%s' accepted", bad_acts[i]);
        ck_assert(strstr(advc_last_error(), "activation '") != NULL);
    }
}
END_TEST

/* ---- model files ---------------------------------------------------------- */

/* Saves spec after a training-mode forward (so batch-norm running stats
 * differ from their init), loads it back, and checks the params, the state
 * and every exit's eval logits are bit-identical. */
static void round_trip(const char *spec, advc_shape in, advc_act_spec act,
                       advc_pool *pool)
{
    const int batch = 4;
    advc_graph *g = NULL;
    ck_assert_int_eq(advc_model_build(spec, in, 10, act, &g), ADVC_OK);
    ck_assert_int_eq(advc_graph_compile(g, batch, pool), ADVC_OK);
    advc_graph_init_params(g, 5);
    size_t nx = (size_t)batch * advc_shape_size(in);
    float *x = malloc(nx * sizeof *x);
    tu_fill(x, nx, 0.0f, 1.0f, 9);
    advc_graph_forward(g, x, batch, ADVC_MODE_TRAIN);

    tu_tmpdir td;
    char path[TU_PATH_MAX];
    tmp_path(&td, path, "rt");
    const char *meta = "epoch=3\nseed=5\n";
    ck_assert_msg(advc_model_save(path, g, spec, act, meta) == ADVC_OK,
                  "save '%s': %s", spec, advc_last_error());

    advc_graph *h = NULL;
    advc_checkpoint hdr;
    ck_assert_msg(advc_model_load(path, 2, pool, &h, &hdr) == ADVC_OK,
                  "load '%s': %s", spec, advc_last_error());
    ck_assert_str_eq(hdr.spec, spec);
    ck_assert_str_eq(hdr.meta, meta);
    ck_assert_int_eq(hdr.classes, 10);
    ck_assert_int_eq(hdr.c, in.c);
    ck_assert_int_eq(hdr.h, in.h);
    ck_assert_int_eq(hdr.w, in.w);
    ck_assert_int_eq(hdr.ntensors, 0);
    ck_assert_ptr_null(hdr.tensors);
    advc_act_spec act2;
    ck_assert_int_eq(advc_act_spec_parse(hdr.act, &act2), ADVC_OK);
    ck_assert_int_eq(act2.f, act.f);
    if (act.f == ADVC_ACT_PSOFTPLUS) ck_assert(act2.alpha == act.alpha);
    ck_assert_int_eq(advc_graph_batch(h), 2);

    size_t n1, n2, s1, s2;
    const float *p1 = advc_graph_params(g, &n1);
    const float *p2 = advc_graph_params(h, &n2);
    const float *st1 = advc_graph_state(g, &s1);
    const float *st2 = advc_graph_state(h, &s2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_uint_eq(s1, s2);
    ck_assert(memcmp(p1, p2, n1 * sizeof *p1) == 0);
    if (s1) ck_assert(memcmp(st1, st2, s1 * sizeof *st1) == 0);

    advc_graph_forward(g, x, 2, ADVC_MODE_EVAL);
    advc_graph_forward(h, x, 2, ADVC_MODE_EVAL);
    ck_assert_int_eq(advc_graph_num_exits(g), advc_graph_num_exits(h));
    for (int e = 0; e < advc_graph_num_exits(g); e++)
        ck_assert(memcmp(advc_graph_logits(g, e), advc_graph_logits(h, e),
                         2 * 10 * sizeof(float)) == 0);
    tu_tmpdir_remove(&td);
    free(x);
    advc_graph_free(g);
    advc_graph_free(h);
}

START_TEST(test_save_load_bit_exact)
{
    round_trip("cnn-small", MNIST, relu(), NULL);
    advc_act_spec sp = {ADVC_ACT_PSOFTPLUS, 7.5f};
    round_trip("resnet:depth=8,width=8", CIFAR, sp, NULL);
    advc_act_spec si = {ADVC_ACT_SILU, 1.0f};
    advc_pool *pool = advc_pool_create(2);
    round_trip("msdnet:blocks=3", MNIST, si, pool);
    advc_pool_destroy(pool);
}
END_TEST

/* Writes a cnn-small file, lets `tamper` edit it, and expects loading to
 * fail with a message containing `expect`. */
static void expect_refused(void (*tamper)(advc_checkpoint *ck),
                           const char *expect)
{
    tu_tmpdir td;
    char path[TU_PATH_MAX], bad_path[TU_PATH_MAX];
    tmp_path(&td, path, "good");
    strcpy(bad_path, tu_tmpdir_path(&td, "bad.advc"));
    advc_graph *g = make("cnn-small", MNIST, 2, 1);
    ck_assert_int_eq(advc_model_save(path, g, "cnn-small", relu(), ""),
                     ADVC_OK);
    advc_graph_free(g);
    advc_checkpoint ck;
    ck_assert_int_eq(advc_checkpoint_read(path, &ck), ADVC_OK);
    tamper(&ck);
    ck_assert_int_eq(advc_checkpoint_write(bad_path, &ck), ADVC_OK);
    advc_checkpoint_free(&ck);

    advc_graph *h = (advc_graph *)&h;
    advc_status st = advc_model_load(bad_path, 2, NULL, &h, NULL);
    ck_assert_int_ne(st, ADVC_OK);
    ck_assert_ptr_null(h);
    const char *msg = advc_last_error();
    ck_assert_msg(strstr(msg, expect) != NULL, "message '%s' lacks '%s'",
                  msg, expect);
    ck_assert_msg(strstr(msg, bad_path) != NULL, "message '%s' lacks the "
                  "file name", msg);
    tu_tmpdir_remove(&td);
}

static advc_ckpt_tensor *find(advc_checkpoint *ck, const char *name)
{
    for (int i = 0; i < ck->ntensors; i++)
        if (strcmp(ck->tensors[i].name, name) == 0) return &ck->tensors[i];
    ck_abort_msg("no tensor %s", name);
    return NULL;
}

static void widen_conv1(advc_checkpoint *ck)
{
    advc_ckpt_tensor *t = find(ck, "conv1.w");
    free(t->data);
    t->dims[0] = 32;
    t->count = 32 * 1 * 4 * 4;
    t->data = calloc(t->count, sizeof(float));
}

static void rename_fc(advc_checkpoint *ck)
{
    snprintf(find(ck, "fc.b")->name, 64, "fc.bias");
}

static void drop_last(advc_checkpoint *ck)
{
    ck->ntensors--;
    free(ck->tensors[ck->ntensors].data);
    ck->tensors[ck->ntensors].data = NULL;
}

static void rekind_fc(advc_checkpoint *ck)
{
    find(ck, "fc.w")->kind = ADVC_TENSOR_STATE;
}

static void respec(advc_checkpoint *ck)
{
    snprintf(ck->spec, sizeof ck->spec, "cnn");
}

static void bad_spec(advc_checkpoint *ck)
{
    snprintf(ck->spec, sizeof ck->spec, "resnet:depth=21");
}

static void bad_act(advc_checkpoint *ck)
{
    snprintf(ck->act, sizeof ck->act, "swish");
}

/* A small file naming a model of 8.6e9 parameters (fuzz_checkpoint found
 * the like): refused by its tensors before anything is allocated for it
 * (before the fix, compile tried to allocate 34 GB first). */
static void huge_spec(advc_checkpoint *ck)
{
    snprintf(ck->spec, sizeof ck->spec, "mlp:hidden=65536-65536-65536");
}

/* A resnet's weights do not depend on the image size, so only a bound on
 * the declared input shape stops a small file from asking for any amount
 * of activation memory (fuzz_checkpoint found it). */
START_TEST(test_load_bounds_input_shape)
{
    tu_tmpdir td;
    char path[TU_PATH_MAX];
    tmp_path(&td, path, "in");
    const char *spec = "resnet:depth=8,width=2";
    advc_graph *g = make(spec, (advc_shape){ 1, 8, 8 }, 1, 1);
    ck_assert_int_eq(advc_model_save(path, g, spec, relu(), ""), ADVC_OK);
    advc_graph_free(g);
    advc_checkpoint ck;
    ck_assert_int_eq(advc_checkpoint_read(path, &ck), ADVC_OK);
    ck.h = ck.w = 2048; /* 4M values per image */
    ck_assert_int_eq(advc_checkpoint_write(path, &ck), ADVC_OK);
    advc_graph *h = NULL;
    ck_assert_int_eq(advc_model_load(path, 1, NULL, &h, NULL),
                     ADVC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), "4194304 values"));
    ck.h = ck.w = 512; /* 3x512x512 would fit; 1x512x512 loads */
    ck_assert_int_eq(advc_checkpoint_write(path, &ck), ADVC_OK);
    ck_assert_msg(advc_model_load(path, 1, NULL, &h, NULL) == ADVC_OK, "%s",
                  advc_last_error());
    advc_graph_free(h);
    advc_checkpoint_free(&ck);
    tu_tmpdir_remove(&td);
}
END_TEST

START_TEST(test_load_refuses_mismatch)
{
    expect_refused(widen_conv1, "tensor 'conv1.w' has shape (32,1,4,4), "
                                "the spec 'cnn-small' expects (16,1,4,4)");
    expect_refused(rename_fc, "tensor 'fc.bias' is not in the model");
    expect_refused(drop_last, "is missing");
    expect_refused(rekind_fc, "tensor 'fc.w' is a state tensor");
    expect_refused(respec, "the spec 'cnn' expects");
    expect_refused(bad_spec, "depth must be 6n+2");
    expect_refused(bad_act, "activation 'swish'");
    expect_refused(huge_spec, "tensor 'conv1.w' is not in the model of "
                              "spec 'mlp:hidden=65536-65536-65536'");

    advc_graph *h = NULL;
    ck_assert_int_ne(advc_model_load("/nonexistent/m.advc", 2, NULL, &h,
                                     NULL), ADVC_OK);
    ck_assert_ptr_null(h);

    /* Saving needs a compiled graph. */
    tu_tmpdir td;
    char path[TU_PATH_MAX];
    tmp_path(&td, path, "uncompiled");
    ck_assert_int_eq(advc_model_build("linear", MNIST, 10, relu(), &h),
                     ADVC_OK);
    ck_assert_int_eq(advc_model_save(path, h, "linear", relu(), NULL),
                     ADVC_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), "not compiled"));
    advc_graph_free(h);
    tu_tmpdir_remove(&td);
}
END_TEST

/* ---- learning ------------------------------------------------------------- */

/* Plain SGD on one tiny batch must drive the loss down. */
START_TEST(test_cnn_small_sgd_lowers_loss)
{
    const int n = 8;
    advc_graph *g = make("cnn-small", MNIST, n, 7);
    size_t nx = (size_t)n * 784;
    float *x = malloc(nx * sizeof *x);
    tu_fill(x, nx, 0.0f, 1.0f, 11);
    int y[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    size_t np;
    float *w = advc_graph_params(g, &np);
    const float *dw = advc_graph_grads(g, &np);
    float first = 0, last = 0;
    for (int step = 0; step < 30; step++) {
        advc_graph_forward(g, x, n, ADVC_MODE_TRAIN);
        const float *z = advc_graph_logits(g, 0);
        float loss = advc_softmax_xent(n, 10, z, y, NULL);
        ck_assert(isfinite(loss));
        if (step == 0) first = loss;
        last = loss;
        advc_softmax_xent_grad(n, 10, z, y, 1.0f / n,
                               advc_graph_dlogits(g, 0));
        advc_graph_zero_grads(g);
        advc_graph_backward(g, ADVC_PASS_UPDATE);
        ck_assert(tu_all_finite(advc_graph_input_grad(g), nx));
        advc_axpy(np, -0.05f, dw, w);
    }
    ck_assert_msg(last < 0.5f * first, "loss %g -> %g", (double)first,
                  (double)last);
    free(x);
    advc_graph_free(g);
}
END_TEST

Suite *advc_suite_models(void)
{
    Suite *s = suite_create("models");
    TCase *tc = tcase_create("models");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_model_builds_and_runs, 0, NCASES);
    tcase_add_test(tc, test_param_counts);
    tcase_add_test(tc, test_same_seed_same_weights);
    tcase_add_loop_test(tc, test_spec_errors, 0, NBAD);
    tcase_add_test(tc, test_bad_shapes_and_classes);
    tcase_add_test(tc, test_conv_key);
    tcase_add_test(tc, test_models_threads_bitwise);
    tcase_add_test(tc, test_msdnet_concat_in_place);
    tcase_add_test(tc, test_default_init);
    tcase_add_test(tc, test_forward_macs);
    tcase_add_test(tc, test_usage_lists_models_and_keys);
    tcase_add_test(tc, test_act_spec_round_trip);
    tcase_add_test(tc, test_save_load_bit_exact);
    tcase_add_test(tc, test_load_refuses_mismatch);
    tcase_add_test(tc, test_load_bounds_input_shape);
    tcase_add_test(tc, test_deep_resnet_builds);
    tcase_add_test(tc, test_cnn_small_sgd_lowers_loss);
    suite_add_tcase(s, tc);
    return s;
}
