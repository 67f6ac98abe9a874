/* deflate.h: a small DEFLATE compressor (RFC 1951) inside a zlib wrapper
 * (RFC 1950), for the PNG writer.  LZ77 over a 32 KiB window with hash
 * chains and one-step lazy matching, then per block the cheapest of a
 * dynamic Huffman code, the fixed code and stored bytes.  The format
 * notes and every constant are explained in deflate.c.
 * Deterministic: the same input gives the same bytes.  Private to src/io/
 * (and the tests, which check it against their own inflater).
 */
#ifndef ADVC_IO_DEFLATE_H
#define ADVC_IO_DEFLATE_H

#include <stddef.h>
#include <stdint.h>
#include "advc/core.h"

/* Compresses in[0..n) into a complete zlib stream: 2-byte header, deflate
 * blocks, Adler-32 of the input.  *out is malloc'd (free it), *outn its
 * length.  Fails only for lack of memory (ADVC_ERR_NOMEM). */
advc_status advc_zlib_compress(const uint8_t *in, size_t n, uint8_t **out,
                               size_t *outn);

/* Code lengths (len[0..n), 0 for unused symbols) of a complete prefix
 * code for the symbol counts freq[0..n) (2 <= n <= 288), none longer than
 * max_bits (7 or 15 in deflate): Huffman's, flattened where too deep.
 * Used by the compressor; declared here for the tests. */
void advc_huffman_lengths(const uint32_t *freq, int n, int max_bits,
                          uint8_t *len);

/* Adler-32 (RFC 1950 section 8), continuable: start from adler = 1. */
uint32_t advc_adler32(uint32_t adler, const uint8_t *p, size_t n);

#endif /* ADVC_IO_DEFLATE_H */
