/* Invalid frees and reallocs, one per run: the allocator must abort (SIGABRT) with one stderr line naming the
   call and the pointer. A C program (named .h only because SwiftPM refuses .c files in a Swift test target).

   Usage: abort CASE
   Before the bad call it prints "ptr=0x..." (the pointer it is about to pass) to stdout and flushes, so the test
   can check that the message names exactly that pointer. If the bad call returns, it prints "survived" and exits
   0, which the test reports as the failure it is. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hides pointers from the compiler, so it neither warns about nor optimizes around the bad calls. */
static void *opaque(void *p) {
    void *volatile v = p;
    return v;
}

static void announce(void *p) {
    printf("ptr=%p\n", p);
    fflush(stdout);
}

static void *free_it(void *p) {
    free(p);
    return NULL;
}
static void free_on_other_thread(void *p) {
    pthread_t t;
    if (pthread_create(&t, NULL, free_it, p)) { printf("pthread_create failed\n"); exit(3); }
    pthread_join(t, NULL);
}
static void *alloc_it(void *arg) { return malloc((size_t)(uintptr_t)arg); }
static void *malloc_on_other_thread(size_t n) {
    pthread_t t;
    void *p = NULL;
    if (pthread_create(&t, NULL, alloc_it, (void *)(uintptr_t)n)) { printf("pthread_create failed\n"); exit(3); }
    pthread_join(t, &p);
    return p;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: abort CASE\n"); return 2; }
    const char *c = argv[1];
    /* Warm the heap and stdio first: the bad call must not be the process's first allocation. */
    free(malloc(10));
    printf("case %s\n", c);
    fflush(stdout);
    char stack[256];
    memset(stack, 1, sizeof stack);

    if (!strcmp(c, "free-stack")) {
        void *p = opaque(stack + 32);
        announce(p);
        free(p);
    } else if (!strcmp(c, "free-interior")) {
        char *p = malloc(64);
        announce(p + 8);
        free(opaque(p + 8));
    } else if (!strcmp(c, "free-interior-large")) {
        char *p = malloc(1 << 20);
        announce(p + 8);
        free(opaque(p + 8));
    } else if (!strcmp(c, "free-wild")) {
        void *p = opaque((void *)(uintptr_t)0x12345670);
        announce(p);
        free(p);
    } else if (!strcmp(c, "free-wild-new-thread")) {
        /* The bad free is a new thread's first call: it goes through the empty cache's slow path. */
        void *p = opaque((void *)(uintptr_t)0x12345670);
        announce(p);
        free_on_other_thread(p);
    } else if (!strcmp(c, "free-interior-new-thread")) {
        char *p = malloc(64);
        announce(p + 16);
        free_on_other_thread(opaque(p + 16));
    } else if (!strcmp(c, "double-free")) {
        void *p = malloc(32);
        announce(p);
        free(p);
        free(opaque(p));
    } else if (!strcmp(c, "double-free-large")) {
        void *p = malloc(1 << 20);
        announce(p);
        free(p);
        free(opaque(p));
    } else if (!strcmp(c, "double-free-other-thread")) {
        /* Freed by its owner, then again by another thread. */
        void *p = malloc(48);
        announce(p);
        free(p);
        free_on_other_thread(opaque(p));
    } else if (!strcmp(c, "double-free-remote-twice")) {
        /* Allocated by a thread that has exited, freed by two others: both frees are remote. */
        void *p = malloc_on_other_thread(80);
        announce(p);
        free_on_other_thread(p);
        free(opaque(p));
    } else if (!strcmp(c, "double-free-remote-then-owner")) {
        /* Freed by another thread, then by the owner before the owner's cache has swept the remote free in. */
        void *p = malloc(96);
        announce(p);
        free_on_other_thread(p);
        free(opaque(p));
    } else if (!strcmp(c, "realloc-bogus")) {
        void *p = opaque((void *)(uintptr_t)0x7654320);
        announce(p);
        void *q = realloc(p, 100);
        printf("realloc returned %p\n", q);
    } else if (!strcmp(c, "realloc-stack")) {
        void *p = opaque(stack + 64);
        announce(p);
        void *q = realloc(p, 100);
        printf("realloc returned %p\n", q);
    } else if (!strcmp(c, "realloc-interior")) {
        char *p = malloc(200);
        announce(p + 16);
        void *q = realloc(opaque(p + 16), 400);
        printf("realloc returned %p\n", q);
    } else if (!strcmp(c, "realloc-freed")) {
        void *p = malloc(1 << 20);
        announce(p);
        free(p);
        void *q = realloc(opaque(p), 100);
        printf("realloc returned %p\n", q);
    } else {
        fprintf(stderr, "abort: unknown case %s\n", c);
        return 2;
    }
    printf("survived\n");
    return 0;
}
