/* cmd_probe.c: `advc probe`: the linearity probe of Goodfellow et al.
 * (ICLR 2015, the figure of logits against eps): take one test image x
 * with label y, the FGSM direction d = sign(grad_x CE(f(x), y)) in eval
 * mode, and record every class's logit of f(x + eps d) for eps on an even
 * grid over [-eps_max, eps_max].  The points are NOT clipped to [0, 1]
 * (unless --clip): the probe asks how the network behaves along a line,
 * not what a valid attack can reach.  Output: an SVG with one series per
 * class, optionally the values as CSV on stdout, and a summary: where the
 * prediction first changes, and how straight each logit's curve is (R^2
 * of a least-squares line on each side of eps = 0).  Not here: attacks
 * with budgets (advc attack).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "advc/image.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc probe --model FILE --data DIR [options] --out FILE.svg\n"
    "\n"
    "Plots every class's logit of f(x + eps * d) against eps for one test\n"
    "image x, with d = sign(grad_x CE(f(x), y)) (the FGSM direction, model\n"
    "in eval mode, final exit), eps on an even grid over [-eps-max,\n"
    "eps-max].  x + eps * d is NOT clipped to [0, 1]: this is the linearity\n"
    "probe of Goodfellow et al. (2015), a line through input space, not an\n"
    "attack.  Prints the prediction at eps = 0, the smallest eps > 0 on the\n"
    "grid where it changes, and the R^2 of straight-line fits per logit\n"
    "(each side of eps = 0 apart: ReLU networks are piecewise linear).\n"
    "\n"
    "  --model FILE      a checkpoint written by advc train\n"
    "  --data DIR        MNIST / Fashion-MNIST IDX files or CIFAR-10 batches\n"
    "  --index I         test image I (default 0)\n"
    "  --eps-max X       the grid spans [-X, X] (default 15)\n"
    "  --points P        grid points, >= 2 (default 61)\n"
    "  --out FILE.svg    the plot\n"
    "  --csv             also print eps,logit_0,...,logit_{C-1} as CSV on\n"
    "                    stdout (the summary then goes to stderr)\n"
    "  --clip            clip x + eps * d to [0, 1] (not the paper's probe)\n"
    "  --threads T       worker threads (default: ADVC_THREADS or all CPUs)\n"
    "  -h, --help        this text\n"
    "At least one of --out and --csv is required.\n";

#define PROBE_BATCH 128 /* grid points per forward pass */

/* R^2 of the least-squares line through (x_i, y_i); 1 for a flat y or
 * fewer than 2 points. */
static double line_r2(const double *x, const double *y, int n)
{
    if (n < 2) return 1.0;
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (!(syy > 0) || !(sxx > 0)) return 1.0;
    return sxy * sxy / (sxx * syy);
}

int cmd_probe(int argc, char **argv)
{
    const char *cmd = "probe", *model = NULL, *data_dir = NULL, *out = NULL;
    int index = 0, points = 61, threads = 0, csv = 0, clip = 0;
    float eps_max = 15.0f;
    enum { O_EPSMAX = 256, O_POINTS, O_CSV, O_CLIP };
    static const struct option longopts[] = {
        { "model", required_argument, NULL, 'm' },
        { "data", required_argument, NULL, 'd' },
        { "index", required_argument, NULL, 'i' },
        { "eps-max", required_argument, NULL, O_EPSMAX },
        { "points", required_argument, NULL, O_POINTS },
        { "out", required_argument, NULL, 'o' },
        { "csv", no_argument, NULL, O_CSV },
        { "clip", no_argument, NULL, O_CLIP },
        { "threads", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': model = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'i':
            ok = cli_int(cmd, "index", optarg, 0, 100000000, &index);
            break;
        case O_EPSMAX:
            ok = cli_float(cmd, "eps-max", optarg, 1e-6, 1e6, &eps_max);
            break;
        case O_POINTS:
            ok = cli_int(cmd, "points", optarg, 2, 100001, &points);
            break;
        case 'o': out = optarg; break;
        case O_CSV: csv = 1; break;
        case O_CLIP: clip = 1; break;
        case 't':
            ok = cli_int(cmd, "threads", optarg, 1, 1024, &threads);
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: return cli_bad_option(cmd, c, argv);
        }
        if (!ok) return 2;
    }
    if (optind < argc) return cli_extra_arg(cmd, argv);
    if (!model) return cli_usage_error(cmd, "--model FILE is required");
    if (!data_dir) return cli_usage_error(cmd, "--data DIR is required");
    if (!out && !csv)
        return cli_usage_error(cmd, "--out FILE.svg or --csv is required");
    FILE *info = csv ? stderr : stdout; /* keep stdout pure CSV */

    advc_dataset test;
    if (advc_dataset_load_dir(data_dir, false, &test) != ADVC_OK)
        return cli_fail(cmd);
    if (index >= test.n) {
        fprintf(stderr, "advc probe: --index %d is past the end of %s's test "
                "split (%d images)\n", index, data_dir, test.n);
        advc_dataset_free(&test);
        return 2;
    }
    advc_pool *pool = cli_pool(cmd, threads);
    advc_graph *g = NULL;
    advc_checkpoint head;
    int rc = 0;
    size_t per = (size_t)test.c * test.h * test.w;
    float *dir = NULL, *xs = NULL, *dz = NULL;
    double *eps = NULL, *logit = NULL;
    advc_plot_series *series = NULL;
    char (*names)[48] = NULL;
    int batch = points < PROBE_BATCH ? points : PROBE_BATCH;
    if (advc_model_load(model, batch, pool, &g, &head) != ADVC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    advc_shape in = advc_graph_input_shape(g);
    if (in.c != test.c || in.h != test.h || in.w != test.w) {
        fprintf(stderr, "advc probe: %s takes %dx%dx%d images but %s holds "
                "%dx%dx%d\n", model, in.c, in.h, in.w, data_dir, test.c,
                test.h, test.w);
        rc = 1;
        goto done;
    }
    int classes = advc_graph_classes(g), exits = advc_graph_num_exits(g);
    int last = exits - 1, y = test.y[index];
    const float *x = test.x + (size_t)index * per;
    dir = malloc(per * sizeof *dir);
    xs = malloc((size_t)batch * per * sizeof *xs);
    dz = malloc((size_t)classes * sizeof *dz);
    eps = malloc((size_t)points * sizeof *eps);
    logit = malloc((size_t)points * classes * sizeof *logit);
    series = calloc((size_t)classes, sizeof *series);
    names = calloc((size_t)classes, sizeof *names);
    if (!dir || !xs || !dz || !eps || !logit || !series || !names) {
        fprintf(stderr, "advc probe: out of memory\n");
        rc = 1;
        goto done;
    }

    /* d = sign(grad_x CE(f(x), y)) through the final exit, eval mode. */
    advc_graph_forward(g, x, 1, ADVC_MODE_EVAL);
    for (int e = 0; e < exits; e++)
        memset(advc_graph_dlogits(g, e), 0, (size_t)classes * sizeof(float));
    memset(dz, 0, (size_t)classes * sizeof *dz);
    const float *z0 = advc_graph_logits(g, last);
    int pred0 = 0;
    for (int j = 1; j < classes; j++)
        if (z0[j] > z0[pred0]) pred0 = j;
    float ce = advc_loss_xent(1, classes, z0, &y, NULL, dz, 1.0f);
    memcpy(advc_graph_dlogits(g, last), dz, (size_t)classes * sizeof *dz);
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    const float *gx = advc_graph_input_grad(g);
    size_t nonzero = 0;
    for (size_t i = 0; i < per; i++) {
        dir[i] = gx[i] > 0 ? 1.0f : gx[i] < 0 ? -1.0f : 0.0f;
        nonzero += dir[i] != 0;
    }

    /* eps_k = eps_max (2k - (P-1)) / (P-1): exact 0 in the middle of an
     * odd grid, exact +-eps_max at the ends. */
    for (int k = 0; k < points; k++)
        eps[k] = (double)eps_max * (2.0 * k - (points - 1)) / (points - 1);
    for (int lo = 0; lo < points; lo += batch) {
        int nb = points - lo < batch ? points - lo : batch;
        for (int k = 0; k < nb; k++) {
            float e = (float)eps[lo + k];
            float *xk = xs + (size_t)k * per;
            for (size_t i = 0; i < per; i++) {
                float v = x[i] + e * dir[i];
                if (clip) v = v < 0 ? 0 : v > 1 ? 1 : v;
                xk[i] = v;
            }
        }
        advc_graph_forward(g, xs, nb, ADVC_MODE_EVAL);
        const float *z = advc_graph_logits(g, last);
        for (int k = 0; k < nb; k++)
            for (int j = 0; j < classes; j++)
                logit[(size_t)j * points + lo + k] = z[(size_t)k * classes + j];
    }

    /* Summary: the clean prediction, the first change on the positive
     * side, straightness of each curve. */
    double flip = -1;
    int flip_to = -1;
    for (int k = 0; k < points && flip < 0; k++) {
        if (eps[k] <= 0) continue;
        int p = 0;
        for (int j = 1; j < classes; j++)
            if (logit[(size_t)j * points + k] > logit[(size_t)p * points + k])
                p = j;
        if (p != y) {
            flip = eps[k];
            flip_to = p;
        }
    }
    /* The paper's point is that the curves are piecewise linear, with the
     * kink where the ReLU pattern changes, near eps = 0: fit each side
     * (eps <= 0 and eps >= 0) separately. */
    int neg = 0; /* grid points with eps <= 0: the indices [0, neg) */
    while (neg < points && eps[neg] <= 0) neg++;
    int pos0 = neg > 0 && eps[neg - 1] == 0 ? neg - 1 : neg;
    double r2min = 1, r2sum = 0;
    int nfits = 0;
    bool finite = true;
    for (int j = 0; j < classes; j++) {
        const double *lj = logit + (size_t)j * points;
        for (int k = 0; k < points; k++)
            if (!isfinite(lj[k])) finite = false;
        double r2[2] = { line_r2(eps, lj, neg),
                         line_r2(eps + pos0, lj + pos0, points - pos0) };
        for (int side = 0; side < 2; side++) {
            int cnt = side ? points - pos0 : neg;
            if (cnt < 3) continue; /* two points always fit */
            r2sum += r2[side];
            nfits++;
            if (r2[side] < r2min) r2min = r2[side];
        }
    }

    fprintf(info, "model %s (%s, act %s), %s test image %d, label %d\n",
            model, head.spec, head.act, data_dir, index, y);
    fprintf(info, "direction d = sign(grad_x CE) at the clean image: CE %.4f,"
            " %zu of %zu entries non-zero%s\n", (double)ce, nonzero, per,
            nonzero == 0 ? " (zero gradient: every curve is flat)" : "");
    fprintf(info, "eps grid: %d points over [%g, %g], %s\n", points,
            -(double)eps_max, (double)eps_max,
            clip ? "clipped to [0, 1]" : "NOT clipped to [0, 1]");
    fprintf(info, "clean prediction (eps = 0): %d (%s)\n", pred0,
            pred0 == y ? "right" : "already wrong");
    if (flip > 0)
        fprintf(info, "smallest eps > 0 on the grid where the prediction is "
                "not %d: %g (predicts %d)\n", y, flip, flip_to);
    else
        fprintf(info, "the prediction is %d at every eps > 0 on the grid\n",
                y);
    if (nfits > 0)
        fprintf(info, "straight-line fit of each logit against eps, each "
                "side of 0 apart: R^2 min %.4f, mean %.4f%s\n", r2min,
                r2sum / nfits, finite ? "" : " (some logits are not finite)");

    if (csv) {
        printf("eps");
        for (int j = 0; j < classes; j++) printf(",logit_%d", j);
        printf("\n");
        for (int k = 0; k < points; k++) {
            printf("%.6g", eps[k]);
            for (int j = 0; j < classes; j++)
                printf(",%.6g", logit[(size_t)j * points + k]);
            printf("\n");
        }
        fflush(stdout);
    }
    if (out) {
        for (int j = 0; j < classes; j++) {
            snprintf(names[j], sizeof names[j], "class %d%s", j,
                     j == y ? " (true)" : "");
            series[j] = (advc_plot_series){ names[j], eps,
                                            logit + (size_t)j * points,
                                            points, NULL, false };
        }
        char title[160], note[600];
        snprintf(title, sizeof title, "Logits along the FGSM direction: test "
                 "image %d (label %d)", index, y);
        snprintf(note, sizeof note, "x + eps * sign(grad_x CE(x, y)), %s; "
                 "model %s (%s)", clip ? "clipped to [0,1]"
                 : "not clipped to [0,1]", model, head.spec);
        advc_plot p = { .title = title, .xlabel = "eps", .ylabel = "logit",
                        .series = series, .nseries = classes,
                        .zero_lines = true, .note = note };
        if (advc_svg_plot(out, &p) != ADVC_OK) {
            rc = cli_fail(cmd);
            goto done;
        }
        fprintf(info, "wrote %s\n", out);
    }
done:
    free(dir);
    free(xs);
    free(dz);
    free(eps);
    free(logit);
    free(series);
    free(names);
    advc_graph_free(g);
    advc_pool_destroy(pool);
    advc_dataset_free(&test);
    return rc;
}
