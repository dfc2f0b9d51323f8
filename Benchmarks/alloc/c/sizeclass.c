// sizeclass: single-thread malloc/free pairs for each size class.
//
// For each of Go's 67 small size classes (8 B .. 32 KiB), PAIRS times: malloc, stamp the first and last word,
// verify, free. Every pair hits the allocator's fastest path (the freed block is the next one handed out), so
// this is the per-call cost table of the allocator. With a size argument it runs one class only, which is the
// form to use under `valgrind --tool=callgrind` for a malloc+free instruction count.
//
// usage: sizeclass [pairs-per-class=120000] [only-size]
#include "common.h"

// Go's small-object size classes (runtime/sizeclasses.go), class 1..67.
static const size_t go_size_classes[] = {
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384,
    416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072,
    3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568,
    14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
};

static uint64_t run_class(size_t size, long pairs) {
    uint64_t sum = 0;
    for (long i = 0; i < pairs; i++) {
        void *p = xmalloc(size);
        uint64_t tag = tag_for((uint64_t)i, size);
        stamp(p, size, tag);
        verify(p, size, tag, "sizeclass");
        sum += (uintptr_t)p & 0xFFF;  // where blocks land, folded into the check value
        free(p);
    }
    return sum;
}

int main(int argc, char **argv) {
    long pairs = arg_count(argc, argv, 1, 120000);
    long only = argc > 2 ? arg_count(argc, argv, 2, 0) : 0;
    uint64_t check = 0;
    size_t classes = sizeof go_size_classes / sizeof go_size_classes[0];
    if (only) {
        check = run_class((size_t)only, pairs);
        classes = 1;
    } else {
        for (size_t c = 0; c < classes; c++) check = check * 31 + run_class(go_size_classes[c], pairs);
    }
    printf("ok sizeclass classes=%zu pairs=%ld check=%llx\n", classes, pairs, (unsigned long long)check);
    return 0;
}
