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
/* Multi-line help text: models, keys, defaults. */
const char *advc_model_usage(void);

/* "relu", "psoftplus:10", "silu", ... <-> advc_act_spec. */
advc_status advc_act_spec_parse(const char *s, advc_act_spec *out);
void advc_act_spec_format(advc_act_spec a, char *out, size_t outsz);

/* Saves g (compiled) with its spec, activation and metadata lines. */
advc_status advc_model_save(const char *path, advc_graph *g,
                            const char *spec, advc_act_spec act,
                            const char *meta);
/* Rebuilds the model a checkpoint describes, compiles it for `batch` on
 * `pool`, and loads its tensors (checking names and shapes).  If ck_out is
 * not NULL the checkpoint's header (spec, act, meta; no tensors) is copied
 * there. */
advc_status advc_model_load(const char *path, int batch, advc_pool *pool,
                            advc_graph **out, advc_checkpoint *ck_out);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_MODELS_H */
