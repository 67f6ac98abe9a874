/* advc/image.h: pictures and array files for people and for other tools:
 * an RGB/gray canvas with a 5x7 bitmap font, a PNG writer with its own
 * deflate (no zlib), and SVG line plots (.npy arrays: advc/npy.h,
 * included).
 *
 * Every writer goes through the safe-file writer (advc/io.h: temporary
 * file, fsync, rename), so PATH is either the old file or the whole new
 * one.  Errors come back as an advc_status with a message naming the
 * file (advc_last_error()).  Output is deterministic: the same inputs give
 * the same bytes.  Not here: reading PNG or SVG (the tests carry their
 * own small readers), fonts other than the built-in.
 */
#ifndef ADVC_IMAGE_H
#define ADVC_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "advc/core.h"
#include "advc/npy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- canvas -------------------------------------------------------------- */

/* An 8-bit image, row-major, channels interleaved: pixel (x, y) channel k
 * is px[(y * w + x) * channels + k].  channels is 1 (gray) or 3 (RGB). */
typedef struct {
    int w, h, channels;
    uint8_t *px; /* (h, w, channels), malloc'd */
} advc_image;

typedef struct {
    uint8_t r, g, b;
} advc_rgb;

/* Allocates a w x h canvas filled with `fill` (gray canvases take the mean
 * of r, g, b).  1 <= w, h <= 2^20 and w * h * channels <= 2^30. */
advc_status advc_image_init(advc_image *im, int w, int h, int channels,
                            advc_rgb fill);
/* Frees px and zeroes *im; NULL and freed images are fine. */
void advc_image_free(advc_image *im);

/* Fills the rectangle [x, x+w) x [y, y+h), clipped to the canvas. */
void advc_image_rect(advc_image *im, int x, int y, int w, int h,
                     advc_rgb color);

/* Draws a float image src (c, sh, sw), planes first (NCHW without the N),
 * with its top-left corner at (x, y), each pixel blown up to a
 * scale x scale square (nearest neighbour).  Values are clamped to [0, 1]
 * and mapped to round(255 v); NaN draws as 0.  c = 1 is drawn as gray on
 * any canvas; c = 3 on a gray canvas is drawn as its mean.  Clipped. */
void advc_image_draw_chw(advc_image *im, int x, int y, const float *src,
                         int c, int sh, int sw, int scale);

/* The built-in font: 5x7 glyphs in 6x8 cells (one blank column to the
 * right, one blank row below), every printable ASCII character; anything
 * else draws as a hollow box.  Text is one line ('\n' is not special). */
#define ADVC_FONT_CELL_W 6
#define ADVC_FONT_CELL_H 8
/* Width in pixels of s drawn at `scale` (trailing spacing column included). */
int advc_text_width(const char *s, int scale);
/* Draws s with its top-left cell corner at (x, y), clipped. */
void advc_image_text(advc_image *im, int x, int y, const char *s, int scale,
                     advc_rgb color);

/* ---- PNG ----------------------------------------------------------------- */

/* Writes an 8-bit gray (channels 1) or RGB (channels 3) PNG: signature,
 * IHDR, IDAT chunks carrying a deflate-compressed zlib stream (LZ77 and
 * Huffman codes, src/io/deflate.c), IEND.  make run's 504x1752 grid
 * takes 55 KB instead of 2.65 MB. */
advc_status advc_png_write(const char *path, const uint8_t *px, int w, int h,
                           int channels);
advc_status advc_image_write_png(const char *path, const advc_image *im);

/* The picture of an attack (src/io/grid.c): one row per image, clean |
 * perturbation | adversarial, captioned "y=<label> p=<prediction>
 * <confidence>%", a footer line under it, written as PNG. */
typedef struct {
    int n;                      /* rows drawn                              */
    int c, h, w, scale;         /* image shape, blow-up factor             */
    const float *clean, *adv;   /* (n, c, h, w)                            */
    const int *y, *pc, *pa;     /* labels, predictions clean / adversarial */
    const float *cc, *ca;       /* their softmax confidences               */
    float eps;                  /* the L-inf budget (the perturbation's
                                   scale), unless l2                       */
    bool l2;                    /* captions give each image's L2 distance  */
    const char *footer;
} advc_grid;
advc_status advc_grid_png(const char *path, const advc_grid *g);

/* NumPy .npy export: advc/npy.h (included here for the older callers). */

/* ---- SVG line plots ------------------------------------------------------ */

typedef struct {
    const char *name;   /* legend text (escaped on output)               */
    const double *x;    /* (n) */
    const double *y;    /* (n); a non-finite x or y is a gap in the line */
    int n;
    const char *color;  /* "#rrggbb"; NULL: the palette colour of its index */
    bool dashed;
} advc_plot_series;

typedef struct {
    const char *title;  /* may be NULL */
    const char *xlabel, *ylabel;
    const advc_plot_series *series;
    int nseries;
    /* Axis ranges: used as given when min < max, otherwise from the data
     * (finite points only), widened to tick multiples. */
    double xmin, xmax, ymin, ymax;
    bool markers;       /* a dot on every point                           */
    bool zero_lines;    /* thin lines at x = 0 and y = 0 when in range    */
    const char *note;   /* small text under the title; may be NULL        */
} advc_plot;

/* Writes one SVG with the panels stacked vertically, each width x height
 * pixels (0: 720 x 420), axes with ticks and labels, one polyline per
 * series and a legend to the right.  At most 64 series per panel. */
advc_status advc_svg_write(const char *path, const advc_plot *panels,
                           int npanels, int width, int height);
/* One panel of the default size. */
advc_status advc_svg_plot(const char *path, const advc_plot *p);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_IMAGE_H */
