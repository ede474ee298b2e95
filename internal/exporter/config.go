package exporter

import (
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// Config is everything the operator decides, from flags and the
// configuration file (package config merges the two). Zero fields take the
// defaults documented on each.
type Config struct {
	Web      Web
	Target   string // the target label and payload field; default "default"
	Database Database
	Checks   Checks
	// ConfigFile is the configuration file this Config was read from, if
	// any; Reload watches it (with the credential files) for changes.
	ConfigFile string
	// Warnings are said in the log when the configuration is applied.
	Warnings []string
	// Log configures the log lines (level, format); default info, logfmt.
	Log *promslog.Config
}

// Web configures the HTTP side. It is read once: a reload does not change
// it.
type Web struct {
	// ListenAddresses are host:port pairs; default ":9720".
	ListenAddresses []string
	// ConfigFile is an exporter-toolkit web configuration file (TLS, basic
	// auth, headers, rate limit); "" serves plain HTTP without auth.
	ConfigFile string
	// ProbesRequireAuth puts the probes behind ConfigFile's basic auth too.
	ProbesRequireAuth bool
	// ProbesWithholdDetails answers readiness probes that carry no valid
	// credentials with reason classes only, also without users in
	// ConfigFile (with users, anonymous probes always are).
	ProbesWithholdDetails bool
	// TelemetryPath serves the metrics; default "/metrics".
	TelemetryPath string
	// ShutdownDelay is how long the server keeps serving, with readiness
	// failing, once Run's context ends. Zero means no delay.
	ShutdownDelay time.Duration
	// MaxScrapes bounds concurrent scrapes of TelemetryPath; 0 means no
	// limit.
	MaxScrapes int
	// EnableLifecycle serves POST /-/reload (behind basic auth when the web
	// configuration has users).
	EnableLifecycle bool
}

// Database says which database to watch and how to reach it. The files are
// read when the exporter is built and again on every reload, and watched
// for changes, so rotated credentials are used without a restart.
type Database struct {
	// DSN is a connection string (URL or key=value); with neither DSN nor
	// DSNFile, libpq's PG* variables and defaults apply.
	DSN string
	// DSNFile holds the connection string (a mounted Secret); it wins over
	// DSN.
	DSNFile string
	// PasswordFile holds the password alone; it wins over any password in
	// the connection string, PGPASSWORD and the passfile.
	PasswordFile string
	// DSNSource names where the connection string came from (a flag, a
	// file key, a variable), in errors and the start-up log; default "DSN".
	DSNSource string
	// Expect is "primary" (a replica fails the database check) or "any"
	// (the default).
	Expect string
}

// Checks configures the checks. Each check's own settings win over
// Defaults, which win over the built-in defaults.
type Checks struct {
	Defaults   Schedule
	Database   Check
	Migrations Migrations
	// ReplicationLag enables the replication lag check (critical by
	// default); nil leaves it off.
	ReplicationLag *ReplicationLag
	// Connections enables the connection headroom check (not critical by
	// default); nil leaves it off.
	Connections *Connections
	// Custom are the operator's own checks (critical by default).
	Custom []Custom
}

// ReplicationLag configures the replication lag check; a zero bound is
// not checked.
type ReplicationLag struct {
	Check
	MaxLag      time.Duration
	MaxLagBytes int64
}

// Connections configures the connection headroom check; with neither
// bound set, MaxUsedRatio is 0.9.
type Connections struct {
	Check
	MaxUsedRatio float64
	MinFree      int
}

// Custom is one of the operator's checks: a query and what counts as
// passing (see collectors.CustomOptions).
type Custom struct {
	Check
	Name             string
	SQL              string
	Min, Max         *float64
	MinRows, MaxRows *int
}

// Schedule is a check's timing and thresholds; zero fields take the next
// default (health.Definition's: interval 10s, timeout 2s, thresholds 1,
// stale after 3 x interval + timeout).
type Schedule struct {
	Interval         time.Duration
	Timeout          time.Duration
	FailureThreshold int
	SuccessThreshold int
	StaleAfter       time.Duration
}

// Check is one check's own settings.
type Check struct {
	Schedule
	// Critical says whether the check decides readiness; nil means the
	// check's default (critical, for the database and migrations checks).
	Critical *bool
}

// Migrations configures the migrations check, which runs when Dir, Tool or
// ExpectedVersion is set (see package migrations).
type Migrations struct {
	Check
	Dir, Tool, Table, Schema, ExpectedVersion string
	FailOnUnknown                             bool
}

// Enabled reports whether the migrations check runs.
func (m Migrations) Enabled() bool { return m.Dir != "" || m.Tool != "" || m.ExpectedVersion != "" }

// over returns s with its zero fields taken from d.
func (s Schedule) over(d Schedule) Schedule {
	if s.Interval == 0 {
		s.Interval = d.Interval
	}
	if s.Timeout == 0 {
		s.Timeout = d.Timeout
	}
	if s.FailureThreshold == 0 {
		s.FailureThreshold = d.FailureThreshold
	}
	if s.SuccessThreshold == 0 {
		s.SuccessThreshold = d.SuccessThreshold
	}
	if s.StaleAfter == 0 {
		s.StaleAfter = d.StaleAfter
	}
	return s
}

// define returns the check's definition under its settings and defaults.
func (c Check) define(defaults Schedule, d health.Definition) health.Definition {
	s := c.Schedule.over(defaults)
	d.Interval, d.Timeout, d.StaleAfter = s.Interval, s.Timeout, s.StaleAfter
	d.FailureThreshold, d.SuccessThreshold = s.FailureThreshold, s.SuccessThreshold
	if c.Critical != nil {
		d.Critical = *c.Critical
	}
	return d
}

// withDefaults fills in the zero fields that have defaults.
func (c Config) withDefaults() Config {
	if len(c.Web.ListenAddresses) == 0 {
		c.Web.ListenAddresses = []string{":9720"}
	}
	if c.Web.TelemetryPath == "" {
		c.Web.TelemetryPath = "/metrics"
	}
	if c.Target == "" {
		c.Target = "default"
	}
	if c.Database.DSNSource == "" {
		c.Database.DSNSource = "DSN"
	}
	if c.Database.Expect == "" {
		c.Database.Expect = "any"
	}
	if c.Checks.Defaults.Interval == 0 {
		c.Checks.Defaults.Interval = health.DefaultInterval
	}
	if c.Checks.Defaults.Timeout == 0 {
		c.Checks.Defaults.Timeout = health.DefaultTimeout
	}
	if c.Log == nil {
		c.Log = &promslog.Config{}
	}
	return c
}

// longestTimeout is the longest timeout among the checks.
func (c Checks) longestTimeout() time.Duration {
	t := c.Defaults.Timeout
	for _, s := range []Schedule{c.Database.Schedule, c.Migrations.Schedule} {
		t = max(t, s.Timeout)
	}
	if c.ReplicationLag != nil {
		t = max(t, c.ReplicationLag.Timeout)
	}
	if c.Connections != nil {
		t = max(t, c.Connections.Timeout)
	}
	for _, cc := range c.Custom {
		t = max(t, cc.Timeout)
	}
	return t
}
