/* The main thread ends with pthread_exit after enough allocation to start the background scavenger thread
   (16 MiB in use). POSIX ends the process with status 0 when its last thread ends, running the atexit handlers;
   the scavenger thread must not keep it alive (it did: the process hung with only gort-scavenger left). A worker
   outlives main by 200 ms, so the process must wait for it and no longer. (A C program; .h only because SwiftPM
   refuses .c files in a Swift test target.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 24000, SIZE = 1000 };
static void *blocks[N];

static void at_exit(void) {
    printf("atexit ran\n");
    fflush(stdout);
}

static void *worker(void *arg) {
    (void)arg;
    usleep(200000);
    void *p = malloc(64);
    free(p);
    printf("worker done\n");
    fflush(stdout);
    return NULL;
}

int main(void) {
    atexit(at_exit);
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(SIZE);
        if (!blocks[i]) return 1;
        memset(blocks[i], i & 0xff, SIZE);
    }
    for (int i = 0; i < N; i++) free(blocks[i]);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL)) return 1;
    pthread_detach(t);
    pthread_exit(NULL);
}
