/* advc/data.h: labelled image sets read from disk: MNIST / Fashion-MNIST
 * (IDX files) and CIFAR-10 (binary batches), plus copies of row ranges.
 * Readers check every header field against the file's length before they
 * allocate or read, and report a bad file by name (advc_last_error()).
 * Training-time augmentation of single images is here too (augment.c);
 * batching and shuffling are the training loop's.
 */
#ifndef ADVC_DATA_H
#define ADVC_DATA_H

#include "advc/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A labelled image set, pixels scaled to [0,1] (byte / 255). */
typedef struct {
    int n, c, h, w;     /* count, channels, height, width */
    int classes;        /* 10 for MNIST / Fashion-MNIST / CIFAR-10 */
    float *x;           /* (n, c, h, w), advc_alloc'd */
    int *y;             /* (n) labels in [0, classes): the type the attacks,
                           advc_predict and the losses take, so d.y goes
                           straight to advc_attack_run                    */
} advc_dataset;

/* Every loader zeroes *out first, so advc_dataset_free(out) is safe after
 * any return.  On failure nothing stays allocated.
 *
 * IDX (LeCun's format, all integers big-endian):
 *   images: 0x00000803, n, rows, cols, then n*rows*cols bytes
 *   labels: 0x00000801, n, then n bytes, each in [0, 10)
 * Plain files only: gzip-compressed ones are refused with a hint to
 * gunzip them (`make data` does).  Result: c = 1, h = rows, w = cols. */
advc_status advc_idx_load(const char *images_path, const char *labels_path,
                          advc_dataset *out);

/* CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin): records of
 * 3073 bytes, 1 label byte then 3072 pixel bytes: the red 32x32 plane, then
 * green, then blue, each row-major.  npaths files are concatenated in the
 * given order.  Result: c = 3, h = w = 32. */
advc_status advc_cifar10_load(const char **paths, int npaths,
                              advc_dataset *out);

/* Finds and loads the train (train = true) or test split in dir:
 *   MNIST / Fashion-MNIST: {train,t10k}-{images-idx3,labels-idx1}-ubyte,
 *     or the {train,t10k}-{images.idx3,labels.idx1}-ubyte spelling;
 *   CIFAR-10: data_batch_1..5.bin / test_batch.bin, in dir or in
 *     dir/cifar-10-batches-bin/.
 * IDX files are looked for first.  Finding only .gz versions is an error
 * that says to gunzip them. */
advc_status advc_dataset_load_dir(const char *dir, bool train,
                                  advc_dataset *out);

/* Frees x and y and zeroes *d.  NULL and already-freed sets are fine. */
void advc_dataset_free(advc_dataset *d);

/* Copy of rows [lo, hi), 0 <= lo <= hi <= d->n (validation splits,
 * --limit).  lo == hi gives an empty set (n = 0, x = y = NULL).
 * out must not be d. */
advc_status advc_dataset_slice(const advc_dataset *d, int lo, int hi,
                               advc_dataset *out);

/* Copy of rows idx[0..k), in that order (repeats allowed), each index in
 * [0, d->n).  out must not be d. */
advc_status advc_dataset_subset(const advc_dataset *d, const int *idx, int k,
                                advc_dataset *out);

/* A short fingerprint of a data set's contents: "n:xxxxxxxx", the count
 * and the CRC-32 of every label and every pixel as a byte (round(255 x)),
 * in order.  Checkpoints record the training and test sets' fingerprints
 * so that evaluating on other data is noticed. */
void advc_dataset_fingerprint(const advc_dataset *d, char *buf,
                              size_t bufsz);

/* ---- augmentation (augment.c) ---------------------------------------------
 * What the training loop does to each training image as it gathers a
 * batch (--augment); held-out, validation and test images are never
 * augmented.
 *   none       the image as is
 *   crop-flip  a random crop from the image zero-padded by 4 pixels on
 *              every side, then a horizontal flip with probability 1/2
 *              (the CIFAR-10 recipe of He et al. 2016 and of every
 *              adversarial-training reference on CIFAR-10)
 * DEFAULT asks for the default rule, advc_augment_default. */
typedef enum {
    ADVC_AUGMENT_DEFAULT = 0,
    ADVC_AUGMENT_NONE,
    ADVC_AUGMENT_CROP_FLIP,
    ADVC_AUGMENT_COUNT
} advc_augment;

#define ADVC_AUGMENT_PAD 4 /* crop-flip's zero padding, pixels per side */

const char *advc_augment_name(advc_augment a); /* "none", "crop-flip" */
advc_augment advc_augment_parse(const char *s); /* COUNT if unknown */
/* The default rule, the only one: crop-flip for colour images (CIFAR-10,
 * the colour format advc reads), none for greyscale ones (MNIST and
 * Fashion-MNIST, where a shifted or mirrored digit is another picture). */
advc_augment advc_augment_default(const advc_dataset *d);

/* The generator of one batch's draws: stream (epoch, batch) of the
 * run's seed, so the same seed gives the same crops whatever the thread
 * count, and a run resumed mid-epoch draws what it would have drawn. */
void advc_augment_rng(advc_rng *r, uint64_t seed, int epoch, long batch);

/* One image (c, h, w) of in into out (not overlapping):
 *   out[ch][y][x] = in[ch][y + dy][x' + dx], x' = flip ? w - 1 - x : x,
 * and 0 where (y + dy, x' + dx) falls outside the image.  That is the
 * crop at offset (dy + 4, dx + 4) of the image padded by 4 zeros, then
 * mirrored left to right when flip. */
void advc_crop_flip(const float *in, float *out, int c, int h, int w, int dy,
                    int dx, bool flip);

/* out = augmentation a of in, drawing from r.  crop-flip draws, in this
 * order, dy = U{0..8} - 4, dx = U{0..8} - 4 (advc_rng_below(r, 9) - 4)
 * and flip = advc_rng_below(r, 2) == 1, then calls advc_crop_flip;
 * none copies and draws nothing. */
void advc_augment_image(advc_augment a, advc_rng *r, const float *in,
                        float *out, int c, int h, int w);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_DATA_H */
