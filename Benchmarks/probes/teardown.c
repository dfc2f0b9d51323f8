// teardown: how long a process's exit spends unmapping N MiB of resident anonymous memory. The child maps and
// populates N MiB, sends the time to the parent, and exits; the parent reports the time until waitpid returns.
// With a third argument the child releases the memory (MADV_DONTNEED) before exiting.
// usage: gcc -O2 teardown.c -o teardown && ./teardown 1400 && ./teardown 1400 released
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  size_t n=(size_t)atol(argv[1])<<20; int pf[2]; pipe(pf);
  pid_t p=fork();
  if(!p){ char*m=mmap(0,n,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); madvise(m,n,23);
    if (argc>2) madvise(m,n,MADV_DONTNEED);
    double t=now(); write(pf[1],&t,8); _exit(0);}
  double t; read(pf[0],&t,8); waitpid(p,0,0); printf("%zu MB teardown %.1f ms\n", n>>20, (now()-t)*1e3); return 0;}
