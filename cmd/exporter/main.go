// Command dbhealth-exporter watches a PostgreSQL database and publishes its
// health three ways: probe endpoints (/healthz, /livez, /readyz) for
// Kubernetes and load balancers, Prometheus metrics, and OpenTelemetry
// spans. Checks run in the background; every answer comes from the latest
// snapshot, so probes never touch the database.
//
// This package is the command line: flags into an exporter.Config, and
// exit codes. The program itself is assembled in internal/exporter.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the exporter could not serve (e.g. address in use)
	exitUsage   = 2 // bad flags or configuration
)

// run is the whole program: it returns when ctx is cancelled (SIGTERM) and
// the drain is over, or at once on bad configuration. SIGHUP reloads the
// configuration.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		// Configuration errors name the flag or the file's key. A flag
		// parser may quote an argument, and a misplaced argument may be a
		// DSN: mask whatever looks like a password in any of them.
		fmt.Fprintf(stderr, "dbhealth-exporter: error: %s\n", redact.Line(redact.ForArgs(args).String(err.Error())))
		return exitUsage
	}
	cmd, err := parseCommand(args, getenv, stdout)
	var exit errExit
	switch {
	case errors.As(err, &exit):
		return exit.code
	case err != nil:
		return fail(err)
	}
	cfg, err := cmd.load()
	if err != nil {
		return fail(err)
	}
	logOutput := stderr
	if cmd.checkOnly {
		logOutput = io.Discard
	}
	ex, err := exporter.New(cfg, exporter.WithGetenv(getenv), exporter.WithLogOutput(logOutput), exporter.WithReload(cmd.load))
	if err != nil {
		return fail(err)
	}
	if cmd.checkOnly {
		ex.Close()
		fmt.Fprintln(stdout, "dbhealth-exporter: the configuration is valid")
		return exitOK
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-hup:
				_ = ex.Reload() // logged and counted by the exporter
			case <-done:
				return
			}
		}
	}()
	if err := ex.Run(ctx); err != nil {
		return exitFailure // logged by the exporter
	}
	return exitOK
}
