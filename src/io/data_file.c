/* data_file.c: the file plumbing under the dataset readers: open a regular
 * file and learn its length before anything is parsed, read exactly, and
 * turn bytes into [0,1] floats chunk by chunk.  No format knowledge here.
 */
#include "data_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

advc_status advc_data_open(const char *path, FILE **f, uint64_t *len)
{
    *f = NULL;
    *len = 0;
    if (!path || !*path)
        return advc_set_error(ADVC_ERR_ARG, "dataset file path is empty");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return advc_set_error(ADVC_ERR_IO, "%s: cannot open: %s", path,
                              strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int e = errno;
        fclose(fp);
        return advc_set_error(ADVC_ERR_IO, "%s: cannot stat: %s", path,
                              strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(fp);
        return advc_set_error(ADVC_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size < 0) { /* cannot happen for a regular file; be safe */
        fclose(fp);
        return advc_set_error(ADVC_ERR_IO, "%s: negative file size", path);
    }
    *f = fp;
    *len = (uint64_t)st.st_size;
    return ADVC_OK;
}

advc_status advc_data_read(FILE *f, void *buf, size_t n, const char *path)
{
    size_t got = fread(buf, 1, n, f);
    if (got == n) return ADVC_OK;
    if (ferror(f))
        return advc_set_error(ADVC_ERR_IO, "%s: read error: %s", path,
                              strerror(errno));
    return advc_set_error(ADVC_ERR_FORMAT,
                          "%s: file ended early (changed while reading?)",
                          path);
}

advc_status advc_data_read_all(const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f;
    uint64_t n;
    advc_status st = advc_data_open(path, &f, &n);
    if (st != ADVC_OK) return st;
    if (n > SIZE_MAX - 1) {
        fclose(f);
        return advc_set_error(ADVC_ERR_FORMAT, "%s: too large to read "
                              "(%llu bytes)", path, (unsigned long long)n);
    }
    uint8_t *b = malloc(n ? (size_t)n : 1); /* malloc(0) may return NULL */
    if (!b) {
        fclose(f);
        return advc_set_error(ADVC_ERR_NOMEM, "%s: no memory for %llu bytes",
                              path, (unsigned long long)n);
    }
    st = advc_data_read(f, b, (size_t)n, path);
    fclose(f);
    if (st != ADVC_OK) {
        free(b);
        return st;
    }
    *buf = b;
    *len = (size_t)n;
    return ADVC_OK;
}

void advc_data_to_unit(const uint8_t *src, float *dst, size_t n)
{
    /* Division, not multiplication by 1/255, so each value is the correctly
     * rounded byte/255 and 255 maps to exactly 1. */
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i] / 255.0f;
}

advc_status advc_data_read_pixels(FILE *f, float *dst, size_t n,
                                  const char *path)
{
    uint8_t buf[1 << 16];
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        advc_status s = advc_data_read(f, buf, k, path);
        if (s != ADVC_OK) return s;
        advc_data_to_unit(buf, dst, k);
        dst += k;
        n -= k;
    }
    return ADVC_OK;
}

bool advc_data_is_gzip(const uint8_t *head, size_t n)
{
    return n >= 2 && head[0] == 0x1f && head[1] == 0x8b;
}
