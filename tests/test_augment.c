/* test_augment.c: training-time augmentation (src/io/augment.c) and its
 * use by the training loop.
 *
 *   - advc_crop_flip against the definition itself: the image padded by
 *     4 zeros, cropped, mirrored, for every offset and both flips, plus a
 *     few pixels worked out by hand;
 *   - advc_augment_image draws exactly dy, dx, flip in the documented
 *     order, every offset occurs, flips are about half, streams differ by
 *     epoch and batch, "none" copies and draws nothing;
 *   - the default rule: crop-flip on CIFAR-10 files (written here), none
 *     on the MNIST sample;
 *   - training on generated CIFAR-10 files: the default is crop-flip and
 *     is recorded in the checkpoint; two runs give the same bits; the loop
 *     trains on exactly the augmented images the draws say (a run without
 *     augmentation on images augmented here by hand ends bit-identical).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "advc/checkpoint.h"
#include "advc/data.h"
#include "advc/models.h"
#include "advc/train.h"

#ifdef ADVC_SOURCE_DIR
#define DATA_DIR ADVC_SOURCE_DIR "/data/"
#else
#define DATA_DIR "data/"
#endif

#define PAD ADVC_AUGMENT_PAD

/* A small image whose every pixel differs from 0 and from the others. */
static void known_image(float *x, int c, int h, int w)
{
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++)
                x[(ch * h + y) * w + xx] = (float)(1 + 100 * ch + 10 * y + xx);
}

/* The definition: pad by PAD zeros, crop (h, w) at (dy + PAD, dx + PAD),
 * mirror left-right when flip. */
static void crop_flip_by_definition(const float *in, float *out, int c,
                                    int h, int w, int dy, int dx, bool flip)
{
    int ph = h + 2 * PAD, pw = w + 2 * PAD;
    float *p = calloc((size_t)c * ph * pw, sizeof *p);
    float *crop = malloc((size_t)c * h * w * sizeof *crop);
    ck_assert(p && crop);
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                p[(ch * ph + y + PAD) * pw + x + PAD] = in[(ch * h + y) * w + x];
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                crop[(ch * h + y) * w + x] =
                    p[(ch * ph + y + dy + PAD) * pw + x + dx + PAD];
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                out[(ch * h + y) * w + x] =
                    crop[(ch * h + y) * w + (flip ? w - 1 - x : x)];
    free(p);
    free(crop);
}

START_TEST(crop_flip_formula)
{
    enum { C = 2, H = 5, W = 7 };
    float in[C * H * W], out[C * H * W], ref[C * H * W];
    known_image(in, C, H, W);
    for (int dy = -PAD; dy <= PAD; dy++)
        for (int dx = -PAD; dx <= PAD; dx++)
            for (int flip = 0; flip < 2; flip++) {
                advc_crop_flip(in, out, C, H, W, dy, dx, flip);
                crop_flip_by_definition(in, ref, C, H, W, dy, dx, flip);
                ck_assert_msg(memcmp(out, ref, sizeof out) == 0,
                              "dy %d dx %d flip %d", dy, dx, flip);
            }
    /* By hand: dy 1, dx -2, flipped.  out[ch][y][x] = in[ch][y+1][6-x-2]. */
    advc_crop_flip(in, out, C, H, W, 1, -2, true);
    ck_assert(out[0] == 15.0f);                   /* in[0][1][4]          */
    ck_assert(out[(1 * H + 2) * W + 3] == 132.0f); /* in[1][3][1]          */
    ck_assert(out[(0 * H + 0) * W + 5] == 0.0f);   /* column -1: padding   */
    ck_assert(out[(1 * H + 4) * W + 0] == 0.0f);   /* row 5: padding       */
    /* No shift, no flip: the image itself. */
    advc_crop_flip(in, out, C, H, W, 0, 0, false);
    ck_assert(memcmp(out, in, sizeof in) == 0);
}
END_TEST

START_TEST(augment_draws)
{
    enum { C = 3, H = 8, W = 8, N = 4000 };
    float in[C * H * W], out[C * H * W], ref[C * H * W];
    known_image(in, C, H, W);
    advc_rng r, q;
    advc_augment_rng(&r, 5, 2, 7);
    q = r;
    int seen[2 * PAD + 1][2 * PAD + 1] = { { 0 } }, flips = 0;
    for (int i = 0; i < N; i++) {
        advc_augment_image(ADVC_AUGMENT_CROP_FLIP, &r, in, out, C, H, W);
        int dy = (int)advc_rng_below(&q, 2 * PAD + 1) - PAD;
        int dx = (int)advc_rng_below(&q, 2 * PAD + 1) - PAD;
        bool flip = advc_rng_below(&q, 2) == 1;
        advc_crop_flip(in, ref, C, H, W, dy, dx, flip);
        ck_assert_msg(memcmp(out, ref, sizeof out) == 0, "draw %d", i);
        seen[dy + PAD][dx + PAD]++;
        flips += flip;
    }
    for (int a = 0; a <= 2 * PAD; a++)
        for (int b = 0; b <= 2 * PAD; b++)
            ck_assert_msg(seen[a][b] > 0, "offset (%d, %d) never drawn",
                          a - PAD, b - PAD);
    /* 4000 fair coins: 2000 +- 32 (one sd); +-200 is over six sd. */
    ck_assert_msg(flips > N / 2 - 200 && flips < N / 2 + 200, "%d flips",
                  flips);
    /* One stream per (seed, epoch, batch). */
    advc_rng a, b;
    advc_augment_rng(&a, 5, 2, 7);
    advc_augment_rng(&b, 5, 2, 7);
    ck_assert_uint_eq(advc_rng_u32(&a), advc_rng_u32(&b));
    uint64_t keys[3][3] = { { 5, 3, 7 }, { 5, 2, 8 }, { 6, 2, 7 } };
    for (int k = 0; k < 3; k++) {
        advc_augment_rng(&a, 5, 2, 7);
        advc_augment_rng(&b, keys[k][0], (int)keys[k][1], (long)keys[k][2]);
        ck_assert_uint_ne(advc_rng_u32(&a), advc_rng_u32(&b));
    }
    /* none: a copy, and no draw. */
    advc_augment_rng(&a, 5, 2, 7);
    b = a;
    advc_augment_image(ADVC_AUGMENT_NONE, &a, in, out, C, H, W);
    ck_assert(memcmp(out, in, sizeof in) == 0);
    ck_assert(a.state == b.state);
}
END_TEST

/* ---- CIFAR-10 files written here ------------------------------------------ */

#define REC 3073 /* label byte + 3 x 32 x 32 pixel bytes */

/* nrec records, label (first + r) % 10, pixels varying with record,
 * channel and position so crops and flips change the image. */
static void write_cifar(const char *path, int first, int nrec)
{
    unsigned char *b = malloc((size_t)nrec * REC);
    ck_assert_ptr_nonnull(b);
    for (int r = 0; r < nrec; r++) {
        unsigned char *rec = b + (size_t)r * REC;
        rec[0] = (unsigned char)((first + r) % 10);
        for (int p = 0; p < 3072; p++)
            rec[1 + p] = (unsigned char)((first + r) * 29 + p * 7 + p / 96);
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, (size_t)nrec * REC, f), (size_t)nrec * REC);
    ck_assert_int_eq(fclose(f), 0);
    free(b);
}

/* data_batch_1..5.bin (per records each) and test_batch.bin in t. */
static void write_cifar_dir(const tu_tmpdir *t, int per)
{
    char name[32];
    for (int k = 1; k <= 5; k++) {
        snprintf(name, sizeof name, "data_batch_%d.bin", k);
        write_cifar(tu_tmpdir_path(t, name), (k - 1) * per, per);
    }
    write_cifar(tu_tmpdir_path(t, "test_batch.bin"), 1000, per);
}

START_TEST(default_rule)
{
    tu_tmpdir t;
    tu_tmpdir_make(&t, "augment");
    write_cifar_dir(&t, 4);
    advc_dataset d;
    ck_assert_msg(advc_dataset_load_dir(t.dir, true, &d) == ADVC_OK, "%s",
                  advc_last_error());
    ck_assert_int_eq(d.n, 20);
    ck_assert_int_eq(advc_augment_default(&d), ADVC_AUGMENT_CROP_FLIP);
    advc_dataset_free(&d);
    ck_assert(advc_dataset_load_dir(DATA_DIR "mnist-sample", false, &d) ==
              ADVC_OK);
    ck_assert_int_eq(advc_augment_default(&d), ADVC_AUGMENT_NONE);
    advc_dataset_free(&d);
    for (int a = ADVC_AUGMENT_NONE; a < ADVC_AUGMENT_COUNT; a++)
        ck_assert_int_eq(advc_augment_parse(advc_augment_name(a)), a);
    ck_assert_int_eq(advc_augment_parse("default"), ADVC_AUGMENT_COUNT);
    ck_assert_int_eq(advc_augment_parse("flip"), ADVC_AUGMENT_COUNT);
    tu_tmpdir_remove(&t);
}
END_TEST

/* ---- the training loop ----------------------------------------------------- */

#define TB 25 /* batch */

/* Trains "linear" on d for one epoch from seed-1 weights (SGD, plain) and
 * returns a copy of the parameters. */
static float *train_linear(const advc_dataset *d, advc_augment aug,
                           const char *out, size_t *np)
{
    advc_graph *g = NULL;
    advc_shape in = { 3, 32, 32 };
    advc_act_spec relu = { ADVC_ACT_RELU, 0 };
    ck_assert(advc_model_build("linear", in, 10, relu, &g) == ADVC_OK);
    ck_assert(advc_graph_compile(g, TB, NULL) == ADVC_OK);
    advc_graph_init_params_as(g, 1, ADVC_INIT_UNIFORM);
    advc_train_config c = advc_train_defaults();
    c.batch = TB;
    c.opt = advc_opt_defaults(ADVC_OPT_SGD);
    c.opt.momentum = 0;
    c.sched.lr = 0.05f;
    c.augment = aug;
    c.progress = ADVC_PROGRESS_NONE;
    c.out_path = out;
    c.spec = "linear";
    advc_train_result res;
    ck_assert_msg(advc_train(g, d, &c, &res) == ADVC_OK, "%s",
                  advc_last_error());
    const float *p = advc_graph_params(g, np);
    float *copy = malloc(*np * sizeof *copy);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, p, *np * sizeof *p);
    advc_graph_free(g);
    return copy;
}

/* d's images as epoch 0 of a run with seed 1 gathers them: the loop's
 * order (identity shuffled by the stream (seed, 1000 + epoch), as
 * train.c's train_epoch does) and, batch s, the draws of
 * advc_augment_rng(seed, 0, s) image by image. */
static void augment_by_hand(advc_dataset *d)
{
    size_t per = (size_t)d->c * d->h * d->w;
    int *perm = malloc((size_t)d->n * sizeof *perm);
    float *x = malloc((size_t)d->n * per * sizeof *x);
    ck_assert(perm && x);
    for (int i = 0; i < d->n; i++) perm[i] = i;
    advc_rng r;
    advc_rng_seed(&r, 1, 1000);
    advc_rng_shuffle(&r, perm, d->n);
    for (int s = 0; s < d->n / TB; s++) {
        advc_augment_rng(&r, 1, 0, s);
        for (int i = 0; i < TB; i++) {
            int k = perm[s * TB + i];
            advc_augment_image(ADVC_AUGMENT_CROP_FLIP, &r, d->x + k * per,
                               x + k * per, d->c, d->h, d->w);
        }
    }
    memcpy(d->x, x, (size_t)d->n * per * sizeof *x);
    free(perm);
    free(x);
}

START_TEST(cifar_training)
{
    tu_tmpdir t;
    tu_tmpdir_make(&t, "augment");
    write_cifar_dir(&t, 10);
    advc_dataset d;
    ck_assert(advc_dataset_load_dir(t.dir, true, &d) == ADVC_OK);
    char out[256];
    snprintf(out, sizeof out, "%s", tu_tmpdir_path(&t, "m.advc"));
    size_t np, n2, n3, n4;
    float *def = train_linear(&d, ADVC_AUGMENT_DEFAULT, out, &np);
    /* The default on CIFAR-10 is crop-flip, and the checkpoint says so. */
    advc_checkpoint ck;
    ck_assert(advc_checkpoint_read(out, &ck) == ADVC_OK);
    char v[32];
    ck_assert(advc_meta_get(ck.meta, "augment", v, sizeof v));
    ck_assert_str_eq(v, "crop-flip");
    advc_checkpoint_free(&ck);
    float *again = train_linear(&d, ADVC_AUGMENT_CROP_FLIP, NULL, &n2);
    float *none = train_linear(&d, ADVC_AUGMENT_NONE, NULL, &n3);
    ck_assert(np == n2 && np == n3);
    ck_assert_msg(memcmp(def, again, np * sizeof *def) == 0,
                  "same seed, same threads: other bits");
    ck_assert_msg(memcmp(def, none, np * sizeof *def) != 0,
                  "crop-flip changed nothing");
    /* The loop trained on exactly the images the draws say. */
    augment_by_hand(&d);
    float *hand = train_linear(&d, ADVC_AUGMENT_NONE, NULL, &n4);
    ck_assert_msg(memcmp(def, hand, np * sizeof *def) == 0,
                  "the loop's crops differ from the documented draws");
    free(def), free(again), free(none), free(hand);
    advc_dataset_free(&d);
    tu_tmpdir_remove(&t);
}
END_TEST

Suite *advc_suite_augment(void)
{
    Suite *s = suite_create("augment");
    TCase *tc = tcase_create("augment");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, crop_flip_formula);
    tcase_add_test(tc, augment_draws);
    tcase_add_test(tc, default_rule);
    tcase_add_test(tc, cifar_training);
    suite_add_tcase(s, tc);
    return s;
}
