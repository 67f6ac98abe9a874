/* advc/models.h: model builders from spec strings, and model files.
 *
 * A spec is "name[:key=value,...]", e.g. "cnn-small", "mlp:hidden=512-256",
 * "resnet:depth=20,width=16,preact=1", "msdnet:blocks=5,scales=3".  The
 * activation is separate (--act).  advc_model_usage() lists every model
 * and key with its default.
 */
#ifndef ADVC_MODELS_H
#define ADVC_MODELS_H

#include "advc/nn.h"
#include "advc/checkpoint.h"
#include "advc/npy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds (does not compile) the graph for spec on inputs of shape `input`
 * with `classes` outputs per exit.  Error: ADVC_ERR_ARG with a message
 * naming the spec and the bad key or value. */
advc_status advc_model_build(const char *spec, advc_shape input, int classes,
                             advc_act_spec act, advc_graph **out);
/* The model's default initialisation (advc_init): uniform (PyTorch's
 * layer default, as the fast-AT and TRADES reference scripts use) for
 * linear, mlp, maxout, cnn-small and cnn; he for resnet and msdnet (as
 * their references).  he for an unknown name. */
advc_init advc_model_default_init(const char *spec);
/* The default for spec with activation act: the model's, except softplus,
 * which does not train from the small uniform init and starts from He. */
advc_init advc_model_default_init_for(const char *spec, advc_act_spec act);
/* Builds the model of spec into an existing graph (its input shape is the
 * model's), marking its exits; names get the graph's prefix
 * (advc_graph_set_name_prefix).  advc_model_build is new graph + this. */
advc_status advc_model_build_into(advc_graph *g, const char *spec,
                                  int classes, advc_act_spec act);
/* Multi-line help text: models, keys, defaults. */
const char *advc_model_usage(void);

/* "relu", "psoftplus:10", "silu", ... <-> advc_act_spec. */
advc_status advc_act_spec_parse(const char *s, advc_act_spec *out);
void advc_act_spec_format(advc_act_spec a, char *out, size_t outsz);

/* Saves g (compiled) with its spec, activation and metadata lines. */
advc_status advc_model_save(const char *path, advc_graph *g,
                            const char *spec, advc_act_spec act,
                            const char *meta);
/* What advc_model_save writes, without writing it: the header (spec,
 * activation, shape, classes, meta) and one tensor per graph tensor,
 * whose data point into g's slabs, in a tensor array with room for
 * `extra` more (ck->ntensors counts the graph's; a caller adds its own
 * after them, e.g. a resumable run's optimizer state).  Free only
 * ck->tensors (free()).  path names the file in messages. */
advc_status advc_model_checkpoint(const char *path, advc_graph *g,
                                  const char *spec, advc_act_spec act,
                                  const char *meta, int extra,
                                  advc_checkpoint *ck);
/* Copies ck's tensors into g (compiled), checking that every tensor of
 * ck is one of g's with the same kind and shape and that none of g's is
 * missing; the error names path.  advc_model_load uses it. */
advc_status advc_model_load_tensors(const char *path,
                                    const advc_checkpoint *ck,
                                    advc_graph *g);
/* Rebuilds the model a checkpoint describes, compiles it for `batch` on
 * `pool`, and loads its tensors (checking names and shapes).  If ck_out is
 * not NULL the checkpoint's header (spec, act, meta; no tensors) is copied
 * there. */
advc_status advc_model_load(const char *path, int batch, advc_pool *pool,
                            advc_graph **out, advc_checkpoint *ck_out);
/* An ensemble (Goodfellow et al.'s 12 maxout networks): the checkpoints in
 * the comma list `paths` built into one graph whose one exit is the mean
 * of the members' logits, so every attack and evaluation works on it as
 * on one model.  Members: single-exit models with the same input shape and
 * classes; member k's tensors are named "m<k>.<name>".  ck_out (may be
 * NULL) gets the first member's header with spec "ensemble of N: ...". */
advc_status advc_ensemble_load(const char *paths, int batch,
                               advc_pool *pool, advc_graph **out,
                               advc_checkpoint *ck_out);

/* ---- PyTorch state_dicts (torch_names.c, model_torch.c) -----------------
 * One entry of a model's state_dict as PyTorch names and lays it out; the
 * table of names per model is documented in src/models/torch_names.c. */
typedef struct {
    char name[96];          /* the key, e.g. "stage1.block0.bn1.weight"   */
    int tensor;             /* advc_graph_tensor index, or -1 for a batch
                               norm's num_batches_tracked counter          */
    advc_npy_dtype dtype;   /* ADVC_NPY_F32; ADVC_NPY_I64 for the counter */
    int ndim, dims[4];      /* ndim 0 for the counter                     */
} advc_torch_entry;

/* g's state_dict in order: each tensor, and after each batch norm's
 * running_var its counter.  *out is malloc'd (n entries). */
advc_status advc_torch_entries(const advc_graph *g, advc_torch_entry **out,
                               int *n);
/* The metadata key under which import keeps the counters' values. */
const char *advc_torch_meta_key(void);

/* Reads a state_dict saved with numpy.savez (npz_path), checks it against
 * the model `spec` built for input `in`, `classes` and `act` (every key
 * present with its dtype and shape, nothing else), and writes the advc
 * model file out_path.  Errors name the file and the tensor. */
advc_status advc_model_import_npz(const char *npz_path, const char *spec,
                                  advc_shape in, int classes,
                                  advc_act_spec act, const char *out_path);
/* Writes the model file's tensors as a state_dict archive, the bytes
 * numpy.savez writes for the same arrays.  If ck_out is not NULL the
 * model file's header (spec, act, shape, meta; no tensors) is copied
 * there. */
advc_status advc_model_export_npz(const char *model_path,
                                  const char *npz_path,
                                  advc_checkpoint *ck_out);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_MODELS_H */
