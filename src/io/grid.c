/* grid.c: the picture of an attack (advc_grid_png in advc/image.h): one
 * row per image, clean | perturbation | adversarial, each blown up and
 * captioned with label, prediction and softmax confidence, like the FGSM
 * paper's "panda" figure; the perturbation is shown as 0.5 + delta /
 * (2 eps) (an L2 attack: eps = the image's largest |delta|).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "advc/image.h"

#define PAD 8 /* pixels between grid elements */

static const advc_rgb white = { 255, 255, 255 }, black = { 0, 0, 0 };
static const advc_rgb border = { 190, 190, 190 };
static const advc_rgb right_col = { 0, 120, 0 }, wrong_col = { 200, 0, 0 };

/* ||x_adv - x||_2 of row r. */
static double row_l2(const advc_grid *gs, int r)
{
    size_t per = (size_t)gs->c * gs->h * gs->w;
    const float *xc = gs->clean + (size_t)r * per;
    const float *xa = gs->adv + (size_t)r * per;
    double sq = 0;
    for (size_t i = 0; i < per; i++) {
        double d = (double)xa[i] - (double)xc[i];
        sq += d * d;
    }
    return sqrt(sq);
}

/* The caption under column k (0 clean, 1 perturbation, 2 adversarial)
 * of row r. */
static void caption(const advc_grid *gs, int r, int k, char *out,
                    size_t outsz)
{
    if (k == 0)
        snprintf(out, outsz, "y=%d p=%d %.0f%%", gs->y[r], gs->pc[r],
                 100.0 * gs->cc[r]);
    else if (k == 2)
        snprintf(out, outsz, "p=%d %.0f%%", gs->pa[r], 100.0 * gs->ca[r]);
    else if (gs->l2)
        snprintf(out, outsz, "L2=%.3g", row_l2(gs, r));
    else
        snprintf(out, outsz, "eps=%.3g", (double)gs->eps);
}

/* Where everything goes: sizes in pixels. */
typedef struct {
    int img_w, img_h;   /* one blown-up image                          */
    int ts, ch;         /* caption font scale and its cell height      */
    int cell_w, gap;    /* a column (widest of image, captions), gap   */
    int header_h, row_h;
    int W, H;           /* the whole picture                           */
    int col_x[3];       /* left edge of each column                    */
} grid_layout;

static const char *const titles[3] = { "clean", "perturbation",
                                       "adversarial" };

/* Captions at twice the font size when the images are blown up enough to
 * go with it; cells widen to the widest caption. */
static grid_layout layout(const advc_grid *gs)
{
    grid_layout L;
    L.img_w = gs->w * gs->scale;
    L.img_h = gs->h * gs->scale;
    L.ts = gs->scale >= 3 ? 2 : 1;
    L.ch = ADVC_FONT_CELL_H * L.ts;
    L.cell_w = L.img_w;
    for (int k = 0; k < 3; k++)
        if (advc_text_width(titles[k], L.ts) > L.cell_w)
            L.cell_w = advc_text_width(titles[k], L.ts);
    for (int r = 0; r < gs->n; r++)
        for (int k = 0; k < 3; k++) {
            char cap[48];
            caption(gs, r, k, cap, sizeof cap);
            int tw = advc_text_width(cap, L.ts);
            if (tw > L.cell_w) L.cell_w = tw;
        }
    L.gap = advc_text_width("=", 2) + 2 * PAD; /* room for "+" and "=" */
    L.header_h = L.ch + PAD;
    L.row_h = L.img_h + 2 + PAD / 2 + L.ch + PAD;
    L.W = PAD + 3 * L.cell_w + 2 * L.gap + PAD;
    int fw = advc_text_width(gs->footer, 1) + 2 * PAD;
    if (fw > L.W) L.W = fw;
    L.H = PAD + L.header_h + gs->n * L.row_h + ADVC_FONT_CELL_H + PAD;
    for (int k = 0; k < 3; k++) L.col_x[k] = PAD + k * (L.cell_w + L.gap);
    return L;
}

/* pert = 0.5 + (xa - xc) / (2 sc): L-inf: sc = eps, so delta / eps is in
 * [-1, 1]; L2: sc = the largest |delta| of this image. */
static void perturbation(const advc_grid *gs, const float *xc,
                         const float *xa, float *pert)
{
    size_t per = (size_t)gs->c * gs->h * gs->w;
    double maxabs = 0;
    for (size_t i = 0; i < per; i++) {
        double d = (double)xa[i] - (double)xc[i];
        if (fabs(d) > maxabs) maxabs = fabs(d);
    }
    double sc = gs->l2 ? maxabs : (double)gs->eps;
    if (!(sc > 0)) sc = 1;
    for (size_t i = 0; i < per; i++)
        pert[i] = (float)(0.5 + ((double)xa[i] - (double)xc[i]) / (2 * sc));
}

/* Row r: the three images with borders, "+" and "=" between them, the
 * captions (green when right, red when wrong). */
static void draw_row(advc_image *im, const advc_grid *gs,
                     const grid_layout *L, int r, float *pert)
{
    size_t per = (size_t)gs->c * gs->h * gs->w;
    const float *xc = gs->clean + (size_t)r * per;
    const float *xa = gs->adv + (size_t)r * per;
    perturbation(gs, xc, xa, pert);
    int y0 = PAD + L->header_h + r * L->row_h;
    const float *imgs[3] = { xc, pert, xa };
    for (int k = 0; k < 3; k++) {
        int x0 = L->col_x[k] + (L->cell_w - L->img_w) / 2;
        advc_image_rect(im, x0 - 1, y0 - 1, L->img_w + 2, L->img_h + 2,
                        border);
        advc_image_draw_chw(im, x0, y0, imgs[k], gs->c, gs->h, gs->w,
                            gs->scale);
    }
    int sy = y0 + L->img_h / 2 - ADVC_FONT_CELL_H;
    advc_image_text(im, L->col_x[0] + L->cell_w + PAD, sy, "+", 2, black);
    advc_image_text(im, L->col_x[1] + L->cell_w + PAD, sy, "=", 2, black);
    advc_rgb colors[3] = { gs->pc[r] == gs->y[r] ? right_col : wrong_col,
                           black,
                           gs->pa[r] == gs->y[r] ? right_col : wrong_col };
    for (int k = 0; k < 3; k++) {
        char cap[48];
        caption(gs, r, k, cap, sizeof cap);
        int tw = advc_text_width(cap, L->ts);
        advc_image_text(im, L->col_x[k] + (L->cell_w - tw) / 2,
                        y0 + L->img_h + 2 + PAD / 2, cap, L->ts, colors[k]);
    }
}

advc_status advc_grid_png(const char *path, const advc_grid *gs)
{
    grid_layout L = layout(gs);
    advc_image im;
    advc_status s = advc_image_init(&im, L.W, L.H, 3, white);
    if (s != ADVC_OK) return s;
    for (int k = 0; k < 3; k++) {
        int tw = advc_text_width(titles[k], L.ts);
        advc_image_text(&im, L.col_x[k] + (L.cell_w - tw) / 2, PAD,
                        titles[k], L.ts, black);
    }
    float *pert = malloc((size_t)gs->c * gs->h * gs->w * sizeof *pert);
    if (!pert) {
        advc_image_free(&im);
        return advc_set_error(ADVC_ERR_NOMEM, "grid: out of memory");
    }
    for (int r = 0; r < gs->n; r++) draw_row(&im, gs, &L, r, pert);
    advc_image_text(&im, PAD, L.H - PAD - ADVC_FONT_CELL_H + 1, gs->footer,
                    1, black);
    free(pert);
    s = advc_image_write_png(path, &im);
    advc_image_free(&im);
    return s;
}
