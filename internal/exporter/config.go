package exporter

import (
	"hash/fnv"
	"slices"
	"strings"
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
	// Targets, when set, are the databases of fleet mode, each with its
	// own settings (Database and Checks above are then unused: the
	// configuration file merges its top-level checks into each target's).
	// Without Targets the exporter watches one database, Database, named
	// Target: the sidecar.
	Targets []Target
	Fleet   Fleet
	// ConfigFile is the configuration file this Config was read from, if
	// any; Reload watches it (with the credential files) for changes.
	ConfigFile string
	// Warnings are said in the log when the configuration is applied.
	Warnings []string
	// Log configures the log lines (level, format); default info, logfmt.
	Log *promslog.Config
}

// Target is one database of fleet mode.
type Target struct {
	// Name is the target label and the path /targets/<name>/readyz.
	Name string
	// Labels are added to every series of the target.
	Labels   map[string]string
	Database Database
	Checks   Checks
}

// Fleet configures fleet mode.
type Fleet struct {
	// Shard and TotalShards split the targets between replicas: this one
	// watches those whose name hashes to Shard modulo TotalShards
	// (kube-state-metrics' convention). TotalShards 0 or 1 watches all.
	Shard, TotalShards int
	// MaxConcurrentChecks bounds the check runs in flight across all
	// targets; default 32.
	MaxConcurrentChecks int
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
	c.Checks = c.Checks.withDefaults()
	if len(c.Targets) > 0 {
		c.Targets = slices.Clone(c.Targets)
		for i := range c.Targets {
			c.Targets[i].Checks = c.Targets[i].Checks.withDefaults()
			if c.Targets[i].Database.DSNSource == "" {
				c.Targets[i].Database.DSNSource = "target " + c.Targets[i].Name
			}
			if c.Targets[i].Database.Expect == "" {
				c.Targets[i].Database.Expect = "any"
			}
		}
	}
	if c.Fleet.MaxConcurrentChecks == 0 {
		c.Fleet.MaxConcurrentChecks = 32
	}
	if c.Log == nil {
		c.Log = &promslog.Config{}
	}
	return c
}

func (c Checks) withDefaults() Checks {
	if c.Defaults.Interval == 0 {
		c.Defaults.Interval = health.DefaultInterval
	}
	if c.Defaults.Timeout == 0 {
		c.Defaults.Timeout = health.DefaultTimeout
	}
	return c
}

// targets are the targets this exporter watches: the configured ones of
// its shard in fleet mode, sorted by name, or the one database.
func (c Config) targets() []Target {
	if len(c.Targets) == 0 {
		return []Target{{Name: c.Target, Database: c.Database, Checks: c.Checks}}
	}
	var out []Target
	for _, t := range c.Targets {
		if c.Fleet.owns(t.Name) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Target) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// owns reports whether this shard watches the target named name: a stable
// hash of the name (FNV-1a, 32 bits) modulo the number of shards.
func (f Fleet) owns(name string) bool {
	if f.TotalShards <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32()%uint32(f.TotalShards)) == f.Shard
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

// Clone returns a copy of c that shares nothing with it.
func (c Checks) Clone() Checks {
	if c.ReplicationLag != nil {
		lag := *c.ReplicationLag
		c.ReplicationLag = &lag
	}
	if c.Connections != nil {
		conns := *c.Connections
		c.Connections = &conns
	}
	c.Custom = slices.Clone(c.Custom)
	return c
}
