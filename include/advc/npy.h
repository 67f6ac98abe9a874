/* advc/npy.h: NumPy's array files, both ways: .npy arrays and .npz
 * archives (a zip of stored .npy members, what numpy.savez writes), so
 * arrays and whole PyTorch state_dicts travel between advc and Python
 * without any library.
 *
 * Readers are pure functions over a byte buffer (advc_npy_parse,
 * advc_npz_parse; advc_npy_read and advc_npz_read read a file into one
 * first): every header field is checked against the buffer's length
 * before it is used, and a bad buffer is an ADVC_ERR_FORMAT with a
 * one-line message naming the file and the array.  Writers produce
 * exactly the bytes NumPy 1.24 (Debian 12) writes for the same arrays,
 * through the safe-file writer (advc/io.h).  Not here: compressed
 * archives (refused with a message that says so), pickled object arrays,
 * Fortran-order data.
 */
#ifndef ADVC_NPY_H
#define ADVC_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "advc/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types; the descr is what the .npy header says.  Multi-byte types
 * are little-endian in the file whatever the host's byte order. */
typedef enum {
    ADVC_NPY_F32 = 0, /* '<f4' float32 */
    ADVC_NPY_I32,     /* '<i4' int32   */
    ADVC_NPY_U8,      /* '|u1' uint8   */
    ADVC_NPY_I64,     /* '<i8' int64 (PyTorch's num_batches_tracked) */
    ADVC_NPY_I8,      /* '|i1' */
    ADVC_NPY_I16,     /* '<i2' */
    ADVC_NPY_U16,     /* '<u2' */
    ADVC_NPY_U32,     /* '<u4' */
    ADVC_NPY_U64,     /* '<u8' */
    ADVC_NPY_F16,     /* '<f2' (read and written as raw 16-bit patterns) */
    ADVC_NPY_F64,     /* '<f8' */
    ADVC_NPY_BOOL,    /* '|b1' */
    ADVC_NPY_DTYPE_COUNT
} advc_npy_dtype;

#define ADVC_NPY_MAX_DIMS 8

/* "<f4", "|u1", ...; NULL for a value outside the enum. */
const char *advc_npy_descr(advc_npy_dtype t);
/* Bytes per element (0 for a value outside the enum). */
size_t advc_npy_itemsize(advc_npy_dtype t);
/* True for the signed and unsigned integer types. */
bool advc_npy_is_int(advc_npy_dtype t);

/* ---- writing -------------------------------------------------------------
 * data holds shape[0] * ... * shape[ndim-1] elements in C order as the
 * host's native type of the dtype (float, int64_t, ...); 0 <= ndim <= 8
 * (0: a scalar); each dim >= 0; data may be NULL when there are none. */
advc_status advc_npy_write(const char *path, advc_npy_dtype dtype,
                           const void *data, int ndim, const size_t *shape);
/* The same bytes in memory: *out (malloc'd, *len bytes). */
advc_status advc_npy_encode(advc_npy_dtype dtype, const void *data, int ndim,
                            const size_t *shape, uint8_t **out, size_t *len);

/* ---- reading -------------------------------------------------------------
 * A parsed array points into the buffer it was parsed from. */
typedef struct {
    advc_npy_dtype dtype;
    int ndim;
    size_t shape[ADVC_NPY_MAX_DIMS];
    size_t count;          /* product of shape (1 for a scalar) */
    const uint8_t *data;   /* count * itemsize bytes, little-endian */
} advc_npy_array;

/* Parses a whole .npy file buf[0..len): format versions 1.0, 2.0, 3.0,
 * the header dict with 'descr', 'fortran_order' and 'shape' in any order,
 * and exactly count * itemsize bytes of data after it.  Refused: big-endian
 * and unknown dtypes, object arrays, fortran_order True.  `what` starts
 * every message, e.g. "m.npz: tensor 'fc.weight'". */
advc_status advc_npy_parse(const uint8_t *buf, size_t len, const char *what,
                           advc_npy_array *out);
/* A .npy file read whole: a points into buf, which the struct owns. */
typedef struct {
    uint8_t *buf;          /* the file's bytes (malloc'd) */
    advc_npy_array a;
} advc_npy_file;

/* Reads the file at path and parses it as advc_npy_parse does (messages
 * name the file).  *out is zeroed first and stays zeroed on failure; a
 * missing, unreadable or non-regular file is ADVC_ERR_IO.  Free with
 * advc_npy_free. */
advc_status advc_npy_read(const char *path, advc_npy_file *out);
void advc_npy_free(advc_npy_file *f);
/* dst[i] = element i, for an ADVC_NPY_F32 array (bit patterns kept). */
void advc_npy_get_f32(const advc_npy_array *a, float *dst);
/* Element i of an integer array as int64; false if it does not fit (a
 * uint64 above INT64_MAX) or the array is not of an integer type. */
bool advc_npy_get_int(const advc_npy_array *a, size_t i, int64_t *v);

/* ---- .npz archives ---------------------------------------------------- */
typedef struct {
    char *name;            /* member name without ".npy" (malloc'd) */
    advc_npy_array a;
} advc_npz_entry;

typedef struct {
    uint8_t *buf;          /* the file's bytes when read from a file   */
    int n;
    advc_npz_entry *e;     /* (n) in archive order                      */
} advc_npz;

/* Parses an archive held in buf[0..len) (kept by the caller; the entries
 * point into it): the zip structure (stored members only; zip64 fields
 * where sizes or offsets need them), each member's CRC-32, and each
 * member's .npy header.  Every member must be "<name>.npy" and names must
 * be unique.  `path` names the file in messages.  *out is zeroed first, so
 * advc_npz_free is safe after any return. */
advc_status advc_npz_parse(const uint8_t *buf, size_t len, const char *path,
                           advc_npz *out);
/* Reads the file and parses it; *out owns the bytes. */
advc_status advc_npz_read(const char *path, advc_npz *out);
/* The entry called name, or NULL. */
const advc_npz_entry *advc_npz_find(const advc_npz *z, const char *name);
void advc_npz_free(advc_npz *z);

/* One array to write. */
typedef struct {
    const char *name;      /* the member is "<name>.npy"              */
    advc_npy_dtype dtype;
    int ndim;
    const size_t *shape;   /* (ndim); may be NULL when ndim is 0       */
    const void *data;      /* as for advc_npy_write                    */
} advc_npz_item;

/* Writes items as an uncompressed archive, in order, byte for byte as
 * numpy.savez(path, **{name: array}) does (NumPy 1.24, Python 3.11):
 * stored members dated 1980-01-01, a zip64 extra field on each local
 * header.  Archives past 2 GiB (2^31 - 1 bytes) or 65535 members are
 * refused (they would need zip64 end records). */
advc_status advc_npz_write(const char *path, const advc_npz_item *items,
                           int n);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_NPY_H */
