package exporter

import (
	"io"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/trace"
)

// options are what New takes from the process rather than the operator.
type options struct {
	getenv         func(string) string
	logOutput      io.Writer
	logger         *slog.Logger
	tracerProvider trace.TracerProvider
	load           func() (Config, error)
}

// Option changes what New takes from the process.
type Option func(*options)

// WithGetenv reads environment variables (DATABASE_URL is not among them:
// see Database.DSN; PGPASSWORD and the OTEL_* variables are) through
// getenv. Default os.Getenv.
func WithGetenv(getenv func(string) string) Option { return func(o *options) { o.getenv = getenv } }

// WithLogOutput writes the log to w, in Config.Log's format. Default
// os.Stderr.
func WithLogOutput(w io.Writer) Option { return func(o *options) { o.logOutput = w } }

// WithLogger logs through logger instead, unredacted, ignoring Config.Log
// (benchmarks discard the log). Default: a logger built from Config.Log
// that masks the database password.
func WithLogger(logger *slog.Logger) Option { return func(o *options) { o.logger = logger } }

// WithTracerProvider sends the check runs' spans to tp instead of what the
// OTEL_* variables configure (tests record spans in memory). Default: the
// OTEL_* variables.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// WithReload makes Reload read the configuration with load (the command
// line again, and the configuration file as it is now). Default: Reload
// keeps the Config given to New and re-reads only the files it names (the
// connection string and password files).
func WithReload(load func() (Config, error)) Option { return func(o *options) { o.load = load } }

func newOptions(opts []Option) options {
	o := options{getenv: os.Getenv, logOutput: os.Stderr}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
