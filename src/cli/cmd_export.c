/* cmd_export.c: `advc export`: an advc model file becomes a PyTorch
 * state_dict archive, the bytes numpy.savez writes (advc_model_export_npz;
 * names and layouts: src/models/torch_names.c). */
#include <stdio.h>
#include <string.h>
#include "advc/advc.h"
#include "cli.h"
#include "cli_util.h"

typedef struct {
    const char *model, *npz;
} export_opts;

static const advc_param export_rows[] = {
    CLI_ROW("model", "FILE", ADVC_PARAM_TEXT, export_opts, model, 0, 0, NULL,
            "an advc model file (advc train, advc import)"),
    CLI_ROW("npz", "FILE", ADVC_PARAM_TEXT, export_opts, npz, 0, 0, NULL,
            "the archive to write"),
};

static void describe(cli_parsed *p, void *vo)
{
    cli_add_group(p, "Options", export_rows, CLI_NROWS(export_rows), vo);
}

const cli_spec cmd_export_spec = {
    "export", "--model FILE --npz FILE",
    "Writes an advc model's parameters and batch-norm statistics as a "
    "PyTorch state_dict in an uncompressed .npz (what numpy.savez writes). "
    "In Python: sd = {k: torch.from_numpy(v) for k, v in "
    "numpy.load(FILE).items()}; model.load_state_dict(sd), with the model "
    "from bench/compare/torch_models.py (build(spec, act, input, classes)).",
    0, NULL, NULL, "The other way: advc import."
};

int cmd_export(int argc, char **argv)
{
    export_opts o;
    memset(&o, 0, sizeof o);
    cli_parsed p;
    int rc = cli_begin(&cmd_export_spec, describe, &o, &p, argc, argv);
    if (rc >= 0) return rc;
    if (!o.model) return cli_usage_error("export", "--model FILE is required");
    if (!o.npz) return cli_usage_error("export", "--npz FILE is required");
    advc_checkpoint ck;
    if (advc_model_export_npz(o.model, o.npz, &ck) != ADVC_OK)
        return cli_fail("export");
    printf("wrote %s: model '%s', act %s, input %dx%dx%d, %d classes\n",
           o.npz, ck.spec, ck.act, ck.c, ck.h, ck.w, ck.classes);
    return 0;
}

void cmd_export_describe(cli_parsed *p, void *opts) { describe(p, opts); }
size_t cmd_export_opts_size(void) { return sizeof(export_opts); }
