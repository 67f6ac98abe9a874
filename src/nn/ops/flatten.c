/* flatten.c: (c, h, w) -> (c*h*w, 1, 1).  NCHW is already flat per
 * sample, so the node shares its input's output and gradient buffers
 * (the graph's alias): forward and backward do nothing.
 *   forward   y = x                backward  dx = dy  (same memory)
 */
#include "../graph_internal.h"

static void flatten_pass(nn_node *v, const nn_ctx *c)
{
    (void)v, (void)c;
}

static const nn_op flatten_vt = {
    .name = "flatten", .forward = flatten_pass, .backward = flatten_pass,
};

int advc_flatten(advc_graph *g, int x)
{
    nn_node *u = nn_get(g, x, "flatten");
    if (!u) return -1;
    size_t size = nn_size(u);
    if (size > (size_t)1 << 30)
        return nn_fail(g, "flatten: %zu values per sample is too many", size);
    nn_node *v = nn_add(g, &flatten_vt, NULL, &u, 1,
                        (advc_shape){ (int)size, 1, 1 }, NULL);
    if (!v) return -1;
    v->alias = u->alias ? u->alias : u;
    return v->id;
}
