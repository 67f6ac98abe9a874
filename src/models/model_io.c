/* model_io.c: model files.  Saving turns a compiled graph's tensor table
 * (names, kinds, shapes, ranges of the parameter and state slabs) into an
 * advc_checkpoint with the spec, activation, input shape and class count;
 * loading rebuilds the graph from that spec, checks that every stored
 * tensor matches the rebuilt one by name, kind and shape, and only then
 * compiles it and copies the data in: a round trip is bit-exact.
 * Not here: the byte layout (src/io/checkpoint.c).
 */
#include "model_spec.h"
#include "advc/param.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most input values per image a model file may declare (3x512x512 fits).
 * The file holds only the weights, and a convolutional net's weights do
 * not grow with the image, so a small file could otherwise ask compile
 * for activations of any size. */
#define MODEL_MAX_INPUT (1u << 20)

/* "(16,1,4,4)" */
static void fmt_dims(char *out, size_t outsz, int ndim, const int *dims)
{
    size_t len = 0;
    out[0] = '\0';
    for (int d = 0; d < ndim && len < outsz; d++) {
        int w = snprintf(out + len, outsz - len, "%s%d", d ? "," : "(",
                         dims[d]);
        if (w < 0) return;
        len += (size_t)w;
    }
    if (len < outsz) snprintf(out + len, outsz - len, ndim ? ")" : "()");
}

advc_status advc_model_checkpoint(const char *path, advc_graph *g,
                                  const char *spec, advc_act_spec act,
                                  const char *meta, int extra,
                                  advc_checkpoint *ck)
{
    memset(ck, 0, sizeof *ck);
    if (!path || !g || !spec || extra < 0)
        return advc_set_error(ADVC_ERR_ARG, "advc_model_save: NULL argument");
    size_t np = 0, ns = 0;
    float *params = advc_graph_params(g, &np);
    float *state = advc_graph_state(g, &ns);
    if (!params)
        return advc_set_error(ADVC_ERR_STATE, "model file '%s': the graph "
                              "is not compiled", path);
    if (strlen(spec) >= sizeof ck->spec)
        return advc_set_error(ADVC_ERR_ARG, "model file '%s': spec longer "
                              "than %zu characters", path,
                              sizeof ck->spec - 1);
    if (meta && strlen(meta) >= sizeof ck->meta)
        return advc_set_error(ADVC_ERR_ARG, "model file '%s': metadata "
                              "longer than %zu characters", path,
                              sizeof ck->meta - 1);
    strcpy(ck->spec, spec);
    if (meta) strcpy(ck->meta, meta);
    advc_act_spec_format(act, ck->act, sizeof ck->act);
    advc_shape in = advc_graph_input_shape(g);
    ck->c = in.c;
    ck->h = in.h;
    ck->w = in.w;
    ck->classes = advc_graph_classes(g);

    int nt = advc_graph_num_tensors(g);
    ck->tensors = nt + extra > 0 ? calloc((size_t)(nt + extra),
                                          sizeof *ck->tensors) : NULL;
    if (nt + extra > 0 && !ck->tensors)
        return advc_set_error(ADVC_ERR_NOMEM, "model file '%s': no memory",
                              path);
    for (int i = 0; i < nt; i++) {
        const advc_tensor_info *ti = advc_graph_tensor(g, i);
        advc_ckpt_tensor *t = &ck->tensors[i];
        bool is_state = ti->kind == ADVC_TENSOR_STATE;
        float *slab = is_state ? state : params;
        size_t slab_n = is_state ? ns : np;
        if (!slab || ti->offset + ti->count > slab_n) {
            free(ck->tensors);
            ck->tensors = NULL;
            return advc_set_error(ADVC_ERR_STATE, "model file '%s': tensor "
                                  "'%s' lies outside its slab", path,
                                  ti->name);
        }
        snprintf(t->name, sizeof t->name, "%s", ti->name);
        t->kind = (int)ti->kind;
        t->ndim = ti->ndim;
        for (int d = 0; d < 4; d++) t->dims[d] = d < ti->ndim ? ti->dims[d]
                                                              : 0;
        t->count = ti->count;
        t->data = slab + ti->offset;
    }
    ck->ntensors = nt;
    return ADVC_OK;
}

advc_status advc_model_save(const char *path, advc_graph *g,
                            const char *spec, advc_act_spec act,
                            const char *meta)
{
    advc_checkpoint ck;
    advc_status st = advc_model_checkpoint(path, g, spec, act, meta, 0, &ck);
    if (st == ADVC_OK) st = advc_checkpoint_write(path, &ck);
    free(ck.tensors); /* the data belongs to the graph */
    return st;
}

static bool same_shape(const advc_ckpt_tensor *t, const advc_tensor_info *ti)
{
    if (t->ndim != ti->ndim) return false;
    for (int d = 0; d < ti->ndim; d++)
        if (t->dims[d] != ti->dims[d]) return false;
    return t->count == ti->count;
}

static const char *kind_name(int k)
{
    switch (k) {
    case ADVC_TENSOR_WEIGHT: return "weight";
    case ADVC_TENSOR_BIAS: return "bias";
    case ADVC_TENSOR_STATE: return "state";
    default: return "unknown";
    }
}

/* Checks ck's tensors (named "<prefix><name>" in g) against g's, before
 * the graph is compiled: every tensor of g under the prefix once, with its
 * kind and shape.  Compiling allocates what the spec asks for, so a file
 * whose tensors do not cover the spec must be refused first: otherwise a
 * few hundred bytes naming a huge model would make us allocate gigabytes. */
static advc_status check_tensors(const char *path, const advc_checkpoint *ck,
                                 const advc_graph *g, const char *prefix)
{
    size_t plen = strlen(prefix);
    int nt = advc_graph_num_tensors(g);
    bool *seen = calloc((size_t)(nt > 0 ? nt : 1), sizeof *seen);
    if (!seen)
        return advc_set_error(ADVC_ERR_NOMEM, "model file '%s': no memory",
                              path);
    advc_status st = ADVC_OK;
    for (int i = 0; i < ck->ntensors && st == ADVC_OK; i++) {
        const advc_ckpt_tensor *t = &ck->tensors[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        int j = advc_graph_find_tensor(g, name);
        if (j < 0) {
            st = advc_set_error(ADVC_ERR_FORMAT, "model file '%s': tensor "
                                "'%s' is not in the model of spec '%s'",
                                path, t->name, ck->spec);
            break;
        }
        const advc_tensor_info *ti = advc_graph_tensor(g, j);
        if (seen[j]) {
            st = advc_set_error(ADVC_ERR_FORMAT, "model file '%s': tensor "
                                "'%s' appears twice", path, t->name);
            break;
        }
        seen[j] = true;
        if (t->kind != (int)ti->kind) {
            st = advc_set_error(ADVC_ERR_FORMAT, "model file '%s': tensor "
                                "'%s' is a %s tensor, the spec '%s' expects "
                                "a %s one", path, t->name,
                                kind_name(t->kind), ck->spec,
                                kind_name((int)ti->kind));
            break;
        }
        if (!same_shape(t, ti)) {
            char a[64], b[64];
            fmt_dims(a, sizeof a, t->ndim, t->dims);
            fmt_dims(b, sizeof b, ti->ndim, ti->dims);
            st = advc_set_error(ADVC_ERR_FORMAT, "model file '%s': tensor "
                                "'%s' has shape %s, the spec '%s' expects %s",
                                path, t->name, a, ck->spec, b);
            break;
        }
    }
    for (int j = 0; j < nt && st == ADVC_OK; j++) {
        if (!seen[j] && !strncmp(advc_graph_tensor(g, j)->name, prefix, plen))
            st = advc_set_error(ADVC_ERR_FORMAT, "model file '%s': tensor "
                                "'%s' of spec '%s' is missing", path,
                                advc_graph_tensor(g, j)->name, ck->spec);
    }
    free(seen);
    return st;
}

/* Copies ck's tensors (already checked) into the compiled graph's slabs. */
static advc_status copy_tensors(const char *path, const advc_checkpoint *ck,
                                advc_graph *g, const char *prefix)
{
    size_t np = 0, ns = 0;
    float *params = advc_graph_params(g, &np);
    float *state = advc_graph_state(g, &ns);
    for (int i = 0; i < ck->ntensors; i++) {
        const advc_ckpt_tensor *t = &ck->tensors[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const advc_tensor_info *ti =
            advc_graph_tensor(g, advc_graph_find_tensor(g, name));
        bool is_state = ti->kind == ADVC_TENSOR_STATE;
        float *slab = is_state ? state : params;
        size_t slab_n = is_state ? ns : np;
        if (ti->count == 0) continue;
        if (!slab || ti->offset + ti->count > slab_n)
            return advc_set_error(ADVC_ERR_STATE, "model file '%s': tensor "
                                  "'%s' lies outside its slab", path,
                                  t->name);
        memcpy(slab + ti->offset, t->data, ti->count * sizeof(float));
    }
    return ADVC_OK;
}

advc_status advc_model_load_tensors(const char *path,
                                    const advc_checkpoint *ck, advc_graph *g)
{
    advc_status st = check_tensors(path, ck, g, "");
    return st == ADVC_OK ? copy_tensors(path, ck, g, "") : st;
}

/* Prefixes the last error with the file name (the message is copied
 * first: advc_last_error's buffer is the one being written). */
static advc_status refuse(const char *path)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", advc_last_error());
    return advc_set_error(ADVC_ERR_FORMAT, "model file '%s': %s", path, msg);
}

advc_status advc_model_load(const char *path, int batch, advc_pool *pool,
                            advc_graph **out, advc_checkpoint *ck_out)
{
    if (!path || !out)
        return advc_set_error(ADVC_ERR_ARG, "advc_model_load: NULL argument");
    *out = NULL;
    if (batch < 1)
        return advc_set_error(ADVC_ERR_ARG, "model file '%s': batch must be "
                              ">= 1 (got %d)", path, batch);
    advc_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    advc_status st = advc_checkpoint_read(path, &ck);
    if (st != ADVC_OK) return st;

    advc_graph *g = NULL;
    advc_act_spec act;
    /* The header strings come from a file: make sure they end. */
    ck.spec[sizeof ck.spec - 1] = '\0';
    ck.act[sizeof ck.act - 1] = '\0';
    ck.meta[sizeof ck.meta - 1] = '\0';
    st = advc_act_spec_parse(ck.act, &act);
    if (st != ADVC_OK) {
        st = refuse(path);
        goto done;
    }
    advc_shape in = {ck.c, ck.h, ck.w};
    if (advc_shape_size(in) > MODEL_MAX_INPUT) {
        st = advc_set_error(ADVC_ERR_FORMAT, "model file '%s': input shape "
                            "(%d, %d, %d) has %zu values per image, more "
                            "than advc loads (%u)", path, in.c, in.h, in.w,
                            advc_shape_size(in), MODEL_MAX_INPUT);
        goto done;
    }
    st = advc_model_build(ck.spec, in, ck.classes, act, &g);
    if (st != ADVC_OK) {
        st = refuse(path);
        goto done;
    }
    if ((st = check_tensors(path, &ck, g, "")) != ADVC_OK) goto done;
    st = advc_graph_compile(g, batch, pool);
    if (st != ADVC_OK) goto done;
    /* Everything is overwritten below; init first so the slabs never hold
     * undefined bytes, whatever the graph keeps outside its tensors. */
    advc_graph_init_params(g, 0);
    st = copy_tensors(path, &ck, g, "");

done:
    if (st == ADVC_OK) {
        *out = g;
        if (ck_out) { /* header only: the tensors are freed below */
            *ck_out = ck;
            ck_out->ntensors = 0;
            ck_out->tensors = NULL;
        }
    } else if (g) {
        advc_graph_free(g);
    }
    advc_checkpoint_free(&ck);
    return st;
}

/* ---- ensembles ------------------------------------------------------------ */

#define ENSEMBLE_MAX 32

typedef struct {
    char paths[ENSEMBLE_MAX][512];
    int n;
} path_list;

static advc_status add_path(const char *text, size_t len, void *ctx)
{
    path_list *l = ctx;
    if (l->n == ENSEMBLE_MAX)
        return advc_set_error(ADVC_ERR_ARG, "an ensemble of more than %d "
                              "models", ENSEMBLE_MAX);
    if (len >= sizeof l->paths[0])
        return advc_set_error(ADVC_ERR_ARG, "a model path is too long");
    memcpy(l->paths[l->n], text, len);
    l->paths[l->n][len] = '\0';
    l->n++;
    return ADVC_OK;
}

/* Member k's checkpoint into ck and its model into g (prefix "m<k>."):
 * the same input and classes as the first member, one exit. */
static advc_status add_member(advc_graph *g, const char *path, int k,
                              advc_checkpoint *ck, const advc_checkpoint *ck0)
{
    advc_status st = advc_checkpoint_read(path, ck);
    if (st != ADVC_OK) return st;
    ck->spec[sizeof ck->spec - 1] = '\0';
    ck->act[sizeof ck->act - 1] = '\0';
    advc_shape in = advc_graph_input_shape(g);
    if (ck->c != in.c || ck->h != in.h || ck->w != in.w ||
        (ck0 && ck->classes != ck0->classes))
        return advc_set_error(ADVC_ERR_FORMAT, "model file '%s': its input "
                              "or classes differ from the ensemble's first "
                              "model", path);
    advc_act_spec act;
    char prefix[16];
    snprintf(prefix, sizeof prefix, "m%d.", k);
    advc_graph_set_name_prefix(g, prefix);
    int before = advc_graph_num_exits(g);
    if (advc_act_spec_parse(ck->act, &act) != ADVC_OK ||
        advc_model_build_into(g, ck->spec, ck->classes, act) != ADVC_OK)
        return refuse(path);
    if (advc_graph_num_exits(g) != before + 1)
        return advc_set_error(ADVC_ERR_ARG, "model file '%s': an ensemble "
                              "takes single-exit models (%s has %d exits)",
                              path, ck->spec,
                              advc_graph_num_exits(g) - before);
    return ADVC_OK;
}

advc_status advc_ensemble_load(const char *paths, int batch,
                               advc_pool *pool, advc_graph **out,
                               advc_checkpoint *ck_out)
{
    *out = NULL;
    path_list *l = calloc(1, sizeof *l);
    advc_checkpoint *cks = calloc(ENSEMBLE_MAX, sizeof *cks);
    advc_graph *g = NULL;
    advc_status st = l && cks ? advc_parse_list(paths, add_path, l)
                              : advc_set_error(ADVC_ERR_NOMEM, "no memory");
    if (st == ADVC_OK) {
        st = advc_checkpoint_read(l->paths[0], &cks[0]);
        advc_shape in = { cks[0].c, cks[0].h, cks[0].w };
        advc_checkpoint_free(&cks[0]);
        if (st == ADVC_OK && !(g = advc_graph_new(in))) st = ADVC_ERR_NOMEM;
    }
    for (int k = 0; st == ADVC_OK && k < l->n; k++)
        st = add_member(g, l->paths[k], k, &cks[k], k ? &cks[0] : NULL);
    if (st == ADVC_OK) {
        advc_graph_set_name_prefix(g, "");
        if (advc_graph_mean_of_exits(g) < 0) st = ADVC_ERR_ARG;
    }
    for (int k = 0; st == ADVC_OK && k < l->n; k++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "m%d.", k);
        st = check_tensors(l->paths[k], &cks[k], g, prefix);
    }
    if (st == ADVC_OK) st = advc_graph_compile(g, batch, pool);
    if (st == ADVC_OK) advc_graph_init_params(g, 0);
    for (int k = 0; st == ADVC_OK && k < l->n; k++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "m%d.", k);
        st = copy_tensors(l->paths[k], &cks[k], g, prefix);
    }
    if (st == ADVC_OK && ck_out) {
        *ck_out = cks[0];
        ck_out->ntensors = 0;
        ck_out->tensors = NULL;
        snprintf(ck_out->spec, sizeof ck_out->spec, "ensemble of %d: %.200s%s",
                 l->n, cks[0].spec, l->n > 1 ? ", ..." : "");
    }
    for (int k = 0; l && cks && k < l->n; k++) advc_checkpoint_free(&cks[k]);
    if (st == ADVC_OK) *out = g;
    else advc_graph_free(g);
    free(l), free(cks);
    return st;
}
