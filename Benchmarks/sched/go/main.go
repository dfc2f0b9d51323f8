// bench-sched-go: the Go 1.19 side of `gort bench sched`, the same workloads as ../swift/main.swift.
//   go run main.go <workload> [scale]     (GOMAXPROCS as in the environment)
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func skynet(c chan int, num, size int) {
	if size == 1 {
		c <- num
		return
	}
	div := size / 10
	rc := make(chan int, 10)
	for i := 0; i < 10; i++ {
		go skynet(rc, num+i*div, div)
	}
	s := 0
	for i := 0; i < 10; i++ {
		s += <-rc
	}
	c <- s
}

func spawnJoin(n int) int {
	res := make([]int, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) { res[i] = i & 1; wg.Done() }(i)
	}
	wg.Wait()
	s := 0
	for _, v := range res {
		s += v
	}
	return s
}

func pingPong(n int) int {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v + 1
		}
	}()
	x := 0
	for i := 0; i < n; i++ {
		ping <- x
		x = <-pong
	}
	return x
}

func yieldFanout(tasks, yields int) int {
	var wg sync.WaitGroup
	wg.Add(tasks)
	for t := 0; t < tasks; t++ {
		go func() {
			for i := 0; i < yields; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return tasks
}

// An actor is a goroutine serving a mailbox; a call is a request plus a reply channel (the Go idiom).
type call struct{ reply chan int }

func actorPingPong(n int) int {
	pong := make(chan call)
	go func() {
		hits := 0
		for c := range pong {
			hits++
			c.reply <- hits
		}
	}()
	done := make(chan int)
	go func() { // the Ping actor
		reply := make(chan int)
		last := 0
		for i := 0; i < n; i++ {
			pong <- call{reply}
			last = <-reply
		}
		done <- last
	}()
	return <-done
}

// select-loop: n selects over two buffered channels, one always ready (a probe, as in the Swift program).
func selectLoop(n int) int {
	ready, idle := make(chan int, 1), make(chan int, 1)
	s := 0
	for i := 0; i < n; i++ {
		ready <- i & 1
		select {
		case v := <-ready:
			s += v
		case <-idle:
			s += 100
		}
	}
	return s
}

func parallelMap(perChunk int) int {
	out := make(chan uint64, 64)
	for c := 0; c < 64; c++ {
		go func(c int) {
			x := uint64(c+1) * 0x9E3779B97F4A7C15
			for i := 0; i < perChunk; i++ {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
			}
			out <- x & 0xFFFF
		}(c)
	}
	var s uint64
	for c := 0; c < 64; c++ {
		s += <-out
	}
	return int(s)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench-sched-go workload [scale]")
		os.Exit(2)
	}
	scale := 1.0
	if len(os.Args) > 2 {
		scale, _ = strconv.ParseFloat(os.Args[2], 64)
	}
	t0 := time.Now()
	var check int
	switch os.Args[1] {
	case "skynet":
		c := make(chan int)
		go skynet(c, 0, int(1_000_000*scale))
		check = <-c
	case "spawn-join":
		check = spawnJoin(int(1_000_000 * scale))
	case "ping-pong":
		check = pingPong(int(1_000_000 * scale))
	case "yield-fanout":
		check = yieldFanout(int(10_000*scale), 100)
	case "actor-ping-pong":
		check = actorPingPong(int(1_000_000 * scale))
	case "parallel-map":
		check = parallelMap(int(4_000_000 * scale))
	case "select-loop":
		check = selectLoop(int(1_000_000 * scale))
	default:
		fmt.Fprintln(os.Stderr, "unknown workload", os.Args[1])
		os.Exit(2)
	}
	fmt.Printf("%s go %.4f %d\n", os.Args[1], time.Since(t0).Seconds(), check)
}
