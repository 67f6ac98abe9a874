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

/* "image" for the 3-dimensional files, "label" for the 1-dimensional. */
static const char *idx_kind(int ndim)
{
    return ndim == 3 ? "image" : "label";
}

/* The magic number an IDX file of unsigned bytes with ndim dimensions
 * starts with. */
static unsigned idx_magic(int ndim)
{
    return ndim == 3 ? 0x803u : 0x801u;
}

/* Reads the first 4 bytes of a len-byte file into head and checks them:
 * not empty, not gzip, two zeros, unsigned bytes, want_ndim dimensions. */
static advc_status check_idx_magic(FILE *fp, uint64_t len, int want_ndim,
                                   uint8_t *head, const char *path)
{
    const char *what = idx_kind(want_ndim);
    size_t nhead = len < 4 ? (size_t)len : 4;
    if (len == 0)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: empty file (0 bytes)",
                              path);
    advc_status s = advc_data_read(fp, head, nhead, path);
    if (s != ADVC_OK) return s;
    if (advc_data_is_gzip(head, nhead))
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: gzip-compressed; advc reads plain IDX "
                              "files, gunzip it first (make data does)", path);
    if (len < 4)
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: %llu bytes is too short for an IDX header",
                              path, (unsigned long long)len);
    if (head[0] != 0 || head[1] != 0)
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: not an IDX file (magic 0x%08x; an IDX %s "
                              "file starts 0x%08x)", path,
                              (unsigned)be32(head), what,
                              idx_magic(want_ndim));
    if (head[2] != IDX_UBYTE)
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: IDX element type 0x%02x is not unsigned "
                              "byte (0x08)", path, (unsigned)head[2]);
    int ndim = head[3];
    if (ndim == want_ndim) return ADVC_OK;
    if (ndim == (want_ndim == 3 ? 1 : 3))
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: wrong magic 0x%08x: this is an IDX %s "
                              "file, expected %s file magic 0x%08x "
                              "(image and label paths swapped?)",
                              path, (unsigned)be32(head),
                              idx_kind(want_ndim == 3 ? 1 : 3), what,
                              idx_magic(want_ndim));
    return advc_set_error(ADVC_ERR_FORMAT,
                          "%s: IDX file has %d dimensions, a %s file has %d",
                          path, ndim, what, want_ndim);
}

/* Reads the ndim sizes that follow the magic (the file is len bytes) into
 * info->dim, each nonzero, and their product into *payload. */
static advc_status read_idx_dims(FILE *fp, uint64_t len, int ndim,
                                 uint8_t *head, idx_info *info,
                                 uint64_t *payload, const char *path)
{
    uint64_t hlen = 4 + 4 * (uint64_t)ndim;
    if (len < hlen)
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: truncated IDX header (%llu bytes, the "
                              "header needs %llu)", path,
                              (unsigned long long)len,
                              (unsigned long long)hlen);
    advc_status s = advc_data_read(fp, head + 4, (size_t)hlen - 4, path);
    if (s != ADVC_OK) return s;
    *payload = 1;
    for (int i = 0; i < ndim; i++) {
        info->dim[i] = be32(head + 4 + 4 * i);
        if (info->dim[i] == 0)
            return advc_set_error(ADVC_ERR_FORMAT,
                                  "%s: IDX dimension %d is 0 (%s)", path, i,
                                  i == 0 ? "no items" : "empty images");
        if (!advc_data_mul(*payload, info->dim[i], payload))
            return advc_set_error(ADVC_ERR_FORMAT,
                                  "%s: IDX dimensions overflow 64 bits", path);
    }
    return ADVC_OK;
}

/* The data after the hlen-byte header must be exactly payload bytes. */
static advc_status check_idx_length(uint64_t len, uint64_t hlen,
                                    uint64_t payload, const idx_info *info,
                                    int ndim, const char *path)
{
    const char *what = idx_kind(ndim);
    if (len - hlen < payload)
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: truncated: the header declares %u %ss "
                              "(%llu data bytes) but the file has %llu",
                              path, (unsigned)info->dim[0], what,
                              (unsigned long long)payload,
                              (unsigned long long)(len - hlen));
    if (len - hlen > payload)
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: %llu trailing bytes after the %u %ss the "
                              "header declares", path,
                              (unsigned long long)(len - hlen - payload),
                              (unsigned)info->dim[0], what);
    return ADVC_OK;
}

/* The file really holds payload bytes, so these limits only matter for
 * fields that must fit an int (advc_dataset) or a size_t of floats. */
static advc_status check_idx_limits(const idx_info *info, int ndim,
                                    uint64_t payload, const char *path)
{
    for (int i = 0; i < ndim; i++)
        if (info->dim[i] > INT_MAX)
            return advc_set_error(ADVC_ERR_FORMAT,
                                  "%s: IDX dimension %d = %u exceeds %d",
                                  path, i, (unsigned)info->dim[i], INT_MAX);
    if (ndim == 3 && (uint64_t)info->dim[1] * info->dim[2] > INT_MAX)
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: %ux%u images are too large", path,
                              (unsigned)info->dim[1], (unsigned)info->dim[2]);
    if (payload > SIZE_MAX / sizeof(float))
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: %llu pixels do not fit in memory", path,
                              (unsigned long long)payload);
    return ADVC_OK;
}

/* Opens path, checks it is an IDX file of unsigned bytes with want_ndim
 * dimensions (3 for images, 1 for labels) whose length is exactly what its
 * header declares, and leaves *f positioned at the first element. */
static advc_status idx_open(const char *path, int want_ndim, FILE **f,
                            idx_info *info)
{
    memset(info, 0, sizeof *info);
    uint64_t len, payload = 1;
    advc_status s = advc_data_open(path, f, &len);
    if (s != ADVC_OK) return s;
    uint8_t head[16];
    uint64_t hlen = 4 + 4 * (uint64_t)want_ndim;
    s = check_idx_magic(*f, len, want_ndim, head, path);
    if (s == ADVC_OK)
        s = read_idx_dims(*f, len, want_ndim, head, info, &payload, path);
    if (s == ADVC_OK)
        s = check_idx_length(len, hlen, payload, info, want_ndim, path);
    if (s == ADVC_OK) s = check_idx_limits(info, want_ndim, payload, path);
    if (s != ADVC_OK) {
        fclose(*f);
        *f = NULL;
        return s;
    }
    info->payload = payload;
    return ADVC_OK;
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
