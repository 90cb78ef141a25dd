/* Where does the raw Java binding's extra time in event/stream create+destroy come from? The same loop as
 * benchmarks/native/churn.c, with libcudart linked (LINKED) or dlopen'ed RTLD_LOCAL as the JVM loads it, on the
 * main thread or on a pthread created before/after the dlopen. Prints ns per create+destroy (median of 5 rounds).
 * Run by hand on the GPU machine (output: docs/runs/h200-2026-12-01-paired/churnprobe.txt); build here with
 *   gcc -O2 -DLINKED -I/usr/local/cuda/include -o churnprobe-linked churnprobe.c /usr/local/cuda/lib64/libcudart.so.13 \
 *       -Wl,-rpath,/usr/local/cuda/lib64 -lpthread
 *   gcc -O2 -o churnprobe-dlopen churnprobe.c -ldl -lpthread      (run with LD_LIBRARY_PATH=/usr/local/cuda/lib64)
 *   ./churnprobe-linked|dlopen [0 main thread | 1 thread made before the load | 2 after]
 * RawChurnProbe.java is the same loop from Java (ordinary and critical downcalls). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef int (*ev_create_t)(void **, unsigned);
typedef int (*destroy_t)(void *);
typedef int (*st_create_t)(void **, unsigned);
typedef int (*setdev_t)(int);
typedef int (*getdev_t)(int *);
static getdev_t get_dev;
#ifdef LINKED
#include <cuda_runtime_api.h>
#endif
static ev_create_t ev_create; static destroy_t ev_destroy; static st_create_t st_create; static destroy_t st_destroy;
static setdev_t set_dev;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *) a, y = *(const double *) b; return (x > y) - (x < y); }
static double measure(int what) {
    double r[5];
    for (int k = -2; k < 5; k++) {
        double t0 = now(), t; long n = 0;
        do {
            for (int j = 0; j < 16; j++) {
                void *h;
                if (what == 3) { int d; if (get_dev(&d)) abort(); continue; }
                if (what == 2) { if (st_create(&h, 0) || st_destroy(h)) abort(); }
                else { if (ev_create(&h, what == 0 ? 0 : 2) || ev_destroy(h)) abort(); }
            }
            n += 16;
        } while ((t = now()) - t0 < (k < 0 ? 0.3 : 0.4));
        if (k >= 0) r[k] = (t - t0) / n * 1e9;
    }
    qsort(r, 5, sizeof r[0], cmpd);
    return r[2];
}
static void load(void) {
#ifdef LINKED
    ev_create = (ev_create_t) cudaEventCreateWithFlags; ev_destroy = (destroy_t) cudaEventDestroy;
    st_create = (st_create_t) cudaStreamCreateWithFlags; st_destroy = (destroy_t) cudaStreamDestroy;
    set_dev = (setdev_t) cudaSetDevice; get_dev = (getdev_t) cudaGetDevice;
#else
    void *l = dlopen("libcudart.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!l) { fprintf(stderr, "%s\n", dlerror()); exit(1); }
    ev_create = (ev_create_t) dlsym(l, "cudaEventCreateWithFlags"); ev_destroy = (destroy_t) dlsym(l, "cudaEventDestroy");
    st_create = (st_create_t) dlsym(l, "cudaStreamCreateWithFlags"); st_destroy = (destroy_t) dlsym(l, "cudaStreamDestroy");
    set_dev = (setdev_t) dlsym(l, "cudaSetDevice"); get_dev = (getdev_t) dlsym(l, "cudaGetDevice");
#endif
}
static const char *mode = "";
static void *run(void *arg) {
    (void) arg;
    if (set_dev(0)) { fprintf(stderr, "cudaSetDevice failed\n"); exit(1); }
    double a = measure(0), b = measure(1), c = measure(2), g = measure(3);
    printf("%-8s %-22s event(timing) %7.1f ns  event(no timing) %7.1f ns  stream %7.1f ns  cudaGetDevice %6.1f ns\n",
#ifdef LINKED
           "linked",
#else
           "dlopen",
#endif
           mode, a, b, c, g);
    return NULL;
}
static void *wait_then_run(void *arg) { pthread_barrier_wait(arg); return run(NULL); }
int main(int argc, char **argv) {
    int where = argc > 1 ? atoi(argv[1]) : 0;   /* 0 main thread, 1 thread made before the load, 2 after */
    pthread_t t; pthread_barrier_t b; pthread_barrier_init(&b, NULL, 2);
    if (where == 1) { mode = "thread made before load"; pthread_create(&t, NULL, wait_then_run, &b); load(); pthread_barrier_wait(&b); pthread_join(t, NULL); }
    else if (where == 2) { mode = "thread made after load"; load(); pthread_create(&t, NULL, run, NULL); pthread_join(t, NULL); }
    else { mode = "main thread"; load(); run(NULL); }
    return 0;
}
