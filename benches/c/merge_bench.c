/* Cost of merges through libcstoken: one-shot cst_token_text_merge (text in, text out) and cst_token_merge
 * (parsed handles). Prints "name ns_per_op" lines; benches/ffi_overhead.sh compares them with Rust. */
#define _POSIX_C_SOURCE 200809L
#include "cstoken.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    const char *a = argc > 2 ? argv[1] : "0:1#1000000#1=500001#2=500002#3=500003";
    const char *b = argc > 2 ? argv[2] : "0:1#1000005#1=500006#2=500007#3=500008";
    const long iters = 2000000;
    char buf[65536];
    size_t n = 0;
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        for (long i = 0; i < iters; i++) {
            if (cst_token_text_merge(a, strlen(a), b, strlen(b), 0, buf, sizeof buf, &n) != CST_OK) return 1;
        }
        double t = (now() - t0) / (double)iters;
        if (t < best) best = t;
    }
    printf("c_oneshot_merge %.1f\n", best * 1e9);
    cst_token *ta = NULL, *tb = NULL;
    if (cst_token_parse(a, strlen(a), 0, &ta) != CST_OK || cst_token_parse(b, strlen(b), 0, &tb) != CST_OK) return 1;
    best = 1e9;
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        for (long i = 0; i < iters; i++) {
            cst_token *m = NULL;
            if (cst_token_merge(ta, tb, 0, &m) != CST_OK) return 1;
            cst_token_free(m);
        }
        double t = (now() - t0) / (double)iters;
        if (t < best) best = t;
    }
    printf("c_handle_merge %.1f\n", best * 1e9);
    best = 1e9;
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        for (long i = 0; i < iters; i++) {
            if (cst_token_merge_to_string(ta, tb, 0, buf, sizeof buf, &n) != CST_OK) return 1;
        }
        double t = (now() - t0) / (double)iters;
        if (t < best) best = t;
    }
    printf("c_handle_merge_to_string %.1f\n", best * 1e9);
    cst_token_free(ta);
    cst_token_free(tb);
    return 0;
}
