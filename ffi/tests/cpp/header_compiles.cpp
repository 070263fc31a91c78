// The header must compile as C++ (g++ -Wall -Wextra -Werror) and link; this also runs a call.
#include "cstoken.h"

#include <cstdio>
#include <cstring>
#include <string>

int main() {
    const std::string token = "0:1#100#1=20,1:-1#42";
    cst_token *t = nullptr;
    if (cst_token_parse(token.data(), token.size(), 0, &t) != CST_OK) {
        return 1;
    }
    char buf[64];
    std::size_t n = 0;
    int32_t st = cst_token_to_string(t, buf, sizeof buf, &n);
    cst_token_free(t);
    bool ok = st == CST_OK && token == buf && cst_library_get_abi_version() == CST_ABI_VERSION;
    std::printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}
