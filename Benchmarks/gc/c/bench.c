// GC benchmarks on C with the Boehm-Demers-Weiser collector (libgc-dev), for `gort bench gc`.
//   bench-gc-boehm binary-trees DEPTH | gcbench
// Single-threaded, like the other variants. Boehm collects in the allocating thread with the world stopped
// (no incremental mode), so each collection is one pause: it is timed from GC_EVENT_START to GC_EVENT_END
// and printed as "bench-gc-pause NS" lines, then "bench-gc-count N" (GC_get_gc_no) at exit.
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Pause log: a fixed array (recording must not allocate from the collected heap).
static long long pauses[1 << 16];
static int npauses;
static long long pause_start;

static void on_event(GC_EventType e) {
    if (e == GC_EVENT_START) pause_start = now_ns();
    if (e == GC_EVENT_END && npauses < (int)(sizeof pauses / sizeof pauses[0])) pauses[npauses++] = now_ns() - pause_start;
}

static void report(void) {
    for (int i = 0; i < npauses; i++) fprintf(stderr, "bench-gc-pause %lld\n", pauses[i]);
    fprintf(stderr, "bench-gc-count %lu\n", (unsigned long)GC_get_gc_no());
}

// ---- binary-trees (the Computer Language Benchmarks Game program, single-threaded) ----
typedef struct Tree { struct Tree *left, *right; } Tree;

static Tree *bottom_up(int d) {
    Tree *t = GC_MALLOC(sizeof(Tree));   // cleared memory
    if (d > 0) {
        t->left = bottom_up(d - 1);
        t->right = bottom_up(d - 1);
    }
    return t;
}

static long check(const Tree *t) { return t->left ? 1 + check(t->left) + check(t->right) : 1; }

static void binary_trees(int n) {
    int min_depth = 4, max_depth = n < min_depth + 2 ? min_depth + 2 : n;
    Tree *stretch = bottom_up(max_depth + 1);
    printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, check(stretch));
    stretch = NULL;
    Tree *long_lived = bottom_up(max_depth);
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iterations = 1L << (max_depth - d + min_depth), sum = 0;
        for (long i = 0; i < iterations; i++) sum += check(bottom_up(d));
        printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, sum);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
}

// ---- GCBench (Hans Boehm's allocation benchmark: trees built top-down and bottom-up) ----
typedef struct Node { struct Node *left, *right; long i, j; } Node;
enum { stretch_depth = 18, long_lived_depth = 16, array_size = 500000, min_tree = 4, max_tree = 16 };

static int tree_size(int d) { return (1 << (d + 1)) - 1; }
static int iterations_for(int d) { return 2 * tree_size(stretch_depth) / tree_size(d); }

static Node *new_node(Node *l, Node *r) {
    Node *n = GC_MALLOC(sizeof(Node));
    n->left = l;
    n->right = r;
    return n;
}

static void populate(int d, Node *n) {   // top-down
    if (d <= 0) return;
    n->left = new_node(NULL, NULL);
    n->right = new_node(NULL, NULL);
    populate(d - 1, n->left);
    populate(d - 1, n->right);
}

static Node *make_tree(int d) { return d <= 0 ? new_node(NULL, NULL) : new_node(make_tree(d - 1), make_tree(d - 1)); }

static long count(const Node *n) { return n ? 1 + count(n->left) + count(n->right) : 0; }

static void gcbench(void) {
    Node *t = make_tree(stretch_depth);
    printf("stretch tree of depth %d: %ld nodes\n", stretch_depth, count(t));
    t = NULL;
    Node *long_lived = new_node(NULL, NULL);
    populate(long_lived_depth, long_lived);
    double *array = GC_MALLOC_ATOMIC(sizeof(double) * array_size);
    for (int i = 0; i < array_size / 2; i++) array[i] = 1.0 / i;
    for (int d = min_tree; d <= max_tree; d += 2) {
        int iters = iterations_for(d);
        long built = 0;
        for (int i = 0; i < iters; i++) {
            Node *tmp = new_node(NULL, NULL);
            populate(d, tmp);
            built += count(tmp);
        }
        for (int i = 0; i < iters; i++) built += count(make_tree(d));
        printf("depth %d: %d top-down and %d bottom-up trees, %ld nodes\n", d, iters, iters, built);
    }
    if (array[1000] != 1.0 / 1000) { fprintf(stderr, "gcbench: the array was lost\n"); exit(1); }
    printf("long lived tree: %ld nodes\n", count(long_lived));
}

int main(int argc, char **argv) {
    GC_INIT();
    GC_set_on_collection_event(on_event);
    if (argc >= 3 && strcmp(argv[1], "binary-trees") == 0) binary_trees(atoi(argv[2]));
    else if (argc >= 2 && strcmp(argv[1], "gcbench") == 0) gcbench();
    else { fprintf(stderr, "usage: bench-gc-boehm binary-trees DEPTH | gcbench\n"); return 2; }
    fflush(stdout);
    report();
    return 0;
}
