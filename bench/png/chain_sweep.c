/* chain_sweep.c: size and time of advc_zlib_compress on one file, for
 * bench/png/chain_sweep.sh, which links it against copies of
 * src/io/deflate.c that differ only in MAX_CHAIN.  Compresses the file
 * REPS times, checks every output is the same bytes, prints one line:
 *   file=... bytes_in=... bytes_out=... median_ms=... status=PASS
 *   chain_sweep FILE REPS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../src/io/deflate.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 3) return 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *in = malloc((size_t)n);
    if (!in || fread(in, 1, (size_t)n, f) != (size_t)n) return 1;
    fclose(f);
    int reps = atoi(argv[2]);
    double t[64];
    uint8_t *first = NULL;
    size_t first_n = 0;
    int same = 1;
    for (int r = 0; r < reps && r < 64; r++) {
        struct timespec a, b;
        uint8_t *z;
        size_t zn;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (advc_zlib_compress(in, (size_t)n, &z, &zn) != ADVC_OK) return 1;
        clock_gettime(CLOCK_MONOTONIC, &b);
        t[r] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        if (!first) {
            first = z;
            first_n = zn;
        } else {
            same &= zn == first_n && memcmp(z, first, zn) == 0;
            free(z);
        }
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    printf("file=%s bytes_in=%ld bytes_out=%zu median_ms=%.1f status=%s\n",
           argv[1], n, first_n, t[reps / 2], same ? "PASS" : "FAIL");
    free(first);
    free(in);
    return same ? 0 : 1;
}
