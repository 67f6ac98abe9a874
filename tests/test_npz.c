/* test_npz.c: .npy arrays, uncompressed zip archives and .npz files
 * (advc/npy.h).  Real numpy.savez output parses and advc writes the same
 * bytes for the same arrays; every dtype round-trips bit for bit; header
 * variants NumPy may write are read and everything else is refused with a
 * one-line message naming the file and the tensor; a compressed member is
 * refused by name; every truncation is an error saying where the file was
 * cut; zip64 records are followed; no flipped byte crashes the reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "npz_fixtures.h"
#include "testutil.h"

/* One line, starting with `prefix`, containing `part` (may be NULL). */
static void check_msg(const char *prefix, const char *part)
{
    const char *m = advc_last_error();
    ck_assert_msg(strncmp(m, prefix, strlen(prefix)) == 0,
                  "message '%s' does not start with '%s'", m, prefix);
    ck_assert_msg(!strchr(m, '\n'), "message '%s' is not one line", m);
    if (part)
        ck_assert_msg(strstr(m, part) != NULL, "message '%s' lacks '%s'", m,
                      part);
}

/* Files go to one scratch directory per test (tests/testutil.h). */
static tu_tmpdir td;
static void setup(void) { tu_tmpdir_make(&td, "npz"); }
static void teardown(void) { tu_tmpdir_remove(&td); }

static void tmp_file(char *out, size_t n, const char *tag)
{
    snprintf(out, n, "%s", tu_tmpdir_path(&td, tag));
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* ---- numpy's own bytes -------------------------------------------------- */

START_TEST(reads_numpy_savez_and_writes_the_same_bytes)
{
    advc_npz z;
    ck_assert_int_eq(advc_npz_parse(numpy_savez, sizeof numpy_savez, "x.npz",
                                    &z), ADVC_OK);
    ck_assert_int_eq(z.n, 2);
    ck_assert_str_eq(z.e[0].name, "a");
    ck_assert_int_eq(z.e[0].a.dtype, ADVC_NPY_F32);
    ck_assert_int_eq(z.e[0].a.ndim, 1);
    ck_assert_uint_eq(z.e[0].a.shape[0], 3);
    float a[3];
    advc_npy_get_f32(&z.e[0].a, a);
    ck_assert(a[0] == 0.0f && a[1] == 1.0f && a[2] == 2.0f);
    ck_assert_str_eq(z.e[1].name, "n");
    ck_assert_int_eq(z.e[1].a.dtype, ADVC_NPY_I64);
    ck_assert_int_eq(z.e[1].a.ndim, 0);
    int64_t v;
    ck_assert(advc_npy_get_int(&z.e[1].a, 0, &v) && v == 7);
    ck_assert_ptr_eq(advc_npz_find(&z, "n"), &z.e[1]);
    ck_assert_ptr_null(advc_npz_find(&z, "m"));
    advc_npz_free(&z);

    char path[256];
    tmp_file(path, sizeof path, "same.npz");
    float fa[3] = { 0, 1, 2 };
    int64_t n7 = 7;
    size_t s3 = 3;
    advc_npz_item it[2] = { { "a", ADVC_NPY_F32, 1, &s3, fa },
                            { "n", ADVC_NPY_I64, 0, NULL, &n7 } };
    ck_assert_int_eq(advc_npz_write(path, it, 2), ADVC_OK);
    size_t len;
    uint8_t *b = slurp(path, &len);
    ck_assert_uint_eq(len, sizeof numpy_savez);
    ck_assert_int_eq(memcmp(b, numpy_savez, len), 0);
    free(b);
    remove(path);
}
END_TEST

START_TEST(compressed_member_is_refused_by_name)
{
    advc_npz z;
    ck_assert_int_eq(advc_npz_parse(numpy_savez_compressed,
                                    sizeof numpy_savez_compressed, "c.npz",
                                    &z), ADVC_ERR_FORMAT);
    check_msg("c.npz: ", "tensor 'a' is compressed");
    check_msg("c.npz: ", "numpy.savez");
    ck_assert_int_eq(z.n, 0);
    advc_npz_free(&z);
}
END_TEST

/* ---- round trips -------------------------------------------------------- */

START_TEST(every_dtype_round_trips)
{
    char path[256];
    tmp_file(path, sizeof path, "rt.npz");
    float f[6] = { 1.5f, -0.0f, INFINITY, -INFINITY, 1e-45f, 0 };
    uint32_t nan_bits = 0x7fc12345u; /* a NaN with a payload */
    memcpy(&f[5], &nan_bits, 4);
    int32_t i4[3] = { INT32_MIN, -1, INT32_MAX };
    uint8_t u1[2] = { 0, 255 };
    int64_t i8[2] = { INT64_MIN, 1234567890123ll };
    int8_t s1[2] = { -128, 127 };
    int16_t s2[2] = { -32768, 32767 };
    uint16_t u2[2] = { 0, 65535 };
    uint32_t u4[2] = { 0, UINT32_MAX };
    uint64_t u8[2] = { 5, UINT64_MAX };
    uint16_t h[2] = { 0x3c00, 0xfc00 }; /* 1.0 and -inf as float16 */
    double d[2] = { 0.1, -1e300 };
    uint8_t bo[2] = { 1, 0 };
    size_t s6[2] = { 2, 3 }, s3 = 3, s2s = 2, s0[2] = { 0, 5 };
    const advc_npz_item it[] = {
        { "f", ADVC_NPY_F32, 2, s6, f },   { "i4", ADVC_NPY_I32, 1, &s3, i4 },
        { "u1", ADVC_NPY_U8, 1, &s2s, u1 }, { "i8", ADVC_NPY_I64, 1, &s2s, i8 },
        { "s1", ADVC_NPY_I8, 1, &s2s, s1 }, { "s2", ADVC_NPY_I16, 1, &s2s, s2 },
        { "u2", ADVC_NPY_U16, 1, &s2s, u2 },
        { "u4", ADVC_NPY_U32, 1, &s2s, u4 },
        { "u8", ADVC_NPY_U64, 1, &s2s, u8 }, { "h", ADVC_NPY_F16, 1, &s2s, h },
        { "d", ADVC_NPY_F64, 1, &s2s, d },  { "b", ADVC_NPY_BOOL, 1, &s2s, bo },
        { "empty", ADVC_NPY_F32, 2, s0, NULL },
        { "scalar.with.dots", ADVC_NPY_F32, 0, NULL, f },
    };
    int n = (int)(sizeof it / sizeof it[0]);
    ck_assert_int_eq(advc_npz_write(path, it, n), ADVC_OK);
    advc_npz z;
    ck_assert_int_eq(advc_npz_read(path, &z), ADVC_OK);
    ck_assert_int_eq(z.n, n);
    for (int i = 0; i < n; i++) {
        const advc_npy_array *a = &z.e[i].a;
        ck_assert_str_eq(z.e[i].name, it[i].name);
        ck_assert_int_eq(a->dtype, it[i].dtype);
        ck_assert_int_eq(a->ndim, it[i].ndim);
        size_t count = 1;
        for (int k = 0; k < a->ndim; k++) {
            ck_assert_uint_eq(a->shape[k], it[i].shape[k]);
            count *= it[i].shape[k];
        }
        ck_assert_uint_eq(a->count, count);
        /* the host is little-endian on every target we build for */
        if (count)
            ck_assert_int_eq(memcmp(a->data, it[i].data,
                                    count * advc_npy_itemsize(a->dtype)), 0);
    }
    float back[6];
    advc_npy_get_f32(&z.e[0].a, back);
    ck_assert_int_eq(memcmp(back, f, sizeof f), 0);
    int64_t v;
    ck_assert(advc_npy_get_int(&z.e[4].a, 0, &v) && v == -128);
    ck_assert(advc_npy_get_int(&z.e[5].a, 0, &v) && v == -32768);
    ck_assert(advc_npy_get_int(&z.e[6].a, 1, &v) && v == 65535);
    ck_assert(advc_npy_get_int(&z.e[7].a, 1, &v) && v == UINT32_MAX);
    ck_assert(advc_npy_get_int(&z.e[3].a, 0, &v) && v == INT64_MIN);
    ck_assert(advc_npy_get_int(&z.e[8].a, 0, &v) && v == 5);
    ck_assert(!advc_npy_get_int(&z.e[8].a, 1, &v)); /* above INT64_MAX */
    ck_assert(!advc_npy_get_int(&z.e[0].a, 0, &v)); /* not an integer */
    ck_assert(!advc_npy_get_int(&z.e[4].a, 2, &v)); /* out of range  */
    advc_npz_free(&z);

    /* no arrays at all: the 22-byte end record only */
    ck_assert_int_eq(advc_npz_write(path, NULL, 0), ADVC_OK);
    ck_assert_int_eq(advc_npz_read(path, &z), ADVC_OK);
    ck_assert_int_eq(z.n, 0);
    advc_npz_free(&z);
    /* the writer's own errors */
    const advc_npz_item twice[2] = { it[1], it[1] };
    ck_assert_int_eq(advc_npz_write(path, twice, 2), ADVC_ERR_ARG);
    check_msg(path, "tensor 'i4' given twice");
    advc_npz_item bad = it[1];
    bad.dtype = (advc_npy_dtype)99;
    ck_assert_int_eq(advc_npz_write(path, &bad, 1), ADVC_ERR_ARG);
    check_msg(path, "tensor 'i4'");
    remove(path);
}
END_TEST

/* ---- truncation and damage ---------------------------------------------- */

START_TEST(every_truncation_is_an_error_saying_where)
{
    /* numpy_savez: member a's data is bytes [55, 195), member n's local
     * header starts at 195 and its data is [250, 386); the directory and
     * end record follow. */
    for (size_t len = 0; len < sizeof numpy_savez; len++) {
        advc_npz z;
        ck_assert_int_eq(advc_npz_parse(numpy_savez, len, "cut.npz", &z),
                         ADVC_ERR_FORMAT);
        ck_assert_int_eq(z.n, 0);
        check_msg("cut.npz: ", NULL);
        if (len > 55 && len < 195)
            check_msg("cut.npz: ", "truncated inside tensor 'a'");
        if (len > 250 && len < 386)
            check_msg("cut.npz: ", "truncated inside tensor 'n'");
        if (len >= 386)
            check_msg("cut.npz: ", "truncated after tensor 'n'");
    }
    /* and through the file reader */
    char path[256];
    tmp_file(path, sizeof path, "cut.npz");
    spit(path, numpy_savez, 100);
    advc_npz z;
    ck_assert_int_eq(advc_npz_read(path, &z), ADVC_ERR_FORMAT);
    check_msg(path, "tensor 'a'");
    remove(path);
    ck_assert_int_eq(advc_npz_read(path, &z), ADVC_ERR_IO);
    check_msg(path, NULL);
}
END_TEST

START_TEST(flipped_bytes_never_crash)
{
    uint8_t b[sizeof numpy_savez];
    static const uint8_t masks[] = { 0x01, 0x10, 0x80, 0xff };
    int caught = 0, tries = 0;
    for (size_t i = 0; i < sizeof b; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(b, numpy_savez, sizeof b);
            b[i] ^= masks[m];
            advc_npz z;
            advc_status st = advc_npz_parse(b, sizeof b, "f.npz", &z);
            ck_assert(st == ADVC_OK || st == ADVC_ERR_FORMAT);
            if (st == ADVC_OK) { /* what it found lies inside the buffer */
                for (int k = 0; k < z.n; k++) {
                    size_t bytes = z.e[k].a.count *
                                   advc_npy_itemsize(z.e[k].a.dtype);
                    ck_assert(z.e[k].a.data >= b &&
                              z.e[k].a.data + bytes <= b + sizeof b);
                }
            } else {
                check_msg("f.npz: ", NULL);
                caught++;
            }
            advc_npz_free(&z);
            tries++;
        }
    /* Only fields nothing depends on may change unnoticed: dates, times,
     * versions, attributes and the zip64 extra's copies of the sizes. */
    ck_assert_int_gt(caught, tries * 3 / 4);
}
END_TEST

/* Little-endian stores for hand-made archives. */
static void p16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void p32(uint8_t *p, uint32_t v)
{
    p16(p, v & 0xffff);
    p16(p + 2, v >> 16);
}

static void p64(uint8_t *p, uint64_t v)
{
    p32(p, (uint32_t)v);
    p32(p + 4, (uint32_t)(v >> 32));
}

/* One stored member in full zip64 form: the central entry's sizes and
 * offset are 0xFFFFFFFF with the values in its zip64 extra field, and the
 * end record's fields are 0xFFFF / 0xFFFFFFFF, pointing to a zip64 end
 * record through its locator.  Returns the archive's length. */
static size_t make_zip64(uint8_t *o, const char *name, const uint8_t *d,
                         size_t n)
{
    size_t nl = strlen(name), p = 0;
    uint32_t crc = advc_crc32(0, d, n);
    p32(o, 0x04034b50); p16(o + 4, 45); p16(o + 6, 0); p16(o + 8, 0);
    p32(o + 10, 0x00210000); p32(o + 14, crc); p32(o + 18, 0xffffffff);
    p32(o + 22, 0xffffffff); p16(o + 26, (unsigned)nl); p16(o + 28, 20);
    memcpy(o + 30, name, nl);
    p16(o + 30 + nl, 1); p16(o + 32 + nl, 16); p64(o + 34 + nl, n);
    p64(o + 42 + nl, n);
    p = 50 + nl;
    memcpy(o + p, d, n);
    p += n;
    size_t cd = p;
    p32(o + p, 0x02014b50); p16(o + p + 4, 45); p16(o + p + 6, 45);
    p16(o + p + 8, 0); p16(o + p + 10, 0); p32(o + p + 12, 0x00210000);
    p32(o + p + 16, crc); p32(o + p + 20, 0xffffffff);
    p32(o + p + 24, 0xffffffff); p16(o + p + 28, (unsigned)nl);
    p16(o + p + 30, 28); p16(o + p + 32, 0); p16(o + p + 34, 0);
    p16(o + p + 36, 0); p32(o + p + 38, 0); p32(o + p + 42, 0xffffffff);
    memcpy(o + p + 46, name, nl);
    p += 46 + nl;
    p16(o + p, 1); p16(o + p + 2, 24); p64(o + p + 4, n); p64(o + p + 12, n);
    p64(o + p + 20, 0); /* usize, csize, local header offset */
    p += 28;
    size_t cd_size = p - cd, e64 = p;
    p32(o + p, 0x06064b50); p64(o + p + 4, 44); p16(o + p + 12, 45);
    p16(o + p + 14, 45); p32(o + p + 16, 0); p32(o + p + 20, 0);
    p64(o + p + 24, 1); p64(o + p + 32, 1); p64(o + p + 40, cd_size);
    p64(o + p + 48, cd);
    p += 56;
    p32(o + p, 0x07064b50); p32(o + p + 4, 0); p64(o + p + 8, e64);
    p32(o + p + 16, 1);
    p += 20;
    p32(o + p, 0x06054b50); p16(o + p + 4, 0); p16(o + p + 6, 0);
    p16(o + p + 8, 0xffff); p16(o + p + 10, 0xffff);
    p32(o + p + 12, 0xffffffff); p32(o + p + 16, 0xffffffff);
    p16(o + p + 20, 0);
    return p + 22;
}

START_TEST(zip64_records_are_followed)
{
    uint8_t npy[256], zip[1024];
    /* member a of the fixture: [55, 195) */
    memcpy(npy, numpy_savez + 55, 140);
    size_t len = make_zip64(zip, "w.npy", npy, 140);
    advc_npz z;
    ck_assert_int_eq(advc_npz_parse(zip, len, "z64.npz", &z), ADVC_OK);
    ck_assert_int_eq(z.n, 1);
    ck_assert_str_eq(z.e[0].name, "w");
    ck_assert_uint_eq(z.e[0].a.count, 3);
    advc_npz_free(&z);
    /* a missing locator, a bad zip64 extra, a bad record offset */
    uint8_t bad[1024];
    memcpy(bad, zip, len);
    bad[len - 22 - 20] ^= 0xff;
    ck_assert_int_eq(advc_npz_parse(bad, len, "z64.npz", &z),
                     ADVC_ERR_FORMAT);
    check_msg("z64.npz: ", "zip64");
    memcpy(bad, zip, len);
    bad[len - 22 - 20 - 56 - 28 + 2] = 8; /* extra size 8: no room */
    ck_assert_int_eq(advc_npz_parse(bad, len, "z64.npz", &z),
                     ADVC_ERR_FORMAT);
    check_msg("z64.npz: ", "tensor 'w'");
    memcpy(bad, zip, len);
    bad[len - 22 - 20 + 8] ^= 0x40;
    ck_assert_int_eq(advc_npz_parse(bad, len, "z64.npz", &z),
                     ADVC_ERR_FORMAT);
    check_msg("z64.npz: ", "zip64 end record");
}
END_TEST

/* Changes the 16-bit field at `off` of both headers of member a (local at
 * 0, central at 386). */
static void set_both16(uint8_t *b, size_t local_off, unsigned v)
{
    p16(b + local_off, v);
    p16(b + 386 + local_off + 2, v); /* central fields sit 2 bytes later */
}

START_TEST(zip_structure_errors_name_the_member)
{
    uint8_t b[sizeof numpy_savez];
    advc_npz z;
    struct {
        size_t off;
        unsigned v;
        const char *want;
    } cases[] = {
        { 8, 8, "tensor 'a' is compressed (deflate)" },
        { 8, 12, "tensor 'a' uses compression method 12" },
        { 6, 1, "tensor 'a' is encrypted" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(b, numpy_savez, sizeof b);
        set_both16(b, cases[i].off, cases[i].v);
        ck_assert_int_eq(advc_npz_parse(b, sizeof b, "s.npz", &z),
                         ADVC_ERR_FORMAT);
        check_msg("s.npz: ", cases[i].want);
    }
    /* a data descriptor flag: sizes come from the directory; a local CRC
     * of zero (as streaming writers leave it) is then fine */
    memcpy(b, numpy_savez, sizeof b);
    set_both16(b, 6, 8);
    p32(b + 14, 0);
    ck_assert_int_eq(advc_npz_parse(b, sizeof b, "s.npz", &z), ADVC_OK);
    advc_npz_free(&z);
    /* damaged data: the CRC catches it */
    memcpy(b, numpy_savez, sizeof b);
    b[190] ^= 1;
    ck_assert_int_eq(advc_npz_parse(b, sizeof b, "s.npz", &z),
                     ADVC_ERR_FORMAT);
    check_msg("s.npz: ", "tensor 'a' is damaged");
    /* two members named a.npy (names are not under the CRC) */
    memcpy(b, numpy_savez, sizeof b);
    b[225] = 'a';                /* local name of member n */
    b[386 + 51 + 46] = 'a';      /* its central name        */
    ck_assert_int_eq(advc_npz_parse(b, sizeof b, "s.npz", &z),
                     ADVC_ERR_FORMAT);
    check_msg("s.npz: ", "tensor 'a' appears twice");
    /* a member that is not an .npy array */
    memcpy(b, numpy_savez, sizeof b);
    b[229] = 'x';                /* n.npy -> n.npx */
    b[386 + 51 + 50] = 'x';
    ck_assert_int_eq(advc_npz_parse(b, sizeof b, "s.npz", &z),
                     ADVC_ERR_FORMAT);
    check_msg("s.npz: ", "member 'n.npx' is not an .npy array");
    /* a single .npy given as an archive */
    ck_assert_int_eq(advc_npz_parse(numpy_savez + 55, 140, "s.npz", &z),
                     ADVC_ERR_FORMAT);
    check_msg("s.npz: ", "a single .npy array");
    /* junk */
    ck_assert_int_eq(advc_npz_parse((const uint8_t *)"hello, world", 12,
                                    "s.npz", &z), ADVC_ERR_FORMAT);
    check_msg("s.npz: ", "not a zip archive");
}
END_TEST

/* ---- .npy headers ------------------------------------------------------- */

/* An .npy file: magic, version major.0, the header length (u16 for 1.0,
 * u32 otherwise), dict, then nd bytes of data. */
static size_t npy_make(uint8_t *b, int major, const char *dict,
                       size_t nd)
{
    size_t pre = major == 1 ? 10 : 12, hl = strlen(dict);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (uint8_t)major;
    b[7] = 0;
    if (major == 1) p16(b + 8, (unsigned)hl);
    else p32(b + 8, (uint32_t)hl);
    memcpy(b + pre, dict, hl);
    for (size_t i = 0; i < nd; i++) b[pre + hl + i] = (uint8_t)i;
    return pre + hl + nd;
}

START_TEST(npy_headers_numpy_may_write_are_read)
{
    static const struct {
        int major;
        const char *dict;
        size_t nd;
        advc_npy_dtype t;
        int ndim;
        size_t count;
    } ok[] = {
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }  \n",
          8, ADVC_NPY_F32, 1, 2 },
        { 1, "{\"shape\": (2, 3), \"descr\": \"<i8\", "
             "\"fortran_order\": False}",
          48, ADVC_NPY_I64, 2, 6 },
        { 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3L, 1L), }",
          3, ADVC_NPY_U8, 2, 3 },
        { 1, "{'descr': '<u1', 'fortran_order': False, 'shape': (), }\n", 1,
          ADVC_NPY_U8, 0, 1 },
        { 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }\n",
          0, ADVC_NPY_F64, 2, 0 },
        { 3, "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }\n",
          2, ADVC_NPY_F16, 1, 1 },
    };
    uint8_t b[512];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = npy_make(b, ok[i].major, ok[i].dict, ok[i].nd);
        advc_npy_array a;
        ck_assert_msg(advc_npy_parse(b, n, "t", &a) == ADVC_OK, "case %zu: %s",
                      i, advc_last_error());
        ck_assert_int_eq(a.dtype, ok[i].t);
        ck_assert_int_eq(a.ndim, ok[i].ndim);
        ck_assert_uint_eq(a.count, ok[i].count);
        ck_assert_ptr_eq(a.data, b + n - ok[i].nd);
    }
}
END_TEST

START_TEST(npy_headers_are_refused_with_a_reason)
{
    static const struct {
        int major;
        const char *dict;
        size_t nd;
        const char *want;
    } bad[] = {
        { 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 4,
          "big-endian dtype '>f4'" },
        { 1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8,
          "Python objects" },
        { 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8,
          "dtype '<c8' is not supported" },
        { 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': "
             "(1,), }", 4, "structured" },
        { 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", 4,
          "Fortran-order" },
        { 1, "{'descr': '<f4', 'fortran_order': False}", 4, "missing" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
             "'x': 1}", 4, "unknown key" },
        { 1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
             "'shape': (1,)}", 4, "twice" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1), }", 4,
          "not a tuple" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4,
          "non-negative" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, "
             "1, 1, 1, 1, 1), }", 4, "more than 8" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
             "(18446744073709551616,), }", 4, "overflows" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, "
             "4294967296, 4294967296), }", 4, "overflows" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 7,
          "truncated" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 9,
          "data holds 9 bytes" },
        { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", 4,
          "text after the dict" },
        { 4, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4,
          "version 4.0" },
    };
    uint8_t b[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = npy_make(b, bad[i].major, bad[i].dict, bad[i].nd);
        advc_npy_array a;
        ck_assert_msg(advc_npy_parse(b, n, "m.npz: tensor 'x'", &a) ==
                      ADVC_ERR_FORMAT, "case %zu parsed", i);
        check_msg("m.npz: tensor 'x': ", bad[i].want);
    }
    /* a header length past the end, and no magic */
    size_t n = npy_make(b, 1, "{}", 0);
    p16(b + 8, 200);
    advc_npy_array a;
    ck_assert_int_eq(advc_npy_parse(b, n, "t", &a), ADVC_ERR_FORMAT);
    check_msg("t: ", "runs past the end");
    ck_assert_int_eq(advc_npy_parse((const uint8_t *)"NUMPY....", 9, "t", &a),
                     ADVC_ERR_FORMAT);
    check_msg("t: ", "not a .npy array");
}
END_TEST

START_TEST(npy_write_matches_the_encoder)
{
    char path[256];
    tmp_file(path, sizeof path, "x.npy");
    float x[5] = { 1, 2, 3, 4, 5 };
    size_t shape[2] = { 5, 1 };
    ck_assert_int_eq(advc_npy_write(path, ADVC_NPY_F32, x, 2, shape),
                     ADVC_OK);
    size_t n, m;
    uint8_t *f = slurp(path, &n), *e;
    ck_assert_int_eq(advc_npy_encode(ADVC_NPY_F32, x, 2, shape, &e, &m),
                     ADVC_OK);
    ck_assert_uint_eq(n, m);
    ck_assert_int_eq(memcmp(f, e, n), 0);
    /* NumPy's header: room to grow axis 0 (20 spaces after "(5, 1), }"
     * before the alignment padding), data on a 64-byte boundary */
    ck_assert_uint_eq(n, 128 + 20);
    advc_npy_array a;
    ck_assert_int_eq(advc_npy_parse(e, m, "t", &a), ADVC_OK);
    ck_assert_uint_eq(a.count, 5);
    free(f);
    free(e);
    /* The growth room only moves the data offset for dicts of 98 to 117
     * characters, too long for any array NumPy can allocate; an empty one
     * at the edge shows format.py's rule: dict 97 + growth 20 + '\n' + 10
     * = 128 is already aligned, yet the padding is 1 to 64 spaces, never
     * 0, so the data starts at 192 (with one growth space less: 128). */
    size_t wide[4] = { 0, 100000000000u, 100000000000u, 10000000000u };
    ck_assert_int_eq(advc_npy_encode(ADVC_NPY_F32, NULL, 4, wide, &e, &m),
                     ADVC_OK);
    ck_assert_uint_eq(m, 192);
    ck_assert_int_eq(advc_npy_parse(e, m, "t", &a), ADVC_OK);
    ck_assert_uint_eq(a.shape[3], wide[3]);
    free(e);
    remove(path);
}
END_TEST

Suite *advc_suite_npz(void)
{
    Suite *s = suite_create("npz");
    TCase *t = tcase_create("numpy");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, reads_numpy_savez_and_writes_the_same_bytes);
    tcase_add_test(t, compressed_member_is_refused_by_name);
    tcase_add_test(t, every_dtype_round_trips);
    suite_add_tcase(s, t);
    t = tcase_create("damage");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, every_truncation_is_an_error_saying_where);
    tcase_add_test(t, flipped_bytes_never_crash);
    tcase_add_test(t, zip64_records_are_followed);
    tcase_add_test(t, zip_structure_errors_name_the_member);
    suite_add_tcase(s, t);
    t = tcase_create("npy");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, npy_headers_numpy_may_write_are_read);
    tcase_add_test(t, npy_headers_are_refused_with_a_reason);
    tcase_add_test(t, npy_write_matches_the_encoder);
    suite_add_tcase(s, t);
    return s;
}
