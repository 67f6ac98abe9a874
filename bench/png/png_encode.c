/* png_encode.c: PGM/PPM (binary P5/P6, maxval 255) in, PNG out through
 * advc_png_write.  Only for bench/png/check_png.py, which feeds it images
 * and decodes the results with Python's zlib; not part of advc.
 *   png_encode IN.pnm OUT.png
 */
#include <stdio.h>
#include <stdlib.h>
#include "advc/advc.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: png_encode IN.pnm OUT.png\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    int w, h, maxval;
    char kind;
    if (!f || fscanf(f, "P%c %d %d %d", &kind, &w, &h, &maxval) != 4 ||
        (kind != '5' && kind != '6') || maxval != 255 || w < 1 || h < 1 ||
        fgetc(f) == EOF) {
        fprintf(stderr, "png_encode: %s: not a binary PGM/PPM\n", argv[1]);
        return 1;
    }
    int c = kind == '5' ? 1 : 3;
    size_t n = (size_t)w * (size_t)h * (size_t)c;
    unsigned char *px = malloc(n);
    if (!px || fread(px, 1, n, f) != n) {
        fprintf(stderr, "png_encode: %s: short pixel data\n", argv[1]);
        return 1;
    }
    fclose(f);
    if (advc_png_write(argv[2], px, w, h, c) != ADVC_OK) {
        fprintf(stderr, "png_encode: %s\n", advc_last_error());
        return 1;
    }
    free(px);
    return 0;
}
