/* idx.c: MNIST / Fashion-MNIST reader for LeCun's IDX format.  Both files
 * are validated (magic, dimensions, exact length, matching counts) before a
 * single pixel is allocated or read; labels are range-checked as read.
 *
 * IDX layout (http://yann.lecun.com/exdb/mnist/), integers big-endian:
 *   byte 0-1  zero
 *   byte 2    element type: 0x08 = unsigned byte (the only one we accept)
 *   byte 3    number of dimensions d
 *   4*d bytes the sizes, outermost first
 *   then the elements, row-major.
 * Images: magic 0x00000803, dims (n, rows, cols).  Labels: 0x00000801,
 * dims (n), one byte each in [0, 10).
 */
#include "advc/data.h"
#include "data_file.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define IDX_UBYTE 0x08 /* element type code for unsigned byte */
#define IDX_CLASSES 10 /* MNIST and Fashion-MNIST both have ten classes */

typedef struct {
    uint32_t dim[3];  /* sizes, outermost first (n, rows, cols) */
    uint64_t payload; /* element bytes after the header */
} idx_info;

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
           (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Opens path, checks it is an IDX file of unsigned bytes with want_ndim
 * dimensions (3 for images, 1 for labels) whose length is exactly what its
 * header declares, and leaves *f positioned at the first element. */
static advc_status idx_open(const char *path, int want_ndim, FILE **f,
                            idx_info *info)
{
    const char *what = want_ndim == 3 ? "image" : "label";
    const char *other = want_ndim == 3 ? "label" : "image";
    memset(info, 0, sizeof *info);
    uint64_t len;
    advc_status s = advc_data_open(path, f, &len);
    if (s != ADVC_OK) return s;
    FILE *fp = *f;

    uint8_t head[16];
    size_t nhead = len < 4 ? (size_t)len : 4;
    if (len == 0) {
        s = advc_set_error(ADVC_ERR_FORMAT, "%s: empty file (0 bytes)", path);
        goto fail;
    }
    if ((s = advc_data_read(fp, head, nhead, path)) != ADVC_OK) goto fail;
    if (advc_data_is_gzip(head, nhead)) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: gzip-compressed; advc reads plain IDX files, "
                           "gunzip it first (make data does)", path);
        goto fail;
    }
    if (len < 4) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: %llu bytes is too short for an IDX header",
                           path, (unsigned long long)len);
        goto fail;
    }
    if (head[0] != 0 || head[1] != 0) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: not an IDX file (magic 0x%08x; an IDX %s "
                           "file starts 0x%08x)", path, (unsigned)be32(head),
                           what, want_ndim == 3 ? 0x803u : 0x801u);
        goto fail;
    }
    if (head[2] != IDX_UBYTE) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: IDX element type 0x%02x is not unsigned byte "
                           "(0x08)", path, (unsigned)head[2]);
        goto fail;
    }
    int ndim = head[3];
    if (ndim != want_ndim) {
        if (ndim == (want_ndim == 3 ? 1 : 3))
            s = advc_set_error(ADVC_ERR_FORMAT,
                               "%s: wrong magic 0x%08x: this is an IDX %s "
                               "file, expected %s file magic 0x%08x "
                               "(image and label paths swapped?)",
                               path, (unsigned)be32(head), other, what,
                               want_ndim == 3 ? 0x803u : 0x801u);
        else
            s = advc_set_error(ADVC_ERR_FORMAT,
                               "%s: IDX file has %d dimensions, a %s file "
                               "has %d", path, ndim, what, want_ndim);
        goto fail;
    }
    uint64_t hlen = 4 + 4 * (uint64_t)ndim;
    if (len < hlen) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: truncated IDX header (%llu bytes, the header "
                           "needs %llu)", path, (unsigned long long)len,
                           (unsigned long long)hlen);
        goto fail;
    }
    if ((s = advc_data_read(fp, head + 4, (size_t)hlen - 4, path)) != ADVC_OK)
        goto fail;

    uint64_t payload = 1;
    for (int i = 0; i < ndim; i++) {
        info->dim[i] = be32(head + 4 + 4 * i);
        if (info->dim[i] == 0) {
            s = advc_set_error(ADVC_ERR_FORMAT,
                               "%s: IDX dimension %d is 0 (%s)", path, i,
                               i == 0 ? "no items" : "empty images");
            goto fail;
        }
        if (!advc_data_mul(payload, info->dim[i], &payload)) {
            s = advc_set_error(ADVC_ERR_FORMAT,
                               "%s: IDX dimensions overflow 64 bits", path);
            goto fail;
        }
    }
    if (len - hlen < payload) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: truncated: the header declares %u %ss "
                           "(%llu data bytes) but the file has %llu",
                           path, (unsigned)info->dim[0], what,
                           (unsigned long long)payload,
                           (unsigned long long)(len - hlen));
        goto fail;
    }
    if (len - hlen > payload) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: %llu trailing bytes after the %u %ss the "
                           "header declares", path,
                           (unsigned long long)(len - hlen - payload),
                           (unsigned)info->dim[0], what);
        goto fail;
    }
    /* The file really holds payload bytes, so these limits only matter for
     * fields that must fit an int (advc_dataset) or a size_t of floats. */
    for (int i = 0; i < ndim; i++)
        if (info->dim[i] > INT_MAX) {
            s = advc_set_error(ADVC_ERR_FORMAT,
                               "%s: IDX dimension %d = %u exceeds %d", path,
                               i, (unsigned)info->dim[i], INT_MAX);
            goto fail;
        }
    if (ndim == 3 && (uint64_t)info->dim[1] * info->dim[2] > INT_MAX) {
        s = advc_set_error(ADVC_ERR_FORMAT, "%s: %ux%u images are too large",
                           path, (unsigned)info->dim[1],
                           (unsigned)info->dim[2]);
        goto fail;
    }
    if (payload > SIZE_MAX / sizeof(float)) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s: %llu pixels do not fit in memory", path,
                           (unsigned long long)payload);
        goto fail;
    }
    info->payload = payload;
    return ADVC_OK;

fail:
    fclose(fp);
    *f = NULL;
    return s;
}

/* n label bytes, each checked to be in [0, IDX_CLASSES), into int labels,
 * a chunk at a time. */
static advc_status read_labels(FILE *f, int *y, int n, const char *path)
{
    uint8_t buf[4096];
    for (int at = 0; at < n;) {
        int k = n - at < (int)sizeof buf ? n - at : (int)sizeof buf;
        advc_status s = advc_data_read(f, buf, (size_t)k, path);
        if (s != ADVC_OK) return s;
        for (int i = 0; i < k; i++, at++) {
            if (buf[i] >= IDX_CLASSES)
                return advc_set_error(ADVC_ERR_FORMAT,
                                      "%s: label %u at index %d is out of "
                                      "range [0, %d)", path,
                                      (unsigned)buf[i], at, IDX_CLASSES);
            y[at] = buf[i];
        }
    }
    return ADVC_OK;
}

advc_status advc_idx_load(const char *images_path, const char *labels_path,
                          advc_dataset *out)
{
    if (!out) return advc_set_error(ADVC_ERR_ARG, "advc_idx_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!images_path || !labels_path)
        return advc_set_error(ADVC_ERR_ARG, "advc_idx_load: NULL path");

    FILE *fi = NULL, *fl = NULL;
    idx_info ii, il;
    advc_dataset d = {0};
    advc_status s = idx_open(images_path, 3, &fi, &ii);
    if (s != ADVC_OK) return s;
    if ((s = idx_open(labels_path, 1, &fl, &il)) != ADVC_OK) goto done;
    if (ii.dim[0] != il.dim[0]) {
        s = advc_set_error(ADVC_ERR_FORMAT,
                           "%s has %u images but %s has %u labels",
                           images_path, (unsigned)ii.dim[0], labels_path,
                           (unsigned)il.dim[0]);
        goto done;
    }

    d.n = (int)ii.dim[0];
    d.c = 1;
    d.h = (int)ii.dim[1];
    d.w = (int)ii.dim[2];
    d.classes = IDX_CLASSES;
    d.x = advc_alloc((size_t)ii.payload * sizeof(float));
    d.y = advc_alloc((size_t)d.n * sizeof *d.y);
    if (!d.x || !d.y) {
        s = advc_set_error(ADVC_ERR_NOMEM,
                           "%s: cannot allocate %d images of %dx%d", images_path,
                           d.n, d.h, d.w);
        goto done;
    }
    s = advc_data_read_pixels(fi, d.x, (size_t)ii.payload, images_path);
    if (s != ADVC_OK) goto done;
    s = read_labels(fl, d.y, d.n, labels_path);

done:
    if (fi) fclose(fi);
    if (fl) fclose(fl);
    if (s == ADVC_OK) *out = d;
    else advc_dataset_free(&d);
    return s;
}
