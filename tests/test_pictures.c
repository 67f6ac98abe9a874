/* test_pictures.c: the picture and array writers of advc/image.h.
 *
 * PNG files are decoded here by an independent reader (chunk walk with a
 * bitwise CRC-32, then tests/inflate.c) and must give back the exact
 * pixels, for noise (stored blocks, many IDAT chunks), picture-like grids
 * (dynamic Huffman codes) and tiny images (fixed codes, checked byte for
 * byte).  .npy headers are compared byte for byte with what NumPy
 * writes.  SVG output must be well-formed XML (a small tag-balance and
 * entity checker), carry every series name escaped, never contain a
 * non-finite number, and be the same bytes on every run.  Also the canvas,
 * the bitmap font, and the temporary-file discipline (no leftovers).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "inflate.h"
#include "advc/image.h"

/* ---- files --------------------------------------------------------------- */

typedef struct {
    tu_tmpdir td;           /* the scratch directory (testutil.h) */
    const char *dir;        /* td.dir                             */
    char path[TU_PATH_MAX]; /* dir/name                           */
} tmpdir;

static void tmp_open(tmpdir *t, const char *name)
{
    tu_tmpdir_make(&t->td, "pic");
    t->dir = t->td.dir;
    strcpy(t->path, tu_tmpdir_path(&t->td, name));
}

/* Number of entries in t->dir besides . and .. */
static int tmp_entries(const tmpdir *t)
{
    return tu_tmpdir_entries(&t->td, NULL, 0);
}

static void tmp_close(tmpdir *t) { tu_tmpdir_remove(&t->td); }

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    ck_assert_int_ge(len, 0);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    b[len] = 0; /* so text files are C strings */
    *n = (size_t)len;
    return b;
}

/* ---- an independent PNG reader ------------------------------------------- */

/* Bit-at-a-time CRC-32 (reflected 0xEDB88320): slow, but shares nothing
 * with the library's table version. */
static uint32_t crc_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
           (uint32_t)b[2] << 8 | b[3];
}

typedef struct {
    int w, h, channels;
    uint8_t *px;         /* (h, w, channels) */
    int nidat;           /* IDAT chunks */
    tu_inflate_stats blocks; /* deflate blocks of each type */
    size_t zlen;         /* bytes of zlib stream */
} png_decoded;

/* Decodes what advc_png_write produces (and fails the test on anything
 * else): every chunk CRC checked, IHDR first, IDATs together, IEND last
 * with nothing after it, the zlib stream through tests/inflate.c (header,
 * codes, Adler-32), filter byte 0 on every row. */
static void png_decode(const uint8_t *f, size_t n, png_decoded *out)
{
    static const uint8_t sig[8] = { 0x89, 0x50, 0x4E, 0x47,
                                    0x0D, 0x0A, 0x1A, 0x0A };
    memset(out, 0, sizeof *out);
    ck_assert_uint_ge(n, 8);
    ck_assert_int_eq(memcmp(f, sig, 8), 0);
    size_t pos = 8, zcap = 0, zlen = 0;
    uint8_t *z = NULL;
    int seen_ihdr = 0, seen_iend = 0, idat_done = 0, bitdepth = 0;
    while (pos < n) {
        ck_assert(!seen_iend); /* nothing after IEND */
        ck_assert_uint_ge(n - pos, 12);
        uint32_t len = be32(f + pos);
        ck_assert_uint_le(len, n - pos - 12);
        const uint8_t *type = f + pos + 4, *data = f + pos + 8;
        uint32_t crc = be32(data + len);
        ck_assert_uint_eq(crc, crc_bitwise(0, type, 4 + (size_t)len));
        if (!memcmp(type, "IHDR", 4)) {
            ck_assert_int_eq(pos, 8); /* IHDR comes first */
            ck_assert_uint_eq(len, 13);
            out->w = (int)be32(data);
            out->h = (int)be32(data + 4);
            bitdepth = data[8];
            ck_assert(data[9] == 0 || data[9] == 2);
            out->channels = data[9] == 0 ? 1 : 3;
            ck_assert_int_eq(data[10], 0);
            ck_assert_int_eq(data[11], 0);
            ck_assert_int_eq(data[12], 0);
            seen_ihdr = 1;
        } else if (!memcmp(type, "IDAT", 4)) {
            ck_assert(seen_ihdr);
            ck_assert(!idat_done); /* IDATs are consecutive */
            if (zlen + len > zcap) {
                zcap = (zlen + len) * 2;
                z = realloc(z, zcap);
                ck_assert_ptr_nonnull(z);
            }
            memcpy(z + zlen, data, len);
            zlen += len;
            out->nidat++;
        } else if (!memcmp(type, "IEND", 4)) {
            ck_assert_uint_eq(len, 0);
            seen_iend = 1;
        } else {
            ck_abort_msg("unexpected chunk %.4s", (const char *)type);
        }
        if (out->nidat > 0 && memcmp(type, "IDAT", 4)) idat_done = 1;
        pos += 12 + (size_t)len;
    }
    ck_assert(seen_ihdr && seen_iend && out->nidat > 0);
    ck_assert_int_eq(bitdepth, 8);

    uint8_t *raw;
    size_t raw_len;
    const char *err = tu_zlib_inflate(z, zlen, &raw, &raw_len, &out->blocks);
    ck_assert_msg(err == NULL, "inflate: %s", err);
    out->zlen = zlen;
    size_t row = (size_t)out->w * out->channels;
    ck_assert_uint_eq(raw_len, (size_t)out->h * (row + 1));
    out->px = malloc(row * (size_t)out->h);
    ck_assert_ptr_nonnull(out->px);
    for (int y = 0; y < out->h; y++) {
        ck_assert_int_eq(raw[(size_t)y * (row + 1)], 0); /* filter None */
        memcpy(out->px + (size_t)y * row, raw + (size_t)y * (row + 1) + 1,
               row);
    }
    free(raw);
    free(z);
}

/* Writes px (w x h x c), decodes, compares. */
static void png_check(const uint8_t *px, int w, int h, int c, png_decoded *d)
{
    tmpdir t;
    tmp_open(&t, "x.png");
    ck_assert_int_eq(advc_png_write(t.path, px, w, h, c), ADVC_OK);
    ck_assert_int_eq(tmp_entries(&t), 1); /* no temporary left */
    size_t n;
    uint8_t *f = slurp(t.path, &n);
    png_decode(f, n, d);
    ck_assert_int_eq(d->w, w);
    ck_assert_int_eq(d->h, h);
    ck_assert_int_eq(d->channels, c);
    ck_assert_int_eq(memcmp(d->px, px, (size_t)w * h * c), 0);
    free(f);
    tmp_close(&t);
}

/* Pseudo-random pixels (incompressible) through png_check. */
static void png_roundtrip(int w, int h, int c, png_decoded *d)
{
    size_t bytes = (size_t)w * h * c;
    uint8_t *px = malloc(bytes);
    ck_assert_ptr_nonnull(px);
    advc_rng r;
    advc_rng_seed(&r, (uint64_t)(w * 131 + h * 7 + c), 3);
    for (size_t i = 0; i < bytes; i++) px[i] = (uint8_t)advc_rng_u32(&r);
    png_check(px, w, h, c, d);
    free(px);
}

START_TEST(png_small_gray_and_rgb)
{
    png_decoded d;
    png_roundtrip(3, 2, 1, &d);
    free(d.px);
    png_roundtrip(7, 5, 3, &d);
    free(d.px);
    png_roundtrip(1, 1, 1, &d);
    free(d.px);
}
END_TEST

START_TEST(png_known_bytes)
{
    /* A 2x1 gray image [0x00, 0xFF]: raw data 00 00 FF (filter byte, two
     * pixels), too short for a match, so three literals and the end of
     * block in the fixed code: block header 1 (BFINAL), 01 (fixed); 0x00
     * is the 8-bit code 00110000, 0xFF the 9-bit 111111111, end of block
     * the 7-bit 0000000, each sent from its top bit; bytes fill from
     * their low bit: 63 60 F8 0F 00.  zlib header 78 9C (deflate, 32K,
     * default level, 0x789C = 31 * 995).  Adler-32: s1 = 1+0+0+255 =
     * 256, s2 = 1 + 1 + 256 = 258, so 0x0102_0100. */
    tmpdir t;
    tmp_open(&t, "k.png");
    const uint8_t px[2] = { 0x00, 0xFF };
    ck_assert_int_eq(advc_png_write(t.path, px, 2, 1, 1), ADVC_OK);
    size_t n;
    uint8_t *f = slurp(t.path, &n);
    /* sig 8 + IHDR 25 + IDAT (12 + 2 + 5 + 4) + IEND 12 */
    ck_assert_uint_eq(n, 8 + 25 + 23 + 12);
    const uint8_t want[11] = { 0x78, 0x9C, 0x63, 0x60, 0xF8, 0x0F, 0x00,
                               0x01, 0x02, 0x01, 0x00 };
    ck_assert_uint_eq(be32(f + 33), 11);
    ck_assert_int_eq(memcmp(f + 33 + 8, want, 11), 0);
    /* IEND with its well-known CRC AE 42 60 82 */
    const uint8_t iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D',
                               0xAE, 0x42, 0x60, 0x82 };
    ck_assert_int_eq(memcmp(f + n - 12, iend, 12), 0);
    png_decoded d;
    png_decode(f, n, &d);
    ck_assert_int_eq(d.blocks.fixed, 1);
    ck_assert_int_eq(d.px[0], 0);
    ck_assert_int_eq(d.px[1], 255);
    free(d.px);
    free(f);
    tmp_close(&t);
}
END_TEST

/* Noise does not compress: the stream falls back to stored blocks and
 * stays within a few bytes per block of the raw size. */
START_TEST(png_noise_is_stored)
{
    png_decoded d;
    png_roundtrip(300, 400, 3, &d); /* raw 400 * 901 = 360400 bytes */
    ck_assert_int_gt(d.blocks.stored, 1);
    ck_assert_int_eq(d.blocks.dynamic + d.blocks.fixed, 0);
    ck_assert_uint_le(d.zlen, 360400 + 6 + 5 * 64);
    ck_assert_int_ge(d.nidat, 5); /* 64 KiB of stream per IDAT */
    free(d.px);
}
END_TEST

/* A picture like make run's grid: digits-like blobs blown up 4x, noise
 * of a few levels beside them, a text-like band: dynamic codes, a small
 * fraction of the raw size, the exact pixels back. */
START_TEST(png_picture_compresses)
{
    const int w = 504, h = 600, c = 3, cell = 4;
    uint8_t *px = malloc((size_t)w * h * c);
    ck_assert_ptr_nonnull(px);
    advc_rng r;
    advc_rng_seed(&r, 11, 3);
    for (int y = 0; y < h; y += cell)
        for (int x = 0; x < w; x += cell) {
            uint32_t u = advc_rng_u32(&r);
            uint8_t v = x < w / 3 ? (uint8_t)((x / 28 + y / 28) % 5 ? 0 : 255)
                      : x < 2 * w / 3 ? (uint8_t)(u & 1 ? 96 : 160)
                                      : (uint8_t)(u % 7 * 36);
            for (int dy = 0; dy < cell && y + dy < h; dy++)
                for (int dx = 0; dx < cell && x + dx < w; dx++)
                    for (int k = 0; k < c; k++)
                        px[((size_t)(y + dy) * w + x + dx) * c + k] =
                            (uint8_t)(v + 13 * k);
        }
    png_decoded d;
    png_check(px, w, h, c, &d);
    ck_assert_int_ge(d.blocks.dynamic, 1);
    ck_assert_uint_lt(d.zlen, (size_t)w * h * c / 10);
    free(d.px);
    free(px);
}
END_TEST

START_TEST(png_rejects_bad_arguments)
{
    tmpdir t;
    tmp_open(&t, "bad.png");
    uint8_t px[12] = { 0 };
    ck_assert_int_eq(advc_png_write(t.path, px, 2, 2, 2), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_png_write(t.path, px, 0, 2, 1), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_png_write(t.path, px, 2, -1, 3), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_png_write(t.path, NULL, 2, 2, 1), ADVC_ERR_ARG);
    ck_assert_int_eq(tmp_entries(&t), 0);
    char missing[TU_PATH_MAX];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.png", t.dir);
    ck_assert_int_eq(advc_png_write(missing, px, 2, 2, 1), ADVC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), missing));
    ck_assert_int_eq(tmp_entries(&t), 0);
    tmp_close(&t);
}
END_TEST

START_TEST(png_overwrites_atomically)
{
    tmpdir t;
    tmp_open(&t, "o.png");
    uint8_t a[4] = { 1, 2, 3, 4 }, b[9] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };
    ck_assert_int_eq(advc_png_write(t.path, a, 2, 2, 1), ADVC_OK);
    ck_assert_int_eq(advc_png_write(t.path, b, 3, 3, 1), ADVC_OK);
    ck_assert_int_eq(tmp_entries(&t), 1);
    size_t n;
    uint8_t *f = slurp(t.path, &n);
    png_decoded d;
    png_decode(f, n, &d);
    ck_assert_int_eq(d.w, 3);
    ck_assert_int_eq(memcmp(d.px, b, 9), 0);
    free(d.px);
    free(f);
    tmp_close(&t);
}
END_TEST

/* ---- canvas and font ----------------------------------------------------- */

static uint8_t gray_at(const advc_image *im, int x, int y)
{
    return im->px[(size_t)y * im->w + x];
}

START_TEST(canvas_draw_chw_scales_and_clamps)
{
    advc_image im;
    ck_assert_int_eq(advc_image_init(&im, 8, 8, 1, (advc_rgb){ 7, 7, 7 }),
                     ADVC_OK);
    ck_assert_int_eq(gray_at(&im, 5, 5), 7);
    const float src[4] = { -1.0f, 0.5f, 2.0f, NAN };
    advc_image_draw_chw(&im, 1, 1, src, 1, 2, 2, 3); /* 6x6 at (1,1) */
    for (int y = 1; y < 7; y++)
        for (int x = 1; x < 7; x++) {
            int i = ((y - 1) / 3) * 2 + (x - 1) / 3;
            uint8_t want = i == 0 ? 0 : i == 1 ? 128 : i == 2 ? 255 : 0;
            ck_assert_int_eq(gray_at(&im, x, y), want);
        }
    ck_assert_int_eq(gray_at(&im, 0, 0), 7);
    ck_assert_int_eq(gray_at(&im, 7, 7), 7);
    /* partly off the canvas: clipped, no writes outside */
    advc_image_draw_chw(&im, -4, 6, src, 1, 2, 2, 3);
    advc_image_rect(&im, -100, -100, 50, 50, (advc_rgb){ 1, 1, 1 });
    advc_image_rect(&im, 7, 7, 2147483647, 2147483647,
                    (advc_rgb){ 3, 3, 3 });
    ck_assert_int_eq(gray_at(&im, 7, 7), 3);
    advc_image_free(&im);
    ck_assert_ptr_null(im.px);
    advc_image_free(&im); /* twice is fine */

    /* RGB planes land in the right channels */
    ck_assert_int_eq(advc_image_init(&im, 2, 1, 3, (advc_rgb){ 0, 0, 0 }),
                     ADVC_OK);
    const float rgb[6] = { 1, 0, 0, 1, 0, 0 }; /* planes R, G, B of 2 px */
    advc_image_draw_chw(&im, 0, 0, rgb, 3, 1, 2, 1);
    const uint8_t want[6] = { 255, 0, 0, 0, 255, 0 };
    ck_assert_int_eq(memcmp(im.px, want, 6), 0);
    advc_image_free(&im);

    ck_assert_int_eq(advc_image_init(&im, 0, 3, 1, (advc_rgb){ 0, 0, 0 }),
                     ADVC_ERR_ARG);
    ck_assert_int_eq(advc_image_init(&im, 3, 3, 4, (advc_rgb){ 0, 0, 0 }),
                     ADVC_ERR_ARG);
}
END_TEST

START_TEST(font_glyphs)
{
    ck_assert_int_eq(advc_text_width("abc", 2), 36);
    ck_assert_int_eq(advc_text_width("", 1), 0);
    advc_image im;
    ck_assert_int_eq(advc_image_init(&im, 12, 8, 1, (advc_rgb){ 255, 255,
                                                                255 }),
                     ADVC_OK);
    advc_image_text(&im, 0, 0, "1\x01", 1, (advc_rgb){ 0, 0, 0 });
    /* '1' is ..#.. / .##.. / ..#.. x4 / .###. */
    static const char *one[7] = { "..#..", ".##..", "..#..", "..#..",
                                  "..#..", "..#..", ".###." };
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 5; x++)
            ck_assert_int_eq(gray_at(&im, x, y), one[y][x] == '#' ? 0 : 255);
    for (int y = 0; y < 8; y++) {
        ck_assert_int_eq(gray_at(&im, 5, y), 255); /* spacing column */
    }
    for (int x = 0; x < 12; x++) ck_assert_int_eq(gray_at(&im, x, 7), 255);
    /* an unprintable character is a hollow box */
    ck_assert_int_eq(gray_at(&im, 6, 0), 0);
    ck_assert_int_eq(gray_at(&im, 10, 6), 0);
    ck_assert_int_eq(gray_at(&im, 8, 3), 255);
    /* every printable character has some ink, except the space */
    for (int ch = 0x21; ch <= 0x7E; ch++) {
        advc_image_rect(&im, 0, 0, 12, 8, (advc_rgb){ 255, 255, 255 });
        char s[2] = { (char)ch, 0 };
        advc_image_text(&im, 0, 0, s, 1, (advc_rgb){ 0, 0, 0 });
        int ink = 0;
        for (int i = 0; i < 12 * 8; i++) ink += im.px[i] == 0;
        ck_assert_msg(ink > 0, "glyph 0x%02x is empty", ch);
    }
    advc_image_free(&im);
}
END_TEST

/* ---- npy ----------------------------------------------------------------- */

/* Checks the preamble and header of an .npy file and returns the data
 * offset; the header dict must equal `dict` followed by spaces and '\n'. */
static size_t npy_check_header(const uint8_t *f, size_t n, const char *dict)
{
    ck_assert_uint_ge(n, 10);
    ck_assert_int_eq(memcmp(f, "\x93NUMPY\x01\x00", 8), 0);
    size_t hl = f[8] | (size_t)f[9] << 8;
    ck_assert_uint_eq((10 + hl) % 64, 0);
    ck_assert_uint_le(10 + hl, n);
    size_t dl = strlen(dict);
    ck_assert_uint_lt(dl, hl);
    ck_assert_int_eq(memcmp(f + 10, dict, dl), 0);
    for (size_t i = 10 + dl; i < 10 + hl - 1; i++) ck_assert_int_eq(f[i], ' ');
    ck_assert_int_eq(f[10 + hl - 1], '\n');
    return 10 + hl;
}

START_TEST(npy_f32_nchw)
{
    tmpdir t;
    tmp_open(&t, "a.npy");
    size_t shape[4] = { 2, 3, 4, 5 };
    float x[120];
    for (int i = 0; i < 120; i++) x[i] = (float)i * 0.25f - 3.0f;
    x[7] = -0.0f;
    x[8] = INFINITY;
    ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_F32, x, 4, shape),
                     ADVC_OK);
    ck_assert_int_eq(tmp_entries(&t), 1);
    size_t n;
    uint8_t *f = slurp(t.path, &n);
    size_t off = npy_check_header(f, n, "{'descr': '<f4', 'fortran_order': "
                                  "False, 'shape': (2, 3, 4, 5), }");
    ck_assert_uint_eq(off, 128); /* 10 + 69 + 1 > 64 */
    ck_assert_uint_eq(n, off + 120 * 4);
    for (int i = 0; i < 120; i++) {
        uint32_t v = (uint32_t)f[off + 4 * i] |
                     (uint32_t)f[off + 4 * i + 1] << 8 |
                     (uint32_t)f[off + 4 * i + 2] << 16 |
                     (uint32_t)f[off + 4 * i + 3] << 24;
        uint32_t want;
        memcpy(&want, &x[i], 4);
        ck_assert_uint_eq(v, want);
    }
    free(f);
    tmp_close(&t);
}
END_TEST

START_TEST(npy_labels_and_shapes)
{
    tmpdir t;
    tmp_open(&t, "l.npy");
    size_t n, shape[2] = { 7, 0 };
    int32_t lab[7] = { 0, 1, -2, 3, 2147483647, -2147483647 - 1, 9 };
    ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_I32, lab, 1, shape),
                     ADVC_OK);
    uint8_t *f = slurp(t.path, &n);
    size_t off = npy_check_header(f, n, "{'descr': '<i4', 'fortran_order': "
                                  "False, 'shape': (7,), }");
    ck_assert_uint_eq(off, 128); /* as NumPy writes it: 58 + 11 > 64 */
    ck_assert_uint_eq(n, 128 + 28);
    ck_assert_int_eq(f[off + 8], 0xFE); /* -2 little-endian: FE FF FF FF */
    ck_assert_int_eq(f[off + 11], 0xFF);
    ck_assert_int_eq(f[off + 16 + 3], 0x7F);
    free(f);

    uint8_t u[3] = { 0, 128, 255 };
    shape[0] = 3;
    ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_U8, u, 1, shape),
                     ADVC_OK);
    f = slurp(t.path, &n);
    off = npy_check_header(f, n, "{'descr': '|u1', 'fortran_order': False, "
                           "'shape': (3,), }");
    ck_assert_uint_eq(n, off + 3);
    ck_assert_int_eq(memcmp(f + off, u, 3), 0);
    free(f);

    /* a scalar, and an empty array (no data at all) */
    float one = 1.5f;
    ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_F32, &one, 0, NULL),
                     ADVC_OK);
    f = slurp(t.path, &n);
    off = npy_check_header(f, n, "{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (), }");
    ck_assert_uint_eq(n, off + 4);
    free(f);
    shape[0] = 0;
    shape[1] = 3;
    ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_F32, NULL, 2, shape),
                     ADVC_OK);
    f = slurp(t.path, &n);
    off = npy_check_header(f, n, "{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (0, 3), }");
    ck_assert_uint_eq(n, off);
    free(f);

    /* errors: too many dims, unknown dtype, NULL data */
    size_t big[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_F32, &one, 9, big),
                     ADVC_ERR_ARG);
    ck_assert_int_eq(advc_npy_write(t.path, (advc_npy_dtype)99, &one, 1, big),
                     ADVC_ERR_ARG);
    ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_F32, NULL, 1, big),
                     ADVC_ERR_ARG);
    ck_assert_int_eq(tmp_entries(&t), 1);
    tmp_close(&t);
}
END_TEST

START_TEST(npy_header_alignment_for_every_rank)
{
    tmpdir t;
    tmp_open(&t, "r.npy");
    size_t shape[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    uint8_t one = 1;
    for (int nd = 0; nd <= 8; nd++) {
        ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_U8, &one, nd, shape),
                         ADVC_OK);
        size_t n;
        uint8_t *f = slurp(t.path, &n);
        size_t hl = f[8] | (size_t)f[9] << 8;
        ck_assert_uint_eq((10 + hl) % 64, 0);
        ck_assert_uint_eq(n, 10 + hl + 1);
        free(f);
    }
    /* long dimensions print in full (an empty array, so no data) */
    size_t wide[2] = { 0, 123456789012345ull };
    ck_assert_int_eq(advc_npy_write(t.path, ADVC_NPY_I32, NULL, 2, wide),
                     ADVC_OK);
    size_t n;
    uint8_t *f = slurp(t.path, &n);
    npy_check_header(f, n, "{'descr': '<i4', 'fortran_order': False, "
                     "'shape': (0, 123456789012345), }");
    free(f);
    tmp_close(&t);
}
END_TEST

/* ---- SVG ----------------------------------------------------------------- */

/* Minimal XML 1.0 well-formedness for what svg.c writes: one optional
 * <?xml ...?> declaration, elements properly nested, one root, every '&'
 * starting one of the five predefined entities, no '<' inside attribute
 * values or text.  Returns the number of elements. */
static int xml_check(const char *s)
{
    const char *stack[256];
    size_t stack_len[256];
    int depth = 0, elements = 0, roots = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            static const char *ents[5] = { "&amp;", "&lt;", "&gt;", "&quot;",
                                           "&apos;" };
            int ok = 0;
            for (int i = 0; i < 5; i++)
                if (!strncmp(p, ents[i], strlen(ents[i]))) ok = 1;
            ck_assert_msg(ok, "bare '&' at offset %td", p - s);
            p++;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (p[1] == '?') {
            ck_assert_int_eq(elements, 0);
            const char *e = strstr(p, "?>");
            ck_assert_ptr_nonnull(e);
            p = e + 2;
            continue;
        }
        if (p[1] == '/') {
            const char *name = p + 2;
            size_t len = strcspn(name, " >");
            ck_assert_int_gt(depth, 0);
            depth--;
            ck_assert_uint_eq(len, stack_len[depth]);
            ck_assert_int_eq(strncmp(name, stack[depth], len), 0);
            p = name + len;
            while (*p == ' ') p++;
            ck_assert_int_eq(*p, '>');
            p++;
            continue;
        }
        /* a start tag: name, attributes with quoted values, '>' or '/>' */
        const char *name = p + 1;
        size_t len = strcspn(name, " />\n");
        ck_assert_uint_gt(len, 0);
        const char *q = name + len;
        for (;;) {
            while (*q == ' ' || *q == '\n') q++;
            if (*q == '>' || (q[0] == '/' && q[1] == '>')) break;
            size_t an = strcspn(q, "=");
            ck_assert_uint_gt(an, 0);
            q += an;
            ck_assert_int_eq(q[0], '=');
            ck_assert_int_eq(q[1], '"');
            q += 2;
            while (*q && *q != '"') {
                ck_assert_msg(*q != '<', "'<' in an attribute value");
                if (*q == '&') {
                    ck_assert(!strncmp(q, "&amp;", 5) ||
                              !strncmp(q, "&lt;", 4) ||
                              !strncmp(q, "&gt;", 4) ||
                              !strncmp(q, "&quot;", 6) ||
                              !strncmp(q, "&apos;", 6));
                }
                q++;
            }
            ck_assert_int_eq(*q, '"');
            q++;
        }
        elements++;
        if (depth == 0) roots++;
        if (*q == '/') {
            p = q + 2;
        } else {
            ck_assert_int_lt(depth, 256);
            stack[depth] = name;
            stack_len[depth] = len;
            depth++;
            p = q + 1;
        }
    }
    ck_assert_int_eq(depth, 0);
    ck_assert_int_eq(roots, 1);
    return elements;
}

/* Case-insensitive "does s contain w". */
static int contains_ci(const char *s, const char *w)
{
    size_t n = strlen(w);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] &&
               (s[i] | 0x20) == (w[i] | 0x20)) i++;
        if (i == n) return 1;
    }
    return 0;
}

static int count_substr(const char *s, const char *w)
{
    int c = 0;
    for (const char *p = s; (p = strstr(p, w)); p++) c++;
    return c;
}

START_TEST(svg_well_formed_and_escaped)
{
    tmpdir t;
    tmp_open(&t, "p.svg");
    double x[5] = { 0, 1, 2, 3, 4 };
    double y1[5] = { 0.1, 0.5, 0.7, 0.8, 0.85 };
    double y2[5] = { 0.0, 0.2, NAN, 0.4, INFINITY }; /* a gap, then a skip */
    double y3[5] = { 1e300, -1e300, 0.5, 0.5, 0.5 }; /* far off a fixed range */
    advc_plot_series s[3] = {
        { "clean_acc", x, y1, 5, NULL, false },
        { "a<b & \"c\" 'd' >e\x01", x, y2, 5, "#123abc", true },
        { "big", x, y3, 5, NULL, false },
    };
    advc_plot p = { .title = "Accuracy <&> eps", .xlabel = "epoch",
                    .ylabel = "accuracy", .series = s, .nseries = 3,
                    .ymin = 0, .ymax = 1, .markers = true,
                    .zero_lines = true, .note = "n=16 & seed 1" };
    ck_assert_int_eq(advc_svg_plot(t.path, &p), ADVC_OK);
    ck_assert_int_eq(tmp_entries(&t), 1);
    size_t n;
    uint8_t *f = slurp(t.path, &n);
    const char *txt = (const char *)f;
    ck_assert_int_eq(strlen(txt), n);
    ck_assert_int_gt(xml_check(txt), 10);
    ck_assert_ptr_nonnull(strstr(txt, "<svg "));
    ck_assert_ptr_nonnull(strstr(txt, ">clean_acc</text>"));
    ck_assert_ptr_nonnull(
        strstr(txt, ">a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt;e</text>"));
    ck_assert_ptr_nonnull(strstr(txt, ">Accuracy &lt;&amp;&gt; eps</text>"));
    ck_assert_ptr_nonnull(strstr(txt, ">n=16 &amp; seed 1</text>"));
    ck_assert(!contains_ci(txt, "nan"));
    ck_assert(!contains_ci(txt, "inf"));
    ck_assert_ptr_nonnull(strstr(txt, "stroke=\"#123abc\""));
    ck_assert_ptr_nonnull(strstr(txt, "stroke-dasharray"));
    /* the NaN splits series 2 into two sub-paths: M L, M (inf skipped) */
    const char *path2 = strstr(txt, "<path stroke=\"#123abc\"");
    ck_assert_ptr_nonnull(path2);
    const char *end = strchr(path2, '/');
    size_t ms = 0;
    for (const char *q = strstr(path2, " d=\""); q < end; q++) ms += *q == 'M';
    ck_assert_uint_eq(ms, 2);
    /* markers: 5 + 3 + 5 finite points */
    ck_assert_int_eq(count_substr(txt, "<circle "), 13);

    /* same input, same bytes */
    char second[TU_PATH_MAX];
    snprintf(second, sizeof second, "%s/q.svg", t.dir);
    ck_assert_int_eq(advc_svg_plot(second, &p), ADVC_OK);
    size_t n2;
    uint8_t *g = slurp(second, &n2);
    ck_assert_uint_eq(n, n2);
    ck_assert_int_eq(memcmp(f, g, n), 0);
    free(g);
    free(f);
    tmp_close(&t);
}
END_TEST

START_TEST(svg_panels_ticks_and_errors)
{
    tmpdir t;
    tmp_open(&t, "m.svg");
    double x[3] = { 1, 2, 3 }, y[3] = { 2.3, 1.1, 0.4 };
    double e[1] = { NAN };
    advc_plot_series a = { "loss", x, y, 3, NULL, false };
    advc_plot_series b = { "empty", e, e, 1, NULL, false };
    advc_plot panels[2] = {
        { .title = "loss", .xlabel = "epoch", .series = &a, .nseries = 1 },
        { .title = "nothing finite", .series = &b, .nseries = 1 },
    };
    ck_assert_int_eq(advc_svg_write(t.path, panels, 2, 600, 300), ADVC_OK);
    size_t n;
    uint8_t *f = slurp(t.path, &n);
    const char *txt = (const char *)f;
    xml_check(txt);
    ck_assert_ptr_nonnull(strstr(txt, "width=\"600\" height=\"600\""));
    ck_assert_int_eq(count_substr(txt, "<clipPath id=\"plot"), 2);
    /* y from 0.4..2.3: nice step 0.5, ticks 0.0 .. 2.5 */
    ck_assert_ptr_nonnull(strstr(txt, ">0.0</text>"));
    ck_assert_ptr_nonnull(strstr(txt, ">2.5</text>"));
    ck_assert(!contains_ci(txt, "nan"));
    free(f);

    /* errors: no panels, too many series, a bad colour, NULL data, a range
     * too wide to map; none leaves a file behind */
    tmpdir u;
    tmp_open(&u, "e.svg");
    ck_assert_int_eq(advc_svg_write(u.path, panels, 0, 0, 0), ADVC_ERR_ARG);
    advc_plot_series many[65];
    for (int i = 0; i < 65; i++) many[i] = a;
    advc_plot pm = { .series = many, .nseries = 65 };
    ck_assert_int_eq(advc_svg_plot(u.path, &pm), ADVC_ERR_ARG);
    advc_plot_series c = { "c", x, y, 3, "red\" onload=\"x", false };
    advc_plot pc = { .series = &c, .nseries = 1 };
    ck_assert_int_eq(advc_svg_plot(u.path, &pc), ADVC_ERR_ARG);
    advc_plot_series d = { "d", NULL, y, 3, NULL, false };
    advc_plot pd = { .series = &d, .nseries = 1 };
    ck_assert_int_eq(advc_svg_plot(u.path, &pd), ADVC_ERR_ARG);
    double huge[2] = { -1.7e308, 1.7e308 };
    advc_plot_series h = { "h", x, huge, 2, NULL, false };
    advc_plot ph = { .series = &h, .nseries = 1 };
    ck_assert_int_eq(advc_svg_plot(u.path, &ph), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_svg_write(u.path, panels, 1, 10, 10), ADVC_ERR_ARG);
    ck_assert_int_eq(tmp_entries(&u), 0);
    tmp_close(&u);
    tmp_close(&t);
}
END_TEST

Suite *advc_suite_pictures(void)
{
    Suite *s = suite_create("pictures");
    TCase *tp = tcase_create("png");
    tcase_set_timeout(tp, 60);
    tcase_add_test(tp, png_small_gray_and_rgb);
    tcase_add_test(tp, png_known_bytes);
    tcase_add_test(tp, png_noise_is_stored);
    tcase_add_test(tp, png_picture_compresses);
    tcase_add_test(tp, png_rejects_bad_arguments);
    tcase_add_test(tp, png_overwrites_atomically);
    suite_add_tcase(s, tp);
    TCase *tc = tcase_create("canvas");
    tcase_add_test(tc, canvas_draw_chw_scales_and_clamps);
    tcase_add_test(tc, font_glyphs);
    suite_add_tcase(s, tc);
    TCase *tn = tcase_create("npy");
    tcase_add_test(tn, npy_f32_nchw);
    tcase_add_test(tn, npy_labels_and_shapes);
    tcase_add_test(tn, npy_header_alignment_for_every_rank);
    suite_add_tcase(s, tn);
    TCase *ts = tcase_create("svg");
    tcase_add_test(ts, svg_well_formed_and_escaped);
    tcase_add_test(ts, svg_panels_ticks_and_errors);
    suite_add_tcase(s, ts);
    return s;
}
