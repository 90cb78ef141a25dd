/*
 * hipffm_test_hooks.h - the hipffmTest_ hooks of the TEST DOUBLES (not HIP or CUDA API; see README.md, "Test hooks"):
 * defined by hipffm_testrt.c (all but the last three) and hipffm_cudart.c (the last three, only in the cudart double,
 * cudart/libcudart.so.13), and called by the self-tests, selftest.c and selftest_cudart.c. The Java tests call them
 * through FFM (io.github.hipffm.testrt.TestRuntime).
 */
#ifndef HIPFFM_TEST_HOOKS_H
#define HIPFFM_TEST_HOOKS_H

/* The test runtime's (hipffm_testrt.c): in libhipffm_testrt.so and in the cudart double. */
int hipffmTest_isTestRuntime(void);
long hipffmTest_liveObjects(const char* kind);
void hipffmTest_failNext(const char* function, int error, int skip);
void hipffmTest_reset(void);
long hipffmTest_callCount(const char* function);
void hipffmTest_resetCallCounts(void);
long hipffmTest_lastLaunch(int what);
long hipffmTest_pendingWork(void);
void hipffmTest_setDeviceCount(int n);
int hipffmTest_stickyError(void);
long hipffmTest_semaphoreCounter(const void* semaphore);
long hipffmTest_semaphoreSignals(const void* semaphore);
void hipffmTest_glSetContext(int current);
int hipffmTest_glDefineBuffer(unsigned int name, long size);
int hipffmTest_glDefineTexture(unsigned int name, unsigned int target, int width, int height, int levels,
                               int bytesPerTexel);
int hipffmTest_glDelete(unsigned int name);
long hipffmTest_glBufferData(unsigned int name, long offset, void* dst, long n);
long hipffmTest_glWriteBuffer(unsigned int name, long offset, const void* src, long n);
long hipffmTest_glTextureData(unsigned int name, int level, void* dst, long n);
long hipffmTest_glWriteTexture(unsigned int name, int level, const void* src, long n);
int hipffmTest_textureFetch(const void* texture, float x, float y, float z, float level, void* out);
int hipffmTest_surfaceRead(const void* surface, long xBytes, long y, long z, void* dst, long n);
int hipffmTest_surfaceWrite(const void* surface, long xBytes, long y, long z, const void* src, long n);

/* The cudart layer's (hipffm_cudart.c): only in the cudart double. */
int hipffmTest_cudaErrorOf(int hipError);
int hipffmTest_hipErrorOf(int cudaError);
long hipffmTest_cudaClosedFds(void);

#endif
