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
	"github.com/dbhealth/dbhealth-exporter/internal/config"
	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/probes"
	"github.com/dbhealth/dbhealth-exporter/internal/web"
)

// errExit asks run to stop with a code after printing nothing more (help,
// version).
type errExit struct{ code int }

func (e errExit) Error() string { return fmt.Sprintf("exit %d", e.code) }

// command is what the command line says: the configuration its flags give,
// which flags were given, and the configuration file to read under them.
type command struct {
	flags      exporter.Config
	given      map[string]bool
	configFile string
	checkOnly  bool // --config.check
	getenv     func(string) string
}

// parseCommand reads the flags. Every error names the flag at fault and
// never contains the DSN.
func parseCommand(args []string, getenv func(string) string, stdout io.Writer) (c command, err error) {
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
	c = command{given: map[string]bool{}, getenv: getenv}
	cfg := &c.flags
	// track declares a flag whose presence on the command line matters to
	// the precedence over the configuration file (c.given, after Parse).
	var sets []func()
	track := func(name, help string) *kingpin.FlagClause {
		set := new(bool)
		sets = append(sets, func() { c.given[name] = *set })
		return app.Flag(name, help).IsSetByUser(set)
	}

	app.Flag("config.file", "Configuration file (YAML): checks, database, thresholds; see docs/configuration.md. Re-read on SIGHUP, on POST /-/reload and when it changes.").
		Default("").StringVar(&c.configFile)
	app.Flag("config.check", "Check the configuration (flags and --config.file) and exit: 0 when it is valid, 2 otherwise.").BoolVar(&c.checkOnly)

	app.Flag("web.listen-address", "Address to serve probes and metrics on; repeatable.").
		Default(":9720").StringsVar(&cfg.Web.ListenAddresses)
	app.Flag("web.config.file", "exporter-toolkit web configuration file enabling TLS and basic auth (auth covers /metrics and /, never the probes).").
		Default("").StringVar(&cfg.Web.ConfigFile)
	app.Flag("web.probes-require-auth", "Put the probe endpoints behind --web.config.file's basic auth too (the kubelet then needs credentials).").
		BoolVar(&cfg.Web.ProbesRequireAuth)
	app.Flag("web.probes-withhold-details", "Answer readiness probes without valid credentials with each failure's reason class only, not its message (always so when --web.config.file has users).").
		BoolVar(&cfg.Web.ProbesWithholdDetails)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&cfg.Web.TelemetryPath)
	app.Flag("web.enable-lifecycle", "Serve POST /-/reload to reload the configuration (behind --web.config.file's basic auth when it has users).").
		BoolVar(&cfg.Web.EnableLifecycle)
	durationFlag(app.Flag("web.shutdown-delay", "After SIGTERM, how long to keep serving with readiness failing so load balancers drain."), "5s", &cfg.Web.ShutdownDelay)
	intFlag(app.Flag("web.max-requests", "Maximum concurrent /metrics scrapes; 0 means no limit."), "40", &cfg.Web.MaxScrapes)

	track("db.dsn", "PostgreSQL connection string (URL or key=value). Prefer --db.dsn-file or DATABASE_URL: flags are visible in the process list.").
		Default("").StringVar(&cfg.Database.DSN)
	track("db.dsn-file", "File holding the connection string, e.g. a mounted Kubernetes secret; re-read when it changes.").
		Default("").StringVar(&cfg.Database.DSNFile)
	track("db.password-file", "File holding the password alone (it wins over a password in the connection string); re-read when it changes.").
		Default("").StringVar(&cfg.Database.PasswordFile)
	var expectPrimary bool
	track("db.expect-primary", "Fail readiness when connected to a replica (pg_is_in_recovery() is true).").BoolVar(&expectPrimary)
	track("target.name", "Name of the watched database in metrics (target label) and probes.").Default("default").StringVar(&cfg.Target)
	shard := app.Flag("shard", "Fleet mode: the shard this replica is, from 0; default: the ordinal ending $POD_NAME or the host name (a StatefulSet pod's), when --total-shards is above 1.").Default("-1").Int()
	app.Flag("total-shards", "Fleet mode: how many replicas share the targets, each watching those whose name hashes to its shard.").Default("1").IntVar(&cfg.Fleet.TotalShards)
	app.Flag("fleet.max-concurrent-checks", "Fleet mode: check runs in flight at most, across all targets.").Default("32").IntVar(&cfg.Fleet.MaxConcurrentChecks)

	m := &cfg.Checks.Migrations
	track("migrations.dir", "Directory of the migrations this code expects; re-read on every run. Enables the migrations check.").
		Default("").StringVar(&m.Dir)
	track("migrations.tool", "Migration tool, instead of detecting it from the database: "+strings.Join(migrations.Names(), ", ")+".").
		Default("").StringVar(&m.Tool)
	track("migrations.table", "History table, where the tool was configured with another name.").Default("").StringVar(&m.Table)
	track("migrations.schema", "Schema of the history table, where it is not the tool's default.").Default("").StringVar(&m.Schema)
	track("migrations.expected-version", "Fail readiness while the latest applied version is lower than this (natural order). Enables the migrations check.").
		Default("").StringVar(&m.ExpectedVersion)
	track("migrations.fail-on-unknown", "Fail readiness when the database has applied migrations that are not on disk (by default that is normal mid-rollout and only reported).").
		BoolVar(&m.FailOnUnknown)

	d := &cfg.Checks.Defaults
	durationFlag(track("check.interval", "Time between the end of one check run and the start of the next (every check; the file may set one check's own)."), "10s", &d.Interval)
	durationFlag(track("check.timeout", "Deadline of one check run; must be shorter than --check.interval."), "2s", &d.Timeout)
	intFlag(track("check.failure-threshold", "Consecutive failures before an ok check turns failing."), "1", &d.FailureThreshold)
	intFlag(track("check.success-threshold", "Consecutive successes before a failing check is ok again."), "1", &d.SuccessThreshold)

	cfg.Log = &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat()}
	app.Flag(promslogflag.LevelFlagName, promslogflag.LevelFlagHelp).Default("info").
		HintOptions(promslog.LevelFlagOptions...).SetValue(namedValue{promslogflag.LevelFlagName, cfg.Log.Level})
	app.Flag(promslogflag.FormatFlagName, promslogflag.FormatFlagHelp).Default("logfmt").
		HintOptions(promslog.FormatFlagOptions...).SetValue(namedValue{promslogflag.FormatFlagName, cfg.Log.Format})

	if _, err := app.Parse(args); err != nil {
		return command{}, fmt.Errorf("%w (see --help)", err)
	}
	for _, set := range sets {
		set()
	}
	if expectPrimary {
		cfg.Database.Expect = "primary"
	}
	if cfg.Fleet.Shard, err = config.Shard(*shard, cfg.Fleet.TotalShards, getenv); err != nil {
		return command{}, err
	}
	if cfg.Fleet.MaxConcurrentChecks < 1 {
		return command{}, fmt.Errorf("--fleet.max-concurrent-checks: must be at least 1, got %d", cfg.Fleet.MaxConcurrentChecks)
	}
	switch {
	case cfg.Database.DSN != "" && cfg.Database.DSNFile != "":
		return command{}, errors.New("--db.dsn and --db.dsn-file are both set; use one")
	case cfg.Database.DSNFile != "":
		cfg.Database.DSNSource = "--db.dsn-file"
	case cfg.Database.DSN != "":
		cfg.Database.DSNSource = "--db.dsn"
	}
	return c, validate(c.flags)
}

// load is the configuration as it is now (config.Resolve): it runs at
// start and on every reload.
func (c command) load() (exporter.Config, error) {
	return config.Resolve(c.flags, c.given, c.configFile, c.getenv)
}

// parseConfig is parseCommand and load in one.
func parseConfig(args []string, getenv func(string) string, stdout io.Writer) (exporter.Config, error) {
	c, err := parseCommand(args, getenv, stdout)
	if err != nil {
		return exporter.Config{}, err
	}
	return c.load()
}

// validate names the flag of the first setting that is wrong.
func validate(c exporter.Config) error {
	for _, addr := range c.Web.ListenAddresses {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("--web.listen-address: %q is not host:port", addr)
		}
	}
	d, m := c.Checks.Defaults, c.Checks.Migrations
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
	case d.Interval <= 0:
		return fmt.Errorf("--check.interval: must be positive, got %s", d.Interval)
	case d.Timeout <= 0:
		return fmt.Errorf("--check.timeout: must be positive, got %s", d.Timeout)
	case d.Timeout >= d.Interval:
		return fmt.Errorf("--check.timeout: %s must be shorter than --check.interval %s", d.Timeout, d.Interval)
	case d.FailureThreshold < 1:
		return fmt.Errorf("--check.failure-threshold: must be at least 1, got %d", d.FailureThreshold)
	case d.SuccessThreshold < 1:
		return fmt.Errorf("--check.success-threshold: must be at least 1, got %d", d.SuccessThreshold)
	case strings.TrimSpace(c.Target) == "":
		return errors.New("--target.name: must not be empty")
	}
	if err := web.Validate(c.Web.ConfigFile); err != nil {
		return fmt.Errorf("--web.config.file: %w", err)
	}
	if m.Tool != "" {
		if _, ok := migrations.Lookup(m.Tool); !ok {
			return fmt.Errorf("--migrations.tool: unknown tool %q (known: %s)", m.Tool, strings.Join(migrations.Names(), ", "))
		}
	}
	if m.Dir != "" {
		if info, err := os.Stat(m.Dir); err != nil || !info.IsDir() {
			return fmt.Errorf("--migrations.dir: %q is not a readable directory", m.Dir)
		}
	}
	return nil
}
