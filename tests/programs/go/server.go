// server ADDR PORT: net.Listen("tcp", ADDR:PORT), accepting until killed.
// Prints the address once listening; on failure the error on stderr and exit 1.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: server ADDR PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(os.Args[1], os.Args[2]))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening on", ln.Addr())
	for {
		if conn, err := ln.Accept(); err == nil {
			conn.Close()
		}
	}
}
