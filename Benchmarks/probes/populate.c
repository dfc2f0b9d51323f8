// populate: what it costs the kernel to back 1400 MiB of fresh anonymous memory, by method (BENCHMARKS.md,
// "Scheduler A/B measurements of session 9"). Maps a 2 MiB-aligned region, prepares it one way, then touches one
// byte per 4 KiB page, and prints the time of each step, the process's user and system time and minor faults.
//   mode 0: no preparation (one page fault per 4 KiB page)
//   mode 1: one madvise(MADV_POPULATE_WRITE) over the whole region (what libGoMalloc's prefault thread does)
//   mode 2: madvise(MADV_HUGEPAGE), then the touches fault in 2 MiB pages
//   mode 3: MADV_HUGEPAGE, then MADV_POPULATE_WRITE per 2 MiB
//   mode 4: MADV_COLLAPSE per 2 MiB of the empty region (fails: nothing to collapse)
// usage: gcc -O2 populate.c -o populate && ./populate MODE
#define _GNU_SOURCE
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int mode=atoi(argv[1]); size_t n=(size_t)1400<<20; size_t H=2<<20;
  char*raw=mmap(0,n+H,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE,-1,0);
  char*p=(char*)(((unsigned long)raw+H-1)&~(H-1));
  double t0=now(); long fails=0;
  if(mode==1) madvise(p,n,MADV_POPULATE_WRITE);
  if(mode==2){ madvise(p,n,MADV_HUGEPAGE); }
  if(mode==3){ madvise(p,n,MADV_HUGEPAGE); for(size_t o=0;o<n;o+=H) if(madvise(p+o,H,MADV_POPULATE_WRITE)) fails++; }
  if(mode==4){ for(size_t o=0;o<n;o+=H) if(madvise(p+o,H,MADV_COLLAPSE)) fails++; }
  double t1=now();
  for(size_t o=0;o<n;o+=4096) p[o+64]=1;
  double t2=now();
  struct rusage ru; getrusage(RUSAGE_SELF,&ru);
  printf("mode %d prep %.3f touch %.3f fails %ld user %.3f sys %.3f minflt %ld\n",mode,t1-t0,t2-t1,fails,ru.ru_utime.tv_sec+ru.ru_utime.tv_usec*1e-6,ru.ru_stime.tv_sec+ru.ru_stime.tv_usec*1e-6,ru.ru_minflt);
  return 0;}
