/* cmd_import.c: `advc import`: a PyTorch state_dict saved with numpy.savez
 * becomes an advc model file (advc_model_import_npz), or with --list the
 * state_dict a model spec needs is printed (the name table of
 * src/models/torch_names.c, for that exact spec). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc import --npz FILE --model SPEC --out FILE [options]\n"
    "       advc import --model SPEC --list [options]\n"
    "\n"
    "Reads a PyTorch state_dict saved with numpy.savez (uncompressed) and\n"
    "writes an advc model file.  Every key the model needs must be there\n"
    "with its dtype and shape, and nothing else; --list shows them.\n"
    "\n"
    "  --npz FILE        the archive: numpy.savez(FILE, **{k: v.numpy()\n"
    "                    for k, v in model.state_dict().items()})\n"
    "  --model SPEC      the architecture, name[:key=value,...] as in\n"
    "                    advc train\n"
    "  --act A           activation (default relu)\n"
    "  --input CxHxW     input shape (default 1x28x28; CIFAR-10: 3x32x32)\n"
    "  --classes K       classes (default 10)\n"
    "  --out FILE        the advc model file to write\n"
    "  --list            print the state_dict keys, dtypes and shapes SPEC\n"
    "                    needs, with the advc tensor each fills, and exit\n"
    "  -h, --help        this text\n"
    "\n"
    "The other way: advc export.  The PyTorch modules that match these\n"
    "names are in bench/compare/torch_models.py.\n"
    "\n";

/* "CxHxW", each from 1 to 65536. */
static bool parse_input(const char *s, advc_shape *in)
{
    int v[3], n = 0;
    const char *p = s;
    while (n < 3) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 1 || x > 65536) break;
        v[n++] = (int)x;
        p = end;
        if (n < 3 && *p++ != 'x') break;
    }
    if (n != 3 || *p) {
        fprintf(stderr, "advc import: bad value '%s' for --input (CxHxW, "
                "e.g. 1x28x28)\n", s);
        return false;
    }
    *in = (advc_shape){ v[0], v[1], v[2] };
    return true;
}

/* key  dtype  shape  <- advc tensor, one line per state_dict entry. */
static int list_entries(const char *spec, advc_shape in, int classes,
                        advc_act_spec act)
{
    advc_graph *g = NULL;
    advc_torch_entry *t = NULL;
    int nt = 0;
    if (advc_model_build(spec, in, classes, act, &g) != ADVC_OK ||
        advc_graph_compile(g, 1, NULL) != ADVC_OK ||
        advc_torch_entries(g, &t, &nt) != ADVC_OK) {
        int rc = cli_fail("import");
        advc_graph_free(g);
        return rc;
    }
    for (int i = 0; i < nt; i++) {
        char shape[64] = "(";
        for (int d = 0; d < t[i].ndim; d++) {
            size_t l = strlen(shape);
            snprintf(shape + l, sizeof shape - l, "%s%d", d ? ", " : "",
                     t[i].dims[d]);
        }
        strcat(shape, t[i].ndim == 1 ? ",)" : ")");
        printf("%-40s %s  %-18s %s\n", t[i].name,
               advc_npy_descr(t[i].dtype), shape,
               t[i].tensor < 0 ? "(kept in the metadata)"
                               : advc_graph_tensor(g, t[i].tensor)->name);
    }
    free(t);
    advc_graph_free(g);
    return 0;
}

int cmd_import(int argc, char **argv)
{
    const char *cmd = "import", *npz = NULL, *spec = NULL, *out = NULL;
    const char *act_s = "relu";
    advc_shape in = { 1, 28, 28 };
    int classes = 10, list = 0;
    static const struct option longopts[] = {
        { "npz", required_argument, NULL, 'n' },
        { "model", required_argument, NULL, 'm' },
        { "act", required_argument, NULL, 'a' },
        { "input", required_argument, NULL, 'i' },
        { "classes", required_argument, NULL, 'k' },
        { "out", required_argument, NULL, 'o' },
        { "list", no_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'n': npz = optarg; break;
        case 'm': spec = optarg; break;
        case 'a': act_s = optarg; break;
        case 'i': ok = parse_input(optarg, &in); break;
        case 'k': ok = cli_int(cmd, "classes", optarg, 1, 1000000, &classes);
            break;
        case 'o': out = optarg; break;
        case 'l': list = 1; break;
        case 'h':
            fputs(usage, stdout);
            fputs(advc_model_usage(), stdout);
            return 0;
        default: return cli_bad_option(cmd, c, argv);
        }
        if (!ok) return 2;
    }
    if (optind < argc) return cli_extra_arg(cmd, argv);
    if (!spec) return cli_usage_error(cmd, "--model SPEC is required");
    advc_act_spec act;
    if (advc_act_spec_parse(act_s, &act) != ADVC_OK) {
        fprintf(stderr, "advc import: bad value '%s' for --act: %s\n", act_s,
                advc_last_error());
        return 2;
    }
    if (list) return list_entries(spec, in, classes, act);
    if (!npz) return cli_usage_error(cmd, "--npz FILE is required");
    if (!out) return cli_usage_error(cmd, "--out FILE is required");
    if (advc_model_import_npz(npz, spec, in, classes, act, out) != ADVC_OK)
        return cli_fail(cmd);
    printf("wrote %s: model '%s', act %s, input %dx%dx%d, %d classes, from "
           "%s\n", out, spec, act_s, in.c, in.h, in.w, classes, npz);
    return 0;
}
