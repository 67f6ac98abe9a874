/* inflate.h: a small, strict zlib/deflate decoder for the tests (RFC 1950
 * and 1951: stored, fixed and dynamic blocks), written apart from the
 * library's compressor so a round trip through both means something.  It
 * refuses anything a correct stream never holds: a bad header or Adler-32,
 * over-subscribed or incomplete codes (bar the one-distance-code case the
 * RFC allows), a distance before the start, symbols 286/287 or 30/31,
 * repeat codes that overrun, bytes after the Adler-32.
 */
#ifndef ADVC_TESTS_INFLATE_H
#define ADVC_TESTS_INFLATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int stored, fixed, dynamic; /* blocks of each type */
} tu_inflate_stats;

/* Decodes the zlib stream in[0..n) into *out (malloc'd, free it; *outn
 * bytes).  Returns NULL on success, else a short reason (nothing to
 * free).  st may be NULL. */
const char *tu_zlib_inflate(const uint8_t *in, size_t n, uint8_t **out,
                            size_t *outn, tu_inflate_stats *st);

#endif
