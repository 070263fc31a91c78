/*
 * C tests of libcstoken: every function, every error path, NULL arguments, the buffer protocol,
 * threads sharing one handle, and every shared vector (target/vectors.lines, written by
 * scripts/vectors_to_lines.py). Prints "N passed, M failed"; exits 1 on any failure.
 *
 * Usage: test_api VECTORS.lines
 *
 * Portable C11 plus POSIX threads: the same file builds with gcc on Linux and with MinGW-w64 for
 * the Windows DLLs (run under Wine). Built with CST_DEBUG_PANIC against a library with the
 * debug-panic feature (Linux), or with CST_TEST_RELEASE_ARTEFACT against a shipped release
 * library, which has no debug hooks (the panic-boundary and live-token tests are then left out).
 */
#define _POSIX_C_SOURCE 200809L
#include "cstoken.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed, current_ok;
static const char *current;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n", current, __FILE__, __LINE__, #cond); \
            current_ok = 0;                                                               \
        }                                                                                 \
    } while (0)

#define CHECK_STATUS(call, expected)                                                             \
    do {                                                                                         \
        int32_t st_ = (call);                                                                    \
        if (st_ != (expected)) {                                                                 \
            fprintf(stderr, "FAIL %s (%s:%d): %s returned %s, expected %s: %s\n", current,       \
                    __FILE__, __LINE__, #call, cst_status_get_name(st_), cst_status_get_name(expected),  \
                    last_message());                                                             \
            current_ok = 0;                                                                      \
        }                                                                                        \
    } while (0)

static void begin(const char *name) {
    current = name;
    current_ok = 1;
}

static void end(void) {
    if (current_ok) {
        passed++;
    } else {
        failed++;
    }
}

#define RUN(fn) \
    do {        \
        begin(#fn); \
        fn();   \
        end();  \
    } while (0)

static char message_buf[2048];
static const char *last_message(void) {
    size_t n = 0;
    if (cst_last_error_get_message(message_buf, sizeof message_buf, &n) != CST_OK) {
        return "(message too long)";
    }
    return message_buf;
}

static char kind_buf[64];
static const char *last_kind(void) {
    size_t n = 0;
    if (cst_last_error_get_code(kind_buf, sizeof kind_buf, &n) != CST_OK) {
        return "(kind too long)";
    }
    return kind_buf;
}

/* Sets one option by name (both NUL-terminated here). */
static int set_option(cst_state_options *o, const char *name, const char *value) {
    return cst_state_options_set(o, name, strlen(name), value, strlen(value));
}

/* Renders a token into a fresh malloc'd string, using the size-query protocol. */
static char *render(const cst_token *t) {
    size_t need = 0;
    if (cst_token_to_string(t, NULL, 0, &need) != CST_ERR_BUFFER_TOO_SMALL) {
        return NULL;
    }
    char *buf = malloc(need + 1);
    size_t n = 0;
    if (buf == NULL || cst_token_to_string(t, buf, need + 1, &n) != CST_OK || n != need) {
        free(buf);
        return NULL;
    }
    return buf;
}

static cst_token *parse(const char *s, uint32_t flags) {
    cst_token *t = NULL;
    if (cst_token_parse(s, strlen(s), flags, &t) != CST_OK) {
        return NULL;
    }
    return t;
}

static int renders_as(const cst_token *t, const char *expected) {
    char *s = render(t);
    int ok = s != NULL && strcmp(s, expected) == 0;
    if (!ok) {
        fprintf(stderr, "  rendered \"%s\", expected \"%s\"\n", s ? s : "(null)", expected);
    }
    free(s);
    return ok;
}

/* ---------------------------------------------------------------- API tests */

static void test_versions(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "cosmos-session-token %d.%d.%d", CST_VERSION_MAJOR,
             CST_VERSION_MINOR, CST_VERSION_PATCH);
    CHECK(strcmp(cst_library_get_version(), expected) == 0);
    CHECK(cst_library_get_abi_version() == CST_ABI_VERSION);
}

static void test_status_names(void) {
    CHECK(strcmp(cst_status_get_name(CST_OK), "CST_OK") == 0);
    CHECK(strcmp(cst_status_get_name(CST_ERR_MALFORMED), "CST_ERR_MALFORMED") == 0);
    CHECK(strcmp(cst_status_get_name(CST_ERR_PANIC), "CST_ERR_PANIC") == 0);
    CHECK(strcmp(cst_status_get_name(12345), "CST_ERR_UNKNOWN") == 0);
    CHECK(strcmp(cst_status_get_name(CST_ERR_REJECTED), "CST_ERR_REJECTED") == 0);
    for (int32_t s = CST_OK; s <= CST_ERR_REJECTED; s++) {
        CHECK(strncmp(cst_status_get_name(s), "CST_", 4) == 0);
        CHECK(strcmp(cst_status_get_name(s), "CST_ERR_UNKNOWN") != 0);
    }
}

static void test_buffer_protocol(void) {
    const char *tok = "0:1#100#1=20,1:42";
    const char *expected = "0:100,1:42";
    size_t n = 999;
    char buf[64];
    /* size query */
    CHECK_STATUS(cst_token_text_convert(tok, strlen(tok), CST_FORMAT_SIMPLE, NULL, 0, &n), CST_ERR_BUFFER_TOO_SMALL);
    CHECK(n == strlen(expected));
    CHECK(strcmp(last_kind(), "buffer_too_small") == 0);
    /* exactly the length is too small: the NUL needs a byte; nothing is written */
    memset(buf, 'Z', sizeof buf);
    n = 0;
    CHECK_STATUS(cst_token_text_convert(tok, strlen(tok), CST_FORMAT_SIMPLE, buf, strlen(expected), &n), CST_ERR_BUFFER_TOO_SMALL);
    CHECK(n == strlen(expected));
    CHECK(buf[0] == 'Z' && buf[strlen(expected)] == 'Z');
    /* length + 1 fits, NUL-terminated */
    CHECK_STATUS(cst_token_text_convert(tok, strlen(tok), CST_FORMAT_SIMPLE, buf, strlen(expected) + 1, &n), CST_OK);
    CHECK(n == strlen(expected) && strcmp(buf, expected) == 0);
    /* out_len NULL; buf NULL with a capacity */
    CHECK_STATUS(cst_token_text_convert(tok, strlen(tok), CST_FORMAT_SIMPLE, buf, sizeof buf, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_text_convert(tok, strlen(tok), CST_FORMAT_SIMPLE, NULL, 10, &n), CST_ERR_NULL_ARGUMENT);
    /* on a parse failure neither buf nor out_len is written */
    n = 777;
    memset(buf, 'Z', sizeof buf);
    CHECK_STATUS(cst_token_text_convert("0:x", 3, CST_FORMAT_SIMPLE, buf, sizeof buf, &n), CST_ERR_MALFORMED);
    CHECK(n == 777 && buf[0] == 'Z');
    /* huge capacity is fine: only the needed bytes are touched */
    CHECK_STATUS(cst_token_text_convert(tok, strlen(tok), CST_FORMAT_SIMPLE, buf, SIZE_MAX, &n), CST_OK);
    CHECK(strcmp(buf, expected) == 0);
}

static void test_null_arguments(void) {
    cst_token *t = parse("0:1#5", 0), *out = NULL;
    size_t n = 0;
    int32_t order = 0;
    uint64_t h = 0;
    int64_t a = 0, b = 0;
    int32_t f = 0;
    uint32_t id = 0;
    char buf[32];
    CHECK(t != NULL);
    CHECK_STATUS(cst_token_text_check(NULL, 5, 0), CST_ERR_NULL_ARGUMENT);
    CHECK(strcmp(last_kind(), "null_argument") == 0);
    CHECK_STATUS(cst_token_text_check(NULL, 0, 0), CST_ERR_MALFORMED); /* empty token */
    CHECK(strcmp(last_kind(), "empty") == 0);
    CHECK_STATUS(cst_token_parse("0:1", 3, 0, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_parse(NULL, 3, 0, &out), CST_ERR_NULL_ARGUMENT);
    CHECK(out == NULL);
    CHECK_STATUS(cst_token_to_string(NULL, buf, sizeof buf, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_encoded_len(NULL, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_encoded_len(t, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_convert(NULL, CST_FORMAT_SIMPLE, &out), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_convert(t, CST_FORMAT_SIMPLE, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_merge(t, NULL, 0, &out), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_merge(NULL, t, 0, &out), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_merge(t, t, 0, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_compare(t, NULL, &order), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_compare(t, t, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_hash(NULL, &h), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_hash(t, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_scope(NULL, "0", 1, NULL, NULL, 0, &out), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_scope(t, "0", 1, NULL, NULL, 0, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_scope(t, "2", 1, NULL, NULL, 1, &out), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_count(NULL, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_count(t, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_range_id(NULL, 0, buf, sizeof buf, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_info(t, 0, NULL, &a, &b, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_info(NULL, 0, &f, &a, &b, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_region(t, 0, 0, NULL, &a), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_region(NULL, 0, 0, &id, &a), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_text_compare("0:1", 3, NULL, 3, &order), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_text_compare("0:1", 3, "0:1", 3, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_text_merge("0:1", 3, NULL, 1, 0, buf, sizeof buf, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_text_scope("0:1", 3, NULL, 1, NULL, NULL, 0, buf, sizeof buf, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_last_error_get_message(buf, sizeof buf, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_last_error_get_code(NULL, 5, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_last_error_get_position(NULL, &a), CST_ERR_NULL_ARGUMENT);
    CHECK(cst_token_clone(NULL) == NULL);
    cst_token_free(NULL);
    CHECK(out == NULL);
    cst_token_free(t);
}

static void test_invalid_utf8_and_arguments(void) {
    const char bad[] = {'0', ':', (char)0xff, '1'};
    size_t n = 0;
    char buf[32];
    int64_t seg = 0, off = 0;
    CHECK_STATUS(cst_token_text_check(bad, sizeof bad, 0), CST_ERR_INVALID_UTF8);
    CHECK(strcmp(last_kind(), "invalid_utf8") == 0);
    CHECK_STATUS(cst_last_error_get_position(&seg, &off), CST_OK);
    CHECK(off == 2);
    const char *parents[] = {"0"};
    size_t lens[] = {1};
    CHECK_STATUS(cst_token_text_scope("0:1", 3, bad, sizeof bad, parents, lens, 1, buf, sizeof buf, &n), CST_ERR_INVALID_UTF8);
    const char *bad_parents[] = {bad};
    size_t bad_lens[] = {sizeof bad};
    CHECK_STATUS(cst_token_text_scope("0:1", 3, "2", 1, bad_parents, bad_lens, 1, buf, sizeof buf, &n), CST_ERR_INVALID_UTF8);
    CHECK_STATUS(cst_token_text_check("0:1", 3, 8), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "invalid_argument") == 0);
    CHECK_STATUS(cst_token_text_convert("0:1", 3, 7, buf, sizeof buf, &n), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_token_text_merge("0:1", 3, "0:2", 3, 0x80, buf, sizeof buf, &n), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_token_text_check("0:1", (size_t)-1, 0), CST_ERR_INVALID_ARGUMENT);
}

static void test_malformed_details(void) {
    const char *tok = "0:1#5,17:1#x1";
    int64_t seg = 0, off = 0;
    size_t n = 0;
    CHECK_STATUS(cst_token_text_check(tok, strlen(tok), 0), CST_ERR_MALFORMED);
    CHECK(strcmp(last_message(), "segment 1 (range \"17\"): global LSN \"x1\" is not a decimal number (byte 11)") == 0);
    CHECK(strcmp(last_kind(), "not_a_number") == 0);
    CHECK_STATUS(cst_last_error_get_position(&seg, &off), CST_OK);
    CHECK(seg == 1 && off == 11);
    /* reading the error does not change it, and a too-small read reports the size */
    CHECK_STATUS(cst_last_error_get_message(NULL, 0, &n), CST_ERR_BUFFER_TOO_SMALL);
    CHECK(n == strlen("segment 1 (range \"17\"): global LSN \"x1\" is not a decimal number (byte 11)"));
    CHECK(strcmp(last_kind(), "not_a_number") == 0);
    /* lenient flag accepts what strict refuses */
    CHECK_STATUS(cst_token_text_check(" 0:1#007#", 9, CST_FLAG_LENIENT), CST_OK);
    CHECK_STATUS(cst_token_text_check(" 0:1#007#", 9, 0), CST_ERR_MALFORMED);
}

static void test_limits(void) {
    size_t big = (1u << 20) + 10;
    char *s = malloc(big);
    CHECK(s != NULL);
    if (s == NULL) {
        return;
    }
    memset(s, '1', big);
    s[0] = '0';
    s[1] = ':';
    CHECK_STATUS(cst_token_text_check(s, big, 0), CST_ERR_LIMIT_EXCEEDED);
    CHECK(strcmp(last_kind(), "input_too_large") == 0);
    /* 300 regions > 256 */
    size_t off = (size_t)sprintf(s, "0:1#5");
    for (int i = 1; i <= 300; i++) {
        off += (size_t)sprintf(s + off, "#%d=1", i);
    }
    CHECK_STATUS(cst_token_text_check(s, off, 0), CST_ERR_LIMIT_EXCEEDED);
    CHECK(strcmp(last_kind(), "too_many_regions") == 0);
    /* a 257-byte range id */
    memset(s, 'a', 257);
    memcpy(s + 257, ":1", 2);
    CHECK_STATUS(cst_token_text_check(s, 259, 0), CST_ERR_LIMIT_EXCEEDED);
    CHECK(strcmp(last_kind(), "range_id_too_long") == 0);
    /* 70,000 segments > 65,536 */
    off = 0;
    for (int i = 0; i < 70000; i++) {
        off += (size_t)sprintf(s + off, "%s%d:1", i ? "," : "", i);
    }
    CHECK_STATUS(cst_token_text_check(s, off, 0), CST_ERR_LIMIT_EXCEEDED);
    CHECK(strcmp(last_kind(), "too_many_segments") == 0);
    /* JSON nested 10,000 deep: a clear error, no stack overflow */
    off = 0;
    for (int i = 0; i < 10000; i++) s[off++] = '[';
    for (int i = 0; i < 10000; i++) s[off++] = ']';
    cst_container *c = NULL;
    CHECK_STATUS(cst_container_new(&c), CST_OK);
    CHECK_STATUS(cst_container_restore(c, s, off), CST_ERR_MALFORMED);
    CHECK(strcmp(last_kind(), "invalid_snapshot") == 0);
    cst_container_free(c);
    const char *ranges[] = {s};
    size_t rlens[] = {off};
    const char *tokens[] = {"0:1"};
    size_t tlens[] = {3};
    char buf[64];
    size_t n = 0;
    s[0] = '{';
    CHECK_STATUS(cst_token_text_find_latest_for_feed_range(ranges, rlens, tokens, tlens, 1, "-FF", 3, buf, sizeof buf, &n), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "invalid_feed_range") == 0);
    free(s);
}

static void test_token_handle(void) {
    cst_token *a = parse("0:1#100#1=20#2=-1,1:-1#42,2:7", 0);
    cst_token *b = parse("0:1#101#1=10#2=5", 0);
    cst_token *m = NULL, *c = NULL, *s = NULL, *v = NULL;
    size_t n = 0, regions = 0;
    int32_t order = -5, format = -1;
    int64_t version = 0, glsn = 0, lsn = 0;
    uint32_t id = 0;
    uint64_t h1 = 0, h2 = 0;
    char buf[64];
    CHECK(a != NULL && b != NULL);
    CHECK(renders_as(a, "0:1#100#1=20#2=-1,1:-1#42,2:7"));
    CHECK_STATUS(cst_token_get_encoded_len(a, &n), CST_OK);
    CHECK(n == strlen("0:1#100#1=20#2=-1,1:-1#42,2:7"));
    CHECK_STATUS(cst_token_get_segment_count(a, &n), CST_OK);
    CHECK(n == 3);
    CHECK_STATUS(cst_token_get_segment_range_id(a, 1, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "1") == 0 && n == 1);
    CHECK_STATUS(cst_token_get_segment_info(a, 0, &format, &version, &glsn, &regions), CST_OK);
    CHECK(format == CST_FORMAT_VECTOR && version == 1 && glsn == 100 && regions == 2);
    CHECK_STATUS(cst_token_get_segment_region(a, 0, 1, &id, &lsn), CST_OK);
    CHECK(id == 2 && lsn == -1);
    CHECK_STATUS(cst_token_get_segment_info(a, 2, &format, &version, &glsn, &regions), CST_OK);
    CHECK(format == CST_FORMAT_SIMPLE && version == 0 && glsn == 7 && regions == 0);
    CHECK_STATUS(cst_token_get_segment_info(a, 3, &format, &version, &glsn, &regions), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_region(a, 0, 2, &id, &lsn), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_token_get_segment_range_id(a, 9, buf, sizeof buf, &n), CST_ERR_INVALID_ARGUMENT);

    CHECK_STATUS(cst_token_merge(a, b, CST_FLAG_UNION_REGIONS, &m), CST_OK);
    CHECK(m != NULL && renders_as(m, "0:1#101#1=20#2=5,1:-1#42,2:7"));
    CHECK_STATUS(cst_token_compare(m, a, &order), CST_OK);
    CHECK(order == CST_ORDER_GREATER);
    CHECK_STATUS(cst_token_compare(a, m, &order), CST_OK);
    CHECK(order == CST_ORDER_LESS);
    CHECK_STATUS(cst_token_compare(a, b, &order), CST_OK);
    CHECK(order == CST_ORDER_CONCURRENT);

    c = cst_token_clone(a);
    CHECK(c == a);
    CHECK_STATUS(cst_token_compare(a, c, &order), CST_OK);
    CHECK(order == CST_ORDER_EQUAL);
    cst_token_free(c); /* a is still alive */
    CHECK(renders_as(a, "0:1#100#1=20#2=-1,1:-1#42,2:7"));

    /* semantic equality and hashing: order of segments and regions does not matter */
    cst_token *p = parse("2:7,1:-1#42,0:1#100#2=-1#1=20", 0);
    CHECK_STATUS(cst_token_compare(a, p, &order), CST_OK);
    CHECK(order == CST_ORDER_EQUAL);
    CHECK_STATUS(cst_token_hash(a, &h1), CST_OK);
    CHECK_STATUS(cst_token_hash(p, &h2), CST_OK);
    CHECK(h1 == h2);
    cst_token_free(p);

    const char *parents[] = {"0", "1"};
    size_t lens[] = {1, 1};
    CHECK_STATUS(cst_token_scope(a, "1", 1, NULL, NULL, 0, &s), CST_OK);
    CHECK(s != NULL && renders_as(s, "1:-1#42"));
    cst_token_free(s);
    s = NULL;
    CHECK_STATUS(cst_token_scope(b, "5", 1, parents, lens, 1, &s), CST_OK);
    CHECK(s != NULL && renders_as(s, "5:1#101#1=10#2=5"));
    cst_token_free(s);
    s = NULL;
    CHECK_STATUS(cst_token_scope(a, "9", 1, NULL, NULL, 0, &s), CST_ERR_NOT_FOUND);
    CHECK(s == NULL && strcmp(last_kind(), "not_found") == 0);

    CHECK_STATUS(cst_token_convert(a, CST_FORMAT_SIMPLE, &v), CST_OK);
    CHECK(v != NULL && renders_as(v, "0:100,1:42,2:7"));
    cst_token_free(v);
    v = NULL;
    CHECK_STATUS(cst_token_convert(a, 3, &v), CST_ERR_INVALID_ARGUMENT);
    CHECK(v == NULL);

    cst_token *x = parse("0:1#101#1=20", 0), *y = parse("0:1#100#4=20", 0), *z = NULL;
    {
        /* Merge rendered into a caller's buffer: no handle. */
        char buf[64], small[8];
        size_t n = 0;
        CHECK_STATUS(cst_token_merge_to_string(x, y, 0, buf, sizeof buf, &n), CST_ERR_INCOMPATIBLE);
        CHECK(strcmp(last_kind(), "region_mismatch") == 0);
        CHECK_STATUS(cst_token_merge_to_string(x, y, CST_FLAG_UNION_REGIONS, buf, sizeof buf, &n), CST_OK);
        CHECK(strcmp(buf, "0:1#101#1=20#4=20") == 0 && n == 17);
        /* Too small (17 bytes plus the NUL needed): *out_len says so, the buffer is untouched. */
        memset(small, 'x', sizeof small);
        CHECK_STATUS(cst_token_merge_to_string(x, y, CST_FLAG_UNION_REGIONS, small, sizeof small, &n), CST_ERR_BUFFER_TOO_SMALL);
        CHECK(n == 17 && small[0] == 'x' && small[7] == 'x');
        CHECK_STATUS(cst_token_merge_to_string(x, y, CST_FLAG_UNION_REGIONS, buf, 17, &n), CST_ERR_BUFFER_TOO_SMALL);
        CHECK_STATUS(cst_token_merge_to_string(x, y, CST_FLAG_UNION_REGIONS, NULL, 0, &n), CST_ERR_BUFFER_TOO_SMALL);
        CHECK(n == 17);
        CHECK_STATUS(cst_token_merge_to_string(x, NULL, 0, buf, sizeof buf, &n), CST_ERR_NULL_ARGUMENT);
        CHECK_STATUS(cst_token_merge_to_string(NULL, y, 0, buf, sizeof buf, &n), CST_ERR_NULL_ARGUMENT);
        CHECK_STATUS(cst_token_merge_to_string(x, y, CST_FLAG_UNION_REGIONS, buf, sizeof buf, NULL), CST_ERR_NULL_ARGUMENT);
        CHECK_STATUS(cst_token_merge_to_string(x, y, CST_FLAG_LENIENT, buf, sizeof buf, &n), CST_ERR_INVALID_ARGUMENT);
    }
    CHECK_STATUS(cst_token_merge(x, y, 0, &z), CST_ERR_INCOMPATIBLE);
    CHECK(z == NULL && strcmp(last_kind(), "region_mismatch") == 0);
    CHECK(strstr(last_message(), "range \"0\"") != NULL);
    CHECK_STATUS(cst_token_merge(x, y, CST_FLAG_LEGACY_MAX_GLOBAL_LSN | CST_FLAG_UNION_REGIONS, &z), CST_OK);
    CHECK(z != NULL && renders_as(z, "0:1#101#1=20#4=20"));
    cst_token_free(x);
    cst_token_free(y);
    cst_token_free(z);

    cst_token_free(a);
    cst_token_free(b);
    cst_token_free(m);
}

static void test_oneshot(void) {
    char buf[128];
    size_t n = 0;
    int32_t order = -1;
    CHECK_STATUS(cst_token_text_check("0:1#100#1=20", 12, 0), CST_OK);
    CHECK_STATUS(cst_token_text_merge("0:1#100#1=20#2=5", 16, "0:2#97#1=20#2=5", 15, 0, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "0:2#97#1=20#2=5") == 0);
    CHECK_STATUS(cst_token_text_merge("0:1#100#1=20#2=5", 16, "0:2#97#1=20#2=5", 15, CST_FLAG_LEGACY_MAX_GLOBAL_LSN, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "0:2#100#1=20#2=5") == 0);
    CHECK_STATUS(cst_token_text_merge(" 0:1#5 ", 7, "0:1#6,", 6, CST_FLAG_LENIENT, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "0:1#6") == 0);
    CHECK_STATUS(cst_token_text_compare("0:1#100#1=20", 12, "0:2#97#1=20", 11, &order), CST_OK);
    CHECK(order == CST_ORDER_LESS);
    const char *parents[] = {"0", "1"};
    size_t lens[] = {1, 1};
    const char *tok = "0:1#100#1=199#2=300,1:1#99#1=200#2=299";
    CHECK_STATUS(cst_token_text_scope(tok, strlen(tok), "2", 1, parents, lens, 2, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "2:1#100#1=200#2=300") == 0);
    CHECK_STATUS(cst_token_text_scope(tok, strlen(tok), "2", 1, NULL, NULL, 0, buf, sizeof buf, &n), CST_ERR_NOT_FOUND);
    CHECK_STATUS(cst_token_text_convert("7:8,6:2008", 10, CST_FORMAT_VECTOR, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "7:-2#8,6:-2#2008") == 0);
}

static void test_latest_for_feed_range(void) {
    const char *ranges[] = {"AA-DD", "{\"Range\":{\"min\":\"AA\",\"max\":\"BB\"}}", "BB-DD"};
    size_t rlens[] = {5, strlen(ranges[1]), 5};
    const char *tokens[] = {"0:1#51#3=52", "1:1#55#3=52", " 2:1#54#3=52 "};
    size_t tlens[] = {11, 11, 13};
    size_t bad_lens[] = {11, 3, 3};
    char buf[128];
    size_t n = 0;
    CHECK_STATUS(cst_token_text_find_latest_for_feed_range(ranges, rlens, tokens, tlens, 3, "AA-DD", 5, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "1:1#55#3=52,2:1#54#3=52") == 0);
    CHECK_STATUS(cst_token_text_find_latest_for_feed_range(ranges, rlens, tokens, tlens, 3, "DD-EE", 5, buf, sizeof buf, &n), CST_ERR_NOT_FOUND);
    CHECK(strcmp(last_kind(), "no_overlapping_feed_range") == 0);
    CHECK_STATUS(cst_token_text_find_latest_for_feed_range(ranges, rlens, tokens, tlens, 3, "dd-EE", 5, buf, sizeof buf, &n), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "invalid_feed_range") == 0);
    const char *bad_tokens[] = {"0:1#51#3=52", "1:x", "2:1"};
    CHECK_STATUS(cst_token_text_find_latest_for_feed_range(ranges, rlens, bad_tokens, bad_lens, 3, "AA-DD", 5, buf, sizeof buf, &n), CST_ERR_MALFORMED);
    CHECK(strncmp(last_message(), "pair 1: ", 8) == 0);
    CHECK_STATUS(cst_token_text_find_latest_for_feed_range(NULL, rlens, tokens, tlens, 3, "AA-DD", 5, buf, sizeof buf, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_token_text_find_latest_for_feed_range(ranges, rlens, tokens, tlens, 0, "AA-DD", 5, buf, sizeof buf, &n), CST_ERR_NOT_FOUND);
}

static void test_seal_unseal(void) {
    const unsigned char key[] = "0123456789abcdef0123456789abcdef";
    const unsigned char old[] = "an-older-key-still-valid";
    char sealed[256], back[256];
    size_t n = 0, m = 0;
    CHECK_STATUS(cst_token_text_seal("0:1#100#1=20", 12, key, 32, "user-42", 7, 0, sealed, sizeof sealed, &n), CST_OK);
    CHECK(strncmp(sealed, "cst1.", 5) == 0);
    const unsigned char *keys[] = {old, key};
    size_t lens[] = {24, 32};
    CHECK_STATUS(cst_token_text_unseal(sealed, n, keys, lens, 2, "user-42", 7, 0, back, sizeof back, &m), CST_OK);
    CHECK(strcmp(back, "0:1#100#1=20") == 0);
    CHECK_STATUS(cst_token_text_unseal(sealed, n, keys, lens, 2, "user-43", 7, 0, back, sizeof back, &m), CST_ERR_REJECTED);
    CHECK(strcmp(last_kind(), "bad_signature") == 0);
    CHECK_STATUS(cst_token_text_unseal(sealed, n, keys, lens, 1, "user-42", 7, 0, back, sizeof back, &m), CST_ERR_REJECTED);
    CHECK_STATUS(cst_token_text_unseal(sealed, n, NULL, NULL, 0, "user-42", 7, 0, back, sizeof back, &m), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "no_keys") == 0);
    CHECK_STATUS(cst_token_text_unseal(sealed, n, NULL, lens, 1, "user-42", 7, 0, back, sizeof back, &m), CST_ERR_NULL_ARGUMENT);
    /* More keys than the limit is an error, not a silent truncation. */
    static const unsigned char *many[1025];
    static size_t many_lens[1025];
    for (int i = 0; i < 1025; i++) {
        many[i] = key;
        many_lens[i] = 32;
    }
    CHECK_STATUS(cst_token_text_unseal(sealed, n, many, many_lens, 1025, "user-42", 7, 0, back, sizeof back, &m), CST_ERR_LIMIT_EXCEEDED);
    CHECK_STATUS(cst_token_text_unseal(sealed, n, many, many_lens, 1024, "user-42", 7, 0, back, sizeof back, &m), CST_OK);
    CHECK_STATUS(cst_token_text_seal("0:1#100#1=20", 12, key, 8, "", 0, 0, sealed, sizeof sealed, &n), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "weak_key") == 0);
    CHECK_STATUS(cst_token_text_seal("0:1#100#1=20", 12, key, 32, "", 0, 20, sealed, sizeof sealed, &n), CST_ERR_LIMIT_EXCEEDED);
    CHECK(strstr(last_message(), "scope the token") != NULL);
    CHECK_STATUS(cst_token_text_seal("0:1#100#1=20", 12, NULL, 32, "", 0, 0, sealed, sizeof sealed, &n), CST_ERR_NULL_ARGUMENT);
}

#if defined(CST_DEBUG_PANIC)
static void test_live_token_count(void) {
    size_t before = cst_debug_get_live_tokens();
    cst_token *t = parse("0:1#5", 0), *u = parse("0:1#6", 0), *m = NULL;
    CHECK(cst_debug_get_live_tokens() == before + 2);
    cst_token *shared = cst_token_clone(t); /* another reference, not another token */
    CHECK(cst_debug_get_live_tokens() == before + 2);
    CHECK_STATUS(cst_token_merge(t, u, 0, &m), CST_OK);
    CHECK(cst_debug_get_live_tokens() == before + 3);
    cst_token_free(t);
    CHECK(cst_debug_get_live_tokens() == before + 3);
    cst_token_free(shared);
    cst_token_free(u);
    cst_token_free(m);
    CHECK(cst_debug_get_live_tokens() == before);
}

static void test_panic_boundary(void) {
    CHECK_STATUS(cst_debug_panic(), CST_ERR_PANIC);
    CHECK(strcmp(last_kind(), "panic") == 0);
    CHECK(strstr(last_message(), "internal error in native library") != NULL);
    /* still usable afterwards */
    CHECK_STATUS(cst_token_text_check("0:1", 3, 0), CST_OK);
}
#endif

/* ---------------------------------------------------------------- threads */

#define THREADS 8
#define ROUNDS 500

struct shared {
    const cst_token *a, *b;
    int ok;
};

static void *worker(void *arg) {
    struct shared *sh = arg;
    char buf[128], msg[256];
    size_t n = 0;
    for (int i = 0; i < ROUNDS; i++) {
        cst_token *m = NULL;
        int32_t order = -1;
        if (cst_token_to_string(sh->a, buf, sizeof buf, &n) != CST_OK || strcmp(buf, "0:1#100#1=20,1:-1#42") != 0) {
            sh->ok = 0;
        }
        if (cst_token_merge(sh->a, sh->b, 0, &m) != CST_OK || cst_token_compare(m, sh->a, &order) != CST_OK ||
            order != CST_ORDER_GREATER) {
            sh->ok = 0;
        }
        cst_token_free(m);
        /* each thread's last error is its own */
        char tok[32];
        int len = snprintf(tok, sizeof tok, "0:1#%dx", i);
        if (cst_token_text_check(tok, (size_t)len, 0) != CST_ERR_MALFORMED ||
            cst_last_error_get_message(msg, sizeof msg, &n) != CST_OK) {
            sh->ok = 0;
        }
        char expect[64];
        snprintf(expect, sizeof expect, "\"%dx\"", i);
        if (strstr(msg, expect) == NULL) {
            sh->ok = 0;
        }
    }
    return NULL;
}

static void *fresh_thread(void *arg) {
    size_t n = 99;
    char buf[8];
    int *ok = arg;
    *ok = cst_last_error_get_message(buf, sizeof buf, &n) == CST_OK && n == 0 && buf[0] == '\0';
    return NULL;
}

static void test_threads_share_one_handle(void) {
    cst_token *a = parse("0:1#100#1=20,1:-1#42", 0), *b = parse("0:1#101#1=20", 0);
    pthread_t th[THREADS];
    struct shared sh[THREADS];
    CHECK(a != NULL && b != NULL);
    for (int i = 0; i < THREADS; i++) {
        sh[i].a = a;
        sh[i].b = b;
        sh[i].ok = 1;
        CHECK(pthread_create(&th[i], NULL, worker, &sh[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(sh[i].ok);
    }
    int fresh_ok = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fresh_thread, &fresh_ok) == 0);
    pthread_join(t, NULL);
    CHECK(fresh_ok);
    cst_token_free(a);
    cst_token_free(b);
}

/* ---------------------------------------------------------------- container */

#define NAME "dbs/db/colls/orders"
#define S(lit) lit, strlen(lit)

static void test_flags_apply_per_function(void) {
    cst_token *a = parse("0:1#5", 0), *b = parse("0:1#6", 0), *m = NULL;
    char buf[64];
    size_t n = 0;
    /* Lenient parsing does not apply to merging parsed handles. */
    CHECK_STATUS(cst_token_merge(a, b, CST_FLAG_LENIENT, &m), CST_ERR_INVALID_ARGUMENT);
    CHECK(m == NULL && strcmp(last_kind(), "invalid_argument") == 0);
    CHECK(strstr(last_message(), "do not apply") != NULL);
    /* Merge policies do not apply to parsing. */
    CHECK_STATUS(cst_token_parse("0:1#5", 5, CST_FLAG_UNION_REGIONS, &m), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_token_text_check("0:1#5", 5, CST_FLAG_LEGACY_MAX_GLOBAL_LSN), CST_ERR_INVALID_ARGUMENT);
    /* A text merge parses, so every flag applies. */
    CHECK_STATUS(cst_token_text_merge("0:1#5", 5, "0:1#6", 5, CST_FLAG_LENIENT | CST_FLAG_UNION_REGIONS, buf, sizeof buf, &n), CST_OK);
    CHECK_STATUS(cst_token_merge(a, b, CST_FLAG_UNION_REGIONS | CST_FLAG_LEGACY_MAX_GLOBAL_LSN, &m), CST_OK);
    cst_token_free(a);
    cst_token_free(b);
    cst_token_free(m);
}

static void test_handle_variants(void) {
    static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
    const unsigned char *keys[] = {key};
    size_t lens[] = {32}, n = 0, m = 0;
    cst_token *t = parse("0:1#100#1=20,1:1#7", 0), *back = NULL, *latest = NULL;
    char sealed[512], text_sealed[512];
    CHECK_STATUS(cst_token_seal(t, key, 32, "ctx", 3, 0, sealed, sizeof sealed, &n), CST_OK);
    /* The handle variant and the text helper give the same envelope. */
    CHECK_STATUS(cst_token_text_seal("0:1#100#1=20,1:1#7", 18, key, 32, "ctx", 3, 0, text_sealed, sizeof text_sealed, &m), CST_OK);
    CHECK(n == m && strcmp(sealed, text_sealed) == 0);
    CHECK_STATUS(cst_token_unseal(sealed, n, keys, lens, 1, "ctx", 3, 0, &back), CST_OK);
    CHECK(back != NULL && renders_as(back, "0:1#100#1=20,1:1#7"));
    CHECK_STATUS(cst_token_unseal(sealed, n, keys, lens, 1, "other", 5, 0, &latest), CST_ERR_REJECTED);
    CHECK(latest == NULL && strcmp(last_kind(), "bad_signature") == 0);
    CHECK_STATUS(cst_token_unseal(sealed, n, keys, lens, 1, "ctx", 3, 0, NULL), CST_ERR_NULL_ARGUMENT);
    const char *ranges[] = {"AA-DD", "AA-BB"}, *tokens[] = {"0:1#5", "1:1#9"};
    size_t rl[] = {5, 5}, tl[] = {5, 5};
    CHECK_STATUS(cst_token_find_latest_for_feed_range(ranges, rl, tokens, tl, 2, "AA-BB", 5, &latest), CST_OK);
    char text[128];
    CHECK_STATUS(cst_token_text_find_latest_for_feed_range(ranges, rl, tokens, tl, 2, "AA-BB", 5, text, sizeof text, &n), CST_OK);
    CHECK(latest != NULL && renders_as(latest, text));
    cst_token_free(t);
    cst_token_free(back);
    cst_token_free(latest);
}

static void test_carrier(void) {
    static const unsigned char old_key[] = "0123456789abcdef", new_key[] = "fedcba9876543210";
    const unsigned char *keys[] = {new_key, old_key};
    size_t lens[] = {16, 16}, n = 0;
    cst_carrier *a = NULL, *b = NULL;
    bool ok = true, changed = true;
    CHECK_STATUS(cst_carrier_new(keys, lens, 2, "user-1", 6, 0, &a), CST_OK);
    CHECK_STATUS(cst_carrier_read(a, NULL, 0, &ok), CST_OK);
    CHECK(!ok);
    CHECK_STATUS(cst_carrier_seal(a, NULL, 0, &n), CST_ERR_NOT_FOUND);
    CHECK_STATUS(cst_carrier_report(a, "", 0, &ok), CST_OK);
    CHECK(!ok); /* an empty header is no token */
    CHECK_STATUS(cst_carrier_report(a, "0:1#5#1=1", 9, &ok), CST_OK);
    CHECK(ok);
    /* Same version, other regions: the union policy never fails a report. */
    CHECK_STATUS(cst_carrier_report(a, "0:1#5#2=1,1:1#7", 15, &ok), CST_OK);
    CHECK_STATUS(cst_carrier_report(a, "0:1#x", 5, &ok), CST_ERR_MALFORMED);
    CHECK_STATUS(cst_carrier_get_changed(a, &changed), CST_OK);
    CHECK(changed);
    char cookie[512];
    CHECK_STATUS(cst_carrier_seal(a, cookie, sizeof cookie, &n), CST_OK);
    CHECK(strncmp(cookie, "cst2.", 5) == 0);
    CHECK_STATUS(cst_carrier_new(keys, lens, 2, "user-1", 6, 0, &b), CST_OK);
    CHECK_STATUS(cst_carrier_read(b, cookie, n, &ok), CST_OK);
    CHECK(ok);
    CHECK_STATUS(cst_carrier_get_changed(b, &changed), CST_OK);
    CHECK(!changed);
    cst_token *scoped = NULL, *all = NULL;
    CHECK_STATUS(cst_carrier_scope(b, "1", 1, NULL, NULL, 0, &scoped), CST_OK);
    CHECK(scoped != NULL && renders_as(scoped, "1:1#7"));
    CHECK_STATUS(cst_carrier_get_token(b, &all), CST_OK);
    CHECK(all != NULL && renders_as(all, "0:1#5#1=1#2=1,1:1#7"));
    CHECK_STATUS(cst_carrier_report_token(b, all), CST_OK);
    cst_cookie_verdict verdict = CST_COOKIE_MISSING;
    CHECK_STATUS(cst_carrier_get_verdict(b, &verdict), CST_OK);
    CHECK(verdict == CST_COOKIE_ACCEPTED);
    /* Another user's cookie: refused, and the verdict says why. */
    cst_carrier *other = NULL;
    CHECK_STATUS(cst_carrier_new(keys, lens, 2, "user-2", 6, 0, &other), CST_OK);
    CHECK_STATUS(cst_carrier_read(other, cookie, n, &ok), CST_OK);
    CHECK(!ok);
    CHECK_STATUS(cst_carrier_get_verdict(other, &verdict), CST_OK);
    CHECK(verdict == CST_COOKIE_FOREIGN_CONTEXT);
    cst_carrier_free(other);
    /* Tampered, foreign-context and over-budget cookies are no token, never an error. */
    cookie[n - 1] = cookie[n - 1] == 'A' ? 'B' : 'A';
    CHECK_STATUS(cst_carrier_read(b, cookie, n, &ok), CST_OK);
    CHECK(!ok);
    CHECK_STATUS(cst_carrier_get_token(b, &scoped), CST_ERR_NOT_FOUND);
    cst_carrier *tiny = NULL;
    CHECK_STATUS(cst_carrier_new(keys, lens, 1, "user-1", 6, 10, &tiny), CST_OK);
    CHECK_STATUS(cst_carrier_report_token(tiny, all), CST_OK);
    CHECK_STATUS(cst_carrier_seal(tiny, cookie, sizeof cookie, &n), CST_ERR_LIMIT_EXCEEDED);
    CHECK(strcmp(last_kind(), "seal_too_large") == 0);
    char name[64];
    CHECK_STATUS(cst_carrier_get_cookie_name(name, sizeof name, &n), CST_OK);
    CHECK(strcmp(name, "cosmos_token") == 0);
    CHECK_STATUS(cst_carrier_read(NULL, NULL, 0, &ok), CST_ERR_NULL_ARGUMENT);
    cst_token_free(scoped);
    cst_token_free(all);
    cst_carrier_free(a);
    cst_carrier_free(b);
    cst_carrier_free(tiny);
    cst_carrier_free(NULL);
}

/* The core's one cookie policy: names, legacy names, budget, binding and header, and the hooks built from it. */
static void test_cookie_policy(void) {
    const uint8_t *secrets[] = {(const uint8_t *)"framework-secret-0123456789"};
    size_t lens[] = {27}, n = 0, max = 0;
    char out[256];
    cst_cookie_policy *token = NULL, *state = NULL, *flow = NULL, *bad = NULL;
    CHECK_STATUS(cst_cookie_policy_new(CST_COOKIE_KIND_TOKEN, "aspnet", 6, "db", 2, "c", 1, secrets, lens, 1, true, -1, 0, &token), CST_OK);
    CHECK_STATUS(cst_cookie_policy_get_name(token, out, sizeof out, &n), CST_OK);
    CHECK(strcmp(out, "cosmos_token") == 0);
    CHECK_STATUS(cst_cookie_policy_get_legacy_name(token, 0, out, sizeof out, &n), CST_OK);
    CHECK(strcmp(out, "cosmos_session") == 0);
    CHECK_STATUS(cst_cookie_policy_get_legacy_name(token, 1, out, sizeof out, &n), CST_ERR_NOT_FOUND);
    CHECK_STATUS(cst_cookie_policy_get_max_bytes(token, &max), CST_OK);
    CHECK(max == 4000);
    /* Empty names are the store's defaults: the seal binds to the store the engine uses. */
    CHECK_STATUS(cst_cookie_policy_new(CST_COOKIE_KIND_STATE_TOKEN, "aspnet", 6, NULL, 0, NULL, 0, secrets, lens, 1, false, 60, 0, &state), CST_OK);
    CHECK_STATUS(cst_cookie_policy_compute_context(state, "sid", 3, out, sizeof out, &n), CST_OK);
    CHECK(strcmp(out, "token-cookie/6:aspnet/21:sessions/SessionStore/sid") == 0);
    CHECK_STATUS(cst_cookie_policy_compute_header(state, "v", 1, out, sizeof out, &n), CST_OK);
    CHECK(strcmp(out, "cosmos_state_token=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax") == 0);
    CHECK_STATUS(cst_cookie_policy_new(CST_COOKIE_KIND_FLOW, "aspnet", 6, NULL, 0, NULL, 0, secrets, lens, 1, true, -1, 500, &flow), CST_OK);
    cst_flow_cookies *cookies = NULL;
    CHECK_STATUS(cst_flow_cookies_new_from_policy(flow, &cookies), CST_OK);
    CHECK_STATUS(cst_flow_cookies_get_max_bytes(cookies, &max), CST_OK);
    CHECK(max == 500);
    cst_state_token_cookie *hook = NULL;
    CHECK_STATUS(cst_state_token_cookie_new_from_policy(flow, &hook), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_state_token_cookie_new_from_policy(state, &hook), CST_OK);
    CHECK_STATUS(cst_flow_cookies_new_from_policy(state, &cookies), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_cookie_policy_new(7, "aspnet", 6, NULL, 0, NULL, 0, secrets, lens, 1, true, -1, 0, &bad), CST_ERR_INVALID_ARGUMENT);
    lens[0] = 5;
    CHECK_STATUS(cst_cookie_policy_new(CST_COOKIE_KIND_FLOW, "aspnet", 6, NULL, 0, NULL, 0, secrets, lens, 1, true, -1, 0, &bad), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "weak_key") == 0);
    CHECK(cst_library_get_cookie_key_bytes() == 32);
    cst_state_token_cookie_free(hook);
    cst_flow_cookies_free(cookies);
    cst_cookie_policy_free(token);
    cst_cookie_policy_free(state);
    cst_cookie_policy_free(flow);
    cst_cookie_policy_free(NULL);
}

static void test_warnings_api(void) {
    cst_token *t = parse(" 0:1#007 ", CST_FLAG_LENIENT), *strict = parse("0:1#7", 0);
    size_t count = 9, cl = 0, ml = 0;
    int64_t seg = 0, off = 0;
    char code[64], msg[256];
    CHECK_STATUS(cst_token_get_warning_count(strict, &count), CST_OK);
    CHECK(count == 0);
    CHECK_STATUS(cst_token_get_warning_count(t, &count), CST_OK);
    CHECK(count == 2);
    CHECK_STATUS(cst_token_get_warning(t, 1, code, sizeof code, &cl, msg, sizeof msg, &ml, &seg, &off), CST_OK);
    CHECK(strcmp(code, "leading_zero") == 0 && seg == 0 && off == 5 && strstr(msg, "007") != NULL);
    /* Size query of both buffers at once, then the real call. */
    CHECK_STATUS(cst_token_get_warning(t, 0, NULL, 0, &cl, NULL, 0, &ml, &seg, &off), CST_ERR_BUFFER_TOO_SMALL);
    CHECK(cl == strlen("trimmed_whitespace") && ml > 0);
    CHECK_STATUS(cst_token_get_warning(t, 2, code, sizeof code, &cl, msg, sizeof msg, &ml, &seg, &off), CST_ERR_INVALID_ARGUMENT);
    cst_token_free(t);
    cst_token_free(strict);
}

static void test_error_table(void) {
    size_t count = cst_error_table_get_count(), n = 0;
    CHECK(count >= 40);
    int saw_not_a_number = 0;
    for (size_t i = 0; i < count; i++) {
        char code[64];
        int32_t status = 0;
        CHECK_STATUS(cst_error_table_get_row(i, code, sizeof code, &n, &status), CST_OK);
        CHECK(status >= CST_ERR_NULL_ARGUMENT && status <= CST_ERR_STORE);
        CHECK(strcmp(cst_status_get_name(status), "CST_ERR_UNKNOWN") != 0);
        if (strcmp(code, "not_a_number") == 0) {
            saw_not_a_number = status == CST_ERR_MALFORMED;
        }
    }
    CHECK(saw_not_a_number);
    int32_t status = 0;
    char code[64];
    CHECK_STATUS(cst_error_table_get_row(count, code, sizeof code, &n, &status), CST_ERR_INVALID_ARGUMENT);
}


/* The outside review's findings on the C surface: the web-session policy, session-id checks and
 * fingerprints, lock ids, the consistency default, key-free connection-string errors. */
static void test_security_review(void) {
    /* Cookie keys: derived (not the secret), rotation list, weak secrets refused. */
    const uint8_t *secrets[2] = {(const uint8_t *)"a-long-enough-secret", (const uint8_t *)"the-previous-secret!"};
    size_t lens[2] = {20, 20};
    uint8_t keys[64];
    CHECK_STATUS(cst_cookie_derive_keys(secrets, lens, 2, keys, sizeof keys), CST_OK);
    CHECK(memcmp(keys, keys + 32, 32) != 0 && memcmp(keys, secrets[0], 16) != 0);
    CHECK_STATUS(cst_cookie_derive_keys(secrets, lens, 2, keys, 63), CST_ERR_BUFFER_TOO_SMALL);
    size_t weak[1] = {8};
    CHECK_STATUS(cst_cookie_derive_keys(secrets, weak, 1, keys, sizeof keys), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "weak_key") == 0);
    CHECK_STATUS(cst_cookie_derive_keys(NULL, NULL, 0, keys, sizeof keys), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "no_keys") == 0);
    /* The context binds framework, app and session id; the header is Secure unless told. */
    char buf[256];
    size_t n = 0;
    CHECK_STATUS(cst_cookie_compute_context("aspnet", 6, "db/c", 4, "sid", 3, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "token-cookie/6:aspnet/4:db/c/sid") == 0 && n == strlen(buf));
    CHECK_STATUS(cst_cookie_compute_header("c", 1, "v", 1, -1, true, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "c=v; Path=/; HttpOnly; SameSite=Lax; Secure") == 0);
    CHECK_STATUS(cst_cookie_compute_header("c", 1, "v", 1, 60, false, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "c=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax") == 0);
    /* Session ids: checked, and named by a fingerprint in errors. */
    char long_id[200];
    memset(long_id, 'x', sizeof long_id);
    CHECK_STATUS(cst_session_id_check(long_id, sizeof long_id), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "invalid_session_id") == 0);
    CHECK_STATUS(cst_session_id_check("abc", 3), CST_OK);
    CHECK_STATUS(cst_session_id_get_fingerprint("abc", 3, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "session #ba7816bf8f01") == 0);
    cst_state *s = NULL;
    CHECK_STATUS(cst_state_open_memory(NULL, &s), CST_OK);
    const char *sid = "bearer-credential-0123456789";
    cst_state_result *r = NULL;
    CHECK_STATUS(cst_state_get_exclusive(s, sid, strlen(sid), &r), CST_OK);
    cst_state_entry e;
    CHECK_STATUS(cst_state_result_get_entry(r, &e), CST_OK);
    cst_state_result_free(r);
    uint64_t unlocked = 0;
    CHECK_STATUS(cst_state_force_unlock(s, sid, strlen(sid), &unlocked), CST_OK);
    CHECK_STATUS(cst_state_set_and_release(s, sid, strlen(sid), (const uint8_t *)"x", 1, e.lock_id, false, 0),
                 CST_ERR_LOCK_LOST);
    CHECK(strstr(last_message(), sid) == NULL && strstr(last_message(), "session #") != NULL);
    /* Lock ids above 2^53 - 1 are refused, never wrapped. */
    CHECK_STATUS(cst_state_set_and_release(s, "s", 1, (const uint8_t *)"x", 1, UINT64_MAX, true, 0),
                 CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "invalid_argument") == 0);
    bool flag = false;
    CHECK_STATUS(cst_state_release(s, "s", 1, (uint64_t)1 << 53, &flag), CST_ERR_INVALID_ARGUMENT);
    /* Delete without a lock: removes, then finds nothing. */
    CHECK_STATUS(cst_state_get_exclusive(s, "d", 1, &r), CST_OK);
    CHECK_STATUS(cst_state_result_get_entry(r, &e), CST_OK);
    cst_state_result_free(r);
    CHECK_STATUS(cst_state_set_and_release(s, "d", 1, (const uint8_t *)"x", 1, e.lock_id, true, 0), CST_OK);
    CHECK_STATUS(cst_state_delete(s, "d", 1, 1.0, &flag), CST_OK);
    CHECK(flag);
    CHECK_STATUS(cst_state_delete(s, "d", 1, 1.0, &flag), CST_OK);
    CHECK(!flag);
    CHECK_STATUS(cst_state_delete(s, "d", 1, -1.0, &flag), CST_ERR_INVALID_ARGUMENT);
    cst_state_free(s);
    /* Connection strings: http:// only for loopback; no part of a misplaced key in the message. */
    const char *plain_http = "AccountEndpoint=http://db.example.com/;AccountKey=c2VjcmV0;";
    cst_state *bad = NULL;
    CHECK_STATUS(cst_state_open(plain_http, strlen(plain_http), NULL, &bad), CST_ERR_INVALID_ARGUMENT);
    CHECK(strstr(last_message(), "clear text") != NULL);
    const char *misplaced = "AccountEndpoint=https://h/;AccountKey:c2VjcmV0c2VjcmV0c2VjcmV0==";
    CHECK_STATUS(cst_state_open(misplaced, strlen(misplaced), NULL, &bad), CST_ERR_INVALID_ARGUMENT);
    CHECK(strstr(last_message(), "c2VjcmV0") == NULL);
    /* The documented default consistency is what the defaults send: "AccountDefault" is the opt-out. */
    cst_state_options *o = NULL;
    CHECK_STATUS(cst_state_options_new(&o), CST_OK);
    char value[64];
    CHECK_STATUS(cst_state_options_get(o, "consistency", 11, value, sizeof value, &n), CST_OK);
    CHECK(strcmp(value, "Strong") == 0);
    CHECK_STATUS(set_option(o, "consistency", "AccountDefault"), CST_OK);
    CHECK_STATUS(cst_state_open_memory(o, &bad), CST_OK);
    cst_state_options_free(o);
    cst_state_free(bad);
}

/* The last-error functions during thread teardown: a pthread key destructor runs after the
 * library's thread-local storage may be gone; calls must neither panic nor abort. */
static pthread_key_t teardown_key;
static int teardown_status = -1;

static void teardown_destructor(void *arg) {
    (void)arg;
    char buf[64];
    size_t n = 0;
    int64_t seg = 0, off = 0;
    int a = cst_token_text_check("x", 1, 0);
    int b = cst_last_error_get_message(buf, sizeof buf, &n);
    int c = cst_last_error_get_code(buf, sizeof buf, &n);
    int d = cst_last_error_get_position(&seg, &off);
    teardown_status = (a == CST_ERR_MALFORMED && b == CST_OK && c == CST_OK && d == CST_OK) ? 0 : 1;
}

static void *teardown_thread(void *arg) {
    (void)arg;
    pthread_setspecific(teardown_key, (void *)1);
    CHECK_STATUS(cst_token_text_check("0:1#x", 5, 0), CST_ERR_MALFORMED); /* the slot exists */
    return NULL;
}

static void test_last_error_during_thread_teardown(void) {
    CHECK(pthread_key_create(&teardown_key, teardown_destructor) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, teardown_thread, NULL) == 0);
    pthread_join(t, NULL);
    CHECK(teardown_status == 0);
    pthread_key_delete(teardown_key);
}

/* The option table: names, types and defaults as the state crate lists them. */
static void test_state_options(void) {
    size_t n = 0;
    CHECK_STATUS(cst_state_option_table_get_json(NULL, 0, &n), CST_ERR_BUFFER_TOO_SMALL);
    char *table = malloc(n + 1);
    CHECK_STATUS(cst_state_option_table_get_json(table, n + 1, &n), CST_OK);
    CHECK(strstr(table, "{\"name\":\"lock_ttl\"") != NULL || strstr(table, "\"name\":\"lock_ttl\"") != NULL);
    CHECK(strstr(table, "\"max_retries\"") != NULL && strstr(table, "\"managed_identity_client_id\"") != NULL);
    free(table);
    cst_state_options *o = NULL;
    CHECK_STATUS(cst_state_options_new(&o), CST_OK);
    char value[64];
    static const char *const defaults[][2] = {
        {"database", "sessions"}, {"container", "SessionStore"}, {"lock_ttl", "30"}, {"timeout", "1200"},
        {"compression", "true"}, {"renew_fraction", "0.25"}, {"request_timeout", "10"}, {"max_retries", "9"},
        {"operation_timeout", "20"}, {"preferred_regions", ""}, {"allow_multi_write", "false"},
        {"create_if_missing", "true"}, {"authentication", "Key"}, {"consistency", "Strong"}, {"managed_identity_client_id", ""},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        const char *name = defaults[i][0];
        CHECK_STATUS(cst_state_options_get(o, name, strlen(name), value, sizeof value, &n), CST_OK);
        if (strcmp(value, defaults[i][1]) != 0) {
            fprintf(stderr, "option %s: default %s, expected %s\n", name, value, defaults[i][1]);
            CHECK(0);
        }
    }
    /* Unknown names and values of the wrong type: invalid_option naming the option; nothing changes. */
    CHECK_STATUS(set_option(o, "lock_tll", "5"), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "invalid_option") == 0 && strstr(last_message(), "lock_tll") != NULL);
    CHECK_STATUS(set_option(o, "max_retries", "-1.5"), CST_ERR_INVALID_ARGUMENT);
    CHECK(strstr(last_message(), "max_retries") != NULL);
    CHECK_STATUS(set_option(o, "compression", "yes"), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_state_options_get(o, "max_retries", 11, value, sizeof value, &n), CST_OK);
    CHECK(strcmp(value, "9") == 0);
    CHECK_STATUS(cst_state_options_get(o, "nope", 4, value, sizeof value, &n), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_state_options_set(NULL, "timeout", 7, "1", 1), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_state_options_new(NULL), CST_ERR_NULL_ARGUMENT);
    cst_state_options_free(NULL);
    /* One set of ranges (the state crate's Settings): out of range is refused at open, naming the option. */
    static const char *const out_of_range[][2] = {
        {"max_retries", "101"}, {"max_retries", "-1"}, {"renew_fraction", "1.5"}, {"request_timeout", "3600"},
        {"operation_timeout", "0"}, {"authentication", "Password"}, {"lock_ttl", "-1"}, {"consistency", "Strongest"},
    };
    for (size_t i = 0; i < sizeof out_of_range / sizeof out_of_range[0]; i++) {
        cst_state_options *b = NULL;
        cst_state *bad = NULL;
        CHECK_STATUS(cst_state_options_new(&b), CST_OK);
        CHECK_STATUS(set_option(b, out_of_range[i][0], out_of_range[i][1]), CST_OK);
        CHECK_STATUS(cst_state_open_memory(b, &bad), CST_ERR_INVALID_ARGUMENT);
        CHECK(bad == NULL && strcmp(last_kind(), "invalid_option") == 0);
        cst_state_options_free(b);
    }
    cst_state *ok = NULL;
    CHECK_STATUS(set_option(o, "preferred_regions", "East US, West US"), CST_OK);
    CHECK_STATUS(cst_state_open_memory(o, &ok), CST_OK);
    cst_state_free(ok);
    cst_state_options_free(o);
}

static void test_state_api(void) {
    cst_state_options *o = NULL;
    CHECK_STATUS(cst_state_options_new(&o), CST_OK);
    CHECK_STATUS(set_option(o, "lock_ttl", "5"), CST_OK);
    cst_state *s = NULL;
    CHECK_STATUS(cst_state_open_memory(o, &s), CST_OK);
    cst_state_result *r = NULL;
    CHECK_STATUS(cst_state_get(s, "sid", 3, &r), CST_ERR_NOT_FOUND);
    CHECK(r == NULL);
    CHECK_STATUS(cst_state_get_exclusive(s, "sid", 3, &r), CST_OK);
    cst_state_entry e;
    CHECK_STATUS(cst_state_result_get_entry(r, &e), CST_OK);
    CHECK(!e.found && !e.locked && e.lock_id > 0);
    uint64_t lock = e.lock_id;
    cst_state_result_free(r);
    /* A second exclusive request sees the lock, with its holder's id. */
    CHECK_STATUS(cst_state_get_exclusive(s, "sid", 3, &r), CST_OK);
    CHECK_STATUS(cst_state_result_get_entry(r, &e), CST_OK);
    CHECK(e.locked && e.lock_id == lock && e.lock_age >= 0);
    cst_state_result_free(r);
    bool released = true;
    CHECK_STATUS(cst_state_release(s, "sid", 3, lock + 1, &released), CST_OK);
    CHECK(!released);
    CHECK_STATUS(cst_state_release(s, "sid", 3, 0, &released), CST_OK);
    CHECK(!released);
    CHECK_STATUS(cst_state_set_and_release(s, "sid", 3, (const uint8_t *)"n=1", 3, lock, true, 0), CST_OK);
    CHECK_STATUS(cst_state_set_and_release(s, "sid", 3, (const uint8_t *)"n=2", 3, lock, false, 0), CST_ERR_LOCK_LOST);
    CHECK(strcmp(last_kind(), "lock_lost") == 0);
    CHECK_STATUS(cst_state_get(s, "sid", 3, &r), CST_OK);
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK_STATUS(cst_state_result_get_data(r, &data, &len), CST_OK);
    CHECK(len == 3 && memcmp(data, "n=1", 3) == 0);
    cst_state_result_free(r);
    {
        /* Counters: the second exclusive read above waited on a lock; the lost write is a fence failure. */
        cst_state_stats st;
        CHECK_STATUS(cst_state_get_stats(s, &st), CST_OK);
        CHECK(st.lock_waits == 1 && st.fence_failures == 1 && st.requests > 0 && st.lock_takeovers == 0);
        CHECK_STATUS(cst_state_get_stats(NULL, &st), CST_ERR_NULL_ARGUMENT);
        CHECK_STATUS(cst_state_get_stats(s, NULL), CST_ERR_NULL_ARGUMENT);
    }
    bool renewed = true;
    CHECK_STATUS(cst_state_reset_timeout(s, "sid", 3, &renewed), CST_OK);
    CHECK(!renewed); /* just written */
    cst_token *t = NULL;
    CHECK_STATUS(cst_state_get_token(s, "sid", 3, &t), CST_OK);
    CHECK_STATUS(cst_state_present_token(s, "other", 5, t), CST_OK);
    cst_token_free(t);
    cst_state_session_info info;
    CHECK_STATUS(cst_state_show(s, "sid", 3, &info), CST_OK);
    CHECK(info.exists && info.compressed && !info.locked && info.expires_in > 1000);
    CHECK_STATUS(cst_state_get_exclusive(s, "sid", 3, &r), CST_OK);
    CHECK_STATUS(cst_state_result_get_entry(r, &e), CST_OK);
    cst_state_result_free(r);
    uint64_t unlocked = 0;
    CHECK_STATUS(cst_state_force_unlock(s, "sid", 3, &unlocked), CST_OK);
    CHECK(unlocked == e.lock_id);
    /* A broken lock's id removes nothing (a no-op, as a release is). */
    bool removed = true;
    CHECK_STATUS(cst_state_remove(s, "sid", 3, e.lock_id, &removed), CST_OK);
    CHECK(!removed);
    CHECK_STATUS(cst_state_remove(s, "sid", 3, e.lock_id, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_state_show(s, "sid", 3, &info), CST_OK);
    CHECK(info.exists);
    CHECK_STATUS(cst_state_get_exclusive(s, "sid", 3, &r), CST_OK);
    CHECK_STATUS(cst_state_result_get_entry(r, &e), CST_OK);
    cst_state_result_free(r);
    CHECK_STATUS(cst_state_remove(s, "sid", 3, e.lock_id, &removed), CST_OK);
    CHECK(removed);
    CHECK_STATUS(cst_state_get(s, "sid", 3, &r), CST_ERR_NOT_FOUND);
    CHECK_STATUS(cst_state_create_uninitialized(s, "c", 1, 60), CST_OK);
    CHECK_STATUS(cst_state_get(s, "c", 1, &r), CST_OK);
    CHECK_STATUS(cst_state_result_get_entry(r, &e), CST_OK);
    CHECK(e.found && e.uninitialized && e.data_len == 0);
    cst_state_result_free(r);
    /* Over-size content is refused before anything is sent. */
    CHECK_STATUS(set_option(o, "compression", "false"), CST_OK);
    cst_state *plain = NULL;
    CHECK_STATUS(cst_state_open_memory(o, &plain), CST_OK);
    cst_state_options_free(o);
    size_t big = 3u << 20;
    uint8_t *blob = calloc(big, 1);
    CHECK_STATUS(cst_state_set_and_release(plain, "b", 1, blob, big, 1, true, 0), CST_ERR_LIMIT_EXCEEDED);
    CHECK(strcmp(last_kind(), "item_too_large") == 0);
    free(blob);
    cst_state_free(plain);
    /* Errors: session ids, options, connection strings (never echoing the key), NULLs. */
    CHECK_STATUS(cst_state_get(s, "", 0, &r), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "invalid_session_id") == 0);
    cst_state *bad = NULL;
    const char *cs = "AccountEndpoint=https://h/;AccountKey=SECRET!!;";
    CHECK_STATUS(cst_state_open(cs, strlen(cs), NULL, &bad), CST_ERR_INVALID_ARGUMENT);
    CHECK(bad == NULL && strcmp(last_kind(), "invalid_connection_string") == 0);
    CHECK(strstr(last_message(), "SECRET") == NULL);
    const char *good = "AccountEndpoint=http://127.0.0.1:9/;AccountKey=c2VjcmV0;";
    CHECK_STATUS(cst_state_open(good, strlen(good), NULL, &bad), CST_OK); /* nothing sent yet */
    cst_state_free(bad);
    CHECK_STATUS(cst_state_get(NULL, "s", 1, &r), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_state_get(s, "s", 1, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_state_result_get_entry(NULL, &e), CST_ERR_NULL_ARGUMENT);
    cst_state_result_free(NULL);
    cst_state_free(NULL);
    cst_state_free(s);
}

static int resolves_to(const cst_container *c, const char *coll, const char *range, const char *expected) {
    cst_token *t = NULL;
    int32_t st = cst_container_resolve(c, coll, strlen(coll), range, strlen(range), NULL, NULL, 0, &t);
    int ok = expected == NULL ? st == CST_ERR_NOT_FOUND && t == NULL : st == CST_OK && renders_as(t, expected);
    cst_token_free(t);
    return ok;
}

static void test_container_api(void) {
    cst_container *c = NULL;
    bool captured = false, cleared = false;
    cst_token *t = NULL;
    size_t n = 0;
    char buf[1024];
    CHECK_STATUS(cst_container_new(&c), CST_OK);
    CHECK_STATUS(cst_container_capture(c, S(NAME), S("rid1"), S("0:1#100#1=20,1:-1#42"), 201, 0, &captured), CST_OK);
    CHECK(captured);
    CHECK_STATUS(cst_container_capture(c, S(NAME), S("rid1"), S("1:-1#99"), 404, 1002, &captured), CST_OK);
    CHECK(!captured);
    CHECK(resolves_to(c, NAME, "1", "1:-1#42"));
    const char *parents[] = {"0"};
    size_t lens[] = {1};
    CHECK_STATUS(cst_container_resolve(c, S(NAME), S("5"), parents, lens, 1, &t), CST_OK);
    CHECK(t != NULL && renders_as(t, "5:1#100#1=20"));
    cst_token_free(t);
    t = NULL;
    CHECK_STATUS(cst_container_resolve_all(c, S("rid1"), &t), CST_OK);
    CHECK(t != NULL && renders_as(t, "0:1#100#1=20,1:-1#42"));
    cst_token_free(t);
    t = NULL;
    /* snapshot -> restore into a second container */
    CHECK_STATUS(cst_container_snapshot(c, NULL, 0, &n), CST_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(cst_container_snapshot(c, buf, sizeof buf, &n), CST_OK);
    CHECK(strstr(buf, "\"format\":\"cosmos-session-token/container\"") != NULL);
    cst_container *d = NULL;
    CHECK_STATUS(cst_container_new(&d), CST_OK);
    CHECK_STATUS(cst_container_restore(d, buf, n), CST_OK);
    CHECK(resolves_to(d, NAME, "0", "0:1#100#1=20"));
    CHECK_STATUS(cst_container_restore(d, S("{\"format\":1}")), CST_ERR_MALFORMED);
    CHECK(strcmp(last_kind(), "invalid_snapshot") == 0);
    /* errors */
    CHECK_STATUS(cst_container_capture(c, S(NAME), S(""), S("0:1"), 200, 0, &captured), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "empty_resource_id") == 0);
    CHECK_STATUS(cst_container_capture(c, S(NAME), S("rid1"), S("0:x"), 200, 0, &captured), CST_ERR_MALFORMED);
    CHECK_STATUS(cst_container_capture(c, S(NAME), S("rid1"), S("0:1"), 70000, 0, &captured), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_container_capture(c, S(NAME), S("rid1"), S("0:1"), 200, -1, &captured), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_container_capture(c, S(NAME), S("rid1"), S("0:1"), 200, 0, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_container_capture(NULL, S(NAME), S("rid1"), S("0:1"), 200, 0, &captured), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_container_resolve(c, S(NAME), S("0"), NULL, NULL, 0, NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_container_resolve_all(NULL, S(NAME), &t), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_container_clear(c, S(NAME), NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_container_snapshot(NULL, buf, sizeof buf, &n), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_container_restore(NULL, S("{}")), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_container_new(NULL), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_container_clear(c, S(NAME), &cleared), CST_OK);
    CHECK(cleared && resolves_to(c, NAME, "0", NULL));
    CHECK_STATUS(cst_container_resolve_all(c, S(NAME), &t), CST_ERR_NOT_FOUND);
    CHECK(t == NULL);
    cst_container_free(c);
    cst_container_free(d);
    cst_container_free(NULL);
}

struct container_job {
    cst_container *c;
    int thread;
    int ok;
};

static void *container_worker(void *arg) {
    struct container_job *job = arg;
    char token[64], range[16];
    bool captured = false;
    snprintf(range, sizeof range, "%d", job->thread);
    for (int i = 1; i <= 500; i++) {
        int len = snprintf(token, sizeof token, "%d:1#%d,s:1#%d", job->thread, i, job->thread * 1000 + i);
        if (cst_container_capture(job->c, S(NAME), S("rid1"), token, (size_t)len, 200, 0, &captured) != CST_OK || !captured) {
            job->ok = 0;
        }
        cst_token *t = NULL;
        int32_t st = cst_container_resolve(job->c, S(NAME), range, strlen(range), NULL, NULL, 0, &t);
        if (st != CST_OK) {
            job->ok = 0;
        }
        cst_token_free(t);
    }
    return NULL;
}

static void test_container_threads(void) {
    cst_container *c = NULL;
    pthread_t th[THREADS];
    struct container_job jobs[THREADS];
    CHECK_STATUS(cst_container_new(&c), CST_OK);
    for (int i = 0; i < THREADS; i++) {
        jobs[i].c = c;
        jobs[i].thread = i;
        jobs[i].ok = 1;
        CHECK(pthread_create(&th[i], NULL, container_worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].ok);
    }
    char expected[256];
    size_t off = 0;
    for (int i = 0; i < THREADS; i++) {
        off += (size_t)snprintf(expected + off, sizeof expected - off, "%d:1#500,", i);
    }
    snprintf(expected + off, sizeof expected - off, "s:1#%d", (THREADS - 1) * 1000 + 500);
    cst_token *all = NULL;
    CHECK_STATUS(cst_container_resolve_all(c, S(NAME), &all), CST_OK);
    CHECK(all != NULL && renders_as(all, expected));
    cst_token_free(all);
    cst_container_free(c);
}

/* ---------------------------------------------------------------- vectors */

static char *unhex(const char *x, size_t *len) {
    size_t n = strlen(x);
    if (n == 0 || x[0] != 'x' || (n - 1) % 2 != 0) {
        return NULL;
    }
    char *out = malloc((n - 1) / 2 + 1);
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < (n - 1) / 2; i++) {
        unsigned v = 0;
        if (sscanf(x + 1 + 2 * i, "%2x", &v) != 1) {
            free(out);
            return NULL;
        }
        out[i] = (char)v;
    }
    out[(n - 1) / 2] = '\0';
    *len = (n - 1) / 2;
    return out;
}

/* Builds the FIELDS encoding of scripts/vectors_to_lines.py from the handle accessors. */
static void fields_of(const cst_token *t, char *out, size_t cap) {
    size_t count = 0, off = 0;
    out[0] = '\0';
    cst_token_get_segment_count(t, &count);
    for (size_t i = 0; i < count && off < cap; i++) {
        char id[300];
        size_t n = 0, regions = 0;
        int32_t format = 0;
        int64_t version = 0, glsn = 0;
        cst_token_get_segment_range_id(t, i, id, sizeof id, &n);
        cst_token_get_segment_info(t, i, &format, &version, &glsn, &regions);
        off += (size_t)snprintf(out + off, cap - off, "%sx", i ? "|" : "");
        for (size_t k = 0; k < n && off < cap; k++) {
            off += (size_t)snprintf(out + off, cap - off, "%02x", (unsigned char)id[k]);
        }
        if (format == CST_FORMAT_SIMPLE) {
            off += (size_t)snprintf(out + off, cap - off, ",simple,null,%lld,", (long long)glsn);
        } else {
            off += (size_t)snprintf(out + off, cap - off, ",vector,%lld,%lld,", (long long)version, (long long)glsn);
        }
        for (size_t r = 0; r < regions && off < cap; r++) {
            uint32_t rid = 0;
            int64_t lsn = 0;
            cst_token_get_segment_region(t, i, r, &rid, &lsn);
            off += (size_t)snprintf(out + off, cap - off, "%s%u=%lld", r ? ";" : "", rid, (long long)lsn);
        }
    }
}

static int32_t order_code(const char *word) {
    if (strcmp(word, "less") == 0) return CST_ORDER_LESS;
    if (strcmp(word, "equal") == 0) return CST_ORDER_EQUAL;
    if (strcmp(word, "greater") == 0) return CST_ORDER_GREATER;
    return CST_ORDER_CONCURRENT;
}

#define MAXF 32

static void vector_parse(char **f, int nf) {
    size_t len = 0;
    char *input = unhex(f[3], &len);
    uint32_t flags = strcmp(f[2], "lenient") == 0 ? CST_FLAG_LENIENT : 0;
    cst_token *t = NULL;
    int32_t st = cst_token_parse(input, len, flags, &t);
    CHECK(cst_token_text_check(input, len, flags) == st);
    if (strcmp(f[4], "err") == 0 && nf >= 8) {
        int64_t seg = 0, off = 0;
        CHECK(st == CST_ERR_MALFORMED || st == CST_ERR_LIMIT_EXCEEDED || st == CST_ERR_INVALID_UTF8);
        CHECK(t == NULL);
        CHECK(strcmp(last_kind(), f[5]) == 0);
        cst_last_error_get_position(&seg, &off);
        CHECK(seg == atoll(f[6]) && off == atoll(f[7]));
    } else {
        size_t rlen = 0;
        char *expected = unhex(f[5], &rlen);
        CHECK_STATUS(st, CST_OK);
        if (t != NULL && expected != NULL) {
            CHECK(renders_as(t, expected));
            if (nf >= 7 && strcmp(f[6], "-") != 0) {
                char got[4096];
                fields_of(t, got, sizeof got);
                CHECK(strcmp(got, f[6]) == 0);
            }
            /* Warning codes, in order, joined by ',' ('-' = none). */
            char codes[1024] = "";
            size_t count = 0;
            CHECK_STATUS(cst_token_get_warning_count(t, &count), CST_OK);
            for (size_t w = 0; w < count; w++) {
                char code[64], msg[512];
                size_t cl = 0, ml = 0;
                int64_t seg = 0, off = 0;
                CHECK_STATUS(cst_token_get_warning(t, w, code, sizeof code, &cl, msg, sizeof msg, &ml, &seg, &off), CST_OK);
                CHECK(off >= 0 && ml > 0);
                if (w > 0) {
                    strncat(codes, ",", sizeof codes - strlen(codes) - 1);
                }
                strncat(codes, code, sizeof codes - strlen(codes) - 1);
            }
            CHECK(strcmp(count == 0 ? "-" : codes, nf >= 8 ? f[7] : "-") == 0);
        }
        free(expected);
    }
    cst_token_free(t);
    free(input);
}

static void vector_convert(char **f) {
    size_t len = 0, elen = 0, n = 0;
    char *input = unhex(f[2], &len), *expected = unhex(f[4], &elen), buf[4096];
    int32_t format = strcmp(f[3], "simple") == 0 ? CST_FORMAT_SIMPLE : CST_FORMAT_VECTOR;
    CHECK_STATUS(cst_token_text_convert(input, len, format, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, expected) == 0);
    cst_token *t = NULL, *c = NULL;
    CHECK_STATUS(cst_token_parse(input, len, 0, &t), CST_OK);
    CHECK_STATUS(cst_token_convert(t, format, &c), CST_OK);
    CHECK(c != NULL && renders_as(c, expected));
    cst_token_free(t);
    cst_token_free(c);
    free(input);
    free(expected);
}

static void vector_merge(char **f, int nf) {
    uint32_t flags = (uint32_t)atoi(f[2]);
    int count = atoi(f[3]);
    if (count < 2 || 4 + count >= nf) {
        CHECK(!"malformed merge line");
        return;
    }
    cst_token *acc = NULL;
    int32_t st = CST_OK;
    for (int i = 0; i < count; i++) {
        size_t len = 0;
        char *in = unhex(f[4 + i], &len);
        cst_token *t = NULL;
        CHECK_STATUS(cst_token_parse(in, len, 0, &t), CST_OK);
        if (acc == NULL) {
            acc = t;
        } else if (st == CST_OK) {
            cst_token *m = NULL;
            st = cst_token_merge(acc, t, flags, &m);
            cst_token_free(acc);
            cst_token_free(t);
            acc = m;
        } else {
            cst_token_free(t);
        }
        free(in);
    }
    const char *outcome = f[4 + count];
    if (strcmp(outcome, "err") == 0) {
        CHECK(st == CST_ERR_INCOMPATIBLE);
        CHECK(strcmp(last_kind(), f[5 + count]) == 0);
    } else {
        size_t elen = 0;
        char *expected = unhex(f[5 + count], &elen);
        CHECK_STATUS(st, CST_OK);
        CHECK(acc != NULL && renders_as(acc, expected));
        if (count == 2) { /* the one-shot, and the handle merge rendered into a buffer, give the same */
            size_t la = 0, lb = 0, n = 0;
            char *a = unhex(f[4], &la), *b = unhex(f[5], &lb), buf[4096];
            CHECK_STATUS(cst_token_text_merge(a, la, b, lb, flags, buf, sizeof buf, &n), CST_OK);
            CHECK(strcmp(buf, expected) == 0);
            cst_token *ta = parse(a, 0), *tb = parse(b, 0);
            memset(buf, 'x', sizeof buf);
            CHECK_STATUS(cst_token_merge_to_string(ta, tb, flags, buf, sizeof buf, &n), CST_OK);
            CHECK(strcmp(buf, expected) == 0 && n == strlen(expected));
            cst_token_free(ta);
            cst_token_free(tb);
            free(a);
            free(b);
        }
        free(expected);
    }
    cst_token_free(acc);
}

static void vector_compare(char **f) {
    size_t la = 0, lb = 0;
    char *a = unhex(f[2], &la), *b = unhex(f[3], &lb);
    int32_t order = -1, expected = order_code(f[4]);
    CHECK_STATUS(cst_token_text_compare(a, la, b, lb, &order), CST_OK);
    CHECK(order == expected);
    cst_token *ta = NULL, *tb = NULL;
    cst_token_parse(a, la, 0, &ta);
    cst_token_parse(b, lb, 0, &tb);
    CHECK_STATUS(cst_token_compare(ta, tb, &order), CST_OK);
    CHECK(order == expected);
    if (expected == CST_ORDER_EQUAL) {
        uint64_t ha = 0, hb = 0;
        cst_token_hash(ta, &ha);
        cst_token_hash(tb, &hb);
        CHECK(ha == hb);
    }
    cst_token_free(ta);
    cst_token_free(tb);
    free(a);
    free(b);
}

/* explain ID xA xB N xLINE1..xLINEn: cst_token_compare_explain's lines, in order. */
static void vector_explain(char **f, int nf) {
    size_t la = 0, lb = 0, n = 0;
    char *a = unhex(f[2], &la), *b = unhex(f[3], &lb);
    int count = atoi(f[4]);
    CHECK(nf == 5 + count);
    cst_token *ta = NULL, *tb = NULL;
    CHECK_STATUS(cst_token_parse(a, la, 0, &ta), CST_OK);
    CHECK_STATUS(cst_token_parse(b, lb, 0, &tb), CST_OK);
    int32_t order = -1;
    char buf[4096];
    CHECK_STATUS(cst_token_compare_explain(ta, tb, &order, buf, sizeof buf, &n), CST_OK);
    /* The expected lines joined by '\n', as the function writes them. */
    char want[4096] = "";
    size_t used = 0;
    for (int i = 0; i < count && 5 + i < nf; i++) {
        size_t ll = 0;
        char *line = unhex(f[5 + i], &ll);
        if (used + ll + 2 < sizeof want) {
            if (i > 0) want[used++] = '\n';
            memcpy(want + used, line, ll);
            used += ll;
            want[used] = '\0';
        }
        free(line);
    }
    CHECK(n == used && strcmp(buf, want) == 0);
    cst_token_free(ta);
    cst_token_free(tb);
    free(a);
    free(b);
}

static void vector_scope(char **f, int nf) {
    size_t len = 0, rlen = 0, n = 0;
    char *tok = unhex(f[2], &len), *range = unhex(f[3], &rlen), buf[4096];
    int count = atoi(f[4]);
    if (5 + count >= nf) {
        CHECK(!"malformed scope line");
        return;
    }
    char *parents[MAXF];
    size_t lens[MAXF];
    for (int i = 0; i < count; i++) {
        parents[i] = unhex(f[5 + i], &lens[i]);
    }
    const char *outcome = f[5 + count];
    int32_t st = cst_token_text_scope(tok, len, range, rlen, (const char *const *)parents, lens, (size_t)count, buf, sizeof buf, &n);
    cst_token *t = NULL, *s = NULL;
    cst_token_parse(tok, len, 0, &t);
    int32_t st2 = cst_token_scope(t, range, rlen, (const char *const *)parents, lens, (size_t)count, &s);
    CHECK(st == st2);
    if (strcmp(outcome, "none") == 0) {
        CHECK(st == CST_ERR_NOT_FOUND && s == NULL);
    } else if (strcmp(outcome, "err") == 0) {
        CHECK(st == CST_ERR_INCOMPATIBLE && strcmp(last_kind(), f[6 + count]) == 0);
    } else {
        size_t elen = 0;
        char *expected = unhex(f[6 + count], &elen);
        CHECK_STATUS(st, CST_OK);
        CHECK(strcmp(buf, expected) == 0);
        CHECK(s != NULL && renders_as(s, expected));
        free(expected);
    }
    cst_token_free(t);
    cst_token_free(s);
    for (int i = 0; i < count; i++) {
        free(parents[i]);
    }
    free(tok);
    free(range);
}

/* Splits "a:b:c" in place into at most max fields. */
static int split_colon(char *s, char **out, int max) {
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, ":", &save); tok != NULL && n < max; tok = strtok_r(NULL, ":", &save)) {
        out[n++] = tok;
    }
    return n;
}

static void vector_container(char **f, int nf) {
    int steps = atoi(f[2]);
    cst_container *c = NULL;
    CHECK_STATUS(cst_container_new(&c), CST_OK);
    for (int i = 0; i < steps && 3 + i < nf; i++) {
        char *p[8];
        int np = split_colon(f[3 + i], p, 8);
        size_t l1 = 0, l2 = 0, l3 = 0;
        if (strcmp(p[0], "cap") == 0 && np == 8) {
            size_t l4 = 0;
            char *name = unhex(p[1], &l1), *rid = unhex(p[2], &l2), *rtype = unhex(p[7], &l4);
            /* "none": the header was missing, passed as NULL with length 0. */
            char *tok = strcmp(p[3], "none") == 0 ? NULL : unhex(p[3], &l3);
            bool captured = false;
            if (strcmp(rtype, "docs") == 0) {
                CHECK_STATUS(cst_container_capture(c, name, l1, rid, l2, tok, l3, atoi(p[4]), atoi(p[5]), &captured), CST_OK);
            } else {
                CHECK_STATUS(cst_container_capture_response(c, rtype, l4, name, l1, rid, l2, tok, l3, atoi(p[4]), atoi(p[5]), &captured),
                             CST_OK);
            }
            CHECK(captured == (strcmp(p[6], "true") == 0));
            free(name);
            free(rid);
            free(tok);
            free(rtype);
        } else if (strcmp(p[0], "fgt") == 0 && np == 4) {
            char *coll = unhex(p[1], &l1), *range = unhex(p[2], &l2);
            bool forgotten = false;
            CHECK_STATUS(cst_container_forget_range(c, coll, l1, range, l2, &forgotten), CST_OK);
            CHECK(forgotten == (strcmp(p[3], "true") == 0));
            free(coll);
            free(range);
        } else if (strcmp(p[0], "res") == 0 && np == 5) {
            char *coll = unhex(p[1], &l1), *range = unhex(p[2], &l2);
            char *parents[MAXF];
            size_t lens[MAXF];
            int count = 0;
            if (strcmp(p[3], "-") != 0) {
                char *save = NULL;
                for (char *tok = strtok_r(p[3], ",", &save); tok != NULL && count < MAXF; tok = strtok_r(NULL, ",", &save)) {
                    parents[count] = unhex(tok, &lens[count]);
                    count++;
                }
            }
            cst_token *t = NULL;
            int32_t st = cst_container_resolve(c, coll, l1, range, l2, (const char *const *)parents, lens, (size_t)count, &t);
            if (strcmp(p[4], "none") == 0) {
                CHECK(st == CST_ERR_NOT_FOUND && t == NULL);
            } else {
                char *expected = unhex(p[4], &l3);
                CHECK_STATUS(st, CST_OK);
                CHECK(t != NULL && renders_as(t, expected));
                free(expected);
            }
            cst_token_free(t);
            for (int k = 0; k < count; k++) {
                free(parents[k]);
            }
            free(coll);
            free(range);
        } else if (strcmp(p[0], "all") == 0 && np == 3) {
            char *coll = unhex(p[1], &l1);
            cst_token *t = NULL;
            int32_t st = cst_container_resolve_all(c, coll, l1, &t);
            if (strcmp(p[2], "none") == 0) {
                CHECK(st == CST_ERR_NOT_FOUND && t == NULL);
            } else {
                char *expected = unhex(p[2], &l3);
                CHECK_STATUS(st, CST_OK);
                CHECK(t != NULL && renders_as(t, expected));
                free(expected);
            }
            cst_token_free(t);
            free(coll);
        } else if (strcmp(p[0], "clr") == 0 && np == 3) {
            char *coll = unhex(p[1], &l1);
            bool cleared = false;
            CHECK_STATUS(cst_container_clear(c, coll, l1, &cleared), CST_OK);
            CHECK(cleared == (strcmp(p[2], "true") == 0));
            free(coll);
        } else {
            CHECK(!"unknown container step");
        }
    }
    cst_container_free(c);
}

static void vector_latest(char **f, int nf) {
    int n = atoi(f[2]);
    if (n > MAXF / 2 || 3 + 2 * n + 2 >= nf) {
        CHECK(!"malformed latest line");
        return;
    }
    char *ranges[MAXF], *tokens[MAXF];
    size_t rlens[MAXF], tlens[MAXF], target_len = 0, n_out = 0;
    for (int i = 0; i < n; i++) {
        ranges[i] = unhex(f[3 + 2 * i], &rlens[i]);
        tokens[i] = unhex(f[4 + 2 * i], &tlens[i]);
    }
    char *target = unhex(f[3 + 2 * n], &target_len), buf[4096];
    int32_t st = cst_token_text_find_latest_for_feed_range((const char *const *)ranges, rlens, (const char *const *)tokens, tlens, (size_t)n,
                                           target, target_len, buf, sizeof buf, &n_out);
    if (strcmp(f[4 + 2 * n], "err") == 0) {
        CHECK(st != CST_OK);
        CHECK(strcmp(last_kind(), f[5 + 2 * n]) == 0);
    } else {
        size_t elen = 0;
        char *expected = unhex(f[5 + 2 * n], &elen);
        CHECK_STATUS(st, CST_OK);
        CHECK(strcmp(buf, expected) == 0);
        free(expected);
    }
    for (int i = 0; i < n; i++) {
        free(ranges[i]);
        free(tokens[i]);
    }
    free(target);
}

static unsigned char *unhex_bytes(const char *h, size_t *len) {
    size_t n = strlen(h) / 2;
    unsigned char *out = malloc(n + 1);
    for (size_t i = 0; out != NULL && i < n; i++) {
        unsigned v = 0;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    *len = n;
    return out;
}

static void vector_seal(char **f) {
    size_t tl = 0, kl = 0, cl = 0, el = 0, n = 0;
    char *token = unhex(f[2], &tl), *context = unhex(f[4], &cl), *expected = unhex(f[5], &el), buf[8192];
    unsigned char *key = unhex_bytes(f[3], &kl);
    CHECK_STATUS(cst_token_text_seal(token, tl, key, kl, context, cl, 0, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, expected) == 0);
    const unsigned char *keys[] = {key};
    size_t lens[] = {kl};
    char back[4096];
    CHECK_STATUS(cst_token_text_unseal(buf, n, keys, lens, 1, context, cl, 0, back, sizeof back, &n), CST_OK);
    CHECK(strcmp(back, token) == 0);
    free(token);
    free(context);
    free(expected);
    free(key);
}

static void vector_unseal(char **f, int nf) {
    int nkeys = atoi(f[3]);
    if (nkeys > 8 || 4 + nkeys + 2 >= nf) {
        CHECK(!"malformed unseal line");
        return;
    }
    size_t sl = 0, cl = 0, n = 0;
    char *sealed = unhex(f[2], &sl), *context = unhex(f[4 + nkeys], &cl), buf[8192];
    unsigned char *keys[8];
    size_t lens[8];
    for (int i = 0; i < nkeys; i++) {
        keys[i] = unhex_bytes(f[4 + i], &lens[i]);
    }
    int32_t st = cst_token_text_unseal(sealed, sl, (const unsigned char *const *)keys, lens, (size_t)nkeys, context, cl, 0, buf, sizeof buf, &n);
    if (strcmp(f[5 + nkeys], "err") == 0) {
        CHECK(st != CST_OK);
        CHECK(strcmp(last_kind(), f[6 + nkeys]) == 0);
    } else {
        size_t el = 0;
        char *expected = unhex(f[6 + nkeys], &el);
        CHECK_STATUS(st, CST_OK);
        CHECK(strcmp(buf, expected) == 0);
        free(expected);
    }
    for (int i = 0; i < nkeys; i++) {
        free(keys[i]);
    }
    free(sealed);
    free(context);
}

/* errors.json: the same input gives the same kind and status (its category) as everywhere. */
static void vector_error(char **f, int nf) {
    const char *op = f[2], *kind = f[3];
    int32_t expected = (int32_t)atoi(f[4]), st = CST_OK;
    char **a = f + 6;
    int na = nf - 6;
    char buf[8192];
    size_t n = 0, l1 = 0, l2 = 0, l3 = 0;
    if (strcmp(op, "parse") == 0 && na >= 2) {
        char *in = unhex(a[1], &l1);
        cst_token *t = NULL;
        st = cst_token_parse(in, l1, strcmp(a[0], "lenient") == 0 ? CST_FLAG_LENIENT : 0, &t);
        CHECK(t == NULL);
        free(in);
    } else if (strcmp(op, "merge") == 0 && na >= 2) {
        char *x = unhex(a[0], &l1), *y = unhex(a[1], &l2);
        st = cst_token_text_merge(x, l1, y, l2, 0, buf, sizeof buf, &n);
        free(x);
        free(y);
    } else if (strcmp(op, "scope") == 0 && na >= 3) {
        char *tok = unhex(a[0], &l1), *range = unhex(a[1], &l2), *parents[8];
        size_t lens[8];
        int np = atoi(a[2]);
        for (int i = 0; i < np && i < 8; i++) {
            parents[i] = unhex(a[3 + i], &lens[i]);
        }
        st = cst_token_text_scope(tok, l1, range, l2, (const char *const *)parents, lens, (size_t)np, buf, sizeof buf, &n);
        for (int i = 0; i < np && i < 8; i++) {
            free(parents[i]);
        }
        free(tok);
        free(range);
    } else if (strcmp(op, "seal") == 0 && na >= 4) {
        char *tok = unhex(a[0], &l1), *ctx = unhex(a[2], &l3);
        unsigned char *key = unhex_bytes(a[1], &l2);
        cst_token *t = parse(tok, 0);
        st = cst_token_seal(t, key, l2, ctx, l3, (size_t)atoll(a[3]), buf, sizeof buf, &n);
        cst_token_free(t);
        free(tok);
        free(ctx);
        free(key);
    } else if (strcmp(op, "unseal") == 0 && na >= 2) {
        int nk = atoi(a[1]);
        char *sealed = unhex(a[0], &l1), *ctx = unhex(a[2 + nk], &l3);
        unsigned char *keys[8];
        size_t lens[8];
        for (int i = 0; i < nk && i < 8; i++) {
            keys[i] = unhex_bytes(a[2 + i], &lens[i]);
        }
        cst_token *t = NULL;
        st = cst_token_unseal(sealed, l1, (const unsigned char *const *)keys, lens, (size_t)nk, ctx, l3, (size_t)atoll(a[3 + nk]), &t);
        CHECK(t == NULL);
        for (int i = 0; i < nk && i < 8; i++) {
            free(keys[i]);
        }
        free(sealed);
        free(ctx);
    } else if (strcmp(op, "latest") == 0 && na >= 1) {
        int np = atoi(a[0]);
        char *ranges[8], *tokens[8];
        size_t rl[8], tl[8];
        for (int i = 0; i < np && i < 8; i++) {
            ranges[i] = unhex(a[1 + 2 * i], &rl[i]);
            tokens[i] = unhex(a[2 + 2 * i], &tl[i]);
        }
        char *target = unhex(a[1 + 2 * np], &l1);
        cst_token *t = NULL;
        st = cst_token_find_latest_for_feed_range((const char *const *)ranges, rl, (const char *const *)tokens, tl, (size_t)np, target, l1, &t);
        CHECK(t == NULL);
        for (int i = 0; i < np && i < 8; i++) {
            free(ranges[i]);
            free(tokens[i]);
        }
        free(target);
    } else if (strcmp(op, "capture") == 0 && na >= 4) {
        char *rtype = unhex(a[0], &l1), *rid = unhex(a[1], &l2), *tok = unhex(a[2], &l3);
        cst_container *c = NULL;
        bool captured = false;
        CHECK_STATUS(cst_container_new(&c), CST_OK);
        st = cst_container_capture_response(c, rtype, l1, "dbs/d/colls/c", 13, rid, l2, tok, l3, atoi(a[3]), 0, &captured);
        cst_container_free(c);
        free(rtype);
        free(rid);
        free(tok);
    } else if (strcmp(op, "restore") == 0 && na >= 1) {
        char *snap = unhex(a[0], &l1);
        cst_container *c = NULL;
        CHECK_STATUS(cst_container_new(&c), CST_OK);
        st = cst_container_restore(c, snap, l1);
        cst_container_free(c);
        free(snap);
    } else if (strcmp(op, "carrier") == 0 && na >= 1) {
        int nk = atoi(a[0]);
        unsigned char *keys[8];
        size_t lens[8];
        for (int i = 0; i < nk && i < 8; i++) {
            keys[i] = unhex_bytes(a[1 + i], &lens[i]);
        }
        cst_carrier *c = NULL;
        st = cst_carrier_new((const unsigned char *const *)keys, lens, (size_t)nk, "", 0, 0, &c);
        CHECK(c == NULL);
        cst_carrier_free(c);
        for (int i = 0; i < nk && i < 8; i++) {
            free(keys[i]);
        }
    } else if (strcmp(op, "state_open") == 0 && na >= 1) {
        char *cs = unhex(a[0], &l1);
        cst_state *s = NULL;
        st = cst_state_open(cs, l1, NULL, &s);
        CHECK(s == NULL && strstr(last_message(), "SECRET") == NULL);
        cst_state_free(s);
        free(cs);
    } else if ((strcmp(op, "state_get") == 0 || strcmp(op, "state_write_unlocked") == 0) && na >= 1) {
        char *sid = unhex(a[0], &l1);
        cst_state *s = NULL;
        CHECK_STATUS(cst_state_open_memory(NULL, &s), CST_OK);
        if (strcmp(op, "state_get") == 0) {
            cst_state_result *r = NULL;
            st = cst_state_get(s, sid, l1, &r);
            cst_state_result_free(r);
        } else {
            st = cst_state_set_and_release(s, sid, l1, (const uint8_t *)"x", 1, 42, false, 0);
        }
        cst_state_free(s);
        free(sid);
    } else {
        CHECK(!"malformed error line");
        return;
    }
    CHECK_STATUS(st, expected);
    CHECK(strcmp(last_kind(), kind) == 0);
}

/* web.json: cookie_keys ID N SECRET.. ok KEY.. | err KIND */
static void vector_cookie_keys(char **f, int nf) {
    int n = atoi(f[2]);
    if (n > 8 || 3 + n >= nf) {
        CHECK(!"malformed cookie_keys line");
        return;
    }
    unsigned char *secrets[8] = {0};
    size_t lens[8] = {0};
    for (int i = 0; i < n; i++) secrets[i] = unhex_bytes(f[3 + i], &lens[i]);
    uint8_t keys[8 * 32];
    int status = cst_cookie_derive_keys((const uint8_t *const *)secrets, lens, (size_t)n, keys, sizeof keys);
    if (strcmp(f[3 + n], "ok") == 0) {
        CHECK_STATUS(status, CST_OK);
        for (int i = 0; i < n && 4 + n + i < nf; i++) {
            size_t kl = 0;
            unsigned char *want = unhex_bytes(f[4 + n + i], &kl);
            CHECK(kl == 32 && memcmp(keys + 32 * i, want, 32) == 0);
            free(want);
        }
    } else {
        CHECK(status != CST_OK && 4 + n < nf && strcmp(last_kind(), f[4 + n]) == 0);
    }
    for (int i = 0; i < n; i++) free(secrets[i]);
}

/* cookie_context ID xFW xAPP xSID xEXPECT, cookie_header ID xNAME xVALUE AGE SECURE xEXPECT,
 * fingerprint ID xSID xEXPECT */
static void vector_web_text(char **f) {
    char buf[1024];
    size_t n = 0, l1 = 0, l2 = 0, l3 = 0, le = 0;
    if (strcmp(f[0], "cookie_context") == 0) {
        char *fw = unhex(f[2], &l1), *app = unhex(f[3], &l2), *sid = unhex(f[4], &l3), *want = unhex(f[5], &le);
        CHECK_STATUS(cst_cookie_compute_context(fw, l1, app, l2, sid, l3, buf, sizeof buf, &n), CST_OK);
        CHECK(n == le && strcmp(buf, want) == 0);
        free(fw), free(app), free(sid), free(want);
    } else if (strcmp(f[0], "cookie_header") == 0) {
        char *name = unhex(f[2], &l1), *value = unhex(f[3], &l2), *want = unhex(f[6], &le);
        CHECK_STATUS(cst_cookie_compute_header(name, l1, value, l2, atoll(f[4]), atoi(f[5]) != 0, buf, sizeof buf, &n), CST_OK);
        CHECK(n == le && strcmp(buf, want) == 0);
        free(name), free(value), free(want);
    } else {
        char *sid = unhex(f[2], &l1), *want = unhex(f[3], &le);
        CHECK_STATUS(cst_session_id_get_fingerprint(sid, l1, buf, sizeof buf, &n), CST_OK);
        CHECK(n == le && strcmp(buf, want) == 0);
        free(sid), free(want);
    }
}

/* epk ID KIND VERSION LEVELS xVALUE ok xEPK | ... err CODE */
static void vector_epk(char **f, int nf) {
    char buf[512];
    size_t n = 0, lv = 0;
    char *value = unhex(f[5], &lv);
    int32_t st = cst_partition_key_compute_effective(value, lv, (uint32_t)atoi(f[2]), (uint32_t)atoi(f[3]), (uint32_t)atoi(f[4]),
                                             buf, sizeof buf, &n);
    if (strcmp(f[6], "ok") == 0 && nf >= 8) {
        size_t le = 0;
        char *want = unhex(f[7], &le);
        CHECK_STATUS(st, CST_OK);
        CHECK(n == le && strcmp(buf, want) == 0);
        free(want);
    } else {
        CHECK(st == CST_ERR_INVALID_ARGUMENT && nf >= 8 && strcmp(last_kind(), f[7]) == 0);
    }
    free(value);
}

/* Routing maps and the token to send, and why a token is not satisfied. */
static void test_routing(void) {
    const char *ranges = "{\"PartitionKeyRanges\":[{\"id\":\"1\",\"minInclusive\":\"\",\"maxExclusive\":\"20\",\"parents\":[\"0\"]},"
                         "{\"id\":\"2\",\"minInclusive\":\"20\",\"maxExclusive\":\"FF\",\"parents\":[\"0\"]}]}";
    cst_routing_map *map = NULL;
    CHECK_STATUS(cst_routing_map_parse(ranges, strlen(ranges), &map), CST_OK);
    size_t len = 0;
    CHECK_STATUS(cst_routing_map_get_range_count(map, &len), CST_OK);
    CHECK(len == 2);
    cst_token *t = NULL, *sent = NULL;
    CHECK_STATUS(cst_token_parse("0:1#5,1:1#9", 11, 0, &t), CST_OK);
    /* "partitionKey" hashes (V2) to 013AEF..., in range 1. */
    CHECK_STATUS(cst_token_scope_to_partition_key(t, "\"partitionKey\"", 14, NULL, 0, map, &sent), CST_OK);
    char buf[256];
    size_t n = 0;
    CHECK_STATUS(cst_token_to_string(sent, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "1:1#9") == 0);
    cst_token_free(sent);
    sent = NULL;
    CHECK_STATUS(cst_token_scope_to_feed_range(t, "-FF", 3, map, &sent), CST_OK);
    CHECK_STATUS(cst_token_to_string(sent, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "1:1#9,2:1#5") == 0);
    cst_token_free(sent);
    sent = NULL;
    const char *v1 = "{\"paths\":[\"/pk\"],\"kind\":\"Hash\"}";
    CHECK_STATUS(cst_token_scope_to_partition_key(t, "\"partitionKey\"", 14, v1, strlen(v1), map, &sent), CST_OK);
    cst_token_free(sent);
    sent = NULL;
    cst_token *other = NULL;
    CHECK_STATUS(cst_token_parse("9:1#5", 5, 0, &other), CST_OK);
    CHECK_STATUS(cst_token_scope_to_partition_key(other, "1", 1, NULL, 0, map, &sent), CST_ERR_NOT_FOUND);
    CHECK(sent == NULL);
    CHECK_STATUS(cst_token_scope_to_partition_key(t, "user", 4, NULL, 0, map, &sent), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "invalid_partition_key") == 0);
    const char *gap = "[{\"id\":\"1\",\"minInclusive\":\"\",\"maxExclusive\":\"20\"},{\"id\":\"2\",\"minInclusive\":\"30\",\"maxExclusive\":\"FF\"}]";
    cst_routing_map *bad = NULL;
    CHECK_STATUS(cst_routing_map_parse(gap, strlen(gap), &bad), CST_ERR_MALFORMED);
    CHECK(bad == NULL && strcmp(last_kind(), "invalid_routing_map") == 0 && strstr(last_message(), "gap") != NULL);
    CHECK_STATUS(cst_routing_map_parse(ranges, strlen(ranges), NULL), CST_ERR_NULL_ARGUMENT);
    /* Why a token is not satisfied. */
    int32_t order = -1;
    CHECK_STATUS(cst_token_compare_explain(other, t, &order, NULL, 0, &n), CST_ERR_BUFFER_TOO_SMALL);
    CHECK(order == CST_ORDER_CONCURRENT);
    CHECK_STATUS(cst_token_compare_explain(other, t, &order, buf, sizeof buf, &n), CST_OK);
    CHECK(strstr(buf, "A lacks range 0: absent (needs 0:1#5)") != NULL && strstr(buf, "B lacks range 9") != NULL);
    CHECK_STATUS(cst_token_compare_explain(t, t, &order, buf, sizeof buf, &n), CST_OK);
    CHECK(order == CST_ORDER_EQUAL && n == 0);
    /* A header budget: never cut, a typed refusal. */
    CHECK_STATUS(cst_token_check_header_budget(t, 11), CST_OK);
    CHECK_STATUS(cst_token_check_header_budget(t, 10), CST_ERR_LIMIT_EXCEEDED);
    CHECK(strcmp(last_kind(), "token_too_large") == 0);
    /* The session container resolves by partition key too. */
    cst_container *c = NULL;
    CHECK_STATUS(cst_container_new(&c), CST_OK);
    bool captured = false;
    CHECK_STATUS(cst_container_capture(c, "dbs/d/colls/c", 13, "rid1", 4, "1:1#10,2:1#20", 13, 200, 0, &captured), CST_OK);
    CHECK(captured);
    CHECK_STATUS(cst_container_resolve_for_partition_key(c, "dbs/d/colls/c", 13, "\"partitionKey\"", 14, NULL, 0, map, &sent), CST_OK);
    CHECK_STATUS(cst_token_to_string(sent, buf, sizeof buf, &n), CST_OK);
    CHECK(strcmp(buf, "1:1#10") == 0);
    cst_token_free(sent);
    sent = NULL;
    CHECK_STATUS(cst_container_resolve_for_partition_key(c, "dbs/x/colls/c", 13, "\"partitionKey\"", 14, NULL, 0, map, &sent), CST_ERR_NOT_FOUND);
    cst_container_free(c);
    cst_token_free(other);
    cst_token_free(t);
    cst_routing_map_free(map);
    cst_routing_map_free(NULL);
}

/* Reads one line (with its newline) into *line, growing it as needed: a portable getline (which
 * MinGW's C runtime does not have). Returns the line's length, 0 at the end of the file. */
static size_t read_line(char **line, size_t *cap, FILE *fp) {
    size_t len = 0;
    for (;;) {
        if (*cap - len < 2) {
            size_t grown = *cap ? *cap * 2 : 4096;
            char *p = realloc(*line, grown);
            if (p == NULL) return 0;
            *line = p;
            *cap = grown;
        }
        if (fgets(*line + len, (int)(*cap - len > 1 << 30 ? 1 << 30 : *cap - len), fp) == NULL) break;
        len += strlen(*line + len);
        if (len > 0 && (*line)[len - 1] == '\n') break;
    }
    return len;
}

static int run_vectors(const char *path) {
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    int cases = 0;
    static char name[256];
    while (read_line(&line, &cap, fp) > 0) {
        char *f[MAXF + 8];
        int nf = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, " \n", &save); tok != NULL && nf < MAXF + 8; tok = strtok_r(NULL, " \n", &save)) {
            f[nf++] = tok;
        }
        if (nf < 3) {
            continue;
        }
        snprintf(name, sizeof name, "vector %s %s", f[0], f[1]);
        begin(name);
        if (strcmp(f[0], "parse") == 0 && nf >= 6) {
            vector_parse(f, nf);
        } else if (strcmp(f[0], "convert") == 0 && nf >= 5) {
            vector_convert(f);
        } else if (strcmp(f[0], "merge") == 0) {
            vector_merge(f, nf);
        } else if (strcmp(f[0], "compare") == 0 && nf >= 5) {
            vector_compare(f);
        } else if (strcmp(f[0], "explain") == 0 && nf >= 5) {
            vector_explain(f, nf);
        } else if (strcmp(f[0], "scope") == 0) {
            vector_scope(f, nf);
        } else if (strcmp(f[0], "seal") == 0 && nf >= 6) {
            vector_seal(f);
        } else if (strcmp(f[0], "unseal") == 0 && nf >= 7) {
            vector_unseal(f, nf);
        } else if (strcmp(f[0], "latest") == 0 && nf >= 3) {
            vector_latest(f, nf);
        } else if (strcmp(f[0], "container") == 0 && nf >= 3) {
            vector_container(f, nf);
        } else if (strcmp(f[0], "error") == 0 && nf >= 7) {
            vector_error(f, nf);
        } else if (strcmp(f[0], "epk") == 0 && nf >= 7) {
            vector_epk(f, nf);
        } else if (strcmp(f[0], "cookie_keys") == 0 && nf >= 4) {
            vector_cookie_keys(f, nf);
        } else if ((strcmp(f[0], "cookie_context") == 0 && nf >= 6) || (strcmp(f[0], "cookie_header") == 0 && nf >= 7)
                   || (strcmp(f[0], "fingerprint") == 0 && nf >= 4)) {
            vector_web_text(f);
        } else {
            CHECK(!"unknown vector line");
        }
        end();
        cases++;
    }
    free(line);
    fclose(fp);
    return cases;
}

/* The token-cookie hook: begin presents the cookie's token, finish gives the Set-Cookie header
 * only when the store's token changed (the same rule as the Python and .NET adapters). */
static void test_state_token_cookie(void) {
    cst_state *s = NULL;
    CHECK_STATUS(cst_state_open_memory(NULL, &s), CST_OK);
    const uint8_t *secrets[] = {(const uint8_t *)"framework-secret-0123456789"};
    size_t lens[] = {27};
    cst_state_token_cookie *hook = NULL;
    CHECK_STATUS(cst_state_token_cookie_new(secrets, lens, 1, "aspnet", 6, "web/SessionStore", 16, true, 60, &hook), CST_OK);
    const uint8_t *weak[] = {(const uint8_t *)"short"};
    size_t weak_lens[] = {5};
    cst_state_token_cookie *bad = NULL;
    CHECK_STATUS(cst_state_token_cookie_new(weak, weak_lens, 1, "aspnet", 6, "a", 1, true, -1, &bad), CST_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(last_kind(), "weak_key") == 0 && bad == NULL);
    bool presented = true;
    CHECK_STATUS(cst_state_token_cookie_begin(hook, s, "sid", 3, NULL, 0, &presented), CST_OK);
    CHECK(!presented);
    cst_state_result *r = NULL;
    cst_state_entry e;
    CHECK_STATUS(cst_state_get_exclusive(s, "sid", 3, &r), CST_OK);
    CHECK_STATUS(cst_state_result_get_entry(r, &e), CST_OK);
    cst_state_result_free(r);
    CHECK_STATUS(cst_state_set_and_release(s, "sid", 3, (const uint8_t *)"x", 1, e.lock_id, true, 0), CST_OK);
    char header[512];
    size_t n = 0;
    CHECK_STATUS(cst_state_token_cookie_finish(hook, s, "sid", 3, NULL, 0, header, sizeof header, &n), CST_OK);
    CHECK(strncmp(header, "cosmos_state_token=", 19) == 0 && strstr(header, "Max-Age=60; HttpOnly; SameSite=Lax; Secure") != NULL);
    const char *value = header + 19;
    size_t value_len = (size_t)(strchr(value, ';') - value);
    CHECK_STATUS(cst_state_token_cookie_begin(hook, s, "sid", 3, value, value_len, &presented), CST_OK);
    CHECK(presented);
    CHECK_STATUS(cst_state_token_cookie_finish(hook, s, "sid", 3, value, value_len, header, sizeof header, &n), CST_ERR_NOT_FOUND);
    CHECK_STATUS(cst_state_token_cookie_begin(hook, s, "other", 5, value, value_len, &presented), CST_OK);
    CHECK(!presented); /* bound to its session */
    CHECK_STATUS(cst_state_token_cookie_begin(hook, s, "sid", 3, value, value_len, NULL), CST_ERR_NULL_ARGUMENT);
    cst_state_token_cookie_free(hook);
    cst_state_token_cookie_free(NULL);
    cst_state_free(s);
}

/* A session flow over a host's own REST traffic: learn the definition and the routing map from
 * its metadata reads, capture a write's token, present only the partition's segment, hand the
 * flow over as a snapshot, step aside from malformed input. */
static void test_flow_api(void) {
    cst_flow *f = NULL, *g = NULL;
    cst_token *t = NULL;
    size_t n = 0;
    char buf[2048];
    bool wants = false;
    CHECK_STATUS(cst_flow_new(&f), CST_OK);
    CHECK_STATUS(cst_flow_get_wants_body(f, S("GET"), S("/dbs/d/colls/c/pkranges/"), &wants), CST_OK);
    CHECK(wants);
    CHECK_STATUS(cst_flow_get_wants_body(f, S("GET"), S("/dbs/d/colls/c/docs/x"), &wants), CST_OK);
    CHECK(!wants);
    const char *coll = "{\"id\":\"c\",\"partitionKey\":{\"paths\":[\"/pk\"],\"kind\":\"Hash\",\"version\":2}}";
    const char *ranges = "{\"PartitionKeyRanges\":[{\"id\":\"1\",\"minInclusive\":\"\",\"maxExclusive\":\"7F\",\"parents\":[\"0\"]},"
                         "{\"id\":\"2\",\"minInclusive\":\"7F\",\"maxExclusive\":\"FF\",\"parents\":[\"0\"]}]}";
    CHECK_STATUS(cst_flow_run_after_response(f, S("GET"), S("/dbs/d/colls/c"), 200, NULL, 0, coll, strlen(coll)), CST_OK);
    CHECK_STATUS(cst_flow_run_after_response(f, S("GET"), S("/dbs/d/colls/c/pkranges"), 200, NULL, 0, ranges, strlen(ranges)), CST_OK);
    cst_header written[] = {{S("x-ms-session-token"), S("1:0#5#0=5,2:0#9#0=9")}, {S("X-MS-Content-Path"), S("rid")}};
    CHECK_STATUS(cst_flow_run_after_response(f, S("POST"), S("/dbs/d/colls/c/docs"), 201, written, 2, NULL, 0), CST_OK);
    cst_header read[] = {{S("x-ms-documentdb-partitionkey"), S("[\"a\"]")}};
    CHECK_STATUS(cst_flow_run_before_request(f, S("GET"), S("/dbs/d/colls/c/docs/x"), read, 1, &t), CST_OK);
    CHECK(t != NULL && (renders_as(t, "1:0#5#0=5") || renders_as(t, "2:0#9#0=9")));
    CHECK_STATUS(cst_token_to_string(t, buf, sizeof buf, &n), CST_OK);
    char first[64] = "";
    CHECK(n < sizeof first);
    if (n < sizeof first) memcpy(first, buf, n + 1);
    cst_token_free(t);
    t = NULL;
    /* Metadata requests are left alone: CST_ERR_NOT_FOUND, *out NULL. */
    CHECK_STATUS(cst_flow_run_before_request(f, S("GET"), S("/dbs/d/colls/c"), NULL, 0, &t), CST_ERR_NOT_FOUND);
    CHECK(t == NULL);
    /* The snapshot carries the routes: a restored flow sends the same segment at once. */
    CHECK_STATUS(cst_flow_snapshot(f, NULL, 0, &n), CST_ERR_BUFFER_TOO_SMALL);
    CHECK(n > 0 && n < sizeof buf);
    CHECK_STATUS(cst_flow_snapshot(f, buf, sizeof buf, &n), CST_OK);
    CHECK_STATUS(cst_flow_restore(buf, n, &g), CST_OK);
    CHECK_STATUS(cst_flow_run_before_request(g, S("GET"), S("/dbs/d/colls/c/docs/x"), read, 1, &t), CST_OK);
    CHECK(t != NULL && renders_as(t, first));
    cst_token_free(t);
    t = NULL;
    CHECK_STATUS(cst_flow_merge_snapshot(g, buf, n), CST_OK);
    /* Malformed input from the wire steps aside, counted; garbage snapshots are typed errors. */
    cst_header bad[] = {{S("x-ms-session-token"), S("garbage")}, {S("x-ms-documentdb-partitionkey"), S("[\"a\"]")}};
    CHECK_STATUS(cst_flow_run_before_request(g, S("GET"), S("/dbs/d/colls/c/docs/x"), bad, 2, &t), CST_ERR_NOT_FOUND);
    cst_flow_stats stats;
    CHECK_STATUS(cst_flow_get_stats(g, &stats), CST_OK);
    CHECK(stats.stepped_aside == 1 && stats.scoped == 1);
    cst_flow *h = NULL;
    CHECK_STATUS(cst_flow_restore(S("{}"), &h), CST_ERR_MALFORMED);
    CHECK(h == NULL && strcmp(last_kind(), "invalid_snapshot") == 0);
    CHECK_STATUS(cst_flow_run_after_response(g, S("GET"), S("/"), 70000, NULL, 0, NULL, 0), CST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(cst_flow_run_before_request(g, S("GET"), S("/"), NULL, 1, &t), CST_ERR_NULL_ARGUMENT);
    CHECK_STATUS(cst_flow_new(NULL), CST_ERR_NULL_ARGUMENT);
    /* The headers a host passes: the core's lists, NULL past the last. */
    CHECK(strcmp(cst_flow_header_get_name(false, 0), "x-ms-session-token") == 0);
    CHECK(strcmp(cst_flow_header_get_name(true, 1), "x-ms-substatus") == 0);
    CHECK(cst_flow_header_get_name(false, 7) == NULL && cst_flow_header_get_name(true, 3) == NULL);
    cst_flow_free(g);
    cst_flow_free(f);
    cst_flow_free(NULL);
}

/* Flow cookies: a node's per-user flows, each user's progress sealed in a cookie; another node
 * with the same key opens it, another user's or a forged cookie is refused and counted. */
static void test_flow_cookies_api(void) {
    const uint8_t *keys[] = {(const uint8_t *)"0123456789abcdef0123456789abcdef"};
    size_t key_lens[] = {32};
    const uint8_t *other_keys[] = {(const uint8_t *)"fedcba9876543210fedcba9876543210"};
    cst_flow_cookies *a = NULL, *b = NULL, *other = NULL;
    cst_cookie_flow *user = NULL, *again = NULL, *bob = NULL, *stranger = NULL;
    cst_flow *flow = NULL, *node = NULL;
    cst_cookie_verdict verdict = CST_COOKIE_ACCEPTED;
    char cookie[4096];
    size_t n = 0;
    CHECK_STATUS(cst_flow_cookies_new(keys, key_lens, 1, 0, &a), CST_OK);
    CHECK_STATUS(cst_flow_cookies_new(keys, key_lens, 1, 0, &b), CST_OK);
    CHECK_STATUS(cst_flow_cookies_new(other_keys, key_lens, 1, 0, &other), CST_OK);
    CHECK_STATUS(cst_flow_cookies_open(a, S("session-alice"), NULL, 0, &user), CST_OK);
    CHECK_STATUS(cst_cookie_flow_get_verdict(user, &verdict), CST_OK);
    CHECK(verdict == CST_COOKIE_MISSING);
    /* Nothing moved yet: nothing to write. */
    CHECK_STATUS(cst_flow_cookies_seal(a, user, NULL, 0, cookie, sizeof cookie, &n), CST_ERR_NOT_FOUND);
    CHECK_STATUS(cst_cookie_flow_get_flow(user, &flow), CST_OK);
    cst_header written[] = {{S("x-ms-session-token"), S("0:1#9#0=9")}};
    CHECK_STATUS(cst_flow_run_after_response(flow, S("POST"), S("/dbs/d/colls/c/docs"), 201, written, 1, NULL, 0), CST_OK);
    CHECK_STATUS(cst_flow_cookies_seal(a, user, NULL, 0, cookie, sizeof cookie, &n), CST_OK);
    CHECK(n > 5 && strncmp(cookie, "cst2.", 5) == 0);
    /* Node B opens it; Bob replaying it gets nothing; a node with another key says so. */
    CHECK_STATUS(cst_flow_cookies_open(b, S("session-alice"), cookie, n, &again), CST_OK);
    CHECK_STATUS(cst_cookie_flow_get_verdict(again, &verdict), CST_OK);
    CHECK(verdict == CST_COOKIE_ACCEPTED);
    CHECK_STATUS(cst_flow_cookies_open(b, S("session-bob"), cookie, n, &bob), CST_OK);
    CHECK_STATUS(cst_cookie_flow_get_verdict(bob, &verdict), CST_OK);
    CHECK(verdict == CST_COOKIE_FOREIGN_CONTEXT);
    CHECK(strcmp(cst_cookie_verdict_get_name((int)verdict), "foreign_context") == 0);
    CHECK(cst_cookie_verdict_get_name(99) == NULL);
    CHECK_STATUS(cst_flow_cookies_open(other, S("session-alice"), cookie, n, &stranger), CST_OK);
    CHECK_STATUS(cst_cookie_flow_get_verdict(stranger, &verdict), CST_OK);
    CHECK(verdict == CST_COOKIE_UNKNOWN_KEY);
    cst_flow_cookie_stats stats;
    CHECK_STATUS(cst_flow_cookies_get_stats(b, &stats), CST_OK);
    CHECK(stats.accepted == 1 && stats.foreign_context == 1 && stats.sealed == 0);
    /* A session renewed during the request: the progress is sealed for the new id. */
    CHECK_STATUS(cst_flow_cookies_seal(b, again, S("session-alice-2"), cookie, sizeof cookie, &n), CST_OK);
    CHECK_STATUS(cst_flow_cookies_get_node_flow(a, &node), CST_OK);
    cst_flow_stats fstats;
    CHECK_STATUS(cst_flow_get_stats(node, &fstats), CST_OK);
    CHECK(fstats.captured == 1);
    CHECK_STATUS(cst_flow_cookies_new(keys, key_lens, 0, 0, NULL), CST_ERR_NULL_ARGUMENT);
    cst_flow_cookies *none = NULL;
    CHECK_STATUS(cst_flow_cookies_new(keys, key_lens, 0, 0, &none), CST_ERR_INVALID_ARGUMENT);
    CHECK(none == NULL);
    cst_flow_free(node);
    cst_flow_free(flow);
    cst_cookie_flow_free(stranger);
    cst_cookie_flow_free(bob);
    cst_cookie_flow_free(again);
    cst_cookie_flow_free(user);
    cst_cookie_flow_free(NULL);
    cst_flow_cookies_free(other);
    cst_flow_cookies_free(b);
    cst_flow_cookies_free(a);
    cst_flow_cookies_free(NULL);
}

int main(int argc, char **argv) {
    RUN(test_versions);
    RUN(test_status_names);
    RUN(test_buffer_protocol);
    RUN(test_null_arguments);
    RUN(test_invalid_utf8_and_arguments);
    RUN(test_malformed_details);
    RUN(test_limits);
    RUN(test_token_handle);
    RUN(test_oneshot);
    RUN(test_latest_for_feed_range);
    RUN(test_seal_unseal);
#if defined(CST_DEBUG_PANIC)
    RUN(test_live_token_count);
    RUN(test_panic_boundary);
#elif defined(CST_TEST_RELEASE_ARTEFACT)
    /* A shipped library has no debug hooks: the two tests that need them are left out. */
#else
#error "the C tests need CST_DEBUG_PANIC (a library built with --features debug-panic) or CST_TEST_RELEASE_ARTEFACT"
#endif
    RUN(test_flags_apply_per_function);
    RUN(test_handle_variants);
    RUN(test_carrier);
    RUN(test_cookie_policy);
    RUN(test_warnings_api);
    RUN(test_error_table);
    RUN(test_state_options);
    RUN(test_state_api);
    RUN(test_routing);
    RUN(test_state_token_cookie);
    RUN(test_security_review);
    RUN(test_last_error_during_thread_teardown);
    RUN(test_threads_share_one_handle);
    RUN(test_container_api);
    RUN(test_container_threads);
    RUN(test_flow_api);
    RUN(test_flow_cookies_api);
    if (argc < 2 || run_vectors(argv[1]) < 150) {
        fprintf(stderr, "FAIL: the shared vectors (argument 1) were not run\n");
        failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
