/* cmd_info.c: `advc info FILE`: what a checkpoint holds (spec, activation,
 * input shape, training metadata, every tensor), after full validation. */
#include <stdio.h>
#include <string.h>
#include "advc/advc.h"
#include "cli.h"
#include "cli_util.h"

static void describe(cli_parsed *p, void *vo)
{
    (void)p;
    (void)vo;
}

const cli_spec cmd_info_spec = {
    "info", "FILE",
    "Validates a checkpoint (magic, version, lengths, CRC32) and prints its "
    "model spec, activation, input shape, training metadata (the recipe and "
    "every training setting, the data it was trained on, the epoch's "
    "results) and tensors, with a CRC-32 digest of the tensors (names and "
    "values) to tell two models apart.", 64, "FILE", NULL, NULL
};

static const char *kind_name(int k)
{
    switch (k) {
    case ADVC_TENSOR_WEIGHT: return "weight";
    case ADVC_TENSOR_BIAS: return "bias";
    case ADVC_TENSOR_STATE: return "state";
    }
    return "?";
}

/* CRC-32 over every tensor's name and values (as stored, little-endian
 * IEEE floats on every machine advc builds for). */
static uint32_t tensor_digest(const advc_checkpoint *ck)
{
    uint32_t crc = 0;
    for (int i = 0; i < ck->ntensors; i++) {
        const advc_ckpt_tensor *t = &ck->tensors[i];
        crc = advc_crc32(crc, t->name, strlen(t->name));
        crc = advc_crc32(crc, t->data, t->count * sizeof *t->data);
    }
    return crc;
}

int cmd_info(int argc, char **argv)
{
    cli_parsed p;
    memset(&p, 0, sizeof p);
    int rc = cli_parse(&cmd_info_spec, &p, argc, argv);
    if (rc >= 0) return rc;
    if (p.nargs != 1)
        return cli_usage_error("info", "expected exactly one FILE");
    const char *path = p.args[0];
    advc_checkpoint ck;
    if (advc_checkpoint_read(path, &ck) != ADVC_OK) return cli_fail("info");
    printf("file        %s\nmodel       %s\nactivation  %s\n"
           "input       %dx%dx%d\nclasses     %d\n",
           path, ck.spec, ck.act, ck.c, ck.h, ck.w, ck.classes);
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
    printf("digest      %08x\n", (unsigned)tensor_digest(&ck));
    advc_checkpoint_free(&ck);
    return 0;
}

void cmd_info_describe(cli_parsed *p, void *opts) { describe(p, opts); }
size_t cmd_info_opts_size(void) { return 1; }
