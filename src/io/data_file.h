/* data_file.h: file helpers shared by the readers (idx.c, cifar.c, npy.c,
 * npz.c): open with the length known up front, exact reads, whole files,
 * byte -> [0,1] pixels.
 * Every error names the file.  Private to src/io/.
 */
#ifndef ADVC_IO_DATA_FILE_H
#define ADVC_IO_DATA_FILE_H

#include <stdio.h>
#include "advc/core.h"

/* Opens a regular file for binary reading; *len is its size in bytes.
 * Missing, unreadable or not-a-file paths give ADVC_ERR_IO. */
advc_status advc_data_open(const char *path, FILE **f, uint64_t *len);

/* Reads exactly n bytes.  A short read is ADVC_ERR_IO (read error) or
 * ADVC_ERR_FORMAT (the file ended early, e.g. it shrank after open). */
advc_status advc_data_read(FILE *f, void *buf, size_t n, const char *path);

/* The whole file into *buf (malloc'd, *len bytes; the caller frees it).
 * Errors as advc_data_open and advc_data_read, or ADVC_ERR_NOMEM. */
advc_status advc_data_read_all(const char *path, uint8_t **buf, size_t *len);

/* Reads n bytes and stores dst[i] = byte / 255, in fixed-size chunks so no
 * byte copy of the whole file is ever held. */
advc_status advc_data_read_pixels(FILE *f, float *dst, size_t n,
                                  const char *path);

/* dst[i] = src[i] / 255 for i in [0, n). */
void advc_data_to_unit(const uint8_t *src, float *dst, size_t n);

/* True if the first bytes are gzip's magic 1f 8b (RFC 1952). */
bool advc_data_is_gzip(const uint8_t *head, size_t n);

/* r = a * b, false on uint64 overflow. */
static inline bool advc_data_mul(uint64_t a, uint64_t b, uint64_t *r)
{
    if (a != 0 && b > UINT64_MAX / a) return false;
    *r = a * b;
    return true;
}

#endif /* ADVC_IO_DATA_FILE_H */
