/* test_interop.c: models to and from PyTorch state_dict archives
 * (advc_model_export_npz, advc_model_import_npz and the name table of
 * src/models/torch_names.c).  Export then import gives the same tensors
 * bit for bit and export again the same archive byte for byte, batch-norm
 * counters included; a missing, extra, mis-shaped or mis-typed tensor, a
 * truncated or compressed archive, each gives a one-line error naming the
 * file and the tensor, and writes no model file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "npz_fixtures.h"
#include "testutil.h"

static const advc_shape MNIST = { 1, 28, 28 };
static const advc_act_spec RELU = { ADVC_ACT_RELU, 1.0f };

/* Files go to one scratch directory per test (tests/testutil.h). */
static tu_tmpdir td;
static void setup(void) { tu_tmpdir_make(&td, "interop"); }
static void teardown(void) { tu_tmpdir_remove(&td); }

static void tmp_file(char *out, size_t n, const char *tag)
{
    snprintf(out, n, "%s", tu_tmpdir_path(&td, tag));
}

static void check_msg(const char *path, const char *part)
{
    const char *m = advc_last_error();
    ck_assert_msg(strncmp(m, path, strlen(path)) == 0,
                  "message '%s' does not start with '%s'", m, path);
    ck_assert_msg(!strchr(m, '\n'), "message '%s' is not one line", m);
    ck_assert_msg(strstr(m, part) != NULL, "message '%s' lacks '%s'", m,
                  part);
}

static bool same_file(const char *a, const char *b)
{
    FILE *f = fopen(a, "rb"), *g = fopen(b, "rb");
    ck_assert(f && g);
    int x, y;
    do {
        x = getc(f);
        y = getc(g);
    } while (x == y && x != EOF);
    fclose(f);
    fclose(g);
    return x == y;
}

/* A model file for spec with weights from seed and batch-norm running
 * statistics that are not their initial 0 and 1. */
static void make_model(const char *spec, uint64_t seed, const char *path)
{
    advc_graph *g = NULL;
    ck_assert_int_eq(advc_model_build(spec, MNIST, 10, RELU, &g), ADVC_OK);
    ck_assert_int_eq(advc_graph_compile(g, 1, NULL), ADVC_OK);
    advc_graph_init_params(g, seed);
    size_t ns;
    float *state = advc_graph_state(g, &ns);
    tu_fill(state, ns, 0.25f, 2.0f, seed + 1);
    ck_assert_int_eq(advc_model_save(path, g, spec, RELU, "seed=1\n"),
                     ADVC_OK);
    advc_graph_free(g);
}

/* The checkpoints at a and b hold the same tensors, bit for bit. */
static void same_tensors(const char *a, const char *b)
{
    advc_checkpoint x, y;
    ck_assert_int_eq(advc_checkpoint_read(a, &x), ADVC_OK);
    ck_assert_int_eq(advc_checkpoint_read(b, &y), ADVC_OK);
    ck_assert_str_eq(x.spec, y.spec);
    ck_assert_int_eq(x.ntensors, y.ntensors);
    for (int i = 0; i < x.ntensors; i++) {
        ck_assert_str_eq(x.tensors[i].name, y.tensors[i].name);
        ck_assert_uint_eq(x.tensors[i].count, y.tensors[i].count);
        ck_assert_int_eq(memcmp(x.tensors[i].data, y.tensors[i].data,
                                x.tensors[i].count * sizeof(float)), 0);
    }
    advc_checkpoint_free(&x);
    advc_checkpoint_free(&y);
}

START_TEST(names_follow_the_table)
{
    static const char *const want[] = {
        "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
        "fc1.weight", "fc1.bias", "fc.weight", "fc.bias" };
    advc_graph *g = NULL;
    advc_torch_entry *t;
    int n;
    ck_assert_int_eq(advc_model_build("cnn-small", MNIST, 10, RELU, &g),
                     ADVC_OK);
    ck_assert_int_eq(advc_graph_compile(g, 1, NULL), ADVC_OK);
    ck_assert_int_eq(advc_torch_entries(g, &t, &n), ADVC_OK);
    ck_assert_int_eq(n, 8);
    for (int i = 0; i < n; i++) {
        ck_assert_str_eq(t[i].name, want[i]);
        ck_assert_int_eq(t[i].tensor, i);
        ck_assert_int_eq(t[i].dtype, ADVC_NPY_F32);
    }
    ck_assert_int_eq(t[4].ndim, 2); /* fc1: (100, 32*7*7), torch's flatten */
    ck_assert_int_eq(t[4].dims[0], 100);
    ck_assert_int_eq(t[4].dims[1], 1568);
    free(t);
    advc_graph_free(g);

    /* resnet: weight, bias, running_mean, running_var, counter per BN */
    ck_assert_int_eq(advc_model_build("resnet:depth=8", MNIST, 10, RELU, &g),
                     ADVC_OK);
    ck_assert_int_eq(advc_graph_compile(g, 1, NULL), ADVC_OK);
    ck_assert_int_eq(advc_torch_entries(g, &t, &n), ADVC_OK);
    ck_assert_str_eq(t[1].name, "stem.bn.weight");
    ck_assert_str_eq(advc_graph_tensor(g, t[1].tensor)->name,
                     "stem.bn.gamma");
    ck_assert_str_eq(t[2].name, "stem.bn.bias");
    ck_assert_str_eq(t[4].name, "stem.bn.running_var");
    ck_assert_str_eq(t[5].name, "stem.bn.num_batches_tracked");
    ck_assert_int_eq(t[5].tensor, -1);
    ck_assert_int_eq(t[5].dtype, ADVC_NPY_I64);
    ck_assert_int_eq(t[5].ndim, 0);
    int counters = 0, vars = 0;
    for (int i = 0; i < n; i++) {
        counters += t[i].tensor < 0;
        vars += strstr(t[i].name, ".running_var") != NULL;
    }
    ck_assert_int_eq(counters, vars);
    ck_assert_int_eq(n, advc_graph_num_tensors(g) + counters);
    free(t);
    advc_graph_free(g);
}
END_TEST

START_TEST(export_import_export_is_bit_exact)
{
    static const char *const specs[] = {
        "linear", "mlp:hidden=32-16", "maxout:units=8,pieces=3",
        "cnn-small", "cnn", "resnet:depth=8", "resnet:depth=8,preact=1",
        "msdnet:blocks=2,head=16" };
    char m[256], a[256], b[256], m2[256];
    tmp_file(m, sizeof m, "m.advc");
    tmp_file(a, sizeof a, "a.npz");
    tmp_file(b, sizeof b, "b.npz");
    tmp_file(m2, sizeof m2, "m2.advc");
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        make_model(specs[i], 10 + i, m);
        advc_checkpoint ck;
        ck_assert_msg(advc_model_export_npz(m, a, &ck) == ADVC_OK, "%s: %s",
                      specs[i], advc_last_error());
        ck_assert_str_eq(ck.spec, specs[i]);
        ck_assert_msg(advc_model_import_npz(a, specs[i], MNIST, 10, RELU,
                                            m2) == ADVC_OK,
                      "%s: %s", specs[i], advc_last_error());
        same_tensors(m, m2);
        ck_assert_int_eq(advc_model_export_npz(m2, b, NULL), ADVC_OK);
        ck_assert_msg(same_file(a, b), "%s: archives differ", specs[i]);
    }
    remove(m);
    remove(a);
    remove(b);
    remove(m2);
}
END_TEST

/* An archive of the entries of src with edit applied: the items array
 * (up to 512) points into *z, which the caller frees. */
static int load_items(const char *src, advc_npz *z, advc_npz_item *it)
{
    ck_assert_int_eq(advc_npz_read(src, z), ADVC_OK);
    ck_assert_int_le(z->n, 512);
    for (int i = 0; i < z->n; i++)
        it[i] = (advc_npz_item){ z->e[i].name, z->e[i].a.dtype,
                                 z->e[i].a.ndim, z->e[i].a.shape,
                                 z->e[i].a.data };
    return z->n;
}

static int find_item(const advc_npz_item *it, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(it[i].name, name)) return i;
    ck_abort_msg("no item %s", name);
    return -1;
}

START_TEST(batch_norm_counters_survive_the_round_trip)
{
    char m[256], a[256], c[256], m2[256], b[256];
    tmp_file(m, sizeof m, "cm.advc");
    tmp_file(a, sizeof a, "ca.npz");
    tmp_file(c, sizeof c, "cc.npz");
    tmp_file(m2, sizeof m2, "cm2.advc");
    tmp_file(b, sizeof b, "cb.npz");
    make_model("resnet:depth=8", 3, m);
    ck_assert_int_eq(advc_model_export_npz(m, a, NULL), ADVC_OK);
    static advc_npz_item it[512];
    int64_t counts[64];
    for (int round = 0; round < 2; round++) { /* all equal, then not */
        advc_npz z;
        int n = load_items(a, &z, it), k = 0;
        for (int i = 0; i < n; i++) {
            if (!strstr(it[i].name, "num_batches_tracked")) continue;
            counts[k] = round == 0 ? 600 : 1000 + 7 * k;
            it[i].data = &counts[k++];
        }
        ck_assert_int_gt(k, 5);
        ck_assert_int_eq(advc_npz_write(c, it, n), ADVC_OK);
        advc_npz_free(&z);
        ck_assert_int_eq(advc_model_import_npz(c, "resnet:depth=8", MNIST,
                                               10, RELU, m2), ADVC_OK);
        ck_assert_int_eq(advc_model_export_npz(m2, b, NULL), ADVC_OK);
        ck_assert(same_file(c, b));
    }
    remove(m);
    remove(a);
    remove(c);
    remove(m2);
    remove(b);
}
END_TEST

/* Writes the edited archive, imports it as spec, expects a format error
 * naming the archive and `part`, and no model file. */
static void expect_refused(const char *npz, const advc_npz_item *it, int n,
                           const char *spec, const char *part)
{
    char out[256];
    tmp_file(out, sizeof out, "refused.advc");
    remove(out);
    if (it) ck_assert_int_eq(advc_npz_write(npz, it, n), ADVC_OK);
    ck_assert_int_eq(advc_model_import_npz(npz, spec, MNIST, 10, RELU, out),
                     ADVC_ERR_FORMAT);
    check_msg(npz, part);
    ck_assert_int_ne(access(out, F_OK), 0);
}

START_TEST(mismatched_archives_name_the_tensor)
{
    char m[256], a[256], e[256];
    tmp_file(m, sizeof m, "em.advc");
    tmp_file(a, sizeof a, "ea.npz");
    tmp_file(e, sizeof e, "edit.npz");
    make_model("cnn-small", 5, m);
    ck_assert_int_eq(advc_model_export_npz(m, a, NULL), ADVC_OK);
    static advc_npz_item it[512];
    advc_npz z;
    int n = load_items(a, &z, it);
    int fb = find_item(it, n, "fc.bias");
    advc_npz_item keep = it[fb];

    it[fb] = it[n - 1]; /* drop fc.bias */
    expect_refused(e, it, n - 1, "cnn-small",
                   "tensor 'fc.bias' is missing (model 'cnn-small' needs "
                   "<f4 (10,))");
    it[fb] = keep;
    size_t eleven = 11;
    float f11[11] = { 0 };
    it[fb].shape = &eleven;
    it[fb].data = f11;
    expect_refused(e, it, n, "cnn-small", "tensor 'fc.bias' has shape "
                   "(11,), model 'cnn-small' needs (10,)");
    double d10[10] = { 0 };
    it[fb] = keep;
    it[fb].dtype = ADVC_NPY_F64;
    it[fb].data = d10;
    expect_refused(e, it, n, "cnn-small", "tensor 'fc.bias' has dtype "
                   "'<f8', model 'cnn-small' needs '<f4'");
    it[fb] = keep;
    it[n] = keep;
    it[n].name = "fc.extra";
    expect_refused(e, it, n + 1, "cnn-small",
                   "tensor 'fc.extra' is not part of model 'cnn-small'");
    /* a DataParallel-style prefix: the hint names the archive's key */
    char names[16][64];
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "module.%s", it[i].name);
        it[i].name = names[i];
    }
    expect_refused(e, it, n, "cnn-small", "the archive has "
                   "'module.conv1.weight'");
    /* the wrong architecture: its first tensor already differs */
    expect_refused(a, NULL, 0, "cnn", "tensor 'conv1.weight' has shape "
                   "(16, 1, 4, 4), model 'cnn' needs (32, 1, 5, 5)");
    advc_npz_free(&z);

    /* a truncated archive, a compressed one */
    FILE *f = fopen(e, "wb");
    FILE *g = fopen(a, "rb");
    char buf[3000];
    size_t got = fread(buf, 1, sizeof buf, g);
    ck_assert_uint_eq(got, sizeof buf);
    fwrite(buf, 1, sizeof buf, f);
    fclose(f);
    fclose(g);
    expect_refused(e, NULL, 0, "cnn-small", "truncated inside tensor "
                   "'conv2.weight'");
    f = fopen(e, "wb");
    fwrite(numpy_savez_compressed, 1, sizeof numpy_savez_compressed, f);
    fclose(f);
    expect_refused(e, NULL, 0, "cnn-small", "tensor 'a' is compressed");
    remove(m);
    remove(a);
    remove(e);
}
END_TEST

START_TEST(bad_counters_and_bad_specs)
{
    char m[256], a[256], e[256], out[256];
    tmp_file(m, sizeof m, "bm.advc");
    tmp_file(a, sizeof a, "ba.npz");
    tmp_file(e, sizeof e, "bedit.npz");
    tmp_file(out, sizeof out, "bout.advc");
    make_model("resnet:depth=8", 4, m);
    ck_assert_int_eq(advc_model_export_npz(m, a, NULL), ADVC_OK);
    static advc_npz_item it[512];
    advc_npz z;
    int n = load_items(a, &z, it);
    int k = find_item(it, n, "stage2.block0.bn1.num_batches_tracked");
    advc_npz_item keep = it[k];
    float one = 1.0f;
    it[k].dtype = ADVC_NPY_F32;
    it[k].data = &one;
    expect_refused(e, it, n, "resnet:depth=8", "tensor 'stage2.block0.bn1."
                   "num_batches_tracked' has dtype '<f4', model "
                   "'resnet:depth=8' needs an integer");
    int64_t neg = -1;
    it[k] = keep;
    it[k].data = &neg;
    expect_refused(e, it, n, "resnet:depth=8", "must be a count >= 0");
    int32_t i4 = 12; /* any integer type will do */
    it[k].dtype = ADVC_NPY_I32;
    it[k].data = &i4;
    ck_assert_int_eq(advc_npz_write(e, it, n), ADVC_OK);
    ck_assert_int_eq(advc_model_import_npz(e, "resnet:depth=8", MNIST, 10,
                                           RELU, out), ADVC_OK);
    advc_npz_free(&z);
    /* a bad spec is the caller's error (exit 2 in the CLI), not the file's */
    ck_assert_int_eq(advc_model_import_npz(a, "resnet:depth=9", MNIST, 10,
                                           RELU, out), ADVC_ERR_ARG);
    /* a missing archive is an I/O error naming it */
    remove(e);
    ck_assert_int_eq(advc_model_import_npz(e, "resnet:depth=8", MNIST, 10,
                                           RELU, out), ADVC_ERR_IO);
    check_msg(e, "cannot open");
    remove(m);
    remove(a);
    remove(out);
}
END_TEST

Suite *advc_suite_interop(void)
{
    Suite *s = suite_create("interop");
    TCase *t = tcase_create("torch");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, names_follow_the_table);
    tcase_add_test(t, export_import_export_is_bit_exact);
    tcase_add_test(t, batch_norm_counters_survive_the_round_trip);
    tcase_add_test(t, mismatched_archives_name_the_tensor);
    tcase_add_test(t, bad_counters_and_bad_specs);
    suite_add_tcase(s, t);
    return s;
}
