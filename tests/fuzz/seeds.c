/* seeds.c: writes the fuzz targets' seed corpus (tests/fuzz/corpus/),
 * small valid inputs of every format, so the fuzzers start from files
 * that get past the first checks.  `make fuzz-seeds` runs it; the output
 * is committed, so this only needs running when a format changes.
 * (corpus/values/ is written by hand: a byte picking the table, '0' +
 * index, then a value as typed on the command line.)
 *   fuzz-seeds DIR       writes DIR/<target>/<name>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "advc/advc.h"

static const char *root;

static void die(const char *what)
{
    fprintf(stderr, "fuzz-seeds: %s: %s\n", what, advc_last_error());
    exit(1);
}

static const char *path(const char *target, const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", root, target);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) die(p);
    snprintf(p, sizeof p, "%s/%s/%s", root, target, name);
    return p;
}

static void put(const char *target, const char *name, const void *b,
                size_t n)
{
    if (advc_write_file(path(target, name), b, n) != ADVC_OK) die(name);
}

/* An IDX image file (n images of r x c) and its labels, as fuzz_idx
 * takes them: u16 split, image file, label file. */
static void idx_seed(const char *name, int n, int r, int c)
{
    uint8_t b[2 + 16 + 256 + 8 + 16];
    size_t img = 16 + (size_t)(n * r * c), k = 0;
    b[k++] = (uint8_t)img;
    b[k++] = (uint8_t)(img >> 8);
    const uint8_t ih[16] = { 0, 0, 8, 3, 0, 0, 0, (uint8_t)n, 0, 0, 0,
                             (uint8_t)r, 0, 0, 0, (uint8_t)c };
    memcpy(b + k, ih, 16);
    k += 16;
    for (int i = 0; i < n * r * c; i++) b[k++] = (uint8_t)(i * 37);
    const uint8_t lh[8] = { 0, 0, 8, 1, 0, 0, 0, (uint8_t)n };
    memcpy(b + k, lh, 8);
    k += 8;
    for (int i = 0; i < n; i++) b[k++] = (uint8_t)(i % 10);
    put("idx", name, b, k);
}

/* files CIFAR-10 files of one record each, as fuzz_cifar takes them. */
static void cifar_seed(const char *name, int files)
{
    static uint8_t b[1 + 3 * 3073];
    b[0] = (uint8_t)(files - 1);
    for (int f = 0; f < files; f++) {
        uint8_t *r = b + 1 + 3073 * f;
        r[0] = (uint8_t)(3 + f);
        for (int i = 1; i < 3073; i++) r[i] = (uint8_t)(i * 7 + f);
    }
    put("cifar", name, b, 1 + 3073 * (size_t)files);
}

/* A model file as fuzz_checkpoint takes it: a 1 (append the CRC), then
 * the file without its CRC. */
static void model_seed(const char *name, const char *spec, advc_shape in,
                       int classes, const char *act)
{
    advc_act_spec a;
    advc_graph *g;
    if (advc_act_spec_parse(act, &a) != ADVC_OK ||
        advc_model_build(spec, in, classes, a, &g) != ADVC_OK ||
        advc_graph_compile(g, 1, NULL) != ADVC_OK)
        die(spec);
    advc_graph_init_params(g, 1);
    const char *p = path("checkpoint", name);
    if (advc_model_save(p, g, spec, a, "epoch=1\nseed=1\nrecipe=std\n") !=
        ADVC_OK)
        die(name);
    advc_graph_free(g);
    static uint8_t b[1 << 16];
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(b + 1, 1, sizeof b - 1, f) : 0;
    if (f) fclose(f);
    if (n < 8 || n == sizeof b - 1) die(p);
    b[0] = 1;
    put("checkpoint", name, b, n - 4 + 1);
}

static void npy_seeds(void)
{
    float f[6] = { 0.0f, 0.5f, 1.0f, -1.0f, 1e-30f, 3.0f };
    int32_t iv[4] = { 0, 9, -1, 7 };
    uint8_t u[1] = { 255 };
    size_t s2[2] = { 2, 3 }, s1[1] = { 4 };
    if (advc_npy_write(path("npy", "f32-2x3.npy"), ADVC_NPY_F32, f, 2, s2) ||
        advc_npy_write(path("npy", "i32-4.npy"), ADVC_NPY_I32, iv, 1, s1) ||
        advc_npy_write(path("npy", "u8-scalar.npy"), ADVC_NPY_U8, u, 0,
                       NULL))
        die("npy");
    /* format 2.0, as numpy.save writes when the header is long */
    const char h[] = "{'descr': '<i4', 'fortran_order': False, "
                     "'shape': (1, 1), }";
    size_t hl = (12 + sizeof h + 63) / 64 * 64 - 12; /* dict, pad, '\n' */
    uint8_t b[256] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, (uint8_t)hl };
    memcpy(b + 12, h, sizeof h - 1);
    memset(b + 12 + sizeof h - 1, ' ', hl - (sizeof h - 1));
    b[12 + hl - 1] = '\n';
    const uint8_t nine[4] = { 9, 0, 0, 0 }; /* int32 9, little-endian */
    memcpy(b + 12 + hl, nine, 4);
    put("npy", "i32-v2.npy", b, 12 + hl + 4);
}

static void spec_seeds(void)
{
    static const char *const specs[] = {
        "linear", "mlp:hidden=8-8,dropout=0.5", "maxout:units=4,pieces=2",
        "cnn-small", "cnn", "resnet:depth=8,width=4,preact=1",
        "resnet:blocks=1-1,width=2", "msdnet:blocks=2,scales=2",
        "psoftplus:10", "silu" };
    char name[16];
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        snprintf(name, sizeof name, "spec%zu", i);
        put("model_spec", name, specs[i], strlen(specs[i]));
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz-seeds DIR\n");
        return 2;
    }
    root = argv[1];
    if (mkdir(root, 0755) != 0 && errno != EEXIST) die(root);
    idx_seed("three-2x3", 3, 2, 3);
    idx_seed("one-1x1", 1, 1, 1);
    cifar_seed("one-file", 1);
    cifar_seed("three-files", 3);
    model_seed("linear", "linear", (advc_shape){ 1, 2, 2 }, 3, "relu");
    model_seed("mlp", "mlp:hidden=3,dropout=0.1",
               (advc_shape){ 1, 2, 2 }, 2, "psoftplus:10");
    model_seed("resnet", "resnet:depth=8,width=1",
               (advc_shape){ 1, 4, 4 }, 2, "silu");
    npy_seeds();
    spec_seeds();
    return 0;
}
