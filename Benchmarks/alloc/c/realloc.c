// realloc: buffers that grow by appending, like string builders and vectors without a doubling policy.
//
// 64 buffers grow side by side (so in-place growth is not free: a neighbour often sits right behind each
// buffer). Each step appends 1-256 bytes to one random buffer with realloc and writes the new bytes; a
// buffer that reaches its target size (1 KiB-256 KiB, log-uniform) has all of its bytes verified (realloc
// must have carried them over) and is freed and restarted. The bytes come from a fixed random pattern
// (copied with memcpy, checked with memcmp) so the time goes to realloc, not to producing bytes.
//
// usage: realloc [appends=1000000]
#include "common.h"

#define BUFFERS 64
#define MAX_TARGET (256 * 1024)
#define PATTERN (MAX_TARGET + 256 + 4096)

typedef struct {
    unsigned char *p;
    size_t len, target;
    const unsigned char *src;  // this life's contents: a window of the pattern chosen by the buffer's generation
} buf_t;

static unsigned char pattern[PATTERN];

int main(int argc, char **argv) {
    long appends = arg_count(argc, argv, 1, 1000000);
    rng_t r = {99};
    buf_t b[BUFFERS] = {0};
    uint64_t gen = 0, check = 0;
    for (size_t i = 0; i < PATTERN; i++) pattern[i] = (unsigned char)rng_next(&r);
    for (int i = 0; i < BUFFERS; i++) b[i].target = rng_log_uniform(&r, 1024, MAX_TARGET), b[i].src = pattern + gen++ % 4096;
    for (long k = 0; k < appends; k++) {
        buf_t *x = &b[rng_below(&r, BUFFERS)];
        size_t add = rng_range(&r, 1, 256);
        unsigned char *p = realloc(x->p, x->len + add);
        if (!p) die("realloc(%zu) returned NULL", x->len + add);
        memcpy(p + x->len, x->src + x->len, add);
        x->p = p, x->len += add;
        if (x->len >= x->target) {
            if (memcmp(x->p, x->src, x->len) != 0) die("realloc: buffer %p of %zu bytes lost data in a move", (void *)x->p, x->len);
            check += x->len;
            free(x->p);
            x->p = NULL, x->len = 0, x->src = pattern + gen++ % 4096, x->target = rng_log_uniform(&r, 1024, MAX_TARGET);
        }
    }
    for (int i = 0; i < BUFFERS; i++) free(b[i].p);
    printf("ok realloc appends=%ld buffers=%llu check=%llx\n", appends, (unsigned long long)gen,
           (unsigned long long)check);
    return 0;
}
