/* npy.c: NumPy .npy arrays (advc/npy.h): the header NumPy writes, the
 * little-endian data, and a strict reader over a byte buffer.
 *
 * Format (NumPy Enhancement Proposal 1 and numpy/lib/format.py):
 *   6 bytes   magic "\x93NUMPY"
 *   2 bytes   version major, minor: 1.0 (u16 header length), 2.0 and 3.0
 *             (u32 header length; 3.0 allows UTF-8 in the dict)
 *   2/4 bytes HEADER_LEN, little-endian
 *   HEADER_LEN bytes of ASCII: a Python dict literal
 *             {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *             padded with spaces and ended by '\n'
 *   the data  C order (last index fastest), in the byte order descr names
 * What NumPy 1.24 writes, and so do we (byte for byte): version 1.0; the
 * keys sorted; shapes as Python tuples ("()", "(5,)", "(n, c, h, w)");
 * 21 - len(str(shape[0])) spaces of room to grow the first axis when
 * ndim > 0; then 64 - (10 + len + 1) % 64 spaces (1 to 64: never 0) and
 * '\n', so the data starts on a multiple of 64 bytes.
 */
#include "advc/npy.h"
#include "advc/io.h"
#include "data_file.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_ALIGN 64      /* format.py's ARRAY_ALIGN                      */
#define NPY_PRE_V1 10     /* magic 6 + version 2 + u16 HEADER_LEN 2       */
#define NPY_PRE_V2 12     /* magic 6 + version 2 + u32 HEADER_LEN 4       */
#define NPY_GROWTH 21     /* format.py's GROWTH_AXIS_MAX_DIGITS           */
#define NPY_HEADER_MAX 512 /* 8 dims of 20 digits + growth + pad fit     */
#define NPY_CHUNK 4096    /* elements encoded per write                   */

static const struct {
    const char *descr;
    size_t size;
    bool is_int;
} dtypes[ADVC_NPY_DTYPE_COUNT] = {
    [ADVC_NPY_F32] = { "<f4", 4, false },
    [ADVC_NPY_I32] = { "<i4", 4, true },
    [ADVC_NPY_U8] = { "|u1", 1, true },
    [ADVC_NPY_I64] = { "<i8", 8, true },
    [ADVC_NPY_I8] = { "|i1", 1, true },
    [ADVC_NPY_I16] = { "<i2", 2, true },
    [ADVC_NPY_U16] = { "<u2", 2, true },
    [ADVC_NPY_U32] = { "<u4", 4, true },
    [ADVC_NPY_U64] = { "<u8", 8, true },
    [ADVC_NPY_F16] = { "<f2", 2, false },
    [ADVC_NPY_F64] = { "<f8", 8, false },
    [ADVC_NPY_BOOL] = { "|b1", 1, false },
};

static bool dtype_ok(advc_npy_dtype t)
{
    return (int)t >= 0 && t < ADVC_NPY_DTYPE_COUNT;
}

const char *advc_npy_descr(advc_npy_dtype t)
{
    return dtype_ok(t) ? dtypes[t].descr : NULL;
}

size_t advc_npy_itemsize(advc_npy_dtype t)
{
    return dtype_ok(t) ? dtypes[t].size : 0;
}

bool advc_npy_is_int(advc_npy_dtype t)
{
    return dtype_ok(t) && dtypes[t].is_int;
}

/* ---- writing ------------------------------------------------------------ */

/* Checks the arguments; *count = number of elements. */
static advc_status check_args(const char *what, advc_npy_dtype dtype,
                              const void *data, int ndim,
                              const size_t *shape, size_t *count)
{
    if (!dtype_ok(dtype))
        return advc_set_error(ADVC_ERR_ARG, "%s: unknown dtype %d", what,
                              (int)dtype);
    if (ndim < 0 || ndim > ADVC_NPY_MAX_DIMS || (ndim > 0 && !shape))
        return advc_set_error(ADVC_ERR_ARG, "%s: bad ndim %d", what, ndim);
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] != 0 && n > SIZE_MAX / 8 / shape[d])
            return advc_set_error(ADVC_ERR_ARG, "%s: shape too large", what);
        n *= shape[d];
    }
    if (n > 0 && !data)
        return advc_set_error(ADVC_ERR_ARG, "%s: NULL data", what);
    *count = n;
    return ADVC_OK;
}

/* The preamble, dict and padding (see the top of the file) into
 * out[NPY_HEADER_MAX]; returns the length, a multiple of NPY_ALIGN. */
static size_t make_header(advc_npy_dtype t, int ndim, const size_t *shape,
                          uint8_t *out)
{
    char *dict = (char *)out + NPY_PRE_V1;
    size_t cap = NPY_HEADER_MAX - NPY_PRE_V1;
    int len = snprintf(dict, cap,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       dtypes[t].descr);
    for (int d = 0; d < ndim; d++)
        len += snprintf(dict + len, cap - (size_t)len, "%s%zu",
                        d ? ", " : "", shape[d]);
    len += snprintf(dict + len, cap - (size_t)len, "%s), }",
                    ndim == 1 ? "," : "");
    size_t n = (size_t)len;
    if (ndim > 0) { /* room to grow axis 0 */
        char digits[24];
        int nd = snprintf(digits, sizeof digits, "%zu", shape[0]);
        for (int i = nd; i < NPY_GROWTH; i++) dict[n++] = ' ';
    }
    size_t pad = NPY_ALIGN - (NPY_PRE_V1 + n + 1) % NPY_ALIGN;
    memset(dict + n, ' ', pad);
    n += pad;
    dict[n++] = '\n';
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (uint8_t)n;
    out[9] = (uint8_t)(n >> 8);
    return NPY_PRE_V1 + n;
}

/* n elements of `size` bytes from host order to little-endian. */
static void encode_le(uint8_t *dst, const void *src, size_t n, size_t size)
{
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++, s += size, dst += size) {
        uint64_t v = 0;
        switch (size) {
        case 1: dst[0] = s[0]; continue;
        case 2: { uint16_t x; memcpy(&x, s, 2); v = x; } break;
        case 4: { uint32_t x; memcpy(&x, s, 4); v = x; } break;
        default: memcpy(&v, s, 8); break;
        }
        for (size_t b = 0; b < size; b++) dst[b] = (uint8_t)(v >> (8 * b));
    }
}

advc_status advc_npy_encode(advc_npy_dtype dtype, const void *data, int ndim,
                            const size_t *shape, uint8_t **out, size_t *len)
{
    size_t count;
    *out = NULL;
    *len = 0;
    advc_status s = check_args("npy", dtype, data, ndim, shape, &count);
    if (s != ADVC_OK) return s;
    uint8_t head[NPY_HEADER_MAX];
    size_t hl = make_header(dtype, ndim, shape, head);
    size_t bytes = count * dtypes[dtype].size;
    uint8_t *b = malloc(hl + bytes);
    if (!b) return advc_set_error(ADVC_ERR_NOMEM, "npy: no memory for %zu "
                                  "bytes", hl + bytes);
    memcpy(b, head, hl);
    encode_le(b + hl, data, count, dtypes[dtype].size);
    *out = b;
    *len = hl + bytes;
    return ADVC_OK;
}

advc_status advc_npy_write(const char *path, advc_npy_dtype dtype,
                           const void *data, int ndim, const size_t *shape)
{
    if (!path) return advc_set_error(ADVC_ERR_ARG, "npy: NULL path");
    size_t count;
    advc_status s = check_args(path, dtype, data, ndim, shape, &count);
    if (s != ADVC_OK) return s;
    uint8_t head[NPY_HEADER_MAX];
    size_t hl = make_header(dtype, ndim, shape, head);
    advc_out_file o;
    s = advc_out_open(&o, path);
    if (s != ADVC_OK) return s;
    advc_out_write(&o, head, hl);
    size_t size = dtypes[dtype].size;
    uint8_t buf[NPY_CHUNK * 8];
    for (size_t i = 0; i < count; i += NPY_CHUNK) {
        size_t k = count - i < NPY_CHUNK ? count - i : NPY_CHUNK;
        encode_le(buf, (const uint8_t *)data + i * size, k, size);
        advc_out_write(&o, buf, k * size);
    }
    return advc_out_commit(&o);
}

/* ---- reading: the header dict ------------------------------------------- */

/* A cursor over the dict text [p, end). */
typedef struct {
    const char *p, *end;
    const char *what; /* message prefix */
} lexer;

static void skip_ws(lexer *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' ||
                             *x->p == '\n' || *x->p == '\r'))
        x->p++;
}

static bool eat(lexer *x, char c)
{
    skip_ws(x);
    if (x->p < x->end && *x->p == c) {
        x->p++;
        return true;
    }
    return false;
}

static advc_status bad_header(const lexer *x, const char *why)
{
    return advc_set_error(ADVC_ERR_FORMAT, "%s: bad .npy header: %s",
                          x->what, why);
}

/* A quoted Python string without escapes into out[outsz]. */
static bool read_string(lexer *x, char *out, size_t outsz)
{
    skip_ws(x);
    if (x->p >= x->end || (*x->p != '\'' && *x->p != '"')) return false;
    char q = *x->p++;
    size_t n = 0;
    while (x->p < x->end && *x->p != q) {
        if (*x->p == '\\' || n + 1 >= outsz) return false;
        out[n++] = *x->p++;
    }
    if (x->p >= x->end) return false;
    x->p++;
    out[n] = '\0';
    return true;
}

static bool read_word(lexer *x, const char *w)
{
    skip_ws(x);
    size_t n = strlen(w);
    if ((size_t)(x->end - x->p) < n || memcmp(x->p, w, n) != 0) return false;
    x->p += n;
    return true;
}

/* "(d0, d1, ...)" with an optional trailing comma (required for one dim:
 * "(5,)"); a Python 2 "L" suffix after a number is accepted. */
static advc_status read_shape(lexer *x, advc_npy_array *a)
{
    if (!eat(x, '(')) return bad_header(x, "shape is not a tuple");
    a->ndim = 0;
    a->count = 1;
    if (eat(x, ')')) return ADVC_OK;
    for (;;) {
        skip_ws(x);
        if (x->p >= x->end || *x->p < '0' || *x->p > '9')
            return bad_header(x, "shape holds something other than "
                                 "non-negative integers");
        uint64_t v = 0;
        while (x->p < x->end && *x->p >= '0' && *x->p <= '9') {
            unsigned dgt = (unsigned)(*x->p++ - '0');
            if (v > (UINT64_MAX - dgt) / 10)
                return bad_header(x, "a dimension overflows 64 bits");
            v = v * 10 + dgt;
        }
        if (x->p < x->end && *x->p == 'L') x->p++;
        if (a->ndim == ADVC_NPY_MAX_DIMS)
            return bad_header(x, "more than 8 dimensions");
        if (v > SIZE_MAX) return bad_header(x, "a dimension is too large");
        a->shape[a->ndim++] = (size_t)v;
        if (v != 0 && a->count > SIZE_MAX / v)
            return bad_header(x, "the element count overflows");
        a->count *= (size_t)v;
        bool comma = eat(x, ',');
        if (eat(x, ')')) {
            if (a->ndim == 1 && !comma)
                return bad_header(x, "shape '(n)' is not a tuple");
            return ADVC_OK;
        }
        if (!comma) return bad_header(x, "shape is not a tuple");
    }
}

/* Maps a descr string to a dtype, with a message for what we refuse. */
static advc_status read_descr(const lexer *x, const char *d,
                              advc_npy_dtype *t)
{
    for (int i = 0; i < ADVC_NPY_DTYPE_COUNT; i++) {
        const char *want = dtypes[i].descr;
        /* one-byte types are '|' in NumPy's files; '<' means the same */
        if (!strcmp(d, want) ||
            (dtypes[i].size == 1 && d[0] == '<' && !strcmp(d + 1, want + 1))) {
            *t = (advc_npy_dtype)i;
            return ADVC_OK;
        }
    }
    if (d[0] == '>')
        return advc_set_error(ADVC_ERR_FORMAT, "%s: big-endian dtype '%s' is "
                              "not supported (save it as '<%s')", x->what, d,
                              d + 1);
    if (strchr(d, 'O'))
        return advc_set_error(ADVC_ERR_FORMAT, "%s: holds Python objects "
                              "(dtype '%s'), not numbers", x->what, d);
    return advc_set_error(ADVC_ERR_FORMAT, "%s: dtype '%s' is not supported "
                          "(float and integer arrays only)", x->what, d);
}

/* The dict: each of the three keys exactly once, any order. */
static advc_status parse_dict(lexer *x, advc_npy_array *a)
{
    bool seen[3] = { false, false, false };
    if (!eat(x, '{')) return bad_header(x, "no '{'");
    while (!eat(x, '}')) {
        char key[32], val[32];
        if (!read_string(x, key, sizeof key) || !eat(x, ':'))
            return bad_header(x, "expected 'key': value");
        int k = !strcmp(key, "descr") ? 0 : !strcmp(key, "fortran_order") ? 1
              : !strcmp(key, "shape") ? 2 : -1;
        if (k < 0) return bad_header(x, "unknown key in the dict");
        if (seen[k]) return bad_header(x, "a key appears twice");
        seen[k] = true;
        advc_status s = ADVC_OK;
        if (k == 0) {
            skip_ws(x);
            if (x->p < x->end && *x->p == '[')
                return advc_set_error(ADVC_ERR_FORMAT, "%s: structured "
                                      "dtypes are not supported", x->what);
            if (!read_string(x, val, sizeof val))
                return bad_header(x, "descr is not a string");
            s = read_descr(x, val, &a->dtype);
        } else if (k == 1) {
            if (read_word(x, "True"))
                return advc_set_error(ADVC_ERR_FORMAT, "%s: Fortran-order "
                                      "data is not supported (save a "
                                      "C-contiguous array)", x->what);
            if (!read_word(x, "False"))
                return bad_header(x, "fortran_order is not True or False");
        } else {
            s = read_shape(x, a);
        }
        if (s != ADVC_OK) return s;
        if (!eat(x, ',')) {
            if (!eat(x, '}')) return bad_header(x, "expected ',' or '}'");
            break;
        }
    }
    if (!seen[0] || !seen[1] || !seen[2])
        return bad_header(x, "descr, fortran_order or shape is missing");
    skip_ws(x);
    if (x->p != x->end) return bad_header(x, "text after the dict");
    return ADVC_OK;
}

/* ---- reading: the file -------------------------------------------------- */

advc_status advc_npy_parse(const uint8_t *buf, size_t len, const char *what,
                           advc_npy_array *out)
{
    memset(out, 0, sizeof *out);
    if (!what) what = "npy";
    if (len < NPY_PRE_V1 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: not a .npy array (no "
                              "\\x93NUMPY magic)", what);
    size_t pre, hl;
    if (buf[6] == 1 && buf[7] == 0) {
        pre = NPY_PRE_V1;
        hl = (size_t)buf[8] | (size_t)buf[9] << 8;
    } else if ((buf[6] == 2 || buf[6] == 3) && buf[7] == 0) {
        if (len < NPY_PRE_V2)
            return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy preamble cut "
                                  "short (%zu bytes)", what, len);
        pre = NPY_PRE_V2;
        hl = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
             (size_t)buf[11] << 24;
    } else {
        return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy format version "
                              "%d.%d is not supported (1.0 to 3.0)", what,
                              buf[6], buf[7]);
    }
    if (hl > len - pre)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy header of %zu "
                              "bytes runs past the end (%zu bytes in all)",
                              what, hl, len);
    lexer x = { (const char *)buf + pre, (const char *)buf + pre + hl, what };
    advc_status s = parse_dict(&x, out);
    if (s != ADVC_OK) return s;
    size_t size = dtypes[out->dtype].size;
    size_t have = len - pre - hl;
    if (out->count > SIZE_MAX / size)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: the shape's byte count "
                              "overflows", what);
    size_t need = out->count * size;
    if (have != need)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: %s: the data holds %zu "
                              "bytes, its shape and dtype '%s' need %zu",
                              what, have < need ? "truncated" : "bad length",
                              have, dtypes[out->dtype].descr, need);
    out->data = buf + pre + hl;
    return ADVC_OK;
}

/* Little-endian unsigned integer of `size` bytes at p. */
static uint64_t load_le(const uint8_t *p, size_t size)
{
    uint64_t v = 0;
    for (size_t b = 0; b < size; b++) v |= (uint64_t)p[b] << (8 * b);
    return v;
}

void advc_npy_get_f32(const advc_npy_array *a, float *dst)
{
    if (a->dtype != ADVC_NPY_F32) return;
    for (size_t i = 0; i < a->count; i++) {
        uint32_t v = (uint32_t)load_le(a->data + 4 * i, 4);
        memcpy(&dst[i], &v, 4);
    }
}

bool advc_npy_get_int(const advc_npy_array *a, size_t i, int64_t *v)
{
    if (!advc_npy_is_int(a->dtype) || i >= a->count) return false;
    size_t size = dtypes[a->dtype].size;
    uint64_t u = load_le(a->data + i * size, size);
    bool is_signed = a->dtype == ADVC_NPY_I8 || a->dtype == ADVC_NPY_I16 ||
                     a->dtype == ADVC_NPY_I32 || a->dtype == ADVC_NPY_I64;
    if (is_signed && size < 8 && (u >> (8 * size - 1)) & 1)
        u |= ~(uint64_t)0 << (8 * size); /* sign-extend */
    if (!is_signed && u > (uint64_t)INT64_MAX) return false;
    memcpy(v, &u, sizeof *v); /* two's complement reinterpretation */
    return true;
}

advc_status advc_npy_read(const char *path, advc_npy_file *out)
{
    memset(out, 0, sizeof *out);
    size_t len;
    advc_status st = advc_data_read_all(path, &out->buf, &len);
    if (st == ADVC_OK) st = advc_npy_parse(out->buf, len, path, &out->a);
    if (st != ADVC_OK) advc_npy_free(out);
    return st;
}

void advc_npy_free(advc_npy_file *f)
{
    if (!f) return;
    free(f->buf);
    memset(f, 0, sizeof *f);
}
