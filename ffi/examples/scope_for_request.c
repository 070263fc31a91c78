/*
 * A C host using libcstoken: merge the token a write returned into the one a user carries,
 * then keep only what the read's partition needs.
 *
 * Build against an installed libcstoken (`make install-c PREFIX=...`):
 *   cc -std=c11 scope_for_request.c $(pkg-config --cflags --libs cstoken) -o scope_for_request
 */
#include "cstoken.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, int32_t status) {
    char msg[512];
    size_t n = 0;
    cst_last_error_get_message(msg, sizeof msg, &n);
    fprintf(stderr, "%s: %s: %s\n", what, cst_status_get_name(status), msg);
    exit(2);
}

int main(int argc, char **argv) {
    /* The library loaded at run time must speak the ABI this program was compiled against. */
    if (cst_library_get_abi_version() != CST_ABI_VERSION) {
        fprintf(stderr, "libcstoken has ABI %u, this program needs %u\n", (unsigned)cst_library_get_abi_version(), (unsigned)CST_ABI_VERSION);
        return 3;
    }
    const char *carried = argc > 1 ? argv[1] : "0:1#100#1=20,1:-1#42";
    const char *written = argc > 2 ? argv[2] : "1:-1#57";
    const char *range = argc > 3 ? argv[3] : "1";

    size_t need = 0;
    int32_t st = cst_token_text_merge(carried, strlen(carried), written, strlen(written), 0, NULL, 0, &need);
    if (st != CST_ERR_BUFFER_TOO_SMALL) die("merge", st);
    char *merged = malloc(need + 1);
    if (merged == NULL) return 2;
    st = cst_token_text_merge(carried, strlen(carried), written, strlen(written), 0, merged, need + 1, &need);
    if (st != CST_OK) die("merge", st);

    char scoped[1024];
    size_t n = 0;
    st = cst_token_text_scope(merged, need, range, strlen(range), NULL, NULL, 0, scoped, sizeof scoped, &n);
    if (st == CST_ERR_NOT_FOUND) {
        printf("merged: %s\nno segment for range %s: send no session token\n", merged, range);
    } else if (st == CST_OK) {
        printf("merged: %s\nsend for range %s: %s\n", merged, range, scoped);
    } else {
        die("scope", st);
    }
    free(merged);
    return 0;
}
