/* cmd_import.c: `advc import`: a PyTorch state_dict saved with numpy.savez
 * becomes an advc model file (advc_model_import_npz), or with --list the
 * state_dict a model spec needs is printed (the name table of
 * src/models/torch_names.c, for that exact spec). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "cli.h"
#include "cli_util.h"

typedef struct {
    const char *npz, *model, *out;
    advc_act_spec act;
    advc_shape in;
    int classes;
    bool list;
} import_opts;

/* --input "CxHxW", each from 1 to 65536. */
static advc_status parse_input(const char *s, void *dst)
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
    if (n != 3 || *p)
        return advc_set_error(ADVC_ERR_ARG, "want CxHxW, e.g. 1x28x28");
    *(advc_shape *)dst = (advc_shape){ v[0], v[1], v[2] };
    return ADVC_OK;
}

static void format_input(const void *src, char *buf, size_t bufsz)
{
    const advc_shape *in = src;
    snprintf(buf, bufsz, "%dx%dx%d", in->c, in->h, in->w);
}

#define I_ROW(flag, meta, type, field, lo, hi, def, help)                    \
    CLI_ROW(flag, meta, type, import_opts, field, lo, hi, def, help)

static const advc_param import_rows[] = {
    I_ROW("npz", "FILE", ADVC_PARAM_TEXT, npz, 0, 0, NULL,
          "the archive: numpy.savez(FILE, **{k: v.numpy() for k, v in "
          "model.state_dict().items()})"),
    I_ROW("model", "SPEC", ADVC_PARAM_TEXT, model, 0, 0, NULL,
          "the architecture, name[:key=value,...] as in advc train"),
    CLI_ROW_ACT(import_opts, act),
    { "input", "CxHxW", ADVC_PARAM_CUSTOM, offsetof(import_opts, in), 0, 0,
      0, "1x28x28", "input shape (CIFAR-10: 3x32x32)", "CxHxW, e.g. 1x28x28",
      0, 0, parse_input, format_input },
    I_ROW("classes", "K", ADVC_PARAM_INT, classes, 1, 1000000, "10",
          "classes"),
    I_ROW("out", "FILE", ADVC_PARAM_TEXT, out, 0, 0, NULL,
          "the advc model file to write"),
    I_ROW("list", NULL, ADVC_PARAM_FLAG, list, 0, 0, NULL,
          "print the state_dict keys, dtypes and shapes SPEC needs, with the "
          "advc tensor each fills, and exit"),
};

static void describe(cli_parsed *p, void *vo)
{
    cli_add_group(p, "Options", import_rows, CLI_NROWS(import_rows), vo);
}

static void models_help(FILE *f) { fputs(advc_model_usage(), f); }

const cli_spec cmd_import_spec = {
    "import", "--npz FILE --model SPEC --out FILE [options] | --model SPEC "
    "--list",
    "Reads a PyTorch state_dict saved with numpy.savez (uncompressed) and "
    "writes an advc model file. Every key the model needs must be there "
    "with its dtype and shape, and nothing else; --list shows them.",
    0, NULL, models_help,
    "The other way: advc export. The PyTorch modules that match these names "
    "are in bench/compare/torch_models.py."
};

/* key  dtype  shape  <- advc tensor, one line per state_dict entry. */
static int list_entries(const import_opts *o)
{
    advc_graph *g = NULL;
    advc_torch_entry *t = NULL;
    int nt = 0;
    if (advc_model_build(o->model, o->in, o->classes, o->act, &g) !=
            ADVC_OK ||
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
    import_opts o;
    memset(&o, 0, sizeof o);
    o.act.f = ADVC_ACT_RELU;
    o.in = (advc_shape){ 1, 28, 28 };
    o.classes = 10;
    cli_parsed p;
    int rc = cli_begin(&cmd_import_spec, describe, &o, &p, argc, argv);
    if (rc >= 0) return rc;
    if (!o.model) return cli_usage_error("import", "--model SPEC is required");
    if (o.list) return list_entries(&o);
    if (!o.npz) return cli_usage_error("import", "--npz FILE is required");
    if (!o.out) return cli_usage_error("import", "--out FILE is required");
    if (advc_model_import_npz(o.npz, o.model, o.in, o.classes, o.act, o.out) !=
        ADVC_OK)
        return cli_fail("import");
    char act[48];
    advc_act_spec_format(o.act, act, sizeof act);
    printf("wrote %s: model '%s', act %s, input %dx%dx%d, %d classes, from "
           "%s\n", o.out, o.model, act, o.in.c, o.in.h, o.in.w, o.classes,
           o.npz);
    return 0;
}

void cmd_import_describe(cli_parsed *p, void *opts) { describe(p, opts); }
size_t cmd_import_opts_size(void) { return sizeof(import_opts); }
