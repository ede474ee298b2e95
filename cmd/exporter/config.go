package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors/migrations"
	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/probes"
	"github.com/dbhealth/dbhealth-exporter/internal/web"
)

// errExit asks run to stop with a code after printing nothing more (help,
// version).
type errExit struct{ code int }

func (e errExit) Error() string { return fmt.Sprintf("exit %d", e.code) }

// parseConfig reads flags and environment. Every error names the flag or
// variable at fault and never contains the DSN.
func parseConfig(args []string, getenv func(string) string, stdout io.Writer) (cfg exporter.Config, err error) {
	app := kingpin.New("dbhealth-exporter",
		"Watches a PostgreSQL database and publishes its health as probes (/readyz, /livez), Prometheus metrics and traces.")
	app.UsageWriter(stdout)
	app.ErrorWriter(io.Discard)
	app.Version(version.Print("dbhealth-exporter"))
	app.HelpFlag.Short('h')
	// kingpin exits the process for --help and --version; turn that into
	// an error so run stays testable and returns the code.
	app.Terminate(func(code int) { panic(errExit{code}) })
	defer func() {
		if r := recover(); r != nil {
			exit, ok := r.(errExit)
			if !ok {
				panic(r)
			}
			err = exit
		}
	}()

	app.Flag("web.listen-address", "Address to serve probes and metrics on; repeatable.").
		Default(":9720").StringsVar(&cfg.Web.ListenAddresses)
	app.Flag("web.config.file", "exporter-toolkit web configuration file enabling TLS and basic auth (auth covers /metrics and /, never the probes).").
		Default("").StringVar(&cfg.Web.ConfigFile)
	app.Flag("web.probes-require-auth", "Put the probe endpoints behind --web.config.file's basic auth too (the kubelet then needs credentials).").
		BoolVar(&cfg.Web.ProbesRequireAuth)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&cfg.Web.TelemetryPath)
	shutdownDelay := durationFlag(app, "web.shutdown-delay", "After SIGTERM, how long to keep serving with readiness failing so load balancers drain.", "5s")
	maxRequests := intFlag(app, "web.max-requests", "Maximum concurrent /metrics scrapes; 0 means no limit.", "40")

	dsnFlag := app.Flag("db.dsn", "PostgreSQL connection string (URL or key=value). Prefer --db.dsn-file or DATABASE_URL: flags are visible in the process list.").Default("").String()
	dsnFile := app.Flag("db.dsn-file", "File holding the connection string, e.g. a mounted Kubernetes secret.").Default("").String()
	app.Flag("db.expect-primary", "Fail readiness when connected to a replica (pg_is_in_recovery() is true).").BoolVar(&cfg.Database.ExpectPrimary)
	app.Flag("target.name", "Name of the watched database in metrics (target label) and probes.").Default("default").StringVar(&cfg.Target)

	app.Flag("migrations.dir", "Directory of the migrations this code expects; re-read on every run. Enables the migrations check.").
		Default("").StringVar(&cfg.Migrations.Dir)
	app.Flag("migrations.tool", "Migration tool, instead of detecting it from the database: "+strings.Join(migrations.Names(), ", ")+".").
		Default("").StringVar(&cfg.Migrations.Tool)
	app.Flag("migrations.table", "History table, where the tool was configured with another name.").Default("").StringVar(&cfg.Migrations.Table)
	app.Flag("migrations.schema", "Schema of the history table, where it is not the tool's default.").Default("").StringVar(&cfg.Migrations.Schema)
	app.Flag("migrations.expected-version", "Fail readiness while the latest applied version is lower than this (natural order). Enables the migrations check.").
		Default("").StringVar(&cfg.Migrations.ExpectedVersion)
	app.Flag("migrations.fail-on-unknown", "Fail readiness when the database has applied migrations that are not on disk (by default that is normal mid-rollout and only reported).").
		BoolVar(&cfg.Migrations.FailOnUnknown)

	interval := durationFlag(app, "check.interval", "Time between the end of one check run and the start of the next.", "10s")
	timeout := durationFlag(app, "check.timeout", "Deadline of one check run; must be shorter than --check.interval.", "2s")
	failures := intFlag(app, "check.failure-threshold", "Consecutive failures before an ok check turns failing.", "1")
	successes := intFlag(app, "check.success-threshold", "Consecutive successes before a failing check is ok again.", "1")

	cfg.Log = &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat()}
	app.Flag(promslogflag.LevelFlagName, promslogflag.LevelFlagHelp).Default("info").
		HintOptions(promslog.LevelFlagOptions...).SetValue(namedValue{promslogflag.LevelFlagName, cfg.Log.Level})
	app.Flag(promslogflag.FormatFlagName, promslogflag.FormatFlagHelp).Default("logfmt").
		HintOptions(promslog.FormatFlagOptions...).SetValue(namedValue{promslogflag.FormatFlagName, cfg.Log.Format})

	if _, err := app.Parse(args); err != nil {
		return exporter.Config{}, fmt.Errorf("%w (see --help)", err)
	}
	cfg.Checks = exporter.Schedule{Interval: *interval, Timeout: *timeout, FailureThreshold: *failures, SuccessThreshold: *successes}
	cfg.Web.MaxScrapes, cfg.Web.ShutdownDelay = *maxRequests, *shutdownDelay
	if cfg.Database.DSN, cfg.Database.DSNSource, err = resolveDSN(*dsnFlag, *dsnFile, getenv); err != nil {
		return exporter.Config{}, err
	}
	return cfg, validate(cfg)
}

// resolveDSN picks the connection string: --db.dsn-file, else --db.dsn, else
// DATABASE_URL, else none (libpq's PG* variables and defaults apply).
func resolveDSN(flag, file string, getenv func(string) string) (dsn, source string, err error) {
	switch {
	case flag != "" && file != "":
		return "", "", errors.New("--db.dsn and --db.dsn-file are both set; use one")
	case file != "":
		raw, err := os.ReadFile(file)
		if err != nil {
			return "", "", fmt.Errorf("--db.dsn-file: %w", err)
		}
		dsn = strings.TrimSpace(string(raw))
		if dsn == "" {
			return "", "", fmt.Errorf("--db.dsn-file: %s is empty", file)
		}
		return dsn, "--db.dsn-file", nil
	case flag != "":
		return flag, "--db.dsn", nil
	case getenv("DATABASE_URL") != "":
		return getenv("DATABASE_URL"), "DATABASE_URL", nil
	}
	return "", "PG* variables", nil
}

// validate names the flag of the first setting that is wrong.
func validate(c exporter.Config) error {
	for _, addr := range c.Web.ListenAddresses {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("--web.listen-address: %q is not host:port", addr)
		}
	}
	switch {
	case !strings.HasPrefix(c.Web.TelemetryPath, "/") || c.Web.TelemetryPath == "/":
		return fmt.Errorf("--web.telemetry-path: %q must be a path below /", c.Web.TelemetryPath)
	case probes.IsProbePath(c.Web.TelemetryPath):
		return fmt.Errorf("--web.telemetry-path: %q is a probe path", c.Web.TelemetryPath)
	case c.Web.ProbesRequireAuth && c.Web.ConfigFile == "":
		return errors.New("--web.probes-require-auth needs --web.config.file")
	case c.Web.ShutdownDelay < 0:
		return errors.New("--web.shutdown-delay: must not be negative")
	case c.Web.MaxScrapes < 0:
		return errors.New("--web.max-requests: must not be negative")
	case c.Checks.Interval <= 0:
		return fmt.Errorf("--check.interval: must be positive, got %s", c.Checks.Interval)
	case c.Checks.Timeout <= 0:
		return fmt.Errorf("--check.timeout: must be positive, got %s", c.Checks.Timeout)
	case c.Checks.Timeout >= c.Checks.Interval:
		return fmt.Errorf("--check.timeout: %s must be shorter than --check.interval %s", c.Checks.Timeout, c.Checks.Interval)
	case c.Checks.FailureThreshold < 1:
		return fmt.Errorf("--check.failure-threshold: must be at least 1, got %d", c.Checks.FailureThreshold)
	case c.Checks.SuccessThreshold < 1:
		return fmt.Errorf("--check.success-threshold: must be at least 1, got %d", c.Checks.SuccessThreshold)
	case strings.TrimSpace(c.Target) == "":
		return errors.New("--target.name: must not be empty")
	case (c.Migrations.Table != "" || c.Migrations.Schema != "" || c.Migrations.FailOnUnknown) && !c.Migrations.Enabled():
		return errors.New("--migrations.table, --migrations.schema and --migrations.fail-on-unknown need --migrations.dir, --migrations.tool or --migrations.expected-version")
	}
	if err := web.Validate(c.Web.ConfigFile); err != nil {
		return fmt.Errorf("--web.config.file: %w", err)
	}
	if c.Migrations.Tool != "" {
		if _, ok := migrations.Lookup(c.Migrations.Tool); !ok {
			return fmt.Errorf("--migrations.tool: unknown tool %q (known: %s)", c.Migrations.Tool, strings.Join(migrations.Names(), ", "))
		}
	}
	if dir := c.Migrations.Dir; dir != "" {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return fmt.Errorf("--migrations.dir: %q is not a readable directory", dir)
		}
	}
	return nil
}
