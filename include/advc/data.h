/* advc/data.h: labelled image sets read from disk: MNIST / Fashion-MNIST
 * (IDX files) and CIFAR-10 (binary batches), plus copies of row ranges.
 * Readers check every header field against the file's length before they
 * allocate or read, and report a bad file by name (advc_last_error()).
 * Not here: augmentation, batching, shuffling (those take a dataset).
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
    uint8_t *y;         /* (n) labels in [0, classes) */
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

#ifdef __cplusplus
}
#endif

#endif /* ADVC_DATA_H */
