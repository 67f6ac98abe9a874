// embed.cc: the same checks as embed.c from C++, which links only because
// every public header declares its functions extern "C".
//   embed-cxx DIR
#include <advc/advc.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    const std::string model = std::string(argv[1]) + "/cxx.advc";
    const advc_shape in = { 1, 4, 4 };
    const advc_act_spec relu = { ADVC_ACT_RELU, 1.0f };
    advc_graph *g = nullptr, *h = nullptr;
    bool ok = advc_model_build("linear", in, 3, relu, &g) == ADVC_OK &&
              advc_graph_compile(g, 1, nullptr) == ADVC_OK;
    if (ok) {
        advc_graph_init_params(g, 7);
        ok = advc_model_save(model.c_str(), g, "linear", relu, "") ==
                 ADVC_OK &&
             advc_model_load(model.c_str(), 1, nullptr, &h, nullptr) ==
                 ADVC_OK;
    }
    if (!ok) {
        std::fprintf(stderr, "embed-cxx: %s\n", advc_last_error());
        return 1;
    }
    std::vector<float> x(16, 0.5f);
    advc_graph_forward(g, x.data(), 1, ADVC_MODE_EVAL);
    std::vector<float> a(advc_graph_logits(g, 0), advc_graph_logits(g, 0) + 3);
    advc_graph_forward(h, x.data(), 1, ADVC_MODE_EVAL);
    std::vector<float> b(advc_graph_logits(h, 0), advc_graph_logits(h, 0) + 3);
    advc_graph_free(g);
    advc_graph_free(h);
    if (a != b) {
        std::fprintf(stderr, "embed-cxx: reloaded logits differ\n");
        return 1;
    }
    std::printf("embed-cxx: kernels %s, %zu logits bit-exact after reload\n",
                advc_isa_name(), a.size());
    return 0;
}
