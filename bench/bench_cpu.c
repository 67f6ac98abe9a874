/* bench_cpu.c: names the machine a benchmark ran on, as results files
 * must: CPU model, vendor, family and model number, and which of the SIMD
 * extensions advc cares about the kernel reports.  Read from
 * /proc/cpuinfo (Linux); elsewhere the fields say "unknown".  (AMD family
 * 25 is Zen 3 / Zen 4, whose 512-bit FMAs run as two 256-bit halves;
 * family 26 is Zen 5, with full-width 512-bit FMAs.)
 */
#include <stdio.h>
#include <string.h>
#include "bench.h"

/* The flags printed, in this order, when the CPU has them. */
static const char *const FLAGS[] = {
    "sse4_2",   "avx",         "fma",         "avx2",      "avx512f",
    "avx512dq", "avx512bw",    "avx512vl",    "avx512_vnni",
    "avx512_bf16", "asimd",    "sve",
};

/* The value of "key : value" in line if line starts with key, else NULL;
 * the trailing newline is dropped. */
static char *field(char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0) return NULL;
    char *colon = strchr(line + n, ':');
    if (!colon) return NULL;
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    v[strcspn(v, "\n")] = '\0';
    return v;
}

/* True if the space-separated list has the word w. */
static int has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

void bench_print_cpu(void)
{
    char model[128] = "unknown", vendor[64] = "unknown";
    char family[16] = "unknown", number[16] = "unknown", flags[4096] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    /* The first processor's block: stop at the first blank line. */
    while (f && fgets(line, sizeof line, f) && line[0] != '\n') {
        char *v;
        if ((v = field(line, "model name")))
            snprintf(model, sizeof model, "%s", v);
        else if ((v = field(line, "vendor_id")))
            snprintf(vendor, sizeof vendor, "%s", v);
        else if ((v = field(line, "cpu family")))
            snprintf(family, sizeof family, "%s", v);
        else if ((v = field(line, "model")))
            snprintf(number, sizeof number, "%s", v);
        else if ((v = field(line, "flags")) || (v = field(line, "Features")))
            snprintf(flags, sizeof flags, "%s", v);
    }
    if (f) fclose(f);
    printf("bench=cpu model=\"%s\" vendor=%s family=%s model_number=%s "
           "flags=", model, vendor, family, number);
    int first = 1;
    for (size_t i = 0; i < sizeof FLAGS / sizeof FLAGS[0]; i++)
        if (has_word(flags, FLAGS[i])) {
            printf("%s%s", first ? "" : ",", FLAGS[i]);
            first = 0;
        }
    printf("%s\n", first ? "none" : "");
}
