/* A stand-in libcstoken that reports ABI version 99, for the wrapper's ABI-mismatch test. */
#include <stdint.h>
uint32_t cst_library_get_abi_version(void) { return 99; }
const char *cst_library_get_version(void) { return "fake-cstoken 9.9.9"; }
