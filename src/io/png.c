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
 * The filtered image is every row prefixed by its filter type byte.  We
 * always use type 0 (None: the row's bytes unchanged).  The prediction
 * filters (Sub, Up, Average, Paeth) with the usual per-row choice (the
 * smallest sum of |signed byte|) made make run's grid 29% larger (72 KB
 * against 56 KB, bench/RESULTS.md): its pixels are blown-up blocks with
 * few levels, which LZ77 matches exactly a row or a pixel back, while the
 * differences of noise-like perturbations match less well.
 * The zlib stream comes from deflate.c (LZ77 + Huffman codes).
 *
 * The whole filtered image is built in memory, then compressed, then
 * written: h * (w * channels + 1) bytes plus the compressed stream.
 */
#include "advc/image.h"
#include "advc/checkpoint.h" /* advc_crc32 */
#include "advc/io.h"
#include "deflate.h"

#include <stdlib.h>
#include <string.h>

#define PNG_IDAT_CAP 65536u    /* bytes of zlib stream per IDAT chunk     */
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
    if ((size_t)h > SIZE_MAX / (row + 1))
        return advc_set_error(ADVC_ERR_ARG, "%s: image %dx%d is too large",
                              path, w, h);
    uint8_t *raw = malloc((size_t)h * (row + 1));
    if (!raw) return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory", path);
    for (int y = 0; y < h; y++) {
        uint8_t *dst = raw + (size_t)y * (row + 1);
        dst[0] = 0; /* filter type None */
        memcpy(dst + 1, px + (size_t)y * row, row);
    }
    uint8_t *z = NULL;
    size_t zlen = 0;
    advc_status s = advc_zlib_compress(raw, (size_t)h * (row + 1), &z, &zlen);
    free(raw);
    if (s != ADVC_OK) return s;

    advc_out_file o;
    if ((s = advc_out_open(&o, path)) != ADVC_OK) {
        free(z);
        return s;
    }
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
                                    '\n' };
    advc_out_write(&o, sig, 8);
    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;                       /* bit depth                       */
    ihdr[9] = channels == 1 ? 0 : 2;   /* colour type: gray / truecolour  */
    ihdr[10] = 0;                      /* compression: deflate            */
    ihdr[11] = 0;                      /* filter method 0 (5 types)       */
    ihdr[12] = 0;                      /* no interlace                    */
    write_chunk(&o, "IHDR", ihdr, 13);
    for (size_t at = 0; at < zlen; at += PNG_IDAT_CAP) {
        size_t k = zlen - at < PNG_IDAT_CAP ? zlen - at : PNG_IDAT_CAP;
        write_chunk(&o, "IDAT", z + at, (uint32_t)k);
    }
    write_chunk(&o, "IEND", NULL, 0);
    free(z);
    return advc_out_commit(&o);
}

advc_status advc_image_write_png(const char *path, const advc_image *im)
{
    if (!im || !im->px)
        return advc_set_error(ADVC_ERR_ARG, "%s: empty image",
                              path ? path : "png");
    return advc_png_write(path, im->px, im->w, im->h, im->channels);
}
