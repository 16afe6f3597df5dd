/* The reference for Toolkit's GEMM figures: the same OpenBLAS, called from plain C.
   Build: gcc -O2 scripts/gemm_bench.c /usr/lib/x86_64-linux-gnu/libopenblas.so.0 -o gemm_bench
   Run:   ./gemm_bench M N K REPEATS   -> prints the median GFLOP/s of C = A·B (float32, column-major) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* cblas.h comes with libopenblas-dev; the runtime package is enough with the prototype here */
enum { CblasColMajor = 102, CblasNoTrans = 111 };
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s M N K REPEATS\n", argv[0]); return 2; }
    int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]), reps = atoi(argv[4]);
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)((i % 17) - 8) / 8.0f;
    for (long i = 0; i < (long)k * n; i++) b[i] = (float)((i % 13) - 6) / 6.0f;
    double *times = malloc(sizeof(double) * reps);
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, m, b, k, 0.0f, c, m); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, m, b, k, 0.0f, c, m);
        times[r] = now() - t0;
    }
    qsort(times, reps, sizeof(double), cmp);
    printf("%.3f\n", 2.0 * m * n * k / times[reps / 2] / 1e9);
    return 0;
}
