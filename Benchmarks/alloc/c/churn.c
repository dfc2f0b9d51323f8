// churn: random sizes with a realistic mix and lifetimes, like a compiler or an interpreter.
//
// Each step allocates one object whose size and lifetime are drawn from skewed distributions (fixed seed):
//   size:     60% 32-64 B, 25% 65-256 B, 10% 257 B-1 KiB, 4% 1-8 KiB, 1% 8-64 KiB (log-uniform inside each band)
//   lifetime: 80% die within 16 steps, 15% within 1024, 4.9% within 65536, 0.1% live to the end.
// Most objects die young and a few live long: the generational shape measured in real programs. Objects
// wait in a timing wheel of intrusive lists (the link lives in the object itself), are verified and freed
// when their step comes. About 10k objects are live at any time.
//
// usage: churn [steps=3000000]
#include "common.h"

typedef struct obj {
    struct obj *next;
    uint64_t tag;
    uint32_t size;
} obj_t;  // header of every object (24 bytes); objects are at least 32 bytes, so a stamped body follows

#define WHEEL 65536u

static size_t draw_size(rng_t *r) {
    uint64_t u = rng_below(r, 100);
    if (u < 60) return rng_range(r, 32, 64);
    if (u < 85) return rng_log_uniform(r, 65, 256);
    if (u < 95) return rng_log_uniform(r, 257, 1024);
    if (u < 99) return rng_log_uniform(r, 1025, 8192);
    return rng_log_uniform(r, 8193, 65536);
}

static uint64_t draw_lifetime(rng_t *r) {
    uint64_t u = rng_below(r, 1000);
    if (u < 800) return rng_range(r, 1, 16);
    if (u < 950) return rng_range(r, 17, 1024);
    if (u < 999) return rng_range(r, 1025, WHEEL - 1);
    return UINT64_MAX;  // immortal: freed at exit
}

static uint64_t release(obj_t *o) {
    verify((char *)o + sizeof(obj_t), o->size - sizeof(obj_t), o->tag, "churn");
    uint64_t h = o->size;
    free(o);
    return h;
}

int main(int argc, char **argv) {
    long steps = arg_count(argc, argv, 1, 3000000);
    obj_t **wheel = calloc(WHEEL, sizeof(obj_t *));
    obj_t *immortal = NULL;
    if (!wheel) die("calloc wheel");
    rng_t r = {7};
    uint64_t check = 0;
    for (long t = 0; t < steps; t++) {
        size_t size = draw_size(&r);
        uint64_t life = draw_lifetime(&r);
        obj_t *o = xmalloc(size);
        o->size = (uint32_t)size;
        o->tag = tag_for((uint64_t)t, size);
        stamp((char *)o + sizeof(obj_t), size - sizeof(obj_t), o->tag);  // the body after the header
        if (life == UINT64_MAX) {
            o->next = immortal, immortal = o;
        } else {
            uint32_t slot = (uint32_t)(((uint64_t)t + life) % WHEEL);
            o->next = wheel[slot], wheel[slot] = o;
        }
        // Objects due now die.
        uint32_t now = (uint32_t)((uint64_t)t % WHEEL);
        for (obj_t *d = wheel[now], *next; d; d = next) {
            next = d->next;
            check += release(d);
        }
        wheel[now] = NULL;
    }
    for (uint32_t s = 0; s < WHEEL; s++)
        for (obj_t *d = wheel[s], *next; d; d = next) next = d->next, check += release(d);
    for (obj_t *d = immortal, *next; d; d = next) next = d->next, check += release(d);
    free(wheel);
    printf("ok churn steps=%ld check=%llx\n", steps, (unsigned long long)check);
    return 0;
}
