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
// the drain is over, or at once on bad configuration.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stdout)
	var exit errExit
	switch {
	case errors.As(err, &exit):
		return exit.code
	case err != nil:
		// Configuration errors name the flag. A flag parser may quote an
		// argument, and a misplaced argument may be a DSN: mask whatever
		// looks like a password in any of them.
		fmt.Fprintf(stderr, "dbhealth-exporter: error: %s\n", redact.Line(redact.ForArgs(args).String(err.Error())))
		return exitUsage
	}
	ex, err := exporter.New(cfg, exporter.WithGetenv(getenv), exporter.WithLogOutput(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "dbhealth-exporter: error: %s\n", redact.Line(err.Error()))
		return exitUsage
	}
	if err := ex.Run(ctx); err != nil {
		return exitFailure // logged by the exporter
	}
	return exitOK
}
