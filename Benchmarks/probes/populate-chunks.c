// populate-chunks: 1 GiB of fresh memory faulted in by touching each 4 KiB page (chunk 4) or by one
// MADV_POPULATE_WRITE per chunk of N KiB followed by the touches (what a thread populating each new span itself
// would do). Prints the wall time.
// usage: gcc -O2 populate-chunks.c -o populate-chunks && for c in 4 64 256 2048; do ./populate-chunks $c; done
#define _GNU_SOURCE
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  size_t chunk=(size_t)atol(argv[1])<<10; size_t n=(size_t)1024<<20;
  char*p=mmap(0,n,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE,-1,0);
  double t0=now();
  for(size_t o=0;o<n;o+=chunk){ if(chunk>4096) madvise(p+o,chunk,23); for(size_t q=o;q<o+chunk;q+=4096) p[q]=1; }
  printf("chunk %zu KB: %.3f s\n",chunk>>10,now()-t0); return 0;}
