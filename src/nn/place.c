/* place.c: channel concatenation without copies.
 *
 * A concat's output holds its inputs side by side in every sample:
 * y_i = [x0_i; x1_i; ...].  An input u "placed" in concat c has no buffer
 * of its own: its y and dy are views of its channels in c's y and dy,
 *   u.y_i = c.y + i * c.ld + at,   u.ld = c.ld   (likewise dy),
 * so u's producer writes straight into c's output, u's consumers read it
 * there, and c copies nothing for u in either pass.  MSDNet's layers are
 * "the previous output plus a few new channels", so a chain of concats
 * ends up sharing one buffer per scale, and the step has no concat copy
 * left but those of inputs that cannot be placed.
 *
 * Input u of concat c is placed when
 *   - fusion is on (advc_graph_set_fusion), u is not node 0 or an exit,
 *     not a flatten's view (alias), and has its own y and dy;
 *   - u appears once among c's inputs and no other concat placed it;
 *   - the op that writes u's y writes at a stride (nn_op.writes_strided):
 *     u's own, or for an activation fused into its input's op, that op;
 *   - every other consumer of u reads strided inputs (nn_op.reads_strided)
 *     and comes, in build order, before every consumer of c.
 * The last rule is the gradient's: the backward pass runs in reverse build
 * order, so when u's other consumers add their parts of dL/du to u's
 * slice, c's consumers have all written dL/dc, which already holds c's part
 * of dL/du there.  So u's slice is live (nn_grad_live) when u has been
 * written directly or c is live, following the chain of places.
 */
#include "graph_internal.h"

/* The node whose op writes v's y: v, or the op an activation is fused
 * into. */
static const nn_node *writer(const nn_node *v)
{
    return nn_is_act(v) && nn_act_fused(v) ? v->in[0] : v;
}

/* Whether input k of concat c can be placed there (the rules above). */
static bool placeable(nn_node *const *nodes, const nn_use *use,
                      const nn_node *c, int k)
{
    const nn_node *u = c->in[k];
    if (u->id == 0 || use[u->id].exit || u->alias || u->place || u->no_y ||
        u->no_dy || !writer(u)->op->writes_strided)
        return false;
    for (int j = 0; j < c->nin; j++)
        if (j != k && c->in[j] == u) return false;
    for (int i = use[u->id].first; i <= use[u->id].last; i++) {
        const nn_node *w = nodes[i];
        bool reads_u = false;
        for (int j = 0; j < w->nin; j++) reads_u |= w->in[j] == u;
        if (!reads_u || w == c) continue;
        if (!w->op->reads_strided || !w->op->reads_strided(w) ||
            i >= use[c->id].first)
            return false;
    }
    return true;
}

void nn_place_concat_inputs(nn_node *const *nodes, int nn, const nn_use *use,
                            bool on)
{
    for (int i = 0; i < nn; i++) {
        nn_node *v = nodes[i];
        v->place = NULL;
        v->at = 0;
        v->ld = nn_size(v);
    }
    for (int i = 0; on && i < nn; i++) {
        nn_node *c = nodes[i];
        if (!nn_is_concat(c)) continue;
        size_t at = 0;
        for (int k = 0; k < c->nin; k++) {
            if (placeable(nodes, use, c, k)) {
                c->in[k]->place = c;
                c->in[k]->at = at;
            }
            at += nn_size(c->in[k]);
        }
    }
}

void nn_point_placed(nn_node *const *nodes, int nn)
{
    /* A concat comes after its inputs: from the last node back, a place
     * is pointed before the nodes placed in it. */
    for (int i = nn - 1; i >= 0; i--) {
        nn_node *v = nodes[i];
        if (!v->place) continue;
        v->ld = v->place->ld;
        v->y = v->place->y + v->at;
        v->dy = v->place->dy + v->at;
    }
}

bool nn_grad_live(const nn_node *v)
{
    for (; v; v = v->place) {
        if (v->alias) v = v->alias;
        if (v->grad_live) return true;
    }
    return false;
}
