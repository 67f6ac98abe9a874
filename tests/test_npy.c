/* test_npy.c: reading .npy files (advc_npy_read, the file side of
 * advc_npy_parse; test_npz.c holds the parser's header cases over
 * buffers).  What advc_npy_write writes comes back bit for bit; headers
 * as numpy.save writes them (format 1.0 and 2.0, either quote, any key
 * order) are read; malformed and damaged files are refused with
 * ADVC_ERR_FORMAT and one line naming the file, never a crash.
 */
#include "testutil.h"

static tu_tmpdir td;

static void setup(void) { tu_tmpdir_make(&td, "npy"); }
static void teardown(void) { tu_tmpdir_remove(&td); }

/* A .npy file from its parts: version, header text (padded here with
 * spaces and '\n' to a multiple of 64 like numpy), data bytes. */
static const char *npy_file(const char *name, int major, const char *dict,
                            const void *data, size_t n)
{
    const char *p = tu_tmpdir_path(&td, name);
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t hl = (pre + dl + 1 + 63) / 64 * 64 - pre;
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    uint8_t b[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', (uint8_t)major, 0,
                      (uint8_t)hl, (uint8_t)(hl >> 8), 0, 0 };
    fwrite(b, 1, pre, f);
    fwrite(dict, 1, dl, f);
    for (size_t i = dl; i + 1 < hl; i++) fputc(' ', f);
    fputc('\n', f);
    if (n) fwrite(data, 1, n, f);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

static void expect_refused(const char *path, const char *part)
{
    advc_npy_file f;
    advc_status s = advc_npy_read(path, &f);
    ck_assert_msg(s == ADVC_ERR_FORMAT, "%s: status %d (%s)", path, (int)s,
                  advc_last_error());
    const char *m = advc_last_error();
    ck_assert_msg(strstr(m, path) && strstr(m, part) && !strchr(m, '\n'),
                  "message '%s' lacks '%s'", m, part);
    ck_assert_ptr_null(f.buf);
    ck_assert_ptr_null(f.a.data);
    ck_assert_uint_eq(f.a.count, 0);
}

START_TEST(write_read_round_trip)
{
    /* float32 (2, 3, 2): NaN with a payload, -0, inf, a denormal */
    uint32_t bits[12] = { 0x7fc01234u, 0x80000000u, 0x7f800000u, 1u };
    float f[12], back[12];
    for (int i = 4; i < 12; i++) bits[i] = 0x3f800000u + (uint32_t)i;
    memcpy(f, bits, sizeof f);
    size_t sh3[3] = { 2, 3, 2 };
    const char *p = tu_tmpdir_path(&td, "f.npy");
    ck_assert_int_eq(advc_npy_write(p, ADVC_NPY_F32, f, 3, sh3), ADVC_OK);
    advc_npy_file a;
    ck_assert_int_eq(advc_npy_read(p, &a), ADVC_OK);
    ck_assert_int_eq(a.a.dtype, ADVC_NPY_F32);
    ck_assert_int_eq(a.a.ndim, 3);
    ck_assert_uint_eq(a.a.shape[0], 2);
    ck_assert_uint_eq(a.a.shape[2], 2);
    ck_assert_uint_eq(a.a.count, 12);
    advc_npy_get_f32(&a.a, back);
    ck_assert_int_eq(memcmp(back, bits, sizeof bits), 0);
    advc_npy_free(&a);
    ck_assert_ptr_null(a.buf);

    int32_t iv[5] = { -1, 0, 7, INT32_MIN, INT32_MAX };
    size_t sh1[1] = { 5 };
    ck_assert_int_eq(advc_npy_write(p, ADVC_NPY_I32, iv, 1, sh1), ADVC_OK);
    ck_assert_int_eq(advc_npy_read(p, &a), ADVC_OK);
    ck_assert_int_eq(a.a.dtype, ADVC_NPY_I32);
    for (size_t i = 0; i < 5; i++) {
        int64_t v;
        ck_assert(advc_npy_get_int(&a.a, i, &v));
        ck_assert_int_eq(v, iv[i]);
    }
    advc_npy_free(&a);

    uint8_t u[1] = { 200 };
    ck_assert_int_eq(advc_npy_write(p, ADVC_NPY_U8, u, 0, NULL), ADVC_OK);
    ck_assert_int_eq(advc_npy_read(p, &a), ADVC_OK);
    ck_assert_int_eq(a.a.ndim, 0);
    ck_assert_uint_eq(a.a.count, 1);
    ck_assert_int_eq(a.a.data[0], 200);
    advc_npy_free(&a);

    size_t sh0[3] = { 3, 0, 2 }; /* no elements at all */
    ck_assert_int_eq(advc_npy_write(p, ADVC_NPY_U8, NULL, 3, sh0), ADVC_OK);
    ck_assert_int_eq(advc_npy_read(p, &a), ADVC_OK);
    ck_assert_uint_eq(a.a.count, 0);
    ck_assert_uint_eq(a.a.shape[1], 0);
    advc_npy_free(&a);
}
END_TEST

/* Headers the way numpy.save and hand-written tools make them. */
START_TEST(numpy_style_headers)
{
    const uint8_t le[8] = { 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0 }; /* 1, -2 */
    const char *files[] = {
        npy_file("a.npy", 1, "{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (2,), }", le, 8),
        npy_file("b.npy", 2, "{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (1, 2)}", le, 8),
        npy_file("c.npy", 1, "{\"shape\": (2, ), \"descr\": \"<f4\","
                             " \"fortran_order\":False}", le, 8),
    };
    for (int k = 0; k < 3; k++) {
        advc_npy_file a;
        ck_assert_msg(advc_npy_read(files[k], &a) == ADVC_OK, "%s",
                      advc_last_error());
        ck_assert_uint_eq(a.a.count, 2);
        float v[2];
        advc_npy_get_f32(&a.a, v);
        ck_assert(v[0] == 1.0f);
        ck_assert(v[1] == -2.0f);
        advc_npy_free(&a);
    }
    advc_npy_file a;
    const char *u = npy_file("u.npy", 1, "{'descr': '<u1', 'fortran_order': "
                                         "False, 'shape': (3,), }", "abc", 3);
    ck_assert_int_eq(advc_npy_read(u, &a), ADVC_OK);
    ck_assert_int_eq(a.a.dtype, ADVC_NPY_U8);
    ck_assert_int_eq(memcmp(a.a.data, "abc", 3), 0);
    advc_npy_free(&a);
}
END_TEST

/* A few bad headers in files: the message names the file (the full list
 * of header cases is test_npz.c's, over buffers). */
START_TEST(malformed_files_refused)
{
    static const struct {
        const char *dict;
        size_t data;  /* data bytes after the header */
        const char *part;
    } cases[] = {
        { "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8,
          "big-endian dtype '>f4'" },
        { "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8,
          "Fortran" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8,
          "need 12" },
        { "{'descr': '<f4', 'shape': (2,), }", 8, "missing" },
        { "['descr', '<f4']", 8, "no '{'" },
    };
    uint8_t zeros[16] = { 0 };
    char name[32];
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        snprintf(name, sizeof name, "bad%zu.npy", k);
        expect_refused(npy_file(name, 1, cases[k].dict, zeros,
                                cases[k].data), cases[k].part);
    }
}
END_TEST

/* Damage to the preamble: magic, versions, lengths, truncation. */
START_TEST(bad_preamble_refused)
{
    const char *good = npy_file("g.npy", 1, "{'descr': '|u1', "
                                "'fortran_order': False, 'shape': (4,), }",
                                "wxyz", 4);
    FILE *f = fopen(good, "rb");
    uint8_t b[256];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    ck_assert_uint_eq(n % 64, 4); /* header padded to 64, 4 data bytes */
    const char *p = tu_tmpdir_path(&td, "d.npy");
    struct { size_t at; uint8_t val; size_t len; const char *part; } cases[] = {
        { 0, 0x92, n, "magic" },
        { 6, 4, n, "version 4.0" },
        { 7, 1, n, "version 1.1" },
        { 8, 0xff, n, "runs past the end" },  /* longer than the file */
        { 0, 0x93, 9, "not a .npy array" },
        { 0, 0x93, 40, "runs past the end" }, /* cut inside the header */
        { 0, 0x93, n - 1, "holds 3 bytes" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        uint8_t c[256];
        memcpy(c, b, n);
        c[cases[k].at] = cases[k].val;
        FILE *g = fopen(p, "wb");
        fwrite(c, 1, cases[k].len, g);
        fclose(g);
        expect_refused(p, cases[k].part);
    }
    /* version 2.0 with a 4-byte length that does not fit */
    uint8_t v2[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0, 0, 0, 1 };
    f = fopen(p, "wb");
    fwrite(v2, 1, 12, f);
    fclose(f);
    expect_refused(p, "runs past the end");
    advc_npy_file a;
    ck_assert_int_eq(advc_npy_read(tu_tmpdir_path(&td, "none.npy"), &a),
                     ADVC_ERR_IO);
    ck_assert_int_eq(advc_npy_read(td.dir, &a), ADVC_ERR_IO);
}
END_TEST

Suite *advc_suite_npy(void)
{
    Suite *s = suite_create("npy");
    TCase *t = tcase_create("read");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, write_read_round_trip);
    tcase_add_test(t, numpy_style_headers);
    tcase_add_test(t, malformed_files_refused);
    tcase_add_test(t, bad_preamble_refused);
    suite_add_tcase(s, t);
    return s;
}
