// Go net/http plaintext server: the Go peer of bench/http, run with GOMAXPROCS=1 (run.py also
// sets it in the environment). net/http adds Date and Content-Length; keep-alive is its default.
// Built by run.py with GO111MODULE=off (standard library only). Prints `listening on ADDR`.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
)

var body = []byte("Hello, World!")

func hello(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = []string{"text/plain"}
	w.Write(body)
}

func main() {
	port := flag.Int("port", 8080, "port on 127.0.0.1")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "http.go:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := http.Serve(ln, http.HandlerFunc(hello)); err != nil {
		fmt.Fprintln(os.Stderr, "http.go:", err)
		os.Exit(1)
	}
}
