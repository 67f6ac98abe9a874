/* fuzz_model_spec.c: model spec strings ("name[:key=value,...]") built
 * into graphs (advc_model_build) for MNIST-shaped inputs when the input's
 * length is odd and CIFAR-shaped ones when it is even (one build per
 * input: the deepest specs take seconds under the sanitizers), and the
 * same string as an activation spec (advc_act_spec_parse). */
#include "fuzz.h"

static void build(const char *spec, advc_shape in)
{
    advc_act_spec relu = { ADVC_ACT_RELU, 1.0f };
    advc_graph *g = NULL;
    if (advc_model_build(spec, in, 10, relu, &g) == ADVC_OK) {
        if (!g) abort();
        (void)advc_model_default_init(spec);
    }
    advc_graph_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char *s = fuzz_string(data, n);
    if (!s) return 0;
    build(s, n % 2 ? (advc_shape){ 1, 28, 28 } : (advc_shape){ 3, 32, 32 });
    advc_act_spec a;
    if (advc_act_spec_parse(s, &a) == ADVC_OK) {
        char back[64];
        advc_act_spec_format(a, back, sizeof back);
    }
    free(s);
    return 0;
}
