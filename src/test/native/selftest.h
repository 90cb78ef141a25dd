/*
 * selftest.h - what the two self-tests of the TEST DOUBLES share (selftest.c for libhipffm_testrt.so,
 * selftest_cudart.c for the cudart double): the check counters and macros, fd helpers, the table of error names and
 * the summary line. Each self-test is one translation unit that defines _GNU_SOURCE before its first include, and
 * before including this header SELFTEST_NAME (the program's name, for the summary line) and SELFTEST_ERROR_NAMES
 * (the error-name list that build.sh generates for it); it defines its own EXPECT(call, code) over SELFTEST_EXPECT
 * with its result type and that type's name function.
 */
#ifndef HIPFFM_SELFTEST_H
#define HIPFFM_SELFTEST_H

#if !defined(SELFTEST_NAME) || !defined(SELFTEST_ERROR_NAMES)
#error "define SELFTEST_NAME and SELFTEST_ERROR_NAMES before including selftest.h"
#endif

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hipffm_test_hooks.h"

static int g_passed, g_failed;

#define CHECK(cond)                                                                                  \
    do {                                                                                             \
        if (cond) {                                                                                  \
            g_passed++;                                                                              \
        } else {                                                                                     \
            g_failed++;                                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                 \
        }                                                                                            \
    } while (0)

/* One check that call returns code: results are of type result_t and compared with ==; on a mismatch, the result
   is printed with name_of (hipGetErrorName, cudaGetErrorName) and as an int, and the expected code as written. */
#define SELFTEST_EXPECT(result_t, name_of, call, code)                                               \
    do {                                                                                             \
        result_t got_ = (call);                                                                      \
        if (got_ == (code)) {                                                                        \
            g_passed++;                                                                              \
        } else {                                                                                     \
            g_failed++;                                                                              \
            fprintf(stderr, "%s:%d: %s returned %s (%d), expected %s\n", __FILE__, __LINE__, #call,  \
                    name_of(got_), (int)got_, #code);                                                \
        }                                                                                            \
    } while (0)

/* A memfd holding size zero bytes; exits on failure. */
static int make_memfd(size_t size) {
    int fd = memfd_create("hipffm-" SELFTEST_NAME, MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
        perror("memfd");
        exit(2);
    }
    return fd;
}

static int fd_open(int fd) {
    return fcntl(fd, F_GETFD) != -1;
}

struct err_entry {
    const char* name;
    int code;
};

/* Every enumerator of the error enum of the headers the self-test sees, as listed by build.sh (aliases included). */
static const struct err_entry k_errors[] = {
#define X(name) {#name, (int)name},
#include SELFTEST_ERROR_NAMES
#undef X
};

/* The end of main: the summary line, and the exit status (1 when a check failed). */
static int selftest_summary(void) {
    if (g_failed != 0) {
        fprintf(stderr, SELFTEST_NAME ": %d of %d checks FAILED\n", g_failed, g_failed + g_passed);
        return 1;
    }
    printf(SELFTEST_NAME ": %d checks passed\n", g_passed);
    return 0;
}

#endif
