/* augment.c: training-time augmentation of single images (advc/data.h):
 * the random crop from a zero-padded image and the horizontal flip, their
 * seeded draws, and the one default rule (which data gets which).
 */
#include "advc/data.h"

#include <string.h>

/* Purpose key of the augmentation's generators (mixed with the seed, so
 * they never coincide with the shuffle's or the recipes' streams). */
#define AUGMENT_PURPOSE 0xa09e17u

static const char *const augment_names[ADVC_AUGMENT_COUNT] = {
    [ADVC_AUGMENT_DEFAULT] = "default",
    [ADVC_AUGMENT_NONE] = "none",
    [ADVC_AUGMENT_CROP_FLIP] = "crop-flip",
};

const char *advc_augment_name(advc_augment a)
{
    return (int)a >= 0 && a < ADVC_AUGMENT_COUNT ? augment_names[a] : "?";
}

advc_augment advc_augment_parse(const char *s)
{
    for (int a = ADVC_AUGMENT_NONE; s && a < ADVC_AUGMENT_COUNT; a++)
        if (strcmp(s, augment_names[a]) == 0) return (advc_augment)a;
    return ADVC_AUGMENT_COUNT;
}

advc_augment advc_augment_default(const advc_dataset *d)
{
    return d->c == 3 ? ADVC_AUGMENT_CROP_FLIP : ADVC_AUGMENT_NONE;
}

void advc_augment_rng(advc_rng *r, uint64_t seed, int epoch, long batch)
{
    advc_rng_seed(r, advc_mix64(seed, AUGMENT_PURPOSE + (uint64_t)epoch),
                  (uint64_t)batch);
}

void advc_crop_flip(const float *in, float *out, int c, int h, int w, int dy,
                    int dx, bool flip)
{
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++) {
            float *dst = out + ((size_t)ch * h + (size_t)y) * w;
            int sy = y + dy;
            if (sy < 0 || sy >= h) { /* a row of the padding */
                memset(dst, 0, (size_t)w * sizeof *dst);
                continue;
            }
            const float *src = in + ((size_t)ch * h + (size_t)sy) * w;
            for (int x = 0; x < w; x++) {
                int sx = (flip ? w - 1 - x : x) + dx;
                dst[x] = sx >= 0 && sx < w ? src[sx] : 0.0f;
            }
        }
}

void advc_augment_image(advc_augment a, advc_rng *r, const float *in,
                        float *out, int c, int h, int w)
{
    if (a != ADVC_AUGMENT_CROP_FLIP) {
        memcpy(out, in, (size_t)c * h * w * sizeof *out);
        return;
    }
    const uint32_t span = 2 * ADVC_AUGMENT_PAD + 1; /* offsets -4 .. 4 */
    int dy = (int)advc_rng_below(r, span) - ADVC_AUGMENT_PAD;
    int dx = (int)advc_rng_below(r, span) - ADVC_AUGMENT_PAD;
    bool flip = advc_rng_below(r, 2) == 1;
    advc_crop_flip(in, out, c, h, w, dy, dx, flip);
}
