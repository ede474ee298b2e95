package exporter

import (
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// Config is everything the operator decides. Zero fields take the defaults
// documented on each.
type Config struct {
	Web      Web
	Target   string // the target label and payload field; default "default"
	Database Database
	// Migrations enables the migrations check when Dir, Tool or
	// ExpectedVersion is set.
	Migrations Migrations
	Checks     Schedule
	// Log configures the log lines (level, format); default info, logfmt.
	Log *promslog.Config
}

// Web configures the HTTP side.
type Web struct {
	// ListenAddresses are host:port pairs; default ":9720".
	ListenAddresses []string
	// ConfigFile is an exporter-toolkit web configuration file (TLS, basic
	// auth, headers, rate limit); "" serves plain HTTP without auth.
	ConfigFile string
	// ProbesRequireAuth puts the probes behind ConfigFile's basic auth too.
	ProbesRequireAuth bool
	// TelemetryPath serves the metrics; default "/metrics".
	TelemetryPath string
	// ShutdownDelay is how long the server keeps serving, with readiness
	// failing, once Run's context ends. Zero means no delay.
	ShutdownDelay time.Duration
	// MaxScrapes bounds concurrent scrapes of TelemetryPath; 0 means no
	// limit.
	MaxScrapes int
}

// Database says which database to watch.
type Database struct {
	// DSN is a connection string (URL or key=value); "" leaves it to
	// libpq's PG* variables and defaults.
	DSN string
	// DSNSource names where DSN came from (a flag, a file, a variable), in
	// errors about it and in the start-up log; default "DSN".
	DSNSource string
	// ExpectPrimary fails the database check on a replica.
	ExpectPrimary bool
}

// Migrations configures the migrations check (see package migrations).
type Migrations struct {
	Dir, Tool, Table, Schema, ExpectedVersion string
	FailOnUnknown                             bool
}

// Enabled reports whether the migrations check runs.
func (m Migrations) Enabled() bool { return m.Dir != "" || m.Tool != "" || m.ExpectedVersion != "" }

// Schedule is every check's interval, timeout and thresholds; zero fields
// take health.Definition's defaults (10s, 2s, 1, 1).
type Schedule struct {
	Interval         time.Duration
	Timeout          time.Duration
	FailureThreshold int
	SuccessThreshold int
}

func (s Schedule) apply(d health.Definition) health.Definition {
	d.Interval, d.Timeout = s.Interval, s.Timeout
	d.FailureThreshold, d.SuccessThreshold = s.FailureThreshold, s.SuccessThreshold
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
	if c.Checks.Interval == 0 {
		c.Checks.Interval = health.DefaultInterval
	}
	if c.Checks.Timeout == 0 {
		c.Checks.Timeout = health.DefaultTimeout
	}
	if c.Log == nil {
		c.Log = &promslog.Config{}
	}
	return c
}
