package migrations

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// Options configure the migrations check.
type Options struct {
	// Dir holds the migrations this code expects; "" means none (only
	// the history is read, and ExpectedVersion can be checked).
	Dir string
	// Tool forces a tool by name; "" detects it from the database.
	Tool string
	// Table and Schema override where the main history table is.
	Table, Schema string
	// ExpectedVersion fails readiness while the latest applied version is
	// lower (natural order: "10" > "9").
	ExpectedVersion string
	// FailOnUnknown fails readiness when the database has migrations that
	// are not on disk. Default: informational only.
	FailOnUnknown bool
}

// Check is the migrations check.
type Check struct {
	pool  *pgxpool.Pool
	opts  Options
	files fileCache
}

// New returns the check; it validates the options but does not connect.
func New(pool *pgxpool.Pool, opts Options) (*Check, error) {
	if opts.Tool != "" {
		if _, ok := Lookup(opts.Tool); !ok {
			return nil, fmt.Errorf("unknown migration tool %q (known: %s)", opts.Tool, strings.Join(Names(), ", "))
		}
	}
	return &Check{pool: pool, opts: opts}, nil
}

// Run performs one check: read the catalog, pick the tool, read the
// directory (cached while unchanged), read the history, compare.
func (c *Check) Run(ctx context.Context) health.Result {
	var report Report
	err := collectors.WithFreshConn(ctx, c.pool, func(conn *pgx.Conn, _ time.Time) error {
		cat, err := readCatalog(ctx, conn, allTables(c.opts))
		if err != nil {
			return err
		}
		tool, loc, err := resolve(cat, c.opts)
		if err != nil {
			return err
		}
		var disk []Migration
		if c.opts.Dir != "" {
			if disk, err = c.files.parse(tool, c.opts.Dir); err != nil {
				return fileError(c.opts.Dir, err)
			}
		}
		report, err = tool.Status(ctx, conn, loc, disk)
		if err != nil {
			return fmt.Errorf("reading %s history from %s: %w", tool.Name(), loc.Main(), err)
		}
		report.Tool = tool.Name()
		return nil
	})
	var ce *checkError
	switch {
	case errors.As(err, &ce):
		// The check's own finding, not its connection's (WithFreshConn
		// wraps whatever fn returns as a query failure).
		return health.Result{Err: ce, Reason: ce.reason}
	case err != nil:
		return collectors.Failure(ctx, err)
	}
	report.Directory = c.opts.Dir
	report.ExpectedVersion = c.opts.ExpectedVersion
	report.normalize()
	reason, problem := report.problem(c.opts.FailOnUnknown)
	return health.Result{Err: problem, Reason: reason, Details: &report}
}

// Reasons are every reason the check reports (see health.Checker): its
// own and its connection's.
func (*Check) Reasons() []string {
	return append([]string{ReasonDirty, ReasonChecksumMismatch, ReasonLocked, ReasonPending, ReasonBehind,
		ReasonUnknown, ReasonMissingTable, ReasonAmbiguousTool, ReasonUnreadableDir, ReasonInvalidFiles},
		collectors.ConnectionReasons()...)
}

// fileError names a directory that cannot be read or parsed, in one line
// that starts with the phase, as the connection's failures do.
func fileError(dir string, err error) error {
	var ce *checkError
	if errors.As(err, &ce) {
		return err
	}
	msg := collectors.OneLine(fmt.Sprintf("migrations scan: migrations directory %s: %v", dir, err))
	var invalid *InvalidFileError
	if errors.As(err, &invalid) {
		return &checkError{ReasonInvalidFiles, msg}
	}
	return &checkError{ReasonUnreadableDir, msg}
}

// InvalidFileError is a migration file a tool cannot make sense of.
type InvalidFileError struct {
	File string
	Msg  string
}

func (e *InvalidFileError) Error() string { return e.File + ": " + e.Msg }
