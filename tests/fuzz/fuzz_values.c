/* fuzz_values.c: the shared value parsers (advc/param.h) that every flag,
 * descriptor row and ADVC_THREADS go through: reals ("0.3", "8/255"),
 * integers, seeds, thread counts, comma lists, and each row of every
 * attack's, recipe's and the training loop's table (eps, step sizes,
 * counts, choices, lists) set from the input.  Beyond not crashing, a
 * value a parser accepts must be one the row's own check accepts, and an
 * integer, seed or choice must read back as the same value from the text
 * advc prints for it (reports and checkpoint metadata).  Input: one byte
 * choosing the table, then the text. */
#include "fuzz.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* One comma-list item: must be non-empty; parsed as a real. */
static advc_status item(const char *text, size_t len, void *ctx)
{
    char buf[64];
    (void)ctx;
    if (len == 0) abort();
    if (len >= sizeof buf) return ADVC_ERR_ARG;
    memcpy(buf, text, len);
    buf[len] = '\0';
    double v;
    return advc_parse_real(buf, &v);
}

static void scalars(const char *s)
{
    double d;
    long l;
    uint64_t u;
    int t;
    if (advc_parse_real(s, &d) == ADVC_OK && !isfinite(d)) abort();
    (void)advc_parse_int(s, &l);
    (void)advc_parse_u64(s, &u);
    if (advc_parse_threads(s, &t) == ADVC_OK &&
        (t < 1 || t > ADVC_MAX_THREADS))
        abort();
    (void)advc_parse_list(s, item, NULL);
}

/* Row p of a table over a settings struct of `size` bytes. */
static void row(const advc_param *p, size_t size, const char *s)
{
    _Alignas(max_align_t) unsigned char base[4096];
    _Alignas(max_align_t) unsigned char again[4096];
    char text[512];
    if (size > sizeof base) abort();
    memset(base, 0, size);
    if (advc_param_set(p, base, s) != ADVC_OK) return;
    if (advc_param_check(p, base) != ADVC_OK) abort();
    advc_param_format(p, base, text, sizeof text);
    if (p->type != ADVC_PARAM_INT && p->type != ADVC_PARAM_U64 &&
        p->type != ADVC_PARAM_CHOICE)
        return;
    memset(again, 0, size);
    if (advc_param_set(p, again, text) != ADVC_OK ||
        memcmp(base + p->offset, again + p->offset,
               p->type == ADVC_PARAM_U64 ? sizeof(uint64_t) : sizeof(int)))
        abort();
}

static void table(const advc_param *ps, int n, size_t size, const char *s)
{
    for (int i = 0; i < n; i++) row(&ps[i], size, s);
}

/* The input's first byte picks one table (an attack's, a recipe's or the
 * training loop's); the rest is the text.  One table per input keeps the
 * runs fast (every row refused builds its message). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n == 0) return 0;
    char *s = fuzz_string(data + 1, n - 1);
    if (!s) return 0;
    scalars(s);
    int pick = data[0] % (ADVC_ATK_COUNT + ADVC_RECIPE_COUNT + 1);
    if (pick < ADVC_ATK_COUNT) {
        const advc_attack_desc *d = advc_attack_describe(pick);
        table(d->params, d->nparams, sizeof(advc_attack_config), s);
    } else if (pick < ADVC_ATK_COUNT + ADVC_RECIPE_COUNT) {
        const advc_recipe_desc *d =
            advc_recipe_describe(pick - ADVC_ATK_COUNT);
        table(d->params, d->nparams, sizeof(advc_recipe_config), s);
    } else {
        int nt;
        const advc_param *tp = advc_train_params(&nt);
        table(tp, nt, sizeof(advc_train_config), s);
    }
    free(s);
    return 0;
}
