// server: requests handed between threads, and a long-lived set replaced slowly.
//
// One acceptor thread allocates requests (a header struct plus a body of 64 B-4 KiB) and hands them
// round-robin to WORKERS worker threads through rings. A worker verifies the request, parses it into 4-16
// small temporary strings (16-128 B), builds a response buffer (0.5-2x the body), then frees all of it: the
// request header and body were allocated by the acceptor, so those are remote frees. Every 8th request
// also replaces one entry of a shared "session cache" of 50,000 long-lived objects (64 B-1 KiB, created by
// the main thread, guarded by 64 striped locks): the old entry, allocated by any thread, is freed by this
// one. Memory from all three sources mixes on every thread, as in a real server over its lifetime.
//
// usage: server [requests=600000] [workers=2]
#include <pthread.h>

#include "spsc.h"

#define CACHE_ENTRIES 50000
#define STRIPES 64

typedef struct {
    uint64_t id;
    uint32_t body_size;
    char *body;
} request_t;

typedef struct {
    uint32_t size;
    uint64_t tag;
    char data[];
} entry_t;

static entry_t *cache[CACHE_ENTRIES];  // entry i guarded by stripe[i % STRIPES]
static struct {
    _Alignas(CACHE_LINE) pthread_mutex_t m;
} stripe[STRIPES];

typedef struct {
    _Alignas(CACHE_LINE) spsc_t ring;
    long count;      // requests this worker will receive
    uint64_t check;  // written by the worker, read after join
    uint64_t seed;
} worker_t;

static entry_t *new_entry(rng_t *r, uint64_t id) {
    size_t size = rng_log_uniform(r, 64, 1024);
    entry_t *e = xmalloc(size);
    e->size = (uint32_t)size;
    e->tag = tag_for(id, size);
    stamp(e->data, size - sizeof(entry_t), e->tag);
    return e;
}

static void *worker(void *arg) {
    worker_t *w = arg;
    rng_t r = {w->seed};
    char *tmp[16];
    size_t tmp_size[16];
    uint64_t sum = 0;
    for (long k = 0; k < w->count; k++) {
        request_t *q = spsc_pop(&w->ring);
        verify(q->body, q->body_size, tag_for(q->id, q->body_size), "server request");
        int parts = (int)rng_range(&r, 4, 16);
        for (int i = 0; i < parts; i++) {
            size_t n = tmp_size[i] = rng_range(&r, 16, 128);
            tmp[i] = xmalloc(n);
            memcpy(tmp[i], q->body + (size_t)i * 3 % (q->body_size - 8), 8);  // "parse" a field
            tmp[i][n - 1] = (char)i;
            escape(tmp[i]);
        }
        size_t resp_size = q->body_size / 2 + rng_below(&r, (uint64_t)q->body_size * 3 / 2 + 1);
        if (resp_size < 16) resp_size = 16;
        char *resp = xmalloc(resp_size);
        stamp(resp, resp_size, q->id);
        for (int i = 0; i < parts; i++) {
            if (tmp[i][tmp_size[i] - 1] != (char)i) die("server: temporary string %p was overwritten", (void *)tmp[i]);
            sum += (unsigned char)tmp[i][0];
            free(tmp[i]);
        }
        if (q->id % 8 == 0) {
            uint32_t slot = (uint32_t)rng_below(&r, CACHE_ENTRIES);
            entry_t *fresh = new_entry(&r, q->id);
            pthread_mutex_t *m = &stripe[slot % STRIPES].m;
            pthread_mutex_lock(m);
            entry_t *old = cache[slot];
            cache[slot] = fresh;
            pthread_mutex_unlock(m);
            verify(old->data, old->size - sizeof(entry_t), old->tag, "server cache entry");
            free(old);
        }
        verify(resp, resp_size, q->id, "server response");
        sum += resp_size;
        free(resp);
        free(q->body);
        free(q);
    }
    w->check = sum;
    return NULL;
}

int main(int argc, char **argv) {
    long requests = arg_count(argc, argv, 1, 600000);
    long nworkers = arg_count(argc, argv, 2, 2);
    rng_t r = {2024};
    for (int i = 0; i < STRIPES; i++) pthread_mutex_init(&stripe[i].m, NULL);
    for (uint32_t i = 0; i < CACHE_ENTRIES; i++) cache[i] = new_entry(&r, (uint64_t)i << 32);
    worker_t *ws = aligned_alloc(CACHE_LINE, sizeof(worker_t) * (size_t)nworkers);
    pthread_t *th = xmalloc(sizeof(pthread_t) * (size_t)nworkers);
    if (!ws) die("aligned_alloc");
    memset(ws, 0, sizeof(worker_t) * (size_t)nworkers);
    for (long i = 0; i < nworkers; i++) {
        ws[i].count = requests / nworkers + (i < requests % nworkers);
        ws[i].seed = 500 + (uint64_t)i;
        if (pthread_create(&th[i], NULL, worker, &ws[i])) die("pthread_create");
    }
    // This thread is the acceptor.
    for (long k = 0; k < requests; k++) {
        request_t *q = xmalloc(sizeof(request_t));
        q->id = (uint64_t)k;
        q->body_size = (uint32_t)rng_log_uniform(&r, 64, 4096);
        q->body = xmalloc(q->body_size);
        stamp(q->body, q->body_size, tag_for(q->id, q->body_size));
        spsc_push(&ws[k % nworkers].ring, q);
    }
    uint64_t check = 0;
    for (long i = 0; i < nworkers; i++) pthread_join(th[i], NULL), check += ws[i].check;
    for (uint32_t i = 0; i < CACHE_ENTRIES; i++) {
        verify(cache[i]->data, cache[i]->size - sizeof(entry_t), cache[i]->tag, "server cache entry");
        free(cache[i]);
    }
    free(ws), free(th);
    printf("ok server requests=%ld workers=%ld check=%llx\n", requests, nworkers, (unsigned long long)check);
    return 0;
}
