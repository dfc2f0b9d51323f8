// handover: a loader thread allocates N blocks of SZ bytes, hands them over and blocks; the main thread frees them
// all and allocates as many again. Peak RSS shows whether an allocator reuses memory freed into a quiet thread's
// caches (BENCHMARKS.md, "Allocator measurements of session 14").
// usage: gcc -O2 -pthread handover.c -o handover && /usr/bin/time -f %M env LD_PRELOAD=... ./handover
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define N 400000
#define SZ 256
static void *blocks[N];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int loaded, quit;
static void *loader(void *a) {
    for (int i = 0; i < N; i++) { blocks[i] = malloc(SZ); memset(blocks[i], 1, SZ); }
    pthread_mutex_lock(&mu); loaded = 1; pthread_cond_broadcast(&cv);
    while (!quit) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return a;
}
int main(void) {
    pthread_t t; pthread_create(&t, 0, loader, 0);
    pthread_mutex_lock(&mu); while (!loaded) pthread_cond_wait(&cv, &mu); pthread_mutex_unlock(&mu);
    for (int i = 0; i < N; i++) free(blocks[i]);
    usleep(200000);
    for (int i = 0; i < N; i++) { blocks[i] = malloc(SZ); memset(blocks[i], 2, SZ); }
    long s = 0; for (int i = 0; i < N; i++) s += ((char *)blocks[i])[5];
    pthread_mutex_lock(&mu); quit = 1; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&mu);
    pthread_join(t, 0);
    printf("%ld\n", s);
}
