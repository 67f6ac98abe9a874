/* im2col.c: the lowering of 2-D convolution to GEMM (NCHW, one image).
 *
 * Same result as scalar/im2col_ref.c, organised for memory traffic: for a
 * fixed (ci, ky, kx) and output row oy, the valid input pixels form one
 * contiguous run when stride = 1 (a memcpy) and a strided run otherwise;
 * only the padded borders are special.  Memory-bound, so plain C: the
 * compiler vectorises the stride-1 runs (restrict-qualified helpers, not
 * memcpy or memset: the runs are short, e.g. 28 floats, and a library
 * call per run cost more than the copy in profiles of ResNet training).
 * Convolution
 * forward is
 *   out(cout, oh*ow) = W(cout, c*kh*kw) . col(c*kh*kw, oh*ow).
 */
/* The short zero-fill and copy loops here stay loops: GCC would turn
 * them into memset/memcpy calls (loop distribution), which on runs of
 * 14-28 floats cost more than the stores (2.6% of a cnn training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include <stdlib.h>
#include "advc/kernels.h"
#include "dispatch.h"

bool advc_conv_geom_init(advc_conv_geom *g, int c, int h, int w, int kh,
                         int kw, int stride, int pad)
{
    if (c <= 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0 || stride <= 0 ||
        pad < 0 || h + 2 * pad < kh || w + 2 * pad < kw)
        return false;
    g->c = c, g->h = h, g->w = w;
    g->kh = kh, g->kw = kw;
    g->stride = stride, g->pad = pad;
    g->oh = (h + 2 * pad - kh) / stride + 1;
    g->ow = (w + 2 * pad - kw) / stride + 1;
    return true;
}

bool advc_conv_is_pointwise(const advc_conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0;
}

/* Output columns ox whose input column ix = ox*stride - pad + kx lies in
 * [0, w): the half-open range [*lo, *hi). */
static void valid_cols(const advc_conv_geom *g, int kx, int *lo, int *hi)
{
    int off = kx - g->pad; /* ix = ox*stride + off */
    int a = off >= 0 ? 0 : (-off + g->stride - 1) / g->stride;
    int b = (g->w - 1 - off) < 0 ? 0 : (g->w - 1 - off) / g->stride + 1;
    if (b > g->ow) b = g->ow;
    if (a > b) a = b;
    *lo = a, *hi = b;
}

/* dst[0..n) = src[0..n).  Blocks of 8 (then one of 4) written out so
 * that -O2's straight-line (SLP) vectoriser turns each into one 8-float
 * (or 4-float) load and store; -O2 does not vectorise the plain loop. */
static inline void copy_run(float *restrict dst, const float *restrict src,
                            int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        dst[i + 0] = src[i + 0], dst[i + 1] = src[i + 1];
        dst[i + 2] = src[i + 2], dst[i + 3] = src[i + 3];
        dst[i + 4] = src[i + 4], dst[i + 5] = src[i + 5];
        dst[i + 6] = src[i + 6], dst[i + 7] = src[i + 7];
    }
    if (i + 4 <= n) { /* one 4-float move: rows of 14 and 28 end in 6, 4 */
        dst[i + 0] = src[i + 0], dst[i + 1] = src[i + 1];
        dst[i + 2] = src[i + 2], dst[i + 3] = src[i + 3];
        i += 4;
    }
    for (; i < n; i++) dst[i] = src[i];
}

/* dst[0..n) += src[0..n), blocked like copy_run. */
static inline void add_run(float *restrict dst, const float *restrict src,
                           int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        dst[i + 0] += src[i + 0], dst[i + 1] += src[i + 1];
        dst[i + 2] += src[i + 2], dst[i + 3] += src[i + 3];
        dst[i + 4] += src[i + 4], dst[i + 5] += src[i + 5];
        dst[i + 6] += src[i + 6], dst[i + 7] += src[i + 7];
    }
    if (i + 4 <= n) {
        dst[i + 0] += src[i + 0], dst[i + 1] += src[i + 1];
        dst[i + 2] += src[i + 2], dst[i + 3] += src[i + 3];
        i += 4;
    }
    for (; i < n; i++) dst[i] += src[i];
}

/* Small outputs: a table of input offsets per tap.  On maps of a few
 * pixels (MSDNet's exit convolutions: 7x7 -> 4x4 -> 2x2, stride 2) the
 * runs above are 2-4 floats long and their setup dominated: im2col was
 * 15% of an MSDNet training step.  tab[(ky*kw + kx)*ohw + q] is the
 * offset in a channel plane of output q's input for tap (ky, kx), or -1
 * in the padding.  The table is built per image and pays only when
 * several channels share it: with one input channel (cnn-small's first
 * layer) building it took as long as the copies, and the two tables of
 * cnn-small were 15% of its training step. */
enum {
    TAB_MAX = 4096,  /* kh*kw*oh*ow up to which the table is used */
    TAB_MIN_C = 8    /* input channels from which it is used      */
};

static bool small_output(const advc_conv_geom *g)
{
    return g->stride > 1 && g->c >= TAB_MIN_C &&
           (size_t)g->kh * g->kw * g->oh * g->ow <= TAB_MAX;
}

static void offset_table(const advc_conv_geom *g, int *tab)
{
    for (int ky = 0; ky < g->kh; ky++)
        for (int kx = 0; kx < g->kw; kx++)
            for (int oy = 0; oy < g->oh; oy++) {
                int iy = oy * g->stride - g->pad + ky;
                bool row = iy >= 0 && iy < g->h;
                for (int ox = 0; ox < g->ow; ox++, tab++) {
                    int ix = ox * g->stride - g->pad + kx;
                    *tab = row && ix >= 0 && ix < g->w ? iy * g->w + ix : -1;
                }
            }
}

static void im2col_table(const advc_conv_geom *g, const float *img,
                         float *col, size_t ldc)
{
    int tab[TAB_MAX], ohw = g->oh * g->ow, taps = g->kh * g->kw;
    offset_table(g, tab);
    for (int ci = 0; ci < g->c; ci++) {
        const float *plane = img + (size_t)ci * g->h * g->w;
        for (int t = 0; t < taps; t++) {
            float *out = col + ((size_t)ci * taps + t) * ldc;
            const int *o = tab + t * ohw;
            for (int q = 0; q < ohw; q++)
                out[q] = o[q] >= 0 ? plane[o[q]] : 0.0f;
        }
    }
}

static void col2im_table(const advc_conv_geom *g, const float *col,
                         size_t ldc, float *img)
{
    int tab[TAB_MAX], ohw = g->oh * g->ow, taps = g->kh * g->kw;
    offset_table(g, tab);
    for (int ci = 0; ci < g->c; ci++) {
        float *plane = img + (size_t)ci * g->h * g->w;
        for (int t = 0; t < taps; t++) {
            const float *in = col + ((size_t)ci * taps + t) * ldc;
            const int *o = tab + t * ohw;
            for (int q = 0; q < ohw; q++)
                if (o[q] >= 0) plane[o[q]] += in[q];
        }
    }
}

/* Strided layers (stride > 1), forward.  For a tap (ky, kx) write
 * ky = s*r0 + a (a = ky mod s).  Output row oy reads input row
 * iy = (oy + r0)*s + a - pad, so the tap's whole (oh, ow) block is rows
 * r0 .. r0 + oh - 1 of the plane
 *   T_(a,kx)[r][ox] = x[r*s + a - pad][ox*s + kx - pad]  (0 outside x),
 * r in [0, oh + (kh-1)/s): one contiguous copy of oh*ow values.  The s*kw
 * planes T are gathered once per input channel (s*kw*(oh + (kh-1)/s)*ow
 * values, about half of the kh*kw*oh*ow the taps read on 4x4 stride-2
 * layers) with strided runs as in the general case.  On cnn-small's
 * conv2 (16 channels, 14x14 -> 7x7) this lowers an image in 3.6 us where
 * the table below took 4.4 (its data-dependent test costs about two
 * cycles per value) and the general case more; on outputs narrower than
 * TAP_MIN_OW the runs are too short and the table stays faster. */
enum {
    TAP_MAX = 8192, /* floats of the T planes (32 KB), at most          */
    TAP_MIN_OW = 7  /* output width from which they are used: below it
                       the table is faster (2x on 4x4 and 2x2 outputs,
                       as in MSDNet's exits)                            */
};

static size_t tap_rows(const advc_conv_geom *g)
{
    return (size_t)g->oh + (size_t)(g->kh - 1) / (size_t)g->stride;
}

static bool use_tap_planes(const advc_conv_geom *g)
{
    return g->stride > 1 && g->ow >= TAP_MIN_OW &&
           (size_t)g->stride * g->kw * tap_rows(g) * g->ow <= TAP_MAX;
}

/* dst[0..n) = src[0], src[2], ..., src[2n-2]: stride 2, blocked like
 * copy_run so that the block becomes two loads and a shuffle. */
static inline void even_run(float *restrict dst, const float *restrict src,
                            int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        dst[i + 0] = src[2 * i + 0], dst[i + 1] = src[2 * i + 2];
        dst[i + 2] = src[2 * i + 4], dst[i + 3] = src[2 * i + 6];
        dst[i + 4] = src[2 * i + 8], dst[i + 5] = src[2 * i + 10];
        dst[i + 6] = src[2 * i + 12], dst[i + 7] = src[2 * i + 14];
    }
    for (; i < n; i++) dst[i] = src[2 * i];
}

/* T_(a,kx) of one input plane into t: (tap_rows, ow). */
static void tap_plane(const advc_conv_geom *g, const float *plane, int a,
                      int kx, float *t)
{
    const int s = g->stride, ow = g->ow;
    int lo, hi;
    valid_cols(g, kx, &lo, &hi);
    for (size_t r = 0; r < tap_rows(g); r++, t += ow) {
        int iy = (int)r * s + a - g->pad;
        if (iy < 0 || iy >= g->h) {
            for (int ox = 0; ox < ow; ox++) t[ox] = 0.0f;
            continue;
        }
        const float *in = plane + (long)iy * g->w + (kx - g->pad);
        for (int ox = 0; ox < lo; ox++) t[ox] = 0.0f;
        if (s == 2) even_run(t + lo, in + 2L * lo, hi - lo);
        else
            for (int ox = lo; ox < hi; ox++) t[ox] = in[(long)ox * s];
        for (int ox = hi; ox < ow; ox++) t[ox] = 0.0f;
    }
}

static void im2col_taps(const advc_conv_geom *g, const float *img,
                        float *col, size_t ldc)
{
    float tp[TAP_MAX];
    const int s = g->stride, ohw = g->oh * g->ow;
    const size_t per = tap_rows(g) * g->ow; /* floats of one T plane */
    size_t row = 0;
    for (int ci = 0; ci < g->c; ci++) {
        const float *plane = img + (size_t)ci * g->h * g->w;
        for (int a = 0; a < s; a++)
            for (int kx = 0; kx < g->kw; kx++)
                tap_plane(g, plane, a, kx, tp + (a * g->kw + kx) * per);
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++, row++) {
                const float *t = tp + ((ky % s) * g->kw + kx) * per;
                copy_run(col + row * ldc, t + (size_t)(ky / s) * g->ow, ohw);
            }
    }
}

/* Stride 2 where the input is exactly twice the output (h = 2 oh, w = 2 ow:
 * k = 2 + 2 pad, as cnn-small's 4x4 pad-1 layers, or 3x3 pad-1 ones on
 * even maps).  The plane is split into its four phases
 *   P_(ry,rx)[i][j] = x[2i + ry][2j + rx],  each oh x ow,
 * and col row (ky, kx) is then one phase moved by whole rows and columns:
 * iy = 2 oy + ky - pad = 2 (oy + di) + ry with ry = (ky - pad) mod 2 and
 * di = floor((ky - pad) / 2), likewise ix, rx and dj, so
 *   col[(ky, kx)][oy][ox] = P_(ry,rx)[oy + di][ox + dj]  (0 outside),
 * one contiguous copy of oh*ow values from P + di*ow + dj (the phases lie
 * in one buffer with zeroed slack around them, so the copy reads nothing
 * outside it), after which the rows and columns outside the phase are
 * zeroed.  No strided read per tap: the tap planes read every value two
 * apart, in runs of ow.  The phases come from the plane's even and odd
 * columns (two long stride-2 runs, which the compiler vectorises), each
 * phase row copied 8 floats at a time past its end into the next row's
 * place, which is written later. */
enum {
    PH_SLACK = 1024 /* floats of slack before and after the phases */
};

/* The phase rows (columns) tap ky (kx) moves by: floor((k - pad) / 2). */
static int phase_shift(int k, int pad)
{
    int o = k - pad;
    return (o - (o & 1)) / 2;
}

/* The farthest (in floats) a phase_row copy starts before its phase or
 * ends after it: the largest |di| ow + |dj|. */
static long phase_reach(const advc_conv_geom *g)
{
    long di = labs((long)phase_shift(0, g->pad));
    long de = labs((long)phase_shift(g->kh - 1, g->pad));
    long dj = labs((long)phase_shift(0, g->pad));
    long dk = labs((long)phase_shift(g->kw - 1, g->pad));
    return (di > de ? di : de) * g->ow + (dj > dk ? dj : dk);
}

static bool use_phase_planes(const advc_conv_geom *g)
{
    return g->stride == 2 && g->h == 2 * g->oh && g->w == 2 * g->ow &&
           (size_t)g->h * g->w + 8 <= TAP_MAX &&
           phase_reach(g) + 8 <= PH_SLACK;
}

/* dst[0..8) = src[0..8), written out (one 8-float vector move). */
static inline void copy8(float *restrict dst, const float *restrict src)
{
    dst[0] = src[0], dst[1] = src[1], dst[2] = src[2], dst[3] = src[3];
    dst[4] = src[4], dst[5] = src[5], dst[6] = src[6], dst[7] = src[7];
}

/* The four phases of one plane into ph (P_(ry,rx) at (2 rx + ry) oh ow),
 * through eo (h*w floats: even columns, then odd). */
static void phase_planes(const advc_conv_geom *g, const float *plane,
                         float *eo, float *ph)
{
    const int ow = g->ow;
    const size_t half = (size_t)g->h * ow;
    even_run(eo, plane, (int)half);
    even_run(eo + half, plane + 1, (int)half);
    float *dst = ph;
    for (int rx = 0; rx < 2; rx++)
        for (int ry = 0; ry < 2; ry++)
            for (int i = 0; i < g->oh; i++, dst += ow) {
                const float *src = eo + rx * half + (size_t)(2 * i + ry) * ow;
                for (int j = 0; j < ow; j += 8) copy8(dst + j, src + j);
            }
}

/* col row (ky, kx) of the plane whose phases are in ph, into out. */
static void phase_row(const advc_conv_geom *g, const float *ph, int ky,
                      int kx, float *out)
{
    const int oh = g->oh, ow = g->ow, ohw = oh * ow;
    int ry = (ky - g->pad) & 1, rx = (kx - g->pad) & 1;
    int di = phase_shift(ky, g->pad), dj = phase_shift(kx, g->pad);
    const float *p = ph + (size_t)(2 * rx + ry) * ohw;
    copy_run(out, p + (long)di * ow + dj, ohw);
    /* the rows oy with oy + di outside [0, oh), then the columns */
    if (di != 0) {
        int r = di < 0 ? -di : di;
        float *z = di < 0 ? out : out + (size_t)(r < oh ? oh - r : 0) * ow;
        for (int k = 0; k < (r < oh ? r : oh) * ow; k++) z[k] = 0.0f;
    }
    if (dj != 0) {
        int c = dj < 0 ? -dj : dj;
        c = c < ow ? c : ow;
        float *z = dj < 0 ? out : out + (ow - c);
        for (int oy = 0; oy < oh; oy++, z += ow)
            for (int k = 0; k < c; k++) z[k] = 0.0f;
    }
}

static void im2col_phases(const advc_conv_geom *g, const float *img,
                          float *col, size_t ldc)
{
    float eo[TAP_MAX];
    float buf[PH_SLACK + TAP_MAX + PH_SLACK]; /* slack, phases, slack */
    float *ph = buf + PH_SLACK;
    size_t hw = (size_t)g->h * g->w, row = 0;
    /* read by the copies that start or end outside their phase (and
     * zeroed afterwards); zeros keep what they read defined */
    long reach = phase_reach(g) + 8;
    for (long k = 0; k < reach; k++) ph[-1 - k] = ph[hw + k] = 0.0f;
    for (int k = 0; k < 8; k++) eo[hw + k] = 0.0f; /* read by copy8 too */
    for (int ci = 0; ci < g->c; ci++) {
        phase_planes(g, img + (size_t)ci * hw, eo, ph);
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++, row++)
                phase_row(g, ph, ky, kx, col + row * ldc);
    }
}

/* Strided layers, col2im: the image's plane is copied into a
 * zero-bordered plane pad ((h + 2 pad) x (w + 2 pad)), the taps add into
 * it in the reference's order with no test for the border (the sums are
 * the reference's bit for bit), and its interior is copied back. */
enum { PAD_MAX = 4096 }; /* floats of the bordered plane (16 KB), at most */

static bool use_padded(const advc_conv_geom *g)
{
    return g->stride > 1 && g->ow >= TAP_MIN_OW &&
           (size_t)(g->h + 2 * g->pad) * (size_t)(g->w + 2 * g->pad) <=
               PAD_MAX;
}

/* pad = plane with a border of g->pad zeros (pw = w + 2 pad). */
static void pad_plane(const advc_conv_geom *g, const float *plane, float *pad)
{
    int pw = g->w + 2 * g->pad, ph = g->h + 2 * g->pad;
    for (int k = 0; k < pw * g->pad; k++) pad[k] = 0.0f;
    for (int k = (g->pad + g->h) * pw; k < ph * pw; k++) pad[k] = 0.0f;
    for (int iy = 0; iy < g->h; iy++) {
        float *row = pad + (size_t)(iy + g->pad) * pw;
        for (int k = 0; k < g->pad; k++) row[k] = row[pw - 1 - k] = 0.0f;
        copy_run(row + g->pad, plane + (size_t)iy * g->w, g->w);
    }
}

/* The taps of kernel row ky (col rows row0 .. row0 + kw - 1) into pad:
 * per output row, all kx into the same bordered row.  A pixel gets its
 * adds in the reference's (ky, kx) order either way: one oy reaches it
 * for a given ky. */
static void add_taps(const advc_conv_geom *g, const float *col, size_t ldc,
                     size_t row0, int ky, float *pad)
{
    const int s = g->stride, ow = g->ow, pw = g->w + 2 * g->pad;
#ifdef isa_col2im_rows_s2
    if (s == 2) {
        isa_col2im_rows_s2(pad + (size_t)ky * pw, 2 * (size_t)pw, (size_t)pw,
                           col + row0 * ldc, ldc, g->kw, ow, g->oh);
        return;
    }
#endif
    for (int kx = 0; kx < g->kw; kx++) {
        const float *in = col + (row0 + (size_t)kx) * ldc;
        for (int oy = 0; oy < g->oh; oy++, in += ow) {
            float *out = pad + (size_t)(oy * s + ky) * pw + kx;
            for (int ox = 0; ox < ow; ox++) out[ox * s] += in[ox];
        }
    }
}

static void col2im_padded(const advc_conv_geom *g, const float *col,
                          size_t ldc, float *img)
{
    float pad[PAD_MAX];
    const int pw = g->w + 2 * g->pad;
    size_t row = 0;
    for (int ci = 0; ci < g->c; ci++) {
        float *plane = img + (size_t)ci * g->h * g->w;
        pad_plane(g, plane, pad);
        for (int ky = 0; ky < g->kh; ky++, row += (size_t)g->kw)
            add_taps(g, col, ldc, row, ky, pad);
        for (int iy = 0; iy < g->h; iy++)
            copy_run(plane + (size_t)iy * g->w,
                     pad + (size_t)(iy + g->pad) * pw + g->pad, g->w);
    }
}

void advc_im2col_ld(const advc_conv_geom *g, const float *img, float *col,
                    size_t ldc)
{
    if (use_phase_planes(g)) {
        im2col_phases(g, img, col, ldc);
        return;
    }
    if (use_tap_planes(g)) {
        im2col_taps(g, img, col, ldc);
        return;
    }
    if (small_output(g)) {
        im2col_table(g, img, col, ldc);
        return;
    }
    const int s = g->stride, ow = g->ow;
    size_t row = 0;
    for (int ci = 0; ci < g->c; ci++) {
        const float *plane = img + (size_t)ci * g->h * g->w;
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++, row++) {
                int lo, hi;
                valid_cols(g, kx, &lo, &hi);
                int off = kx - g->pad;
                float *out = col + row * ldc;
                for (int oy = 0; oy < g->oh; oy++, out += ow) {
                    int iy = oy * s - g->pad + ky;
                    if (iy < 0 || iy >= g->h) {
                        for (int ox = 0; ox < ow; ox++) out[ox] = 0.0f;
                        continue;
                    }
                    /* ix = ox*s + off; valid for ox in [lo, hi) */
                    long base = (long)iy * g->w + off;
                    for (int ox = 0; ox < lo; ox++) out[ox] = 0.0f;
                    if (s == 1) {
                        copy_run(out + lo, plane + base + lo, hi - lo);
                    } else {
                        for (int ox = lo; ox < hi; ox++)
                            out[ox] = plane[base + (long)ox * s];
                    }
                    for (int ox = hi; ox < ow; ox++) out[ox] = 0.0f;
                }
            }
    }
}

void advc_im2col(const advc_conv_geom *g, const float *img, float *col)
{
    advc_im2col_ld(g, img, col, (size_t)g->oh * g->ow);
}

void advc_col2im_ld(const advc_conv_geom *g, const float *col, size_t ldc,
                    float *img)
{
    if (use_padded(g)) {
        col2im_padded(g, col, ldc, img);
        return;
    }
    if (small_output(g)) {
        col2im_table(g, col, ldc, img);
        return;
    }
    const int s = g->stride, ow = g->ow;
    size_t row = 0;
    for (int ci = 0; ci < g->c; ci++) {
        float *plane = img + (size_t)ci * g->h * g->w;
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++, row++) {
                int lo, hi;
                valid_cols(g, kx, &lo, &hi);
                int off = kx - g->pad;
                const float *in = col + row * ldc;
                for (int oy = 0; oy < g->oh; oy++, in += ow) {
                    int iy = oy * s - g->pad + ky;
                    if (iy < 0 || iy >= g->h) continue;
                    long base = (long)iy * g->w + off;
                    if (s == 1) {
                        add_run(plane + base + lo, in + lo, hi - lo);
                        continue;
                    }
                    for (int ox = lo; ox < hi; ox++)
                        plane[base + (long)ox * s] += in[ox];
                }
            }
    }
}

void advc_col2im(const advc_conv_geom *g, const float *col, float *img)
{
    advc_col2im_ld(g, col, (size_t)g->oh * g->ow, img);
}
