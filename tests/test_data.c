/* test_data.c: the dataset readers.  Loads the committed real-MNIST sample
 * (and the full sets when `make data` has fetched them), then feeds the
 * IDX and CIFAR-10 readers files built here, good and broken in every way
 * we know, and checks each broken one is refused with the right status and
 * a message naming the file and the problem.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "advc/data.h"

#ifdef ADVC_SOURCE_DIR
#define DATA_DIR ADVC_SOURCE_DIR "/data/"
#else
#define DATA_DIR "data/"
#endif

/* ---- a scratch directory per test (tu_tmpdir, testutil.h) -------------- */

static tu_tmpdir scratch;
static const char *tmpdir = scratch.dir;

static void setup(void) { tu_tmpdir_make(&scratch, "data"); }

static void teardown(void) { tu_tmpdir_remove(&scratch); }

/* Path of name inside the scratch directory (a static ring of buffers so a
 * test can hold a few at once). */
static const char *tpath(const char *name)
{
    return tu_tmpdir_path(&scratch, name);
}

static const char *write_file(const char *name, const void *bytes, size_t n)
{
    const char *p = tpath(name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    if (n) ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* The byte stored at element i of a synthetic file. */
static uint8_t pix(size_t i) { return (uint8_t)(i * 37 + 11); }

/* An IDX image file: header (magic, n, rows, cols) then `bytes` pixels. */
static const char *idx_images(const char *name, uint32_t magic, uint32_t n,
                              uint32_t rows, uint32_t cols, size_t bytes)
{
    uint8_t *b = malloc(16 + bytes);
    ck_assert_ptr_nonnull(b);
    put_be32(b, magic);
    put_be32(b + 4, n);
    put_be32(b + 8, rows);
    put_be32(b + 12, cols);
    for (size_t i = 0; i < bytes; i++) b[16 + i] = pix(i);
    const char *p = write_file(name, b, 16 + bytes);
    free(b);
    return p;
}

/* An IDX label file with header count n and `bytes` labels i % 10, except
 * that label number bad_at (if < bytes) is bad_value. */
static const char *idx_labels(const char *name, uint32_t magic, uint32_t n,
                              size_t bytes, size_t bad_at, uint8_t bad_value)
{
    uint8_t *b = malloc(8 + bytes);
    ck_assert_ptr_nonnull(b);
    put_be32(b, magic);
    put_be32(b + 4, n);
    for (size_t i = 0; i < bytes; i++)
        b[8 + i] = i == bad_at ? bad_value : (uint8_t)(i % 10);
    const char *p = write_file(name, b, 8 + bytes);
    free(b);
    return p;
}

#define NO_BAD ((size_t)-1)

/* A good 3-image 2x3 pair. */
static void good_pair(const char **img, const char **lab)
{
    *img = idx_images("img", 0x803, 3, 2, 3, 18);
    *lab = idx_labels("lab", 0x801, 3, 3, NO_BAD, 0);
}

/* Asserts status s == want, that the last error names `path` and contains
 * `what`, and that *d was left empty. */
static void expect_fail(advc_status s, advc_status want, const char *path,
                        const char *what, const advc_dataset *d)
{
    const char *m = advc_last_error();
    ck_assert_msg(s == want, "status %s, expected %s (message: %s)",
                  advc_status_name(s), advc_status_name(want), m);
    ck_assert_msg(strstr(m, path) != NULL, "message does not name %s: %s",
                  path, m);
    ck_assert_msg(strstr(m, what) != NULL, "message lacks \"%s\": %s", what,
                  m);
    ck_assert_msg(strchr(m, '\n') == NULL, "message is not one line: %s", m);
    ck_assert_ptr_null(d->x);
    ck_assert_ptr_null(d->y);
    ck_assert_int_eq(d->n, 0);
}

/* ---- the committed real-MNIST sample ------------------------------------ */

/* Labels are ints (the attacks' type); want holds the file's bytes. */
static void assert_labels(const int *y, const uint8_t *want, int n)
{
    for (int i = 0; i < n; i++) ck_assert_int_eq(y[i], want[i]);
}

static void check_mnist_like(const advc_dataset *d, int n)
{
    ck_assert_int_eq(d->n, n);
    ck_assert_int_eq(d->c, 1);
    ck_assert_int_eq(d->h, 28);
    ck_assert_int_eq(d->w, 28);
    ck_assert_int_eq(d->classes, 10);
    float lo = 1, hi = 0;
    size_t np = (size_t)n * 784;
    for (size_t i = 0; i < np; i++) {
        if (d->x[i] < lo) lo = d->x[i];
        if (d->x[i] > hi) hi = d->x[i];
    }
    ck_assert(lo == 0.0f); /* MNIST backgrounds are 0, strokes reach 255 */
    ck_assert(hi == 1.0f);
    int count[10] = {0};
    for (int i = 0; i < n; i++) {
        ck_assert_uint_lt(d->y[i], 10);
        count[d->y[i]]++;
    }
    for (int k = 0; k < 10; k++) ck_assert_int_gt(count[k], 0);
}

START_TEST(sample_train)
{
    advc_dataset d;
    advc_status s = advc_dataset_load_dir(DATA_DIR "mnist-sample", true, &d);
    ck_assert_msg(s == ADVC_OK, "%s", advc_last_error());
    check_mnist_like(&d, 1000);
    /* The first ten training labels of MNIST. */
    static const uint8_t first[10] = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
    assert_labels(d.y, first, 10);
    advc_dataset_free(&d);
}
END_TEST

START_TEST(sample_test)
{
    advc_dataset d;
    advc_status s = advc_idx_load(DATA_DIR "mnist-sample/t10k-images-idx3-ubyte",
                                  DATA_DIR "mnist-sample/t10k-labels-idx1-ubyte",
                                  &d);
    ck_assert_msg(s == ADVC_OK, "%s", advc_last_error());
    check_mnist_like(&d, 1000);
    static const uint8_t first[10] = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
    assert_labels(d.y, first, 10);

    /* Pixels are the file's bytes / 255, in file order. */
    FILE *f = fopen(DATA_DIR "mnist-sample/t10k-images-idx3-ubyte", "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t b[16 + 784];
    ck_assert_uint_eq(fread(b, 1, sizeof b, f), sizeof b);
    fclose(f);
    for (int i = 0; i < 784; i++)
        ck_assert(d.x[i] == (float)b[16 + i] / 255.0f);
    advc_dataset_free(&d);
}
END_TEST

/* The full sets, when `make data` has fetched them; otherwise a SKIP line
 * says which and why (Check has no skipped state, so the test passes). */
static void full_set(const char *dir)
{
    struct stat st;
    char p[256];
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", dir);
    if (stat(p, &st) != 0) {
        printf("SKIP data/full: %s is absent (run make data to fetch it)\n",
               p);
        return;
    }
    advc_dataset d;
    advc_status s = advc_dataset_load_dir(dir, false, &d);
    ck_assert_msg(s == ADVC_OK, "%s", advc_last_error());
    check_mnist_like(&d, 10000);
    advc_dataset_free(&d);
    s = advc_dataset_load_dir(dir, true, &d);
    ck_assert_msg(s == ADVC_OK, "%s", advc_last_error());
    check_mnist_like(&d, 60000);
    advc_dataset_free(&d);
}

START_TEST(full_mnist) { full_set(DATA_DIR "mnist"); }
END_TEST

START_TEST(full_fashion) { full_set(DATA_DIR "fashion-mnist"); }
END_TEST

/* ---- IDX: good and bad synthetic files ---------------------------------- */

START_TEST(idx_good)
{
    const char *img, *lab;
    good_pair(&img, &lab);
    advc_dataset d;
    ck_assert_int_eq(advc_idx_load(img, lab, &d), ADVC_OK);
    ck_assert_int_eq(d.n, 3);
    ck_assert_int_eq(d.c, 1);
    ck_assert_int_eq(d.h, 2);
    ck_assert_int_eq(d.w, 3);
    for (size_t i = 0; i < 18; i++) ck_assert(d.x[i] == pix(i) / 255.0f);
    for (int i = 0; i < 3; i++) ck_assert_uint_eq(d.y[i], (unsigned)i);
    advc_dataset_free(&d);
    advc_dataset_free(&d); /* twice is fine */
    advc_dataset_free(NULL);
}
END_TEST

START_TEST(idx_truncated)
{
    const char *img = idx_images("img", 0x803, 3, 2, 3, 17);
    const char *lab = idx_labels("lab", 0x801, 3, 3, NO_BAD, 0);
    advc_dataset d;
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "truncated", &d);
    /* A truncated label file too. */
    img = idx_images("img", 0x803, 3, 2, 3, 18);
    lab = idx_labels("lab", 0x801, 3, 2, NO_BAD, 0);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, lab,
                "truncated", &d);
    /* Cut inside the header. */
    uint8_t h[10] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0};
    img = write_file("short", h, sizeof h);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "truncated IDX header", &d);
    img = write_file("tiny", h, 3);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "too short", &d);
}
END_TEST

START_TEST(idx_trailing)
{
    const char *img = idx_images("img", 0x803, 3, 2, 3, 19);
    const char *lab = idx_labels("lab", 0x801, 3, 3, NO_BAD, 0);
    advc_dataset d;
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "1 trailing bytes", &d);
}
END_TEST

START_TEST(idx_wrong_magic)
{
    const char *img, *lab;
    advc_dataset d;
    good_pair(&img, &lab);
    /* Swapped paths: each file has the other's magic. */
    expect_fail(advc_idx_load(lab, img, &d), ADVC_ERR_FORMAT, lab,
                "wrong magic", &d);
    /* Not IDX at all. */
    img = idx_images("png", 0x89504e47, 3, 2, 3, 18);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "not an IDX file", &d);
    /* IDX, but 32-bit ints (type 0x0C) rather than bytes. */
    img = idx_images("ints", 0x0c03, 3, 2, 3, 18);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "element type 0x0c", &d);
    /* Unsigned bytes with 4 dimensions. */
    img = idx_images("dims4", 0x804, 3, 2, 3, 18);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "4 dimensions", &d);
}
END_TEST

START_TEST(idx_label_range)
{
    const char *img = idx_images("img", 0x803, 3, 2, 3, 18);
    const char *lab = idx_labels("lab", 0x801, 3, 3, 2, 10);
    advc_dataset d;
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, lab,
                "label 10 at index 2", &d);
    lab = idx_labels("lab255", 0x801, 3, 3, 0, 255);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, lab,
                "label 255 at index 0", &d);
}
END_TEST

START_TEST(idx_count_mismatch)
{
    const char *img = idx_images("img", 0x803, 3, 2, 3, 18);
    const char *lab = idx_labels("lab", 0x801, 2, 2, NO_BAD, 0);
    advc_dataset d;
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "has 3 images", &d);
    ck_assert(strstr(advc_last_error(), lab) != NULL);
    ck_assert(strstr(advc_last_error(), "has 2 labels") != NULL);
}
END_TEST

START_TEST(idx_empty_file)
{
    const char *img, *lab;
    good_pair(&img, &lab);
    const char *z = write_file("zero", "", 0);
    advc_dataset d;
    expect_fail(advc_idx_load(z, lab, &d), ADVC_ERR_FORMAT, z, "empty", &d);
    expect_fail(advc_idx_load(img, z, &d), ADVC_ERR_FORMAT, z, "empty", &d);
}
END_TEST

START_TEST(idx_gzip)
{
    const char *img, *lab;
    good_pair(&img, &lab);
    /* The start of a real gzip member: magic 1f 8b, deflate, flags, ... */
    static const uint8_t gz[20] = {0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0, 0, 3};
    const char *g = write_file("train-images-idx3-ubyte.gz", gz, sizeof gz);
    advc_dataset d;
    expect_fail(advc_idx_load(g, lab, &d), ADVC_ERR_FORMAT, g, "gunzip", &d);
    /* Even a 1-byte gzip-looking file is refused cleanly. */
    g = write_file("one", gz, 1);
    expect_fail(advc_idx_load(g, lab, &d), ADVC_ERR_FORMAT, g, "too short",
                &d);
}
END_TEST

START_TEST(idx_missing)
{
    const char *img, *lab;
    good_pair(&img, &lab);
    const char *m = tpath("no-such-file");
    advc_dataset d;
    expect_fail(advc_idx_load(m, lab, &d), ADVC_ERR_IO, m, "cannot open",
                &d);
    expect_fail(advc_idx_load(img, m, &d), ADVC_ERR_IO, m, "cannot open",
                &d);
    /* A directory where a file should be. */
    expect_fail(advc_idx_load(tmpdir, lab, &d), ADVC_ERR_IO, tmpdir,
                "not a regular file", &d);
    ck_assert_int_eq(advc_idx_load(NULL, lab, &d), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_idx_load(img, lab, NULL), ADVC_ERR_ARG);
}
END_TEST

START_TEST(idx_absurd_dims)
{
    const char *lab = idx_labels("lab", 0x801, 3, 3, NO_BAD, 0);
    advc_dataset d;
    /* 2^31 images of 28x28 claimed by a 100-byte file: refused from the
     * header alone, nothing allocated. */
    const char *img = idx_images("huge", 0x803, 0x80000000u, 28, 28, 84);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "truncated", &d);
    /* Dimensions whose product overflows 64 bits. */
    img = idx_images("overflow", 0x803, 0xffffffffu, 0xffffffffu,
                     0xffffffffu, 8);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "overflow", &d);
    /* Zero-sized dimensions. */
    img = idx_images("zero-n", 0x803, 0, 28, 28, 0);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "dimension 0 is 0", &d);
    img = idx_images("zero-w", 0x803, 3, 28, 0, 0);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, img,
                "dimension 2 is 0", &d);
    /* 2^31 labels in the label file. */
    img = idx_images("img", 0x803, 3, 2, 3, 18);
    lab = idx_labels("hugelab", 0x801, 0x80000000u, 3, NO_BAD, 0);
    expect_fail(advc_idx_load(img, lab, &d), ADVC_ERR_FORMAT, lab,
                "truncated", &d);
}
END_TEST

/* ---- CIFAR-10 ------------------------------------------------------------ */

#define REC 3073

/* Byte at pixel p (0..1023) of channel ch (0 R, 1 G, 2 B) of record r:
 * each plane has its own range so a plane mix-up shows. */
static uint8_t cpix(int r, int ch, int p)
{
    return (uint8_t)(ch * 80 + (r * 7 + p) % 64);
}

static const char *cifar_file(const char *name, const uint8_t *labels,
                              int nrec, long extra)
{
    size_t len = (size_t)nrec * REC;
    uint8_t *b = calloc(len + 8, 1);
    ck_assert_ptr_nonnull(b);
    for (int r = 0; r < nrec; r++) {
        uint8_t *rec = b + (size_t)r * REC;
        rec[0] = labels[r];
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 1024; p++)
                rec[1 + ch * 1024 + p] = cpix(r, ch, p);
    }
    const char *path = write_file(name, b, (size_t)((long)len + extra));
    free(b);
    return path;
}

static const uint8_t clab[5] = {3, 0, 9, 6, 1};

START_TEST(cifar_good)
{
    const char *p[2];
    p[0] = cifar_file("data_batch_1.bin", clab, 3, 0);
    p[1] = cifar_file("data_batch_2.bin", clab + 3, 2, 0);
    advc_dataset d;
    ck_assert_int_eq(advc_cifar10_load(p, 1, &d), ADVC_OK);
    ck_assert_int_eq(d.n, 3);
    ck_assert_int_eq(d.c, 3);
    ck_assert_int_eq(d.h, 32);
    ck_assert_int_eq(d.w, 32);
    ck_assert_int_eq(d.classes, 10);
    assert_labels(d.y, clab, 3);
    /* Plane order: x[r][ch][p] is the file's channel ch, R then G then B. */
    for (int r = 0; r < 3; r++)
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 1024; p++)
                ck_assert(d.x[((size_t)r * 3 + ch) * 1024 + p] ==
                          cpix(r, ch, p) / 255.0f);
    advc_dataset_free(&d);

    /* Two files are concatenated in order. */
    ck_assert_int_eq(advc_cifar10_load(p, 2, &d), ADVC_OK);
    ck_assert_int_eq(d.n, 5);
    assert_labels(d.y, clab, 5);
    ck_assert(d.x[(size_t)3 * 3072 + 1024] == cpix(0, 1, 0) / 255.0f);
    advc_dataset_free(&d);
}
END_TEST

START_TEST(cifar_bad_length)
{
    advc_dataset d;
    const char *p = cifar_file("short.bin", clab, 3, -1);
    expect_fail(advc_cifar10_load(&p, 1, &d), ADVC_ERR_FORMAT, p,
                "not a multiple of the 3073-byte", &d);
    p = cifar_file("long.bin", clab, 3, 1);
    expect_fail(advc_cifar10_load(&p, 1, &d), ADVC_ERR_FORMAT, p,
                "+ 1 bytes", &d);
    p = cifar_file("zero.bin", clab, 0, 0);
    expect_fail(advc_cifar10_load(&p, 1, &d), ADVC_ERR_FORMAT, p, "empty",
                &d);
    /* 3 CIFAR-100 records (3074 bytes each): named as such. */
    p = cifar_file("c100.bin", clab, 3, 3);
    expect_fail(advc_cifar10_load(&p, 1, &d), ADVC_ERR_FORMAT, p,
                "CIFAR-100", &d);
}
END_TEST

START_TEST(cifar_bad_label)
{
    static const uint8_t bad[3] = {1, 10, 2};
    const char *p[2];
    p[0] = cifar_file("good.bin", clab, 3, 0);
    p[1] = cifar_file("bad.bin", bad, 3, 0);
    advc_dataset d;
    expect_fail(advc_cifar10_load(p, 2, &d), ADVC_ERR_FORMAT, p[1],
                "label 10 in record 1", &d);
}
END_TEST

START_TEST(cifar_other_errors)
{
    advc_dataset d;
    const char *p[2];
    p[0] = cifar_file("good.bin", clab, 3, 0);
    p[1] = tpath("missing.bin");
    expect_fail(advc_cifar10_load(p, 2, &d), ADVC_ERR_IO, p[1],
                "cannot open", &d);
    static const uint8_t gz[REC] = {0x1f, 0x8b, 8};
    p[1] = write_file("cifar-10-binary.tar.gz", gz, sizeof gz);
    expect_fail(advc_cifar10_load(p, 2, &d), ADVC_ERR_FORMAT, p[1],
                "gzip", &d);
    ck_assert_int_eq(advc_cifar10_load(p, 0, &d), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_cifar10_load(NULL, 1, &d), ADVC_ERR_ARG);
}
END_TEST

/* ---- finding a split in a directory -------------------------------------- */

START_TEST(dir_idx_variants)
{
    advc_dataset d;
    /* Dotted names (train-images.idx3-ubyte) work too. */
    idx_images("t10k-images.idx3-ubyte", 0x803, 3, 2, 3, 18);
    idx_labels("t10k-labels.idx1-ubyte", 0x801, 3, 3, NO_BAD, 0);
    ck_assert_int_eq(advc_dataset_load_dir(tmpdir, false, &d), ADVC_OK);
    ck_assert_int_eq(d.n, 3);
    advc_dataset_free(&d);

    /* Only the training images: the labels file is reported missing. */
    idx_images("train-images-idx3-ubyte", 0x803, 3, 2, 3, 18);
    expect_fail(advc_dataset_load_dir(tmpdir, true, &d), ADVC_ERR_IO,
                "train-labels-idx1-ubyte", "missing", &d);

    /* Only gzipped labels: told to gunzip. */
    static const uint8_t gz[4] = {0x1f, 0x8b, 8, 0};
    write_file("train-labels-idx1-ubyte.gz", gz, sizeof gz);
    expect_fail(advc_dataset_load_dir(tmpdir, true, &d), ADVC_ERR_FORMAT,
                "train-labels-idx1-ubyte.gz", "gunzip", &d);
}
END_TEST

START_TEST(dir_cifar)
{
    advc_dataset d;
    ck_assert_int_eq(mkdir(tpath("cifar-10-batches-bin"), 0700), 0);
    cifar_file("cifar-10-batches-bin/test_batch.bin", clab, 2, 0);
    cifar_file("cifar-10-batches-bin/data_batch_1.bin", clab, 3, 0);
    ck_assert_int_eq(advc_dataset_load_dir(tmpdir, false, &d), ADVC_OK);
    ck_assert_int_eq(d.n, 2);
    ck_assert_int_eq(d.c, 3);
    advc_dataset_free(&d);
    /* Training needs all five batches. */
    expect_fail(advc_dataset_load_dir(tmpdir, true, &d), ADVC_ERR_IO,
                "data_batch_2.bin", "missing", &d);
    for (int b = 2; b <= 5; b++) {
        char name[64];
        snprintf(name, sizeof name, "cifar-10-batches-bin/data_batch_%d.bin",
                 b);
        cifar_file(name, clab, 1, 0);
    }
    ck_assert_int_eq(advc_dataset_load_dir(tpath("cifar-10-batches-bin"),
                                           true, &d), ADVC_OK);
    ck_assert_int_eq(d.n, 7);
    assert_labels(d.y, clab, 3);
    ck_assert_uint_eq(d.y[3], clab[0]);
    advc_dataset_free(&d);
}
END_TEST

START_TEST(dir_nothing)
{
    advc_dataset d;
    expect_fail(advc_dataset_load_dir(tmpdir, true, &d), ADVC_ERR_IO, tmpdir,
                "no dataset found", &d);
    const char *m = tpath("nope");
    expect_fail(advc_dataset_load_dir(m, true, &d), ADVC_ERR_IO, m,
                "cannot open directory", &d);
    const char *f = write_file("plain", "x", 1);
    expect_fail(advc_dataset_load_dir(f, true, &d), ADVC_ERR_IO, f,
                "not a directory", &d);
}
END_TEST

/* ---- slice and subset ----------------------------------------------------- */

START_TEST(slice_and_subset)
{
    advc_dataset d, s;
    ck_assert_int_eq(advc_dataset_load_dir(DATA_DIR "mnist-sample", true, &d),
                     ADVC_OK);
    ck_assert_int_eq(advc_dataset_slice(&d, 10, 20, &s), ADVC_OK);
    ck_assert_int_eq(s.n, 10);
    ck_assert_int_eq(s.h, 28);
    ck_assert_int_eq(s.classes, 10);
    ck_assert_mem_eq(s.y, d.y + 10, 10 * sizeof *s.y);
    ck_assert_mem_eq(s.x, d.x + 10 * 784, 10 * 784 * sizeof(float));
    advc_dataset_free(&s);

    ck_assert_int_eq(advc_dataset_slice(&d, 0, 1000, &s), ADVC_OK);
    ck_assert_int_eq(s.n, 1000);
    ck_assert_mem_eq(s.x, d.x, 1000 * 784 * sizeof(float));
    advc_dataset_free(&s);

    ck_assert_int_eq(advc_dataset_slice(&d, 5, 5, &s), ADVC_OK);
    ck_assert_int_eq(s.n, 0);
    ck_assert_ptr_null(s.x);
    advc_dataset_free(&s);

    ck_assert_int_eq(advc_dataset_slice(&d, -1, 5, &s), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_dataset_slice(&d, 6, 5, &s), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_dataset_slice(&d, 0, 1001, &s), ADVC_ERR_ARG);
    ck_assert_ptr_null(s.x);
    ck_assert_int_eq(advc_dataset_slice(&d, 0, 1, &d), ADVC_ERR_ARG);

    static const int idx[4] = {999, 0, 7, 0};
    ck_assert_int_eq(advc_dataset_subset(&d, idx, 4, &s), ADVC_OK);
    ck_assert_int_eq(s.n, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(s.y[i], d.y[idx[i]]);
        ck_assert_mem_eq(s.x + i * 784, d.x + idx[i] * 784,
                         784 * sizeof(float));
    }
    advc_dataset_free(&s);
    static const int bad[2] = {0, 1000};
    ck_assert_int_eq(advc_dataset_subset(&d, bad, 2, &s), ADVC_ERR_ARG);
    ck_assert(strstr(advc_last_error(), "1000") != NULL);
    ck_assert_int_eq(advc_dataset_subset(&d, NULL, 1, &s), ADVC_ERR_ARG);
    advc_dataset_free(&d);
}
END_TEST

Suite *advc_suite_data(void)
{
    Suite *s = suite_create("data");
    TCase *t = tcase_create("sample");
    tcase_add_test(t, sample_train);
    tcase_add_test(t, sample_test);
    tcase_add_test(t, slice_and_subset);
    suite_add_tcase(s, t);

    t = tcase_create("full");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, full_mnist);
    tcase_add_test(t, full_fashion);
    suite_add_tcase(s, t);

    t = tcase_create("idx");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, idx_good);
    tcase_add_test(t, idx_truncated);
    tcase_add_test(t, idx_trailing);
    tcase_add_test(t, idx_wrong_magic);
    tcase_add_test(t, idx_label_range);
    tcase_add_test(t, idx_count_mismatch);
    tcase_add_test(t, idx_empty_file);
    tcase_add_test(t, idx_gzip);
    tcase_add_test(t, idx_missing);
    tcase_add_test(t, idx_absurd_dims);
    suite_add_tcase(s, t);

    t = tcase_create("cifar");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, cifar_good);
    tcase_add_test(t, cifar_bad_length);
    tcase_add_test(t, cifar_bad_label);
    tcase_add_test(t, cifar_other_errors);
    suite_add_tcase(s, t);

    t = tcase_create("dir");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, dir_idx_variants);
    tcase_add_test(t, dir_cifar);
    tcase_add_test(t, dir_nothing);
    suite_add_tcase(s, t);
    return s;
}
