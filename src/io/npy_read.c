/* npy_read.c: NumPy .npy import (advc/image.h), the counterpart of npy.c,
 * so arrays written by advc or by numpy.save (adversarial sets, inputs
 * from other tools) can be read back without Python.
 *
 * Format (NumPy Enhancement Proposal 1 and numpy/lib/format.py):
 *   6 bytes   magic "\x93NUMPY"
 *   2 bytes   major, minor version: 1.0 (HEADER_LEN is a little-endian
 *             u16), 2.0 or 3.0 (HEADER_LEN is a u32; 3.0 allows UTF-8)
 *   HEADER_LEN bytes: a Python dict literal with exactly the keys 'descr'
 *             (a dtype string), 'fortran_order' (True / False) and 'shape'
 *             (a tuple of non-negative ints), padded with spaces and
 *             ended by '\n'
 *   the data  prod(shape) elements, nothing after them.
 * We read what advc writes and what numpy.save writes for the same types:
 * descr '<f4', '<i4' or '|u1' (also '<u1'), fortran_order False, at most
 * ADVC_NPY_MAX_DIMS dimensions.  Anything else is refused with one line
 * naming the file and the field.  Every length is checked against the
 * file's size before anything is allocated.
 */
#include "advc/image.h"
#include "data_file.h"

#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER 65536u /* bytes; numpy itself stops at 10000 by
                                 default, and advc writes under 200      */
#define NPY_CHUNK 4096        /* elements decoded per read              */

/* ---- the header's dict literal -------------------------------------- */

typedef struct {
    const char *p, *end;   /* the text left to parse */
    const char *path;
    advc_npy_array *a;
    bool have_descr, have_order, have_shape;
} hdr;

static advc_status bad(const hdr *h, const char *what)
{
    return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy header: %s", h->path,
                          what);
}

static void skip_ws(hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' ||
                             *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static bool eat(hdr *h, char c)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return false;
}

/* A quoted string without escapes into out (cap bytes with the NUL). */
static bool string(hdr *h, char *out, size_t cap)
{
    skip_ws(h);
    if (h->p == h->end || (*h->p != '\'' && *h->p != '"')) return false;
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || n + 1 >= cap) return false;
        out[n++] = *h->p++;
    }
    if (h->p == h->end) return false;
    h->p++;
    out[n] = '\0';
    return true;
}

static advc_status parse_descr(hdr *h)
{
    char d[16];
    if (!string(h, d, sizeof d)) return bad(h, "'descr' is not a dtype string");
    if (!strcmp(d, "<f4")) h->a->dtype = ADVC_NPY_F32;
    else if (!strcmp(d, "<i4")) h->a->dtype = ADVC_NPY_I32;
    else if (!strcmp(d, "|u1") || !strcmp(d, "<u1")) h->a->dtype = ADVC_NPY_U8;
    else
        return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy dtype '%s' is not "
                              "supported (float32 '<f4', int32 '<i4' or "
                              "uint8 '|u1')", h->path, d);
    return ADVC_OK;
}

static advc_status parse_order(hdr *h)
{
    skip_ws(h);
    size_t left = (size_t)(h->end - h->p);
    if (left >= 5 && !memcmp(h->p, "False", 5)) {
        h->p += 5;
        return ADVC_OK;
    }
    if (left >= 4 && !memcmp(h->p, "True", 4))
        return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy array is in "
                              "Fortran order; save it in C order",
                              h->path);
    return bad(h, "'fortran_order' is not True or False");
}

/* "(d0, d1, ...)": decimal non-negative ints, an optional trailing comma;
 * the element count may not overflow. */
static advc_status parse_shape(hdr *h)
{
    advc_npy_array *a = h->a;
    if (!eat(h, '(')) return bad(h, "'shape' is not a tuple");
    a->ndim = 0;
    uint64_t count = 1;
    while (!eat(h, ')')) {
        if (a->ndim > 0 && !eat(h, ','))
            return bad(h, "',' missing in 'shape'");
        if (eat(h, ')')) break; /* "(5,)" */
        if (a->ndim == ADVC_NPY_MAX_DIMS)
            return bad(h, "'shape' has more than 8 dimensions");
        skip_ws(h);
        if (h->p == h->end || *h->p < '0' || *h->p > '9')
            return bad(h, "'shape' holds something other than a "
                          "non-negative integer");
        uint64_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            if (v > (UINT64_MAX - 9) / 10)
                return bad(h, "a dimension in 'shape' is too large");
            v = v * 10 + (uint64_t)(*h->p++ - '0');
        }
        if (v > SIZE_MAX || !advc_data_mul(count, v, &count))
            return bad(h, "'shape' has too many elements");
        a->shape[a->ndim++] = (size_t)v;
    }
    a->count = count;
    return ADVC_OK;
}

/* One "key: value" item. */
static advc_status parse_item(hdr *h)
{
    char key[32];
    if (!string(h, key, sizeof key)) return bad(h, "a key is not a string");
    if (!eat(h, ':')) return bad(h, "':' missing after a key");
    bool *seen = !strcmp(key, "descr") ? &h->have_descr
               : !strcmp(key, "fortran_order") ? &h->have_order
               : !strcmp(key, "shape") ? &h->have_shape : NULL;
    if (!seen)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy header: unknown "
                              "key '%s'", h->path, key);
    if (*seen)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy header: key '%s' "
                              "appears twice", h->path, key);
    *seen = true;
    return seen == &h->have_descr ? parse_descr(h)
         : seen == &h->have_order ? parse_order(h) : parse_shape(h);
}

static advc_status parse_header(hdr *h)
{
    if (!eat(h, '{')) return bad(h, "not a dict literal");
    while (!eat(h, '}')) {
        advc_status s = parse_item(h);
        if (s != ADVC_OK) return s;
        if (!eat(h, ',')) {
            if (eat(h, '}')) break;
            return bad(h, "',' or '}' missing after an item");
        }
    }
    skip_ws(h);
    if (h->p != h->end) return bad(h, "text after the dict");
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return bad(h, "'descr', 'fortran_order' or 'shape' is missing");
    return ADVC_OK;
}

/* ---- the file ----------------------------------------------------------- */

static size_t item_size(advc_npy_dtype t) { return t == ADVC_NPY_U8 ? 1 : 4; }

/* Reads the preamble and the header; *left is what the file holds after
 * them. */
static advc_status read_header(FILE *f, const char *path, uint64_t len,
                               advc_npy_array *a, uint64_t *left)
{
    uint8_t pre[12];
    if (len < 10)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: %llu bytes is too short "
                              "for a .npy file", path,
                              (unsigned long long)len);
    advc_status s = advc_data_read(f, pre, 10, path);
    if (s != ADVC_OK) return s;
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: not a .npy file (bad "
                              "magic)", path);
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy format version "
                              "%d.%d is not supported (1.0 to 3.0)", path,
                              major, minor);
    uint64_t pre_len = major == 1 ? 10 : 12, hlen = pre[8] | pre[9] << 8;
    if (major > 1) {
        if (len < 12 || (s = advc_data_read(f, pre + 10, 2, path)) != ADVC_OK)
            return len < 12 ? advc_set_error(ADVC_ERR_FORMAT, "%s: truncated "
                                             ".npy preamble", path) : s;
        hlen |= (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
    }
    if (hlen > NPY_MAX_HEADER || hlen > len - pre_len)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: .npy header length %llu "
                              "does not fit (file %llu bytes, at most %u)",
                              path, (unsigned long long)hlen,
                              (unsigned long long)len, NPY_MAX_HEADER);
    char *text = malloc(hlen ? (size_t)hlen : 1);
    if (!text)
        return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory", path);
    if ((s = advc_data_read(f, text, (size_t)hlen, path)) == ADVC_OK) {
        hdr h = { text, text + hlen, path, a, false, false, false };
        s = parse_header(&h);
    }
    free(text);
    *left = len - pre_len - hlen;
    return s;
}

/* Reads count elements, decoding little-endian 4-byte items for the host. */
static advc_status read_data(FILE *f, const char *path, advc_npy_array *a)
{
    if (a->dtype == ADVC_NPY_U8)
        return advc_data_read(f, a->data, a->count, path);
    uint8_t buf[NPY_CHUNK * 4];
    uint8_t *dst = a->data;
    for (size_t i = 0; i < a->count; i += NPY_CHUNK) {
        size_t k = a->count - i < NPY_CHUNK ? a->count - i : NPY_CHUNK;
        advc_status s = advc_data_read(f, buf, 4 * k, path);
        if (s != ADVC_OK) return s;
        for (size_t j = 0; j < k; j++) {
            const uint8_t *b = buf + 4 * j;
            uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
                         (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            memcpy(dst + 4 * (i + j), &v, 4);
        }
    }
    return ADVC_OK;
}

advc_status advc_npy_read(const char *path, advc_npy_array *out)
{
    if (!out) return advc_set_error(ADVC_ERR_ARG, "npy: out is NULL");
    memset(out, 0, sizeof *out);
    FILE *f;
    uint64_t len, left = 0;
    advc_status s = advc_data_open(path, &f, &len);
    if (s != ADVC_OK) return s;
    if ((s = read_header(f, path, len, out, &left)) != ADVC_OK) goto done;
    size_t isz = item_size(out->dtype);
    if (out->count > left / isz || out->count * isz != left) {
        s = advc_set_error(ADVC_ERR_FORMAT, "%s: .npy shape holds %zu "
                           "elements of %zu bytes, but %llu data bytes "
                           "follow the header", path, out->count, isz,
                           (unsigned long long)left);
        goto done;
    }
    size_t bytes = out->count * isz;
    if (out->count > 0) {
        if (!(out->data = malloc(bytes))) {
            s = advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory for %zu "
                               "elements", path, out->count);
            goto done;
        }
        s = read_data(f, path, out);
    }
done:
    fclose(f);
    if (s != ADVC_OK) advc_npy_free(out);
    return s;
}

void advc_npy_free(advc_npy_array *a)
{
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}
