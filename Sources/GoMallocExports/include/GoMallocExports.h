// The Swift entry points libGoMalloc.so's C names forward to (GoAlloc/CABI.swift, GoMalloc/ExitReport.swift).
#ifndef GOMALLOC_EXPORTS_H
#define GOMALLOC_EXPORTS_H
#include <stddef.h>

void *gomalloc_malloc(size_t size);
void gomalloc_free(void *p);
void *gomalloc_calloc(size_t n, size_t size);
void *gomalloc_realloc(void *p, size_t size);
void *gomalloc_reallocarray(void *p, size_t n, size_t size);
int gomalloc_posix_memalign(void **out, size_t align, size_t size);
void *gomalloc_aligned_alloc(size_t align, size_t size);
void *gomalloc_memalign(size_t align, size_t size);
void *gomalloc_valloc(size_t size);
void *gomalloc_pvalloc(size_t size);
size_t gomalloc_malloc_usable_size(void *p);
int gomalloc_malloc_trim(size_t pad);
void gomalloc_exit_report(void);
void gomalloc_read_report_paths(void);

#endif
