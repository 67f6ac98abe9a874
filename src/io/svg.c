/* svg.c: hand-written SVG line plots (advc/image.h): training curves,
 * accuracy against eps, logits along the FGSM direction.
 *
 * Output follows SVG 1.1 (W3C Recommendation) as plain XML 1.0: one <svg>
 * root with width, height and viewBox, then per panel a <g> translated to
 * its place holding a white background, grid lines and ticks, axis labels,
 * one <path> per series clipped to the plot area, and a legend on the
 * right.  Text is escaped (& < > " ' become entities, control characters
 * are dropped, bytes that are not valid UTF-8 become '?'), so any series
 * name is safe.  A non-finite x or y is never written: it breaks the line
 * (a gap), and far-away finite points are pulled in to a fixed margin
 * outside the plot area, where the clip path hides them.  Numbers are
 * printed with fixed formats, so equal inputs give equal bytes.
 * Not here: log axes, bar charts, reading SVG.
 */
#include "advc/image.h"
#include "advc/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SVG_DEFAULT_W 720
#define SVG_DEFAULT_H 420
#define SVG_MIN_SIDE 160
#define SVG_MAX_SIDE 20000
#define SVG_MAX_SERIES 64
#define SVG_MAX_PANELS 16
#define SVG_MARGIN_L 72    /* y tick labels and the rotated y label      */
#define SVG_MARGIN_T 44    /* title and note                             */
#define SVG_MARGIN_B 52    /* x tick labels and the x label              */
#define SVG_CHAR_W 7.0     /* rough width of a 12px sans-serif character */
#define SVG_TARGET_TICKS 6 /* about this many intervals per axis         */
#define SVG_FAR 10000.0    /* clamp for pixel coordinates (clipped away) */
#define SVG_CLIP_PAD 4.0   /* clip margin around the plot area, pixels    */

/* Ten colours that stay distinct for most readers and in grayscale
 * print-outs well enough; series 10+ reuse them dashed. */
static const char *const palette[10] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
};

/* ---- text ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if s does not start
 * one.  Overlong forms and surrogates are not rejected: the point is only
 * that the XML stays well-formed. */
static int utf8_len(const unsigned char *s)
{
    int n;
    if (s[0] < 0x80) return 1;
    else if ((s[0] & 0xE0) == 0xC0) n = 2;
    else if ((s[0] & 0xF0) == 0xE0) n = 3;
    else if ((s[0] & 0xF8) == 0xF0) n = 4;
    else return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return n;
}

static void put_escaped(advc_out_file *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        switch (*p) {
        case '&': advc_out_printf(o, "&amp;"); p++; continue;
        case '<': advc_out_printf(o, "&lt;"); p++; continue;
        case '>': advc_out_printf(o, "&gt;"); p++; continue;
        case '"': advc_out_printf(o, "&quot;"); p++; continue;
        case '\'': advc_out_printf(o, "&apos;"); p++; continue;
        default: break;
        }
        if (*p < 0x20) { p++; continue; } /* not allowed in XML 1.0 text */
        int n = utf8_len(p);
        if (n == 0) {
            advc_out_write(o, "?", 1);
            p++;
        } else {
            advc_out_write(o, p, (size_t)n);
            p += n;
        }
    }
}

/* ---- axes ---------------------------------------------------------------- */

typedef struct {
    double lo, hi, step; /* range and tick spacing */
} axis;

/* A "nice" tick step for range r: 1, 2 or 5 times a power of ten, giving
 * about SVG_TARGET_TICKS intervals (Heckbert, "Nice numbers for graph
 * labels", Graphics Gems, 1990). */
static double nice_step(double r)
{
    double raw = r / SVG_TARGET_TICKS;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return m * mag;
}

/* From the data range [dmin, dmax] (dmin > dmax: no data) or the caller's
 * fixed one (fmin < fmax).  A loose axis is widened to tick multiples
 * (y: the curves keep off the frame); a tight one ends at the data (x: no
 * empty stretch before the first epoch). */
static int make_axis(axis *a, double dmin, double dmax, double fmin,
                     double fmax, bool loose)
{
    if (fmin < fmax && isfinite(fmin) && isfinite(fmax)) {
        a->lo = fmin;
        a->hi = fmax;
        a->step = nice_step(fmax - fmin);
        return isfinite(a->step) && a->step > 0 ? 0 : -1;
    }
    if (dmin > dmax) { dmin = 0; dmax = 1; }
    if (dmin == dmax) {
        double pad = fabs(dmin) > 0 ? 0.5 * fabs(dmin) : 0.5;
        dmin -= pad;
        dmax += pad;
    }
    if (!isfinite(dmax - dmin)) return -1;
    a->step = nice_step(dmax - dmin);
    if (!isfinite(a->step) || !(a->step > 0)) return -1;
    a->lo = loose ? floor(dmin / a->step) * a->step : dmin;
    a->hi = loose ? ceil(dmax / a->step) * a->step : dmax;
    return isfinite(a->lo) && isfinite(a->hi) && a->lo < a->hi ? 0 : -1;
}

static void format_tick(char *out, size_t outsz, double v, double step)
{
    if (fabs(v) < step * 1e-9) v = 0; /* no "-0" from rounding */
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6 || fabs(v) >= 1e7) snprintf(out, outsz, "%g", v);
    else snprintf(out, outsz, "%.*f", dec, v);
}

/* The tick values of an axis, the multiples of its step inside [lo, hi]
 * (with a little slack against rounding); at most max of them. */
#define SVG_MAX_TICKS 64
static int axis_ticks(const axis *a, double *t, int max)
{
    int n = 0;
    double k0 = ceil(a->lo / a->step - 1e-9);
    double k1 = floor(a->hi / a->step + 1e-9);
    for (double k = k0; k <= k1 && n < max; k++) t[n++] = k * a->step;
    return n;
}

/* Pixel coordinate of v on an axis mapped onto [p0, p1], clamped. */
static double to_px(const axis *a, double v, double p0, double p1)
{
    double t = p0 + (v - a->lo) / (a->hi - a->lo) * (p1 - p0);
    if (!(t > -SVG_FAR)) t = -SVG_FAR;
    if (t > SVG_FAR) t = SVG_FAR;
    return t;
}

/* ---- one panel ----------------------------------------------------------- */

static void data_range(const advc_plot *p, bool want_x, double *mn,
                       double *mx)
{
    *mn = INFINITY;
    *mx = -INFINITY;
    for (int s = 0; s < p->nseries; s++) {
        const advc_plot_series *se = &p->series[s];
        for (int i = 0; i < se->n; i++) {
            if (!isfinite(se->x[i]) || !isfinite(se->y[i])) continue;
            double v = want_x ? se->x[i] : se->y[i];
            if (v < *mn) *mn = v;
            if (v > *mx) *mx = v;
        }
    }
}

static const char *series_color(const advc_plot_series *se, int s)
{
    return se->color ? se->color : palette[s % 10];
}

/* Legend width from the longest series name of all panels, so stacked
 * panels share their x positions. */
static double legend_width(const advc_plot *panels, int npanels, int W)
{
    size_t longest = 0;
    int any = 0;
    for (int k = 0; k < npanels; k++)
        for (int s = 0; s < panels[k].nseries; s++) {
            const char *nm = panels[k].series[s].name;
            size_t l = nm ? strlen(nm) : 0;
            if (l > longest) longest = l;
            any = 1;
        }
    double w = any ? 44 + SVG_CHAR_W * (double)longest : 16;
    return w > W / 3.0 ? W / 3.0 : w;
}

/* A panel's plot area in pixels (x0 left, x1 right, y0 top, y1 bottom)
 * and the axes mapped onto it. */
typedef struct {
    double x0, x1, y0, y1;
    const axis *ax, *ay;
} plot_area;

/* Pixel x of data value v. */
static double area_x(const plot_area *a, double v)
{
    return to_px(a->ax, v, a->x0, a->x1);
}

/* Pixel y of data value v (y grows downwards). */
static double area_y(const plot_area *a, double v)
{
    return to_px(a->ay, v, a->y1, a->y0);
}

/* Series 10+ without a colour of their own reuse the palette dashed. */
static bool series_dashed(const advc_plot_series *se, int s)
{
    return se->dashed || (!se->color && s >= 10);
}

/* A vertical line across the plot area at pixel x. */
static void put_vline(advc_out_file *o, const plot_area *a, double px)
{
    advc_out_printf(o, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" "
                    "y2=\"%.2f\"/>\n", px, a->y0, px, a->y1);
}

/* A horizontal line across the plot area at pixel y. */
static void put_hline(advc_out_file *o, const plot_area *a, double py)
{
    advc_out_printf(o, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" "
                    "y2=\"%.2f\"/>\n", a->x0, py, a->x1, py);
}

/* The panel's group opening, its background, clip path, title and note. */
static void write_panel_head(advc_out_file *o, const advc_plot *p, int idx,
                             int W, int H, const plot_area *a)
{
    advc_out_printf(o, "<g transform=\"translate(0,%d)\">\n", idx * H);
    advc_out_printf(o, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
                    "fill=\"#ffffff\"/>\n", W, H);
    /* The clip area reaches SVG_CLIP_PAD past the frame so markers on
     * the edges show whole. */
    advc_out_printf(o, "<clipPath id=\"plot%d\"><rect x=\"%.2f\" y=\"%.2f\" "
                    "width=\"%.2f\" height=\"%.2f\"/></clipPath>\n", idx,
                    a->x0 - SVG_CLIP_PAD, a->y0 - SVG_CLIP_PAD,
                    a->x1 - a->x0 + 2 * SVG_CLIP_PAD,
                    a->y1 - a->y0 + 2 * SVG_CLIP_PAD);
    if (p->title) {
        advc_out_printf(o, "<text x=\"%.2f\" y=\"18\" text-anchor=\"middle\" "
                        "font-size=\"15\" font-weight=\"bold\">",
                        (a->x0 + a->x1) / 2);
        put_escaped(o, p->title);
        advc_out_printf(o, "</text>\n");
    }
    if (p->note) {
        advc_out_printf(o, "<text x=\"%.2f\" y=\"34\" text-anchor=\"middle\" "
                        "font-size=\"11\" fill=\"#555555\">",
                        (a->x0 + a->x1) / 2);
        put_escaped(o, p->note);
        advc_out_printf(o, "</text>\n");
    }
}

/* Grid lines at the ticks, then the zero lines if the panel wants them. */
static void write_grid(advc_out_file *o, const advc_plot *p,
                       const plot_area *a, const double *tx, int ntx,
                       const double *ty, int nty)
{
    advc_out_printf(o, "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n");
    for (int i = 0; i < ntx; i++) put_vline(o, a, area_x(a, tx[i]));
    for (int i = 0; i < nty; i++) put_hline(o, a, area_y(a, ty[i]));
    advc_out_printf(o, "</g>\n");
    if (!p->zero_lines) return;
    advc_out_printf(o, "<g stroke=\"#999999\" stroke-width=\"1\">\n");
    if (a->ax->lo < 0 && a->ax->hi > 0) put_vline(o, a, area_x(a, 0));
    if (a->ay->lo < 0 && a->ay->hi > 0) put_hline(o, a, area_y(a, 0));
    advc_out_printf(o, "</g>\n");
}

/* The tick labels: x under the plot area, y to its left. */
static void write_tick_labels(advc_out_file *o, const plot_area *a,
                              const double *tx, int ntx, const double *ty,
                              int nty)
{
    char buf[64];
    advc_out_printf(o, "<g font-size=\"12\" fill=\"#333333\">\n");
    for (int i = 0; i < ntx; i++) {
        format_tick(buf, sizeof buf, tx[i], a->ax->step);
        advc_out_printf(o, "<text x=\"%.2f\" y=\"%.2f\" "
                        "text-anchor=\"middle\">%s</text>\n",
                        area_x(a, tx[i]), a->y1 + 16, buf);
    }
    for (int i = 0; i < nty; i++) {
        format_tick(buf, sizeof buf, ty[i], a->ay->step);
        advc_out_printf(o, "<text x=\"%.2f\" y=\"%.2f\" "
                        "text-anchor=\"end\">%s</text>\n", a->x0 - 6,
                        area_y(a, ty[i]) + 4, buf);
    }
    advc_out_printf(o, "</g>\n");
}

/* The frame around the plot area and the axis labels. */
static void write_frame_and_labels(advc_out_file *o, const advc_plot *p,
                                   const plot_area *a)
{
    advc_out_printf(o, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                    "height=\"%.2f\" fill=\"none\" stroke=\"#333333\"/>\n",
                    a->x0, a->y0, a->x1 - a->x0, a->y1 - a->y0);
    if (p->xlabel) {
        advc_out_printf(o, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
                        "font-size=\"13\">", (a->x0 + a->x1) / 2, a->y1 + 38);
        put_escaped(o, p->xlabel);
        advc_out_printf(o, "</text>\n");
    }
    if (p->ylabel) {
        double cy = (a->y0 + a->y1) / 2;
        advc_out_printf(o, "<text x=\"18\" y=\"%.2f\" text-anchor=\"middle\" "
                        "font-size=\"13\" transform=\"rotate(-90 18 %.2f)\">",
                        cy, cy);
        put_escaped(o, p->ylabel);
        advc_out_printf(o, "</text>\n");
    }
}

/* Axes of one panel: grid, zero lines, tick labels, frame, axis labels. */
static void write_axes(advc_out_file *o, const advc_plot *p,
                       const plot_area *a)
{
    double tx[SVG_MAX_TICKS], ty[SVG_MAX_TICKS];
    int ntx = axis_ticks(a->ax, tx, SVG_MAX_TICKS);
    int nty = axis_ticks(a->ay, ty, SVG_MAX_TICKS);
    write_grid(o, p, a, tx, ntx, ty, nty);
    write_tick_labels(o, a, tx, ntx, ty, nty);
    write_frame_and_labels(o, p, a);
}

/* One series as a path, a gap at every non-finite point, and its markers
 * if the panel wants them; nothing for a series without a finite point. */
static void write_series(advc_out_file *o, const advc_plot *p,
                         const plot_area *a, int s)
{
    const advc_plot_series *se = &p->series[s];
    int finite = 0;
    for (int i = 0; i < se->n; i++)
        finite += isfinite(se->x[i]) && isfinite(se->y[i]);
    if (finite == 0) return; /* legend only: no empty path data */
    advc_out_printf(o, "<path stroke=\"%s\"%s d=\"", series_color(se, s),
                    series_dashed(se, s) ? " stroke-dasharray=\"6 4\"" : "");
    bool pen_down = false;
    for (int i = 0; i < se->n; i++) {
        if (!isfinite(se->x[i]) || !isfinite(se->y[i])) {
            pen_down = false;
            continue;
        }
        advc_out_printf(o, "%s%.2f %.2f", pen_down ? " L" : " M",
                        area_x(a, se->x[i]), area_y(a, se->y[i]));
        pen_down = true;
    }
    advc_out_printf(o, "\"/>\n");
    if (!p->markers) return;
    advc_out_printf(o, "<g fill=\"%s\" stroke=\"none\">", series_color(se, s));
    for (int i = 0; i < se->n; i++) {
        if (!isfinite(se->x[i]) || !isfinite(se->y[i])) continue;
        advc_out_printf(o, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\"/>",
                        area_x(a, se->x[i]), area_y(a, se->y[i]));
    }
    advc_out_printf(o, "</g>\n");
}

/* Legend right of the plot area: a line sample and the name per series. */
static void write_legend(advc_out_file *o, const advc_plot *p,
                         const plot_area *a)
{
    advc_out_printf(o, "<g font-size=\"12\">\n");
    for (int s = 0; s < p->nseries; s++) {
        const advc_plot_series *se = &p->series[s];
        double ly = a->y0 + 10 + 18.0 * s, lx = a->x1 + 12;
        advc_out_printf(o, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" "
                        "y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2.5\"%s/>\n",
                        lx, ly, lx + 22, ly, series_color(se, s),
                        series_dashed(se, s) ? " stroke-dasharray=\"6 4\""
                                             : "");
        advc_out_printf(o, "<text x=\"%.2f\" y=\"%.2f\">", lx + 28, ly + 4);
        put_escaped(o, se->name);
        advc_out_printf(o, "</text>\n");
    }
    advc_out_printf(o, "</g>\n");
}

/* Panel idx, H pixels below the one before: head, axes, the series
 * clipped to the plot area, the legend. */
static void write_panel(advc_out_file *o, const advc_plot *p, int idx,
                        int W, int H, const axis *ax, const axis *ay,
                        double legend_w)
{
    plot_area a = { SVG_MARGIN_L, W - legend_w - 8, SVG_MARGIN_T,
                    H - SVG_MARGIN_B, ax, ay };
    write_panel_head(o, p, idx, W, H, &a);
    write_axes(o, p, &a);
    advc_out_printf(o, "<g clip-path=\"url(#plot%d)\" fill=\"none\" "
                    "stroke-width=\"1.8\" stroke-linejoin=\"round\">\n", idx);
    for (int s = 0; s < p->nseries; s++) write_series(o, p, &a, s);
    advc_out_printf(o, "</g>\n");
    write_legend(o, p, &a);
    advc_out_printf(o, "</g>\n");
}

/* ---- the file ------------------------------------------------------------ */

/* A colour must be "#rrggbb": it goes into an attribute unescaped. */
static bool valid_color(const char *c)
{
    if (strlen(c) != 7 || c[0] != '#') return false;
    for (int i = 1; i < 7; i++) {
        char ch = c[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
              (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

advc_status advc_svg_write(const char *path, const advc_plot *panels,
                           int npanels, int width, int height)
{
    if (!path) return advc_set_error(ADVC_ERR_ARG, "svg: NULL path");
    if (!panels || npanels < 1 || npanels > SVG_MAX_PANELS)
        return advc_set_error(ADVC_ERR_ARG, "%s: %d panels (want 1 to %d)",
                              path, npanels, SVG_MAX_PANELS);
    int W = width ? width : SVG_DEFAULT_W;
    int H = height ? height : SVG_DEFAULT_H;
    if (W < SVG_MIN_SIDE || H < SVG_MIN_SIDE || W > SVG_MAX_SIDE ||
        H > SVG_MAX_SIDE)
        return advc_set_error(ADVC_ERR_ARG, "%s: panel size %dx%d out of "
                              "range", path, W, H);
    axis ax[SVG_MAX_PANELS], ay[SVG_MAX_PANELS];
    for (int k = 0; k < npanels; k++) {
        const advc_plot *p = &panels[k];
        if (p->nseries < 0 || p->nseries > SVG_MAX_SERIES ||
            (p->nseries > 0 && !p->series))
            return advc_set_error(ADVC_ERR_ARG, "%s: panel %d has %d series "
                                  "(at most %d)", path, k, p->nseries,
                                  SVG_MAX_SERIES);
        for (int s = 0; s < p->nseries; s++) {
            const advc_plot_series *se = &p->series[s];
            if (se->n < 0 || (se->n > 0 && (!se->x || !se->y)))
                return advc_set_error(ADVC_ERR_ARG, "%s: series %d of panel "
                                      "%d has no data", path, s, k);
            if (se->color && !valid_color(se->color))
                return advc_set_error(ADVC_ERR_ARG, "%s: colour '%s' is not "
                                      "#rrggbb", path, se->color);
        }
        double mn, mx;
        data_range(p, true, &mn, &mx);
        if (make_axis(&ax[k], mn, mx, p->xmin, p->xmax, false) != 0)
            return advc_set_error(ADVC_ERR_ARG, "%s: x values of panel %d "
                                  "span too large a range to plot", path, k);
        data_range(p, false, &mn, &mx);
        if (make_axis(&ay[k], mn, mx, p->ymin, p->ymax, true) != 0)
            return advc_set_error(ADVC_ERR_ARG, "%s: y values of panel %d "
                                  "span too large a range to plot", path, k);
    }

    advc_out_file o;
    advc_status s = advc_out_open(&o, path);
    if (s != ADVC_OK) return s;
    advc_out_printf(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    advc_out_printf(&o, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                    "version=\"1.1\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n",
                    W, H * npanels, W, H * npanels);
    double legend_w = legend_width(panels, npanels, W);
    for (int k = 0; k < npanels; k++)
        write_panel(&o, &panels[k], k, W, H, &ax[k], &ay[k], legend_w);
    advc_out_printf(&o, "</svg>\n");
    return advc_out_commit(&o);
}

advc_status advc_svg_plot(const char *path, const advc_plot *p)
{
    return advc_svg_write(path, p, 1, 0, 0);
}
