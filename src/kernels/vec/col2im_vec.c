/* col2im_vec.c: the inner loops of col2im for stride-2 convolutions,
 * written once over the vector layer (vec.h).  For one kernel row ky,
 * every output row oy and every kernel column kx add a row of the
 * lowered gradient into the same row of the zero-bordered plane, two
 * apart:
 *   out[oy ldo + 2 ox + kx] += in[kx ldi + oy ow + ox],  ox < ow, kx < kw
 * with kx in order.  Each bordered row is held in registers, VEC_LANES
 * columns at a time, while the kw taps are added into it (a tap's values
 * spread onto every second lane and added under a mask), so each pixel
 * gets the same adds in the same order as scalar/im2col_ref.c: the same
 * bits.  The scalar loop did a load, an add and a store per value, two
 * lanes apart. */
#include "vec/vec.h"
#include "vec/vec_kernels.h"

/* Output rows whose bordered rows are held at once (on the stack, read
 * back at once: the tap's masks are set up once per block of rows). */
enum { ROWS = 8 };

/* Adds tap kx of the chunk at column c0 (nl columns) into the nr rows of
 * acc (rows oy0 .. oy0 + nr - 1). */
static void add_tap(vf *acc, int nr, const float *in, size_t ldi, int kx,
                    int ow, int oy0, size_t c0, size_t nl)
{
    /* the ox with c0 <= 2 ox + kx < c0 + nl */
    long a = (long)c0 - kx, e = (long)(c0 + nl) - kx;
    long ox0 = a > 0 ? (a + 1) / 2 : 0, ox1 = e > 0 ? (e + 1) / 2 : 0;
    if (ox1 > ow) ox1 = ow;
    if (ox1 <= ox0) return;
    /* lane of ox0: 2 ox0 - a, which is 2 or more only in the first
     * chunk (lane kx): then p starts lo = lane / 2 <= kx / 2 values early,
     * still inside the col rows before tap kx's, and those are skipped */
    long lane = 2 * ox0 - a;
    size_t lo = (size_t)(lane >> 1), r = (size_t)(ox1 - ox0);
    int b = (int)(lane & 1);
    const float *p = in + (size_t)kx * ldi + (size_t)oy0 * (size_t)ow +
                     (size_t)ox0 - lo;
    vmask m = vspread2_lanes(lo, r, b);
    for (int i = 0; i < nr; i++, p += ow)
        acc[i] = vsel(m, vadd(acc[i], vload_spread2(p, lo, r, b)), acc[i]);
}

void advc_col2im_rows_s2_vec(float *out, size_t ldo, size_t pw,
                             const float *in, size_t ldi, int kw, int ow,
                             int oh)
{
    vf acc[ROWS];
    for (size_t c0 = 0; c0 < pw; c0 += VEC_LANES) {
        size_t nl = pw - c0 < VEC_LANES ? pw - c0 : VEC_LANES;
        for (int oy0 = 0; oy0 < oh; oy0 += ROWS) {
            int nr = oh - oy0 < ROWS ? oh - oy0 : ROWS;
            float *o = out + (size_t)oy0 * ldo + c0;
            for (int i = 0; i < nr; i++) acc[i] = vload_n(o + i * ldo, nl);
            for (int kx = 0; kx < kw; kx++)
                add_tap(acc, nr, in, ldi, kx, ow, oy0, c0, nl);
            for (int i = 0; i < nr; i++) vstore_n(o + i * ldo, acc[i], nl);
        }
    }
}
