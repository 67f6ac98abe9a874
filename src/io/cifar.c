/* cifar.c: CIFAR-10 binary-batch reader.  All files are sized and checked
 * before anything is allocated; labels are range-checked as read.
 *
 * Format (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"):
 * a file is a run of 3073-byte records with no header:
 *   byte 0         label in [0, 10)
 *   bytes 1..1024  red plane, 32x32 row-major
 *   next 1024      green plane
 *   next 1024      blue plane
 * That is already (c, h, w) order, so a record's pixels map 1:1 onto one
 * image of advc_dataset.  data_batch_1..5.bin hold 10,000 records each
 * (training), test_batch.bin 10,000 (test).
 */
#include "advc/data.h"
#include "data_file.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (3 * CIFAR_SIDE * CIFAR_SIDE) /* 3072 */
#define CIFAR_RECORD (1 + CIFAR_PIXELS)            /* 3073 */
#define CIFAR100_RECORD (2 + CIFAR_PIXELS) /* coarse + fine label: 3074 */
#define CIFAR_CLASSES 10
#define CHUNK_RECORDS 16 /* records per read: 49 KB on the stack */

/* Opens path and returns its record count after checking the length. */
static advc_status cifar_open(const char *path, FILE **f, int *records)
{
    uint64_t len;
    *records = 0;
    advc_status s = advc_data_open(path, f, &len);
    if (s != ADVC_OK) return s;
    uint8_t head[2];
    if (len == 0) {
        s = advc_set_error(ADVC_ERR_FORMAT, "%s: empty file (0 bytes)", path);
        goto fail;
    }
    if ((s = advc_data_read(*f, head, len < 2 ? 1 : 2, path)) != ADVC_OK)
        goto fail;
    if (advc_data_is_gzip(head, len < 2 ? 1 : 2)) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: gzip-compressed; CIFAR-10 batches must be "
                           "extracted first (tar xzf cifar-10-binary.tar.gz)",
                           path);
        goto fail;
    }
    if (len % CIFAR_RECORD != 0) {
        if (len % CIFAR100_RECORD == 0)
            s = advc_set_error(ADVC_ERR_FORMAT,
                               "%s: %llu bytes is a whole number of 3074-byte "
                               "CIFAR-100 records, not 3073-byte CIFAR-10 "
                               "ones", path, (unsigned long long)len);
        else
            s = advc_set_error(ADVC_ERR_FORMAT,
                               "%s: length %llu is not a multiple of the "
                               "3073-byte CIFAR-10 record (%llu whole records "
                               "+ %llu bytes: truncated or trailing bytes)",
                               path, (unsigned long long)len,
                               (unsigned long long)(len / CIFAR_RECORD),
                               (unsigned long long)(len % CIFAR_RECORD));
        goto fail;
    }
    if (len / CIFAR_RECORD > INT_MAX) {
        s = advc_set_error(ADVC_ERR_FORMAT, "%s: too many records (%llu)",
                           path, (unsigned long long)(len / CIFAR_RECORD));
        goto fail;
    }
    if (fseek(*f, 0, SEEK_SET) != 0) {
        s = advc_set_error(ADVC_ERR_IO, "%s: cannot seek to the start", path);
        goto fail;
    }
    *records = (int)(len / CIFAR_RECORD);
    return ADVC_OK;

fail:
    fclose(*f);
    *f = NULL;
    return s;
}

/* Pass 1: sizes every file into *total records, so a bad last batch fails
 * before we allocate room for the first four. */
static advc_status count_cifar_records(const char **paths, int npaths,
                                       int *total)
{
    int64_t sum = 0;
    for (int p = 0; p < npaths; p++) {
        FILE *f;
        int r;
        advc_status s = cifar_open(paths[p], &f, &r);
        if (s != ADVC_OK) return s;
        fclose(f);
        sum += r;
        if (sum > INT_MAX || (uint64_t)sum > SIZE_MAX / CIFAR_PIXELS /
                                                 sizeof(float))
            return advc_set_error(ADVC_ERR_FORMAT,
                                  "%s: too many CIFAR-10 records in total",
                                  paths[p]);
    }
    *total = (int)sum;
    return ADVC_OK;
}

/* r records of open file f (path) into d from image *at on, labels
 * checked; *at moves past them.  Whole records at a time: a few large
 * reads, not 2 per record. */
static advc_status read_cifar_records(FILE *f, int r, const char *path,
                                      advc_dataset *d, int *at)
{
    advc_status s = ADVC_OK;
    uint8_t buf[CHUNK_RECORDS * CIFAR_RECORD];
    for (int i = 0; i < r && s == ADVC_OK;) {
        int k = r - i < CHUNK_RECORDS ? r - i : CHUNK_RECORDS;
        s = advc_data_read(f, buf, (size_t)k * CIFAR_RECORD, path);
        for (int j = 0; j < k && s == ADVC_OK; j++, i++, (*at)++) {
            const uint8_t *rec = buf + (size_t)j * CIFAR_RECORD;
            d->y[*at] = rec[0];
            if (rec[0] >= CIFAR_CLASSES)
                s = advc_set_error(ADVC_ERR_FORMAT,
                                   "%s: label %u in record %d is out of "
                                   "range [0, %d)", path, (unsigned)rec[0],
                                   i, CIFAR_CLASSES);
            else
                advc_data_to_unit(rec + 1, d->x + (size_t)*at * CIFAR_PIXELS,
                                  CIFAR_PIXELS);
        }
    }
    return s;
}

/* Pass 2: reads every file into d, which pass 1 sized.  The sizes are
 * re-checked, in case a file changed. */
static advc_status read_cifar_batches(const char **paths, int npaths,
                                      advc_dataset *d)
{
    advc_status s = ADVC_OK;
    int at = 0;
    for (int p = 0; p < npaths && s == ADVC_OK; p++) {
        FILE *f;
        int r;
        if ((s = cifar_open(paths[p], &f, &r)) != ADVC_OK) break;
        if (r > d->n - at) {
            s = advc_set_error(ADVC_ERR_FORMAT, "%s: grew while reading",
                               paths[p]);
            fclose(f);
            break;
        }
        s = read_cifar_records(f, r, paths[p], d, &at);
        fclose(f);
    }
    if (s == ADVC_OK && at != d->n)
        s = advc_set_error(ADVC_ERR_FORMAT, "%s: shrank while reading",
                           paths[npaths - 1]);
    return s;
}

advc_status advc_cifar10_load(const char **paths, int npaths,
                              advc_dataset *out)
{
    if (!out)
        return advc_set_error(ADVC_ERR_ARG, "advc_cifar10_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!paths || npaths <= 0)
        return advc_set_error(ADVC_ERR_ARG,
                              "advc_cifar10_load: no batch files given");
    for (int p = 0; p < npaths; p++)
        if (!paths[p])
            return advc_set_error(ADVC_ERR_ARG,
                                  "advc_cifar10_load: path %d is NULL", p);
    int total = 0;
    advc_status s = count_cifar_records(paths, npaths, &total);
    if (s != ADVC_OK) return s;

    advc_dataset d = {0};
    d.n = total;
    d.c = 3;
    d.h = d.w = CIFAR_SIDE;
    d.classes = CIFAR_CLASSES;
    d.x = advc_alloc((size_t)d.n * CIFAR_PIXELS * sizeof(float));
    d.y = advc_alloc((size_t)d.n * sizeof *d.y);
    if (!d.x || !d.y) {
        advc_dataset_free(&d);
        return advc_set_error(ADVC_ERR_NOMEM,
                              "cannot allocate %d CIFAR-10 images", total);
    }
    s = read_cifar_batches(paths, npaths, &d);
    if (s != ADVC_OK) {
        advc_dataset_free(&d);
        return s;
    }
    *out = d;
    return ADVC_OK;
}
