package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/bench"
)

// serveMain is `exporterbench serve -kind bare|libhealth|naive`: one
// comparison handler in its own process, like the exporter, on a loopback
// port that it prints as "LISTEN <addr>", until SIGTERM.
func serveMain(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	kind := fs.String("kind", "", "bare, libhealth or naive")
	dsn := fs.String("dsn", "", "database (libhealth, naive)")
	bodyFile := fs.String("body", "", "file holding the answer (bare, naive)")
	size := fs.Int("size", 0, "pad the answer to about this many bytes (libhealth)")
	interval := fs.Duration("interval", 10*time.Second, "check interval (libhealth)")
	timeout := fs.Duration("timeout", 2*time.Second, "check timeout (libhealth)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var body []byte
	if *bodyFile != "" {
		var err error
		if body, err = os.ReadFile(*bodyFile); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}

	var h http.Handler
	switch *kind {
	case "bare":
		h = bench.Bare(body)
	case "libhealth":
		lh, err := bench.StartLibHealth(*dsn, bench.Schedule{Interval: *interval, Timeout: *timeout}, *size)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer lh.Close()
		h = lh.Handler
	case "naive":
		n, err := bench.NewNaive(*dsn, body)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer n.Close()
		h = n.Handler
	default:
		fmt.Fprintf(os.Stderr, "serve: unknown -kind %q\n", *kind)
		return 2
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv := bench.NewServer(h)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Printf("LISTEN %s\n", l.Addr())
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
	}
	return 0
}
