// Go's skynet (1M leaves, 10-way goroutine tree, sums over channels): the peer of coloop's
// skynet in bench/sched/run.py, which builds it with GO111MODULE=off. Prints one JSON line in
// the format of coloop_sched_bench; the thread count is GOMAXPROCS (-procs).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sum := 0
	for i := 0; i < div; i++ {
		go skynet(rc, num+i*(size/div), size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func run() (int, time.Duration) {
	c := make(chan int)
	start := time.Now()
	go skynet(c, 0, 1000000, 10)
	sum := <-c
	return sum, time.Since(start)
}

// peakRSSKB is VmHWM: this process's own high-water mark (not the forking parent's).
func peakRSSKB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmHWM:") {
			v, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s.Text()[6:]), " kB"))
			return v
		}
	}
	return -1
}

func main() {
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	warmup := flag.Bool("warmup", true, "run once untimed first")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	if *warmup {
		run()
	}
	sum, d := run()
	ok := sum == 499999500000
	fmt.Printf("{\"bench\": \"skynet\", \"flavour\": \"go%d\", \"threads\": %d, \"iters\": 1, "+
		"\"ops_per_iter\": 1111111, \"op\": \"spawn\", \"ns_per_iter\": %d, \"ns_per_op\": %.3f, "+
		"\"peak_rss_kb\": %d, \"ok\": %t, \"check\": \"sum=%d\", \"quick\": %t}\n",
		*procs, *procs, d.Nanoseconds(), float64(d.Nanoseconds())/1111111.0, peakRSSKB(), ok, sum, !*warmup)
	if !ok {
		os.Exit(1)
	}
}
