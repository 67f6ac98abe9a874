/* cmd_info.c: `advc info FILE`: what a checkpoint holds (spec, activation,
 * input shape, training metadata, every tensor), after full validation. */
#include <stdio.h>
#include <string.h>
#include "advc/advc.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc info FILE\n"
    "\n"
    "Validates a checkpoint (magic, version, lengths, CRC32) and prints\n"
    "its model spec, activation, input shape, training metadata and\n"
    "tensors.\n";

static const char *kind_name(int k)
{
    switch (k) {
    case ADVC_TENSOR_WEIGHT: return "weight";
    case ADVC_TENSOR_BIAS: return "bias";
    case ADVC_TENSOR_STATE: return "state";
    }
    return "?";
}

int cmd_info(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            char m[160];
            snprintf(m, sizeof m, "unknown option '%s'", argv[i]);
            return cli_usage_error("info", m);
        }
    if (argc != 2)
        return cli_usage_error("info", "expected exactly one FILE");
    advc_checkpoint ck;
    if (advc_checkpoint_read(argv[1], &ck) != ADVC_OK) return cli_fail("info");
    printf("file        %s\nmodel       %s\nactivation  %s\n"
           "input       %dx%dx%d\nclasses     %d\n",
           argv[1], ck.spec, ck.act, ck.c, ck.h, ck.w, ck.classes);
    /* Metadata lines, indented. */
    const char *m = ck.meta;
    while (*m) {
        const char *nl = strchr(m, '\n');
        int len = nl ? (int)(nl - m) : (int)strlen(m);
        printf("meta        %.*s\n", len, m);
        m += len + (nl ? 1 : 0);
    }
    size_t trainable = 0, state = 0;
    printf("tensors     %d\n", ck.ntensors);
    for (int i = 0; i < ck.ntensors; i++) {
        const advc_ckpt_tensor *t = &ck.tensors[i];
        char dims[64] = "";
        for (int d = 0; d < t->ndim; d++) {
            size_t l = strlen(dims);
            snprintf(dims + l, sizeof dims - l, d ? "x%d" : "%d", t->dims[d]);
        }
        printf("  %-28s %-6s %-16s %zu\n", t->name, kind_name(t->kind), dims,
               t->count);
        if (t->kind == ADVC_TENSOR_STATE) state += t->count;
        else trainable += t->count;
    }
    printf("parameters  %zu trainable, %zu state\n", trainable, state);
    advc_checkpoint_free(&ck);
    return 0;
}
