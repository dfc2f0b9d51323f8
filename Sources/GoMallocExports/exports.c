// libGoMalloc.so's C allocation ABI. Each name forwards to a Swift function (a tail call at -O2). The names live
// in C because Swift cannot define `malloc` cleanly: @_cdecl("malloc") is a reserved-name warning, and Swift's
// public symbols are ELF-protected, which breaks interposition in hosts such as `swift --version`.
// Compiled -fno-builtin so the compiler cannot turn these bodies into calls to the builtins they define.
// Only these names (and gomalloc_*) are exported: see Sources/GoMalloc/exports.map.
#include "GoMallocExports.h"

#define EXPORT __attribute__((visibility("default")))

// malloc and free, the hottest pair, are one jump each straight into the Swift functions (GoAlloc/CABI.swift
// gomalloc_swift_*), skipping a C frame and the @_cdecl thunk: 14 fewer instructions per malloc+free pair.
// Naked, because SwiftPM compiles C with frame pointers; the jump is all there is. (Not linker aliases of the
// Swift symbols: `--defsym=malloc=gomalloc_swift_malloc` inherits Swift's protected visibility, and glibc then
// prints "direct reference to protected function" in every non-PIE program that takes malloc's address, gcc's
// cc1 among them; `+0` makes the alias default but untyped, and a non-PIE program linked against the library
// then gets a copy relocation for `free` and crashes calling it. Session 5 tried both.)
#if defined(__x86_64__)
#define TAIL_JUMP(target) __asm__ volatile("jmp " #target)
#elif defined(__aarch64__)
#define TAIL_JUMP(target) __asm__ volatile("b " #target)
#else
#error "libGoMalloc.so: add this architecture's one-instruction tail jump"
#endif
__attribute__((naked)) EXPORT void *malloc(size_t size) { TAIL_JUMP(gomalloc_swift_malloc); }
__attribute__((naked)) EXPORT void free(void *p) { TAIL_JUMP(gomalloc_swift_free); }
EXPORT void cfree(void *p) { gomalloc_free(p); }
EXPORT void *calloc(size_t n, size_t size) { return gomalloc_calloc(n, size); }
EXPORT void *realloc(void *p, size_t size) { return gomalloc_realloc(p, size); }
EXPORT void *reallocarray(void *p, size_t n, size_t size) { return gomalloc_reallocarray(p, n, size); }
EXPORT int posix_memalign(void **out, size_t align, size_t size) { return gomalloc_posix_memalign(out, align, size); }
EXPORT void *aligned_alloc(size_t align, size_t size) { return gomalloc_aligned_alloc(align, size); }
EXPORT void *memalign(size_t align, size_t size) { return gomalloc_memalign(align, size); }
EXPORT void *valloc(size_t size) { return gomalloc_valloc(size); }
EXPORT void *pvalloc(size_t size) { return gomalloc_pvalloc(size); }
EXPORT size_t malloc_usable_size(void *p) { return gomalloc_malloc_usable_size(p); }
EXPORT int malloc_trim(size_t pad) { return gomalloc_malloc_trim(pad); }

// At exit: the MemStats report and heap dump, when GOMALLOC_STATS / GOMALLOC_HEAPDUMP ask for them. The
// variables are read at start-up (as Go reads GODEBUG), so a program that edits its environment keeps them; the
// heap itself starts lazily on the first malloc.
__attribute__((constructor)) static void gomalloc_at_start(void) { gomalloc_read_report_paths(); }
__attribute__((destructor)) static void gomalloc_at_exit(void) { gomalloc_exit_report(); }
