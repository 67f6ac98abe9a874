/* cmd_export.c: `advc export`: an advc model file becomes a PyTorch
 * state_dict archive, the bytes numpy.savez writes (advc_model_export_npz;
 * names and layouts: src/models/torch_names.c). */
#include <getopt.h>
#include <stdio.h>
#include "advc/advc.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc export --model FILE --npz FILE\n"
    "\n"
    "Writes an advc model's parameters and batch-norm statistics as a\n"
    "PyTorch state_dict in an uncompressed .npz (what numpy.savez writes).\n"
    "In Python: sd = {k: torch.from_numpy(v) for k, v in\n"
    "numpy.load(FILE).items()}; model.load_state_dict(sd), with the model\n"
    "from bench/compare/torch_models.py (build(spec, act, input, classes)).\n"
    "\n"
    "  --model FILE      an advc model file (advc train, advc import)\n"
    "  --npz FILE        the archive to write\n"
    "  -h, --help        this text\n"
    "\n"
    "The other way: advc import.\n";

int cmd_export(int argc, char **argv)
{
    const char *cmd = "export", *model = NULL, *npz = NULL;
    static const struct option longopts[] = {
        { "model", required_argument, NULL, 'm' },
        { "npz", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'n': npz = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return cli_bad_option(cmd, c, argv);
        }
    }
    if (optind < argc) return cli_extra_arg(cmd, argv);
    if (!model) return cli_usage_error(cmd, "--model FILE is required");
    if (!npz) return cli_usage_error(cmd, "--npz FILE is required");
    advc_checkpoint ck;
    if (advc_model_export_npz(model, npz, &ck) != ADVC_OK)
        return cli_fail(cmd);
    printf("wrote %s: model '%s', act %s, input %dx%dx%d, %d classes\n", npz,
           ck.spec, ck.act, ck.c, ck.h, ck.w, ck.classes);
    return 0;
}
