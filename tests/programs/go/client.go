// client ADDR PORT SRC: a net.Dialer with a 4 s Timeout, its LocalAddr SRC unless
// SRC is a wildcard.  Exit 0 once connected, 1 with the error on stderr.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: client ADDR PORT SRC")
		os.Exit(2)
	}
	dialer := net.Dialer{Timeout: 4 * time.Second}
	if src := os.Args[3]; src != "0.0.0.0" && src != "::" {
		local, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(src, "0"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		dialer.LocalAddr = local
	}
	conn, err := dialer.Dial("tcp", net.JoinHostPort(os.Args[1], os.Args[2]))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("connected", conn.LocalAddr(), "->", conn.RemoteAddr())
	conn.Close()
}
