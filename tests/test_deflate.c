/* test_deflate.c: the compressor behind the PNG writer (src/io/deflate.c),
 * checked by round trips through the tests' own inflater (inflate.c):
 * empty and tiny inputs, noise (stored blocks), long runs (258-byte
 * matches), periodic data at the window's edge (distance 32768 and just
 * past it), text-like data over many blocks (dynamic codes), a two-level
 * alphabet (long hash chains), block-size boundaries.  Also Adler-32,
 * determinism, and that the inflater refuses a damaged stream (so the
 * round trips can fail).
 */
#include "testutil.h"
#include "inflate.h"
#include "../src/io/deflate.h"

#define BLOCK 16384 /* deflate.c's BLOCK_TOKENS: symbols per block */

/* Compresses in[0..n), inflates it back, checks the bytes; returns the
 * compressed size and the block counts. */
static size_t round_trip(const uint8_t *in, size_t n, tu_inflate_stats *st)
{
    uint8_t *z, *back;
    size_t zn, bn;
    ck_assert_int_eq(advc_zlib_compress(in, n, &z, &zn), ADVC_OK);
    const char *err = tu_zlib_inflate(z, zn, &back, &bn, st);
    ck_assert_msg(err == NULL, "inflate (n = %zu): %s", n, err);
    ck_assert_uint_eq(bn, n);
    ck_assert(n == 0 || memcmp(back, in, n) == 0);
    free(back);
    free(z);
    return zn;
}

static uint8_t *random_bytes(size_t n, uint64_t seed, uint32_t mask)
{
    uint8_t *b = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(b);
    advc_rng r;
    advc_rng_seed(&r, seed, 1);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(advc_rng_u32(&r) & mask);
    return b;
}

START_TEST(adler32_values)
{
    ck_assert_uint_eq(advc_adler32(1, NULL, 0), 1);
    ck_assert_uint_eq(advc_adler32(1, (const uint8_t *)"Wikipedia", 9),
                      0x11E60398u); /* the usual worked example */
    /* continued in pieces across the 5552-byte reduction interval */
    uint8_t *b = random_bytes(20000, 5, 0xff);
    uint32_t whole = advc_adler32(1, b, 20000);
    uint32_t part = advc_adler32(1, b, 5551);
    part = advc_adler32(part, b + 5551, 7777);
    part = advc_adler32(part, b + 13328, 20000 - 13328);
    ck_assert_uint_eq(whole, part);
    uint32_t s1 = 1, s2 = 0; /* the definition, modulo after every byte */
    for (int i = 0; i < 20000; i++) {
        s1 = (s1 + b[i]) % 65521u;
        s2 = (s2 + s1) % 65521u;
    }
    ck_assert_uint_eq(whole, s2 << 16 | s1);
    free(b);
}
END_TEST

START_TEST(empty_and_tiny)
{
    tu_inflate_stats st;
    ck_assert_uint_le(round_trip(NULL, 0, &st), 8);
    ck_assert_int_eq(st.fixed, 1);
    const uint8_t one = 42, abc[3] = { 'a', 'b', 'c' };
    round_trip(&one, 1, &st);
    ck_assert_int_eq(st.fixed, 1);
    round_trip(abc, 3, NULL);
}
END_TEST

START_TEST(noise_goes_stored)
{
    const size_t sizes[] = { 100, BLOCK - 1, BLOCK, BLOCK + 1, 65535, 65536,
                             200000 };
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        uint8_t *b = random_bytes(sizes[k], k, 0xff);
        tu_inflate_stats st;
        size_t zn = round_trip(b, sizes[k], &st);
        ck_assert_int_ge(st.stored, 1);
        /* header, trailer, and at most 5 bytes per block of overhead */
        size_t blocks = (size_t)(st.stored + st.fixed + st.dynamic);
        ck_assert_uint_le(zn, sizes[k] + 6 + 5 * blocks);
        free(b);
    }
}
END_TEST

START_TEST(long_runs)
{
    size_t n = 1 << 20;
    uint8_t *b = calloc(n, 1);
    ck_assert_ptr_nonnull(b);
    tu_inflate_stats st;
    /* 1 MiB of zeros: ~4065 matches of 258, a few bits each */
    ck_assert_uint_lt(round_trip(b, n, &st), 2048);
    for (size_t i = 0; i < n; i += 1000) b[i] = (uint8_t)i;
    ck_assert_uint_lt(round_trip(b, n, &st), 16384);
    free(b);
}
END_TEST

/* A random period repeated: a period of 32768 is the farthest a match may
 * reach, so the repeats compress; one byte more and no match reaches. */
START_TEST(window_edge)
{
    const size_t periods[] = { 32768, 32769 };
    for (int k = 0; k < 2; k++) {
        size_t p = periods[k], n = 3 * p;
        uint8_t *b = random_bytes(n, 9, 0xff);
        for (size_t i = p; i < n; i++) b[i] = b[i - p];
        size_t zn = round_trip(b, n, NULL);
        if (k == 0) ck_assert_uint_lt(zn, p + p / 8);
        else ck_assert_uint_gt(zn, n - n / 64);
        free(b);
    }
}
END_TEST

/* Words from a small vocabulary: literals and matches mixed, many blocks,
 * codes fitted to each block. */
START_TEST(text_many_blocks)
{
    static const char *const words[] = { "robust ", "attack ", "eps ",
        "gradient ", "sign ", "the ", "of ", "PGD-20 ", "0.3 ", "clean\n" };
    size_t n = 600000, len = 0;
    char *b = malloc(n);
    ck_assert_ptr_nonnull(b);
    advc_rng r;
    advc_rng_seed(&r, 3, 1);
    while (len < n) {
        const char *w = words[advc_rng_u32(&r) % 10];
        for (; *w && len < n; w++) b[len++] = *w;
        if (advc_rng_u32(&r) % 4 == 0 && len < n)
            b[len++] = (char)('A' + advc_rng_u32(&r) % 26);
    }
    tu_inflate_stats st;
    size_t zn = round_trip((const uint8_t *)b, n, &st);
    ck_assert_int_gt(st.dynamic, 2);
    ck_assert_uint_lt(zn, n / 3);
    free(b);
}
END_TEST

/* Two symbols only: every 3-byte prefix is one of 8, so hash chains are
 * as long as they get; still exact, and near 1 bit per byte. */
START_TEST(two_level_noise)
{
    size_t n = 300000;
    uint8_t *b = random_bytes(n, 4, 0x80);
    size_t zn = round_trip(b, n, NULL);
    ck_assert_uint_lt(zn, n / 6);
    free(b);
}
END_TEST

START_TEST(deterministic)
{
    size_t n = 100000;
    uint8_t *b = random_bytes(n, 8, 0x0f);
    uint8_t *z1, *z2;
    size_t n1, n2;
    ck_assert_int_eq(advc_zlib_compress(b, n, &z1, &n1), ADVC_OK);
    ck_assert_int_eq(advc_zlib_compress(b, n, &z2, &n2), ADVC_OK);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(z1, z2, n1), 0);
    free(z1), free(z2), free(b);
}
END_TEST

/* Sum over used symbols of 2^(30 - len): 2^30 for a complete code. */
#define KRAFT_ONE (1ull << 30)
static uint64_t kraft(const uint8_t *len, int n)
{
    uint64_t k = 0;
    for (int s = 0; s < n; s++)
        if (len[s]) k += 1ull << (30 - len[s]);
    return k;
}

/* Fibonacci counts make the deepest Huffman trees: 20 symbols give depth
 * 19, which the 15-bit limit must flatten; the 7-bit code-length code
 * likewise.  The codes stay complete, and a more frequent symbol never
 * gets a longer code.  One or no used symbol gets a complete 1-bit
 * code. */
START_TEST(huffman_length_limits)
{
    uint32_t f[24] = { 1, 1 };
    for (int s = 2; s < 24; s++) f[s] = f[s - 1] + f[s - 2];
    uint8_t len[24];
    advc_huffman_lengths(f, 20, 30, len); /* no limit that bites */
    ck_assert_int_eq(len[0], 19);
    ck_assert_uint_eq(kraft(len, 20), KRAFT_ONE);
    const int limits[2] = { 15, 7 };
    const int nsym[2] = { 24, 19 };
    for (int k = 0; k < 2; k++) {
        advc_huffman_lengths(f, nsym[k], limits[k], len);
        for (int s = 0; s < nsym[k]; s++) {
            ck_assert_int_ge(len[s], 1);
            ck_assert_int_le(len[s], limits[k]);
            if (s > 0) ck_assert_int_le(len[s], len[s - 1]);
        }
        ck_assert_uint_eq(kraft(len, nsym[k]), KRAFT_ONE);
    }
    uint32_t one[5] = { 0, 0, 7, 0, 0 }, none[5] = { 0 };
    advc_huffman_lengths(one, 5, 15, len);
    ck_assert_int_eq(len[2], 1);
    ck_assert_uint_eq(kraft(len, 5), KRAFT_ONE);
    advc_huffman_lengths(none, 5, 15, len);
    ck_assert_uint_eq(kraft(len, 5), KRAFT_ONE);
}
END_TEST

/* The oracle can say no: damaged streams are refused or decode to other
 * bytes (which the Adler-32 then catches). */
START_TEST(inflater_refuses_damage)
{
    size_t n = 5000;
    uint8_t *b = random_bytes(n, 2, 0x07);
    uint8_t *z, *back;
    size_t zn, bn;
    ck_assert_int_eq(advc_zlib_compress(b, n, &z, &zn), ADVC_OK);
    int refused = 0;
    for (size_t i = 0; i < zn; i += 7) {
        z[i] ^= 0x10;
        const char *err = tu_zlib_inflate(z, zn, &back, &bn, NULL);
        if (err) refused++;
        else free(back);
        z[i] ^= 0x10;
    }
    ck_assert_int_eq(refused, (int)((zn + 6) / 7));
    ck_assert_ptr_nonnull(tu_zlib_inflate(z, zn - 1, &back, &bn, NULL));
    ck_assert_ptr_null(tu_zlib_inflate(z, zn, &back, &bn, NULL));
    free(back), free(z), free(b);
}
END_TEST

Suite *advc_suite_deflate(void)
{
    Suite *s = suite_create("deflate");
    TCase *t = tcase_create("round trip");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, adler32_values);
    tcase_add_test(t, huffman_length_limits);
    tcase_add_test(t, empty_and_tiny);
    tcase_add_test(t, noise_goes_stored);
    tcase_add_test(t, long_runs);
    tcase_add_test(t, window_edge);
    tcase_add_test(t, text_many_blocks);
    tcase_add_test(t, two_level_noise);
    tcase_add_test(t, deterministic);
    tcase_add_test(t, inflater_refuses_damage);
    suite_add_tcase(s, t);
    return s;
}
