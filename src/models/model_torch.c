/* model_torch.c: models to and from PyTorch state_dicts saved with
 * numpy.savez.  Import builds the model from its spec, takes every tensor
 * the name table (torch_names.c) lists from the archive, after checking
 * its dtype and shape, refuses anything missing or extra, and saves an
 * advc model file; export loads a model file and writes the same table as
 * an archive.  Import then export gives back the archive bit for bit
 * (tensor bytes, and file bytes for archives numpy 1.24 or advc wrote).
 * Not here: the names (torch_names.c), the .npz format (src/io/npz.c).
 */
#include "model_spec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* As Python prints a shape: "(16, 1, 4, 4)", "(10,)", "()". */
static void fmt_shape(char *out, size_t outsz, int ndim, const size_t *dims)
{
    size_t len = (size_t)snprintf(out, outsz, "(");
    for (int d = 0; d < ndim && len < outsz; d++)
        len += (size_t)snprintf(out + len, outsz - len, "%s%zu",
                                d ? ", " : "", dims[d]);
    if (len < outsz) snprintf(out + len, outsz - len, ndim == 1 ? ",)" : ")");
}

static void entry_dims(const advc_torch_entry *e, size_t *dims)
{
    for (int d = 0; d < e->ndim; d++) dims[d] = (size_t)e->dims[d];
}

/* The parameter or state slab that holds tensor ti, at its offset. */
static float *tensor_data(advc_graph *g, const advc_tensor_info *ti)
{
    size_t n;
    float *slab = ti->kind == ADVC_TENSOR_STATE ? advc_graph_state(g, &n)
                                                : advc_graph_params(g, &n);
    return slab && ti->offset + ti->count <= n ? slab + ti->offset : NULL;
}

/* ---- import ------------------------------------------------------------- */

typedef struct {
    const char *path, *spec;
    const advc_npz *z;
    bool *used;            /* (z->n) taken by an entry */
    int64_t *counters;     /* one per batch norm       */
    int ncounters;
} importer;

/* A missing key; names an archive key that ends in it (a "module." prefix
 * from DataParallel, say), if there is one. */
static advc_status missing(const importer *im, const advc_torch_entry *e)
{
    size_t dims[4], n = strlen(e->name);
    char shape[96], hint[192] = "";
    entry_dims(e, dims);
    fmt_shape(shape, sizeof shape, e->ndim, dims);
    for (int i = 0; i < im->z->n; i++) {
        const char *k = im->z->e[i].name;
        size_t kl = strlen(k);
        if (kl > n && k[kl - n - 1] == '.' && !strcmp(k + kl - n, e->name)) {
            snprintf(hint, sizeof hint, "; the archive has '%.96s': drop the "
                     "prefix before numpy.savez", k);
            break;
        }
    }
    return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' is missing "
                          "(model '%s' needs %s %s%s)", im->path, e->name,
                          im->spec, advc_npy_descr(e->dtype), shape, hint);
}

/* Finds e's array, checks its dtype and shape, marks it used. */
static advc_status take(importer *im, const advc_torch_entry *e,
                        const advc_npy_array **a)
{
    int k = -1;
    for (int i = 0; i < im->z->n && k < 0; i++)
        if (!strcmp(im->z->e[i].name, e->name)) k = i;
    if (k < 0) return missing(im, e);
    im->used[k] = true;
    *a = &im->z->e[k].a;
    bool counter = e->tensor < 0;
    if (counter ? !advc_npy_is_int((*a)->dtype) : (*a)->dtype != e->dtype)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' has dtype "
                              "'%s', model '%s' needs %s", im->path, e->name,
                              advc_npy_descr((*a)->dtype), im->spec,
                              counter ? "an integer" : "'<f4' (float32)");
    size_t dims[4];
    entry_dims(e, dims);
    bool same = (*a)->ndim == e->ndim;
    for (int d = 0; same && d < e->ndim; d++) same = (*a)->shape[d] == dims[d];
    if (!same) {
        char have[200], want[96];
        fmt_shape(have, sizeof have, (*a)->ndim, (*a)->shape);
        fmt_shape(want, sizeof want, e->ndim, dims);
        return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' has shape "
                              "%s, model '%s' needs %s", im->path, e->name,
                              have, im->spec, want);
    }
    return ADVC_OK;
}

/* Copies e's array into g (a float tensor) or keeps it (a counter). */
static advc_status put(importer *im, advc_graph *g,
                       const advc_torch_entry *e, const advc_npy_array *a)
{
    if (e->tensor < 0) {
        int64_t v;
        if (!advc_npy_get_int(a, 0, &v) || v < 0)
            return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' must be "
                                  "a count >= 0", im->path, e->name);
        im->counters[im->ncounters++] = v;
        return ADVC_OK;
    }
    float *dst = tensor_data(g, advc_graph_tensor(g, e->tensor));
    if (!dst)
        return advc_set_error(ADVC_ERR_STATE, "%s: tensor '%s' lies outside "
                              "its slab", im->path, e->name);
    advc_npy_get_f32(a, dst);
    return ADVC_OK;
}

/* "N" when every counter is N, else "N1,N2,..." into meta. */
static advc_status keep_counters(const importer *im, char *meta,
                                 size_t metasz)
{
    if (im->ncounters == 0) return ADVC_OK;
    bool same = true;
    for (int i = 1; i < im->ncounters; i++)
        same = same && im->counters[i] == im->counters[0];
    char v[1536];
    size_t len = 0;
    for (int i = 0; i < (same ? 1 : im->ncounters); i++) {
        int w = snprintf(v + len, sizeof v - len, "%s%" PRId64, i ? "," : "",
                         im->counters[i]);
        if (w < 0 || (size_t)w >= sizeof v - len)
            return advc_set_error(ADVC_ERR_FORMAT, "%s: the %d batch norms' "
                                  "num_batches_tracked values differ and are "
                                  "too many to keep", im->path,
                                  im->ncounters);
        len += (size_t)w;
    }
    if (advc_meta_set(meta, metasz, advc_torch_meta_key(), v) != ADVC_OK)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: no room in the model "
                              "file's metadata for %d num_batches_tracked "
                              "values", im->path, im->ncounters);
    return ADVC_OK;
}

/* Fills g from the archive by the table; then refuses extra arrays. */
static advc_status import_all(importer *im, advc_graph *g, char *meta,
                              size_t metasz)
{
    advc_torch_entry *t;
    int nt;
    advc_status st = advc_torch_entries(g, &t, &nt);
    if (st != ADVC_OK) return st;
    im->counters = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *im->counters);
    if (!im->counters) st = advc_set_error(ADVC_ERR_NOMEM, "no memory");
    for (int i = 0; i < nt && st == ADVC_OK; i++) {
        const advc_npy_array *a = NULL;
        st = take(im, &t[i], &a);
        if (st == ADVC_OK) st = put(im, g, &t[i], a);
    }
    for (int i = 0; i < im->z->n && st == ADVC_OK; i++)
        if (!im->used[i])
            st = advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' is not "
                                "part of model '%s'", im->path,
                                im->z->e[i].name, im->spec);
    if (st == ADVC_OK) st = keep_counters(im, meta, metasz);
    free(im->counters);
    free(t);
    return st;
}

advc_status advc_model_import_npz(const char *npz_path, const char *spec,
                                  advc_shape in, int classes,
                                  advc_act_spec act, const char *out_path)
{
    if (!npz_path || !spec || !out_path)
        return advc_set_error(ADVC_ERR_ARG, "import: NULL argument");
    advc_graph *g = NULL;
    advc_status st = advc_model_build(spec, in, classes, act, &g);
    if (st != ADVC_OK) return st;
    st = advc_graph_compile(g, 1, NULL);
    if (st != ADVC_OK) {
        advc_graph_free(g);
        return st;
    }
    advc_graph_init_params(g, 0); /* every byte is overwritten below */
    advc_npz z;
    st = advc_npz_read(npz_path, &z);
    importer im = { npz_path, spec, &z, NULL, NULL, 0 };
    if (st == ADVC_OK) {
        im.used = calloc((size_t)(z.n > 0 ? z.n : 1), sizeof *im.used);
        if (!im.used) st = advc_set_error(ADVC_ERR_NOMEM, "no memory");
    }
    char meta[2048] = "";
    if (st == ADVC_OK) st = import_all(&im, g, meta, sizeof meta);
    if (st == ADVC_OK) {
        const char *base = strrchr(npz_path, '/');
        char src[256];
        snprintf(src, sizeof src, "%s", base ? base + 1 : npz_path);
        if (!strchr(src, '\n')) /* provenance only: no room is no harm */
            advc_meta_set(meta, sizeof meta, "imported_from", src);
        st = advc_model_save(out_path, g, spec, act, meta);
    }
    free(im.used);
    advc_npz_free(&z);
    advc_graph_free(g);
    return st;
}

/* ---- export ------------------------------------------------------------- */

/* The counters import kept (ncounters of them, one per batch norm), or
 * zeros. */
static advc_status read_counters(const char *path, const char *meta,
                                 int64_t *v, int n)
{
    char s[1536];
    for (int i = 0; i < n; i++) v[i] = 0;
    if (!advc_meta_get(meta, advc_torch_meta_key(), s, sizeof s))
        return ADVC_OK;
    int k = 0;
    for (char *p = s, *end; *p; p = end + (*end == ',')) {
        long long x = strtoll(p, &end, 10);
        if (end == p || x < 0 || (*end && *end != ',') || k == n) {
            k = -1;
            break;
        }
        v[k++] = x;
    }
    if (k == 1)
        for (int i = 1; i < n; i++) v[i] = v[0];
    else if (k != n)
        return advc_set_error(ADVC_ERR_FORMAT, "model file '%s': metadata "
                              "%s is not 1 or %d counts", path,
                              advc_torch_meta_key(), n);
    return ADVC_OK;
}

/* The archive items for table t of g; shapes and counters in the caller's
 * arrays. */
static void make_items(advc_graph *g, const advc_torch_entry *t, int nt,
                       size_t (*shapes)[4], const int64_t *counters,
                       advc_npz_item *items)
{
    int c = 0;
    for (int i = 0; i < nt; i++) {
        entry_dims(&t[i], shapes[i]);
        items[i] = (advc_npz_item){ t[i].name, t[i].dtype, t[i].ndim,
                                    shapes[i], NULL };
        if (t[i].tensor < 0)
            items[i].data = &counters[c++];
        else
            items[i].data = tensor_data(g, advc_graph_tensor(g, t[i].tensor));
    }
}

advc_status advc_model_export_npz(const char *model_path,
                                  const char *npz_path,
                                  advc_checkpoint *ck_out)
{
    if (!model_path || !npz_path)
        return advc_set_error(ADVC_ERR_ARG, "export: NULL argument");
    advc_graph *g;
    advc_checkpoint ck;
    advc_status st = advc_model_load(model_path, 1, NULL, &g, &ck);
    if (st != ADVC_OK) return st;
    advc_torch_entry *t = NULL;
    int nt = 0, nc = 0;
    st = advc_torch_entries(g, &t, &nt);
    for (int i = 0; i < nt; i++) nc += t[i].tensor < 0;
    size_t (*shapes)[4] = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *shapes);
    int64_t *counters = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *counters);
    advc_npz_item *items = malloc((size_t)(nt > 0 ? nt : 1) * sizeof *items);
    if (st == ADVC_OK && (!shapes || !counters || !items))
        st = advc_set_error(ADVC_ERR_NOMEM, "export: no memory");
    if (st == ADVC_OK) st = read_counters(model_path, ck.meta, counters, nc);
    if (st == ADVC_OK) {
        make_items(g, t, nt, shapes, counters, items);
        st = advc_npz_write(npz_path, items, nt);
    }
    free(items);
    free(counters);
    free(shapes);
    free(t);
    advc_graph_free(g);
    if (ck_out) *ck_out = ck;
    return st;
}
