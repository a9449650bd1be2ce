package testenv

import (
	"net"
	"os"
	"sync"
	"testing"
)

// BlackHole listens on a loopback port and accepts every connection but
// never answers, as a stalled server does. It returns the address
// (host:port); the listener and its connections close with the test.
func BlackHole(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// FakeCredentials sets the AWS credentials and region the SDK's standard
// chain reads, for code that talks to a fake server, unless set already.
func FakeCredentials(tb testing.TB) {
	tb.Helper()
	for k, v := range fakeCreds {
		if os.Getenv(k) == "" {
			tb.Setenv(k, v)
		}
	}
}
