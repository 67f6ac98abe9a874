/* dataset.c: what sits above the two readers: finding a split in a data
 * directory (IDX or CIFAR-10, plain names or the common variants), freeing,
 * and copying row ranges or index lists (validation splits, --limit).
 */
#include "advc/data.h"
#include "advc/checkpoint.h" /* advc_crc32 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_CAP 4096
#define CIFAR_TRAIN_BATCHES 5

void advc_dataset_free(advc_dataset *d)
{
    if (!d) return;
    advc_free(d->x);
    advc_free(d->y);
    memset(d, 0, sizeof *d);
}

/* ---- finding a split -------------------------------------------------- */

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* buf = dir + "/" + a + b; dir's trailing slashes are dropped so messages
 * show clean paths. */
static advc_status join(char *buf, const char *dir, const char *a,
                        const char *b)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    int w = snprintf(buf, PATH_CAP, "%.*s/%s%s", (int)n, dir, a, b);
    if (w < 0 || w >= PATH_CAP)
        return advc_set_error(ADVC_ERR_ARG, "%s: path too long", dir);
    return ADVC_OK;
}

/* Looks for "<pre>-<kind><suffix>" with either the official spelling
 * ("-idx3-ubyte") or the dotted one ("train-images.idx3-ubyte").  found is
 * 1 for a plain file, 2 if only a .gz version exists, else 0. */
static advc_status find_idx(const char *dir, const char *pre,
                            const char *kind, const char *dims, char *path,
                            int *found)
{
    static const char *const sep[] = {"-", "."};
    char name[64];
    *found = 0;
    for (int gz = 0; gz < 2; gz++)
        for (int v = 0; v < 2; v++) {
            snprintf(name, sizeof name, "%s-%s%s%s-ubyte%s", pre, kind,
                     sep[v], dims, gz ? ".gz" : "");
            advc_status s = join(path, dir, name, "");
            if (s != ADVC_OK) return s;
            if (exists(path)) {
                *found = 1 + gz;
                return ADVC_OK;
            }
        }
    /* Not found: leave the official name in path for messages. */
    snprintf(name, sizeof name, "%s-%s-%s-ubyte", pre, kind, dims);
    return join(path, dir, name, "");
}

static advc_status load_idx_dir(const char *dir, bool train,
                                advc_dataset *out, bool *found)
{
    const char *pre = train ? "train" : "t10k";
    char img[PATH_CAP], lab[PATH_CAP];
    int fi, fl;
    advc_status s = find_idx(dir, pre, "images", "idx3", img, &fi);
    if (s == ADVC_OK) s = find_idx(dir, pre, "labels", "idx1", lab, &fl);
    if (s != ADVC_OK) return s;
    *found = fi || fl;
    if (!*found) return ADVC_OK;
    if (fi == 2 || fl == 2)
        return advc_set_error(ADVC_ERR_FORMAT,
                              "%s: gzip-compressed; advc reads plain IDX "
                              "files, gunzip it first (make data does)",
                              fi == 2 ? img : lab);
    if (!fi || !fl)
        return advc_set_error(ADVC_ERR_IO, "%s: missing (found %s)",
                              fi ? lab : img, fi ? img : lab);
    return advc_idx_load(img, lab, out);
}

static advc_status load_cifar_dir(const char *dir, bool train,
                                  advc_dataset *out, bool *found)
{
    static const char *const sub[] = {"", "cifar-10-batches-bin/"};
    char paths[CIFAR_TRAIN_BATCHES][PATH_CAP];
    *found = false;
    for (int v = 0; v < 2; v++) {
        /* A folder is CIFAR-10 if it has either split's first file. */
        advc_status s = join(paths[0], dir, sub[v], "test_batch.bin");
        if (s == ADVC_OK) s = join(paths[1], dir, sub[v], "data_batch_1.bin");
        if (s != ADVC_OK) return s;
        if (!exists(paths[0]) && !exists(paths[1])) continue;
        *found = true;
        int np = train ? CIFAR_TRAIN_BATCHES : 1;
        for (int b = 0; b < np; b++) {
            char name[32];
            if (train) snprintf(name, sizeof name, "data_batch_%d.bin", b + 1);
            else snprintf(name, sizeof name, "test_batch.bin");
            if ((s = join(paths[b], dir, sub[v], name)) != ADVC_OK) return s;
            if (!exists(paths[b]))
                return advc_set_error(ADVC_ERR_IO,
                                      "%s: missing (the CIFAR-10 %s split is "
                                      "%s)", paths[b],
                                      train ? "training" : "test",
                                      train ? "data_batch_1..5.bin"
                                            : "test_batch.bin");
        }
        const char *p[CIFAR_TRAIN_BATCHES];
        for (int b = 0; b < np; b++) p[b] = paths[b];
        return advc_cifar10_load(p, np, out);
    }
    return ADVC_OK;
}

advc_status advc_dataset_load_dir(const char *dir, bool train,
                                  advc_dataset *out)
{
    if (!out)
        return advc_set_error(ADVC_ERR_ARG,
                              "advc_dataset_load_dir: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir || !*dir)
        return advc_set_error(ADVC_ERR_ARG, "data directory is empty");
    struct stat st;
    if (stat(dir, &st) != 0)
        return advc_set_error(ADVC_ERR_IO, "%s: cannot open directory: %s",
                              dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return advc_set_error(ADVC_ERR_IO, "%s: not a directory", dir);

    bool found;
    advc_status s = load_idx_dir(dir, train, out, &found);
    if (s != ADVC_OK || found) return s;
    s = load_cifar_dir(dir, train, out, &found);
    if (s != ADVC_OK || found) return s;

    char tgz[PATH_CAP];
    if (join(tgz, dir, "cifar-10-binary.tar.gz", "") == ADVC_OK &&
        exists(tgz))
        return advc_set_error(ADVC_ERR_IO,
                              "%s: no dataset found, only the archive %s: "
                              "extract it first (tar xzf)", dir, tgz);
    const char *pre = train ? "train" : "t10k";
    return advc_set_error(ADVC_ERR_IO,
                          "%s: no dataset found (looked for %s-images-idx3-"
                          "ubyte + %s-labels-idx1-ubyte, or CIFAR-10's %s); "
                          "run 'make data'", dir, pre, pre,
                          train ? "data_batch_1..5.bin" : "test_batch.bin");
}

/* ---- copies ----------------------------------------------------------- */

/* out = an empty set shaped like d with room for n rows. */
static advc_status alloc_like(const advc_dataset *d, int n, advc_dataset *out)
{
    memset(out, 0, sizeof *out);
    out->c = d->c;
    out->h = d->h;
    out->w = d->w;
    out->classes = d->classes;
    if (n == 0) return ADVC_OK;
    size_t row = (size_t)d->c * (size_t)d->h * (size_t)d->w;
    out->x = advc_alloc((size_t)n * row * sizeof(float));
    out->y = advc_alloc((size_t)n * sizeof *out->y);
    if (!out->x || !out->y) {
        advc_dataset_free(out);
        return advc_set_error(ADVC_ERR_NOMEM, "cannot allocate %d images", n);
    }
    out->n = n;
    return ADVC_OK;
}

static advc_status check_pair(const advc_dataset *d, const advc_dataset *out,
                              const char *fn)
{
    if (!d || !out)
        return advc_set_error(ADVC_ERR_ARG, "%s: NULL dataset", fn);
    if (d == out)
        return advc_set_error(ADVC_ERR_ARG, "%s: out must not be the source",
                              fn);
    if (d->n < 0 || d->c < 0 || d->h < 0 || d->w < 0 ||
        (d->n > 0 && (!d->x || !d->y)))
        return advc_set_error(ADVC_ERR_ARG, "%s: source dataset is invalid",
                              fn);
    return ADVC_OK;
}

advc_status advc_dataset_slice(const advc_dataset *d, int lo, int hi,
                               advc_dataset *out)
{
    advc_status s = check_pair(d, out, "advc_dataset_slice");
    if (s != ADVC_OK) return s;
    memset(out, 0, sizeof *out);
    if (lo < 0 || hi < lo || hi > d->n)
        return advc_set_error(ADVC_ERR_ARG,
                              "slice [%d, %d) is outside [0, %d)", lo, hi,
                              d->n);
    if ((s = alloc_like(d, hi - lo, out)) != ADVC_OK) return s;
    if (out->n == 0) return ADVC_OK;
    size_t row = (size_t)d->c * (size_t)d->h * (size_t)d->w;
    memcpy(out->x, d->x + (size_t)lo * row, (size_t)out->n * row * sizeof(float));
    memcpy(out->y, d->y + lo, (size_t)out->n * sizeof *out->y);
    return ADVC_OK;
}

advc_status advc_dataset_subset(const advc_dataset *d, const int *idx, int k,
                                advc_dataset *out)
{
    advc_status s = check_pair(d, out, "advc_dataset_subset");
    if (s != ADVC_OK) return s;
    memset(out, 0, sizeof *out);
    if (k < 0 || (k > 0 && !idx))
        return advc_set_error(ADVC_ERR_ARG, "subset of %d rows: bad index list",
                              k);
    for (int i = 0; i < k; i++)
        if (idx[i] < 0 || idx[i] >= d->n)
            return advc_set_error(ADVC_ERR_ARG,
                                  "subset index %d (entry %d) is outside "
                                  "[0, %d)", idx[i], i, d->n);
    if ((s = alloc_like(d, k, out)) != ADVC_OK) return s;
    size_t row = (size_t)d->c * (size_t)d->h * (size_t)d->w;
    for (int i = 0; i < k; i++) {
        memcpy(out->x + (size_t)i * row, d->x + (size_t)idx[i] * row,
               row * sizeof(float));
        out->y[i] = d->y[idx[i]];
    }
    return ADVC_OK;
}

void advc_dataset_fingerprint(const advc_dataset *d, char *buf,
                              size_t bufsz)
{
    /* Labels as one byte each (every format's labels fit), so the
     * fingerprint is that of the files' label bytes. */
    uint32_t crc = 0;
    uint8_t chunk[4096];
    for (int k = 0; k < d->n;) {
        int m = d->n - k < (int)sizeof chunk ? d->n - k : (int)sizeof chunk;
        for (int i = 0; i < m; i++) chunk[i] = (uint8_t)d->y[k + i];
        crc = advc_crc32(crc, chunk, (size_t)m);
        k += m;
    }
    size_t total = (size_t)d->n * (size_t)d->c * (size_t)d->h * (size_t)d->w;
    for (size_t k = 0; k < total;) {
        size_t m = total - k < sizeof chunk ? total - k : sizeof chunk;
        for (size_t i = 0; i < m; i++) {
            float v = d->x[k + i] * 255.0f + 0.5f;
            chunk[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        crc = advc_crc32(crc, chunk, m);
        k += m;
    }
    snprintf(buf, bufsz, "%d:%08x", d->n, (unsigned)crc);
}
