/* image.c: the 8-bit canvas of advc/image.h: allocation, filled
 * rectangles, and drawing float NCHW images blown up by an integer factor
 * (nearest neighbour), which is how picture grids show 28 x 28 digits.
 * Not here: text (font5x7.c), file formats (png.c).
 */
#include "advc/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_MAX_SIDE (1 << 20)
#define IMAGE_MAX_BYTES ((size_t)1 << 30)

advc_status advc_image_init(advc_image *im, int w, int h, int channels,
                            advc_rgb fill)
{
    if (!im) return advc_set_error(ADVC_ERR_ARG, "image: NULL canvas");
    memset(im, 0, sizeof *im);
    if (channels != 1 && channels != 3)
        return advc_set_error(ADVC_ERR_ARG, "image: %d channels (want 1 or "
                              "3)", channels);
    if (w < 1 || h < 1 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
        (size_t)w * (size_t)h * (size_t)channels > IMAGE_MAX_BYTES)
        return advc_set_error(ADVC_ERR_ARG, "image: size %dx%d out of range",
                              w, h);
    size_t bytes = (size_t)w * (size_t)h * (size_t)channels;
    im->px = malloc(bytes);
    if (!im->px)
        return advc_set_error(ADVC_ERR_NOMEM, "image: out of memory for "
                              "%dx%d", w, h);
    im->w = w;
    im->h = h;
    im->channels = channels;
    advc_image_rect(im, 0, 0, w, h, fill);
    return ADVC_OK;
}

void advc_image_free(advc_image *im)
{
    if (!im) return;
    free(im->px);
    memset(im, 0, sizeof *im);
}

/* Gray value of a colour: the plain mean, so a gray canvas keeps black,
 * white and mid-gray exactly. */
static uint8_t gray_of(advc_rgb c)
{
    return (uint8_t)(((unsigned)c.r + c.g + c.b + 1) / 3);
}

void advc_image_rect(advc_image *im, int x, int y, int w, int h,
                     advc_rgb color)
{
    if (!im || !im->px) return;
    /* Clip in 64-bit so x + w cannot overflow. */
    long long x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    long long x1 = (long long)x + w, y1 = (long long)y + h;
    if (x1 > im->w) x1 = im->w;
    if (y1 > im->h) y1 = im->h;
    if (x0 >= x1 || y0 >= y1) return;
    uint8_t g = gray_of(color);
    for (long long yy = y0; yy < y1; yy++) {
        uint8_t *row = im->px + (size_t)yy * (size_t)im->w *
                                    (size_t)im->channels;
        for (long long xx = x0; xx < x1; xx++) {
            if (im->channels == 1) {
                row[xx] = g;
            } else {
                uint8_t *p = row + (size_t)xx * 3;
                p[0] = color.r;
                p[1] = color.g;
                p[2] = color.b;
            }
        }
    }
}

/* [0, 1] -> 0..255, rounded to nearest; NaN and below 0 -> 0. */
static uint8_t to_byte(float v)
{
    if (!(v > 0.0f)) return 0;
    if (v >= 1.0f) return 255;
    return (uint8_t)lrintf(v * 255.0f);
}

void advc_image_draw_chw(advc_image *im, int x, int y, const float *src,
                         int c, int sh, int sw, int scale)
{
    if (!im || !im->px || !src || (c != 1 && c != 3) || sh < 1 || sw < 1 ||
        scale < 1)
        return;
    size_t plane = (size_t)sh * (size_t)sw;
    for (int r = 0; r < sh; r++) {
        for (int q = 0; q < sw; q++) {
            size_t i = (size_t)r * (size_t)sw + (size_t)q;
            advc_rgb col;
            if (c == 1) {
                uint8_t v = to_byte(src[i]);
                col = (advc_rgb){ v, v, v };
            } else {
                col = (advc_rgb){ to_byte(src[i]), to_byte(src[plane + i]),
                                  to_byte(src[2 * plane + i]) };
            }
            advc_image_rect(im, x + q * scale, y + r * scale, scale, scale,
                            col);
        }
    }
}
