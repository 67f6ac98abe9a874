/* npy.c: NumPy .npy export (advc/image.h), so adversarial examples and
 * labels can be opened with numpy.load and nothing else.
 *
 * Format version 1.0 (NumPy Enhancement Proposal 1, "A simple file format
 * for NumPy arrays", and numpy/lib/format.py):
 *   6 bytes   magic "\x93NUMPY"
 *   2 bytes   version 1, 0
 *   2 bytes   HEADER_LEN, little-endian u16
 *   HEADER_LEN bytes of ASCII: a Python dict literal
 *             {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *             padded with spaces and ended by '\n' so that the data starts
 *             at a multiple of 64 bytes (10 + HEADER_LEN = 0 mod 64)
 *   the data  C order (last index fastest), in the byte order descr names
 * Shapes print as Python tuples: "()" for a scalar, "(5,)" for one
 * dimension (the trailing comma makes it a tuple), "(n, c, h, w)".
 * Elements are encoded little-endian byte by byte, whatever the host's
 * byte order.
 */
#include "advc/image.h"
#include "advc/io.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Data offset alignment: format.py's ARRAY_ALIGN (older NumPy padded to 16,
 * and 64 is a multiple of that, so every reader accepts it). */
#define NPY_ALIGN 64
#define NPY_PREAMBLE 10 /* magic 6 + version 2 + HEADER_LEN 2 */
#define NPY_CHUNK 4096  /* elements encoded per write          */

static const char *dtype_descr(advc_npy_dtype t)
{
    switch (t) {
    case ADVC_NPY_F32: return "<f4";
    case ADVC_NPY_I32: return "<i4";
    case ADVC_NPY_U8: return "|u1";
    }
    return NULL;
}

/* Writes n elements of 4 bytes (float or int32, same bit handling)
 * little-endian. */
static void write_le32(advc_out_file *o, const void *data, size_t n)
{
    uint8_t buf[NPY_CHUNK * 4];
    const uint8_t *src = data;
    for (size_t i = 0; i < n; i += NPY_CHUNK) {
        size_t k = n - i < NPY_CHUNK ? n - i : NPY_CHUNK;
        for (size_t j = 0; j < k; j++) {
            uint32_t v;
            memcpy(&v, src + (i + j) * 4, 4);
            buf[4 * j] = (uint8_t)v;
            buf[4 * j + 1] = (uint8_t)(v >> 8);
            buf[4 * j + 2] = (uint8_t)(v >> 16);
            buf[4 * j + 3] = (uint8_t)(v >> 24);
        }
        advc_out_write(o, buf, k * 4);
    }
}

advc_status advc_npy_write(const char *path, advc_npy_dtype dtype,
                           const void *data, int ndim, const size_t *shape)
{
    const char *descr = dtype_descr(dtype);
    if (!path) return advc_set_error(ADVC_ERR_ARG, "npy: NULL path");
    if (!descr)
        return advc_set_error(ADVC_ERR_ARG, "%s: unknown dtype %d", path,
                              (int)dtype);
    if (ndim < 0 || ndim > ADVC_NPY_MAX_DIMS || (ndim > 0 && !shape))
        return advc_set_error(ADVC_ERR_ARG, "%s: bad ndim %d", path, ndim);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] != 0 && count > SIZE_MAX / 8 / shape[d])
            return advc_set_error(ADVC_ERR_ARG, "%s: shape too large", path);
        count *= shape[d];
    }
    if (count > 0 && !data)
        return advc_set_error(ADVC_ERR_ARG, "%s: NULL data", path);

    /* The dict; 8 dims of 20 digits fit easily in 512 bytes. */
    char dict[512];
    int len = snprintf(dict, sizeof dict,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       descr);
    for (int d = 0; d < ndim; d++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%s%zu",
                        d ? ", " : "", shape[d]);
    len += snprintf(dict + len, sizeof dict - (size_t)len, "%s), }",
                    ndim == 1 ? "," : "");
    /* Pad with spaces, then '\n', to the next multiple of NPY_ALIGN. */
    size_t total = NPY_PREAMBLE + (size_t)len + 1;
    size_t padded = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    size_t header_len = padded - NPY_PREAMBLE;

    uint8_t pre[NPY_PREAMBLE] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                  (uint8_t)header_len,
                                  (uint8_t)(header_len >> 8) };
    advc_out_file o;
    advc_status s = advc_out_open(&o, path);
    if (s != ADVC_OK) return s;
    advc_out_write(&o, pre, sizeof pre);
    advc_out_write(&o, dict, (size_t)len);
    char pad[NPY_ALIGN];
    size_t npad = header_len - (size_t)len; /* spaces + '\n', 1..64 */
    memset(pad, ' ', npad - 1);
    pad[npad - 1] = '\n';
    advc_out_write(&o, pad, npad);
    if (dtype == ADVC_NPY_U8) advc_out_write(&o, data, count);
    else write_le32(&o, data, count);
    return advc_out_commit(&o);
}
