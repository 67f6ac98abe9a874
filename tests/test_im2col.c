/* test_im2col.c: im2col/col2im against their references, bit for bit,
 * over many geometries (kernel sizes, strides, paddings, odd shapes), the adjoint
 * identity <im2col(x), y> = <x, col2im(y)>, and geometry validation. */
#include <stdlib.h>
#include "testutil.h"

static void check_geometry(int c, int h, int w, int kh, int kw, int s, int p)
{
    advc_conv_geom g;
    if (!advc_conv_geom_init(&g, c, h, w, kh, kw, s, p)) return;
    size_t ni = (size_t)c * h * w, nc = (size_t)c * kh * kw * g.oh * g.ow;
    float *img = malloc(ni * sizeof *img), *img2 = malloc(ni * sizeof *img);
    float *col = malloc(nc * sizeof *col), *col2 = malloc(nc * sizeof *col);
    tu_fill(img, ni, -1, 1, (uint64_t)(h * 131 + w * 7 + kh));
    for (size_t i = 0; i < nc; i++) col[i] = col2[i] = 12345.0f; /* poison */
    advc_im2col(&g, img, col);
    advc_im2col_ref(&g, img, col2);
    for (size_t i = 0; i < nc; i++) ck_assert(col[i] == col2[i]);

    /* col2im accumulates: start both from the same nonzero image. */
    tu_fill(col, nc, -1, 1, 99);
    tu_fill(img, ni, -1, 1, 5);
    for (size_t i = 0; i < ni; i++) img2[i] = img[i];
    advc_col2im(&g, col, img);
    advc_col2im_ref(&g, col, img2);
    for (size_t i = 0; i < ni; i++) /* same adds, same order: same bits */
        ck_assert_msg(img[i] == img2[i], "col2im %dx%dx%d k%dx%d s%d p%d: "
                      "pixel %zu", c, h, w, kh, kw, s, p, i);

    /* Adjoint: <im2col(x), y> == <x, col2im(y)> (double sums). */
    tu_fill(img, ni, -1, 1, 11);
    advc_im2col(&g, img, col2);
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < nc; i++) lhs += (double)col2[i] * col[i];
    for (size_t i = 0; i < ni; i++) img2[i] = 0;
    advc_col2im(&g, col, img2);
    for (size_t i = 0; i < ni; i++) rhs += (double)img[i] * img2[i];
    ck_assert(fabs(lhs - rhs) <= 1e-4 * (1 + fabs(lhs)));

    /* Strided rows (ld = ohw + 5): each row as the reference's, the gap
     * untouched; col2im_ld reads the same entries back. */
    size_t ohw = (size_t)g.oh * g.ow, ld = ohw + 5, rows = nc / ohw;
    float *wide = malloc(rows * ld * sizeof *wide);
    for (size_t i = 0; i < rows * ld; i++) wide[i] = 777.0f;
    tu_fill(img, ni, -1, 1, 13);
    advc_im2col_ld(&g, img, wide, ld);
    advc_im2col_ref(&g, img, col2);
    for (size_t r = 0; r < rows; r++) {
        for (size_t q = 0; q < ohw; q++)
            ck_assert(wide[r * ld + q] == col2[r * ohw + q]);
        for (size_t q = ohw; q < ld; q++)
            ck_assert(wide[r * ld + q] == 777.0f);
    }
    tu_fill(img, ni, -1, 1, 17);
    for (size_t i = 0; i < ni; i++) img2[i] = img[i];
    advc_col2im_ld(&g, wide, ld, img);
    advc_col2im_ref(&g, col2, img2);
    for (size_t i = 0; i < ni; i++) ck_assert(img[i] == img2[i]);
    free(wide);
    free(img), free(img2), free(col), free(col2);
}

START_TEST(test_im2col_matches_reference)
{
    static const int sizes[][2] = { { 1, 1 }, { 3, 5 }, { 7, 7 }, { 8, 13 },
                                    { 14, 14 }, { 28, 28 } };
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int k = 1; k <= 5; k++)
            for (int s = 1; s <= 3; s++)
                for (int p = 0; p <= 2; p++)
                    check_geometry(2, sizes[si][0], sizes[si][1], k,
                                   k == 5 ? 3 : k, s, p);
    check_geometry(3, 32, 32, 3, 3, 1, 1);  /* CIFAR conv */
    check_geometry(16, 14, 14, 4, 4, 2, 1); /* cnn-small conv2 */
    check_geometry(1, 28, 28, 5, 5, 1, 2);  /* cnn conv1 */
    /* strided, at least 7 outputs wide (im2col.c's tap planes), with
     * kernels and images that are not square */
    check_geometry(3, 9, 20, 3, 4, 2, 1);
    check_geometry(5, 30, 23, 5, 3, 3, 2);
    check_geometry(9, 16, 15, 2, 4, 2, 0);
}
END_TEST

START_TEST(test_geometry)
{
    advc_conv_geom g;
    ck_assert(advc_conv_geom_init(&g, 1, 28, 28, 4, 4, 2, 1));
    ck_assert_int_eq(g.oh, 14);
    ck_assert_int_eq(g.ow, 14);
    ck_assert(advc_conv_geom_init(&g, 32, 14, 14, 5, 5, 1, 2));
    ck_assert_int_eq(g.oh, 14);
    ck_assert(!advc_conv_is_pointwise(&g));
    ck_assert(advc_conv_geom_init(&g, 8, 7, 7, 1, 1, 1, 0));
    ck_assert(advc_conv_is_pointwise(&g));
    ck_assert(!advc_conv_geom_init(&g, 1, 2, 2, 5, 5, 1, 1)); /* too big */
    ck_assert(!advc_conv_geom_init(&g, 1, 8, 8, 3, 3, 0, 1)); /* stride 0 */
    ck_assert(!advc_conv_geom_init(&g, 0, 8, 8, 3, 3, 1, 1));
}
END_TEST

Suite *advc_suite_im2col(void)
{
    Suite *s = suite_create("im2col");
    TCase *tc = tcase_create("im2col");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_im2col_matches_reference);
    tcase_add_test(tc, test_geometry);
    suite_add_tcase(s, tc);
    return s;
}
