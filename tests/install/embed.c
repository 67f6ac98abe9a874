/* embed.c: a small C program against an installed advc (tests/install-
 * test.sh builds it with `pkg-config --cflags --libs advc` alone).  It
 * builds a model, runs it, saves and reloads it, checks the logits come
 * back bit for bit, and writes a CSV through the safe-file writer.
 *   embed DIR     (files go to DIR) */
#include <stdio.h>
#include <string.h>
#include <advc/advc.h>

#define N 2        /* images      */
#define C 3        /* classes     */
#define PIX 16     /* 1x4x4 input */

static int fail(const char *what)
{
    fprintf(stderr, "embed-c: %s: %s\n", what, advc_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    char model[512], csv[512];
    snprintf(model, sizeof model, "%s/m.advc", argv[1]);
    snprintf(csv, sizeof csv, "%s/logits.csv", argv[1]);
    advc_shape in = { 1, 4, 4 };
    advc_act_spec relu = { ADVC_ACT_RELU, 1.0f };
    advc_graph *g, *h;
    if (advc_model_build("mlp:hidden=8", in, C, relu, &g) != ADVC_OK ||
        advc_graph_compile(g, N, NULL) != ADVC_OK)
        return fail("build");
    advc_graph_init_params(g, 1);
    float x[N * PIX], a[N * C], b[N * C];
    for (int i = 0; i < N * PIX; i++) x[i] = (float)(i % 7) / 7.0f;
    advc_graph_forward(g, x, N, ADVC_MODE_EVAL);
    memcpy(a, advc_graph_logits(g, 0), sizeof a);
    if (advc_model_save(model, g, "mlp:hidden=8", relu, "epoch=1\n") !=
        ADVC_OK)
        return fail("save");
    if (advc_model_load(model, N, NULL, &h, NULL) != ADVC_OK)
        return fail("load");
    advc_graph_forward(h, x, N, ADVC_MODE_EVAL);
    memcpy(b, advc_graph_logits(h, 0), sizeof b);
    if (memcmp(a, b, sizeof a) != 0) {
        fprintf(stderr, "embed-c: reloaded logits differ\n");
        return 1;
    }
    advc_out_file o;
    if (advc_out_open(&o, csv) != ADVC_OK) return fail("csv");
    for (int i = 0; i < N * C; i++) advc_out_printf(&o, "%d,%.9g\n", i, a[i]);
    if (advc_out_commit(&o) != ADVC_OK) return fail("csv");
    advc_graph_free(g);
    advc_graph_free(h);
    printf("embed-c: advc %s, kernels %s: save/load bit-exact, CSV written\n",
           ADVC_VERSION, advc_isa_name());
    return 0;
}
