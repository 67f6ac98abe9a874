/* png.c: a PNG writer without zlib, for picture grids (advc/image.h).
 *
 * Format (PNG specification, 2nd edition / ISO/IEC 15948; RFC 2083):
 *   signature  89 50 4E 47 0D 0A 1A 0A
 *   chunks     u32 length (big-endian), 4-byte type, data, u32 CRC-32 of
 *              type + data (the IEEE CRC of advc_crc32)
 *   IHDR       width, height (u32), bit depth 8, colour type 0 (gray) or
 *              2 (RGB), compression 0, filter 0, interlace 0
 *   IDAT       the zlib stream of the filtered image, split over as many
 *              IDAT chunks as convenient (decoders concatenate them)
 *   IEND       empty
 * The filtered image is every row prefixed by its filter type byte; we
 * always use type 0 (None), so the row bytes pass through unchanged.
 *
 * The zlib stream (RFC 1950) is CMF 0x78 (deflate, 32 KiB window), FLG
 * 0x01 (no dictionary, "fastest" level, and 0x7801 is a multiple of 31 as
 * the FCHECK bits require), then deflate data (RFC 1951), then the
 * Adler-32 of the uncompressed bytes, big-endian.  The deflate data is
 * only "stored" blocks (BTYPE 00): a header byte holding BFINAL (1 on the
 * last block) and BTYPE 00 -- the rest of that byte is padding to the byte
 * boundary --, then LEN and NLEN = ~LEN as little-endian u16, then LEN raw
 * bytes, LEN <= 65535.  No compression: a file is the raw pixels plus
 * about 0.01% overhead, which is fine for the small grids we draw, and the
 * writer stays short enough to check by eye.
 *
 * Streaming: rows go through a stored-block layer into a 64 KiB IDAT
 * buffer, so memory use does not grow with the image.
 */
#include "advc/image.h"
#include "advc/checkpoint.h" /* advc_crc32 */
#include "advc/io.h"

#include <stdlib.h>
#include <string.h>

#define PNG_IDAT_CAP 65536u    /* bytes of zlib stream per IDAT chunk     */
#define DEFLATE_STORED_MAX 65535u /* LEN is a u16                          */
#define ADLER_MOD 65521u       /* largest prime below 2^16 (RFC 1950)     */
/* Most bytes that can be summed before s2 could overflow a u32: the
 * largest n with 255 n (n + 1) / 2 + (n + 1) (ADLER_MOD - 1) < 2^32. */
#define ADLER_NMAX 5552u
#define PNG_MAX_SIDE 0x7fffffffu /* PNG limit: 2^31 - 1 */

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* ---- chunks -------------------------------------------------------------- */

static void write_chunk(advc_out_file *o, const char type[4],
                        const uint8_t *data, uint32_t len)
{
    uint8_t b[4];
    put_be32(b, len);
    advc_out_write(o, b, 4);
    advc_out_write(o, type, 4);
    advc_out_write(o, data, len);
    uint32_t crc = advc_crc32(0, type, 4);
    crc = advc_crc32(crc, data, len);
    put_be32(b, crc);
    advc_out_write(o, b, 4);
}

/* ---- the IDAT stream: bytes in, IDAT chunks out -------------------------- */

typedef struct {
    advc_out_file *out;
    uint8_t buf[PNG_IDAT_CAP];
    uint32_t n;
} idat_writer;

static void idat_flush(idat_writer *w)
{
    if (w->n == 0) return;
    write_chunk(w->out, "IDAT", w->buf, w->n);
    w->n = 0;
}

static void idat_put(idat_writer *w, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t k = PNG_IDAT_CAP - w->n;
        if (k > n) k = n;
        memcpy(w->buf + w->n, p, k);
        w->n += (uint32_t)k;
        p += k;
        n -= k;
        if (w->n == PNG_IDAT_CAP) idat_flush(w);
    }
}

/* ---- zlib with stored deflate blocks ------------------------------------- */

typedef struct {
    idat_writer *idat;
    uint64_t total;    /* uncompressed bytes the stream will carry        */
    uint64_t done;     /* uncompressed bytes written so far               */
    uint32_t left;     /* bytes still due in the current block (0: none) */
    uint32_t s1, s2;   /* Adler-32 sums (RFC 1950 section 8)              */
    uint32_t pending;  /* bytes summed since the last modulo              */
} zstored;

static void z_begin(zstored *z, idat_writer *w, uint64_t total)
{
    memset(z, 0, sizeof *z);
    z->idat = w;
    z->total = total;
    z->s1 = 1;
    const uint8_t hdr[2] = { 0x78, 0x01 }; /* CMF, FLG: see the top */
    idat_put(w, hdr, 2);
}

static void adler_update(zstored *z, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        z->s1 += p[i];
        z->s2 += z->s1;
        if (++z->pending == ADLER_NMAX) {
            z->s1 %= ADLER_MOD;
            z->s2 %= ADLER_MOD;
            z->pending = 0;
        }
    }
}

/* Appends uncompressed bytes, opening a stored block whenever the last one
 * is full.  A block is final when it reaches z->total. */
static void z_put(zstored *z, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (z->left == 0) {
            uint64_t rest = z->total - z->done;
            uint32_t len = rest > DEFLATE_STORED_MAX ? DEFLATE_STORED_MAX
                                                     : (uint32_t)rest;
            uint8_t h[5];
            h[0] = z->done + len == z->total ? 1 : 0; /* BFINAL, BTYPE 00 */
            h[1] = (uint8_t)len;
            h[2] = (uint8_t)(len >> 8);
            h[3] = (uint8_t)~len;
            h[4] = (uint8_t)(~len >> 8);
            idat_put(z->idat, h, 5);
            z->left = len;
        }
        size_t k = z->left < n ? z->left : n;
        idat_put(z->idat, p, k);
        adler_update(z, p, k);
        z->left -= (uint32_t)k;
        z->done += k;
        p += k;
        n -= k;
    }
}

static void z_end(zstored *z)
{
    uint8_t b[4];
    put_be32(b, (z->s2 % ADLER_MOD) << 16 | (z->s1 % ADLER_MOD));
    idat_put(z->idat, b, 4);
    idat_flush(z->idat);
}

/* ---- the file ------------------------------------------------------------ */

advc_status advc_png_write(const char *path, const uint8_t *px, int w, int h,
                           int channels)
{
    if (!path || !px)
        return advc_set_error(ADVC_ERR_ARG, "png: NULL path or pixels");
    if (channels != 1 && channels != 3)
        return advc_set_error(ADVC_ERR_ARG, "%s: %d channels (PNG writer "
                              "takes 1 or 3)", path, channels);
    if (w < 1 || h < 1 || (uint32_t)w > PNG_MAX_SIDE ||
        (uint32_t)h > PNG_MAX_SIDE)
        return advc_set_error(ADVC_ERR_ARG, "%s: bad image size %dx%d", path,
                              w, h);
    size_t row = (size_t)w * (size_t)channels;
    idat_writer *iw = malloc(sizeof *iw);
    if (!iw) return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory", path);
    advc_out_file o;
    advc_status s = advc_out_open(&o, path);
    if (s != ADVC_OK) {
        free(iw);
        return s;
    }
    iw->out = &o;
    iw->n = 0;

    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
                                    '\n' };
    advc_out_write(&o, sig, 8);

    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;                       /* bit depth                       */
    ihdr[9] = channels == 1 ? 0 : 2;   /* colour type: gray / truecolour  */
    ihdr[10] = 0;                      /* compression: deflate            */
    ihdr[11] = 0;                      /* filter method: adaptive (5 types) */
    ihdr[12] = 0;                      /* no interlace                    */
    write_chunk(&o, "IHDR", ihdr, 13);

    zstored z;
    z_begin(&z, iw, (uint64_t)h * (uint64_t)(row + 1));
    const uint8_t filter_none = 0;
    for (int y = 0; y < h; y++) {
        z_put(&z, &filter_none, 1);
        z_put(&z, px + (size_t)y * row, row);
    }
    z_end(&z);

    write_chunk(&o, "IEND", NULL, 0);
    free(iw);
    return advc_out_commit(&o);
}

advc_status advc_image_write_png(const char *path, const advc_image *im)
{
    if (!im || !im->px)
        return advc_set_error(ADVC_ERR_ARG, "%s: empty image",
                              path ? path : "png");
    return advc_png_write(path, im->px, im->w, im->h, im->channels);
}
