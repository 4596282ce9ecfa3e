// goprobe: a statically linked Go program for bindtrace-sys's tests (CGO_ENABLED=0:
// no libc, so LD_PRELOAD cannot see it).  Go's net package makes every connect
// non-blocking and reads SO_ERROR once the socket is writable, and runs goroutines
// on several threads: what the syscall tracer must follow.
//
//	goprobe listen ADDR PORT         net.Listen, then exit
//	goprobe connect ADDR PORT        net.Dial (5 s timeout)
//	goprobe serve ADDR PORT          net.Listen, accept until killed
//	goprobe connects N ADDR PORT     N goroutines dial at once
//
// Each prints one JSON line per call: {"call":..., "errno": N} (0: it worked).
// Exit status 0 (a failing call is a result), 2 bad usage.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// errnoOf is the errno inside err (0 for nil, -1 when there is none).
func errnoOf(err error) int {
	var e syscall.Errno
	if err == nil {
		return 0
	}
	if errors.As(err, &e) {
		return int(e)
	}
	return -1
}

func report(call string, err error) {
	line, _ := json.Marshal(map[string]interface{}{"call": call, "errno": errnoOf(err)})
	fmt.Println(string(line))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: goprobe listen|connect|serve ADDR PORT | connects N ADDR PORT")
	os.Exit(2)
}

func main() {
	args := os.Args[1:]
	if len(args) < 3 {
		usage()
	}
	switch args[0] {
	case "listen", "serve":
		l, err := net.Listen("tcp", net.JoinHostPort(args[1], args[2]))
		report("listen", err)
		if err != nil || args[0] == "listen" {
			return
		}
		for {
			c, err := l.Accept()
			if err == nil {
				c.Close()
			}
		}
	case "connect":
		c, err := net.DialTimeout("tcp", net.JoinHostPort(args[1], args[2]), 5*time.Second)
		report("connect", err)
		if err == nil {
			c.Close()
		}
	case "connects":
		if len(args) != 4 {
			usage()
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			usage()
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", net.JoinHostPort(args[2], args[3]),
					5*time.Second)
				mu.Lock()
				report("connect", err)
				mu.Unlock()
				if err == nil {
					c.Close()
				}
			}()
		}
		wg.Wait()
	default:
		usage()
	}
}
