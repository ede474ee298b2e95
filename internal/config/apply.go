package config

import (
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
)

// Apply sets on cfg what the file says, except where given reports that the
// command line set the same setting: a flag given on the command line wins
// over the file, and the file wins over the flags' defaults. Each check's
// own block wins over defaults, wherever those came from.
//
//	file key                          flag
//	defaults.interval                 --check.interval
//	defaults.timeout                  --check.timeout
//	defaults.failure_threshold        --check.failure-threshold
//	defaults.success_threshold        --check.success-threshold
//	database.dsn, dsn_file, dsn_env   --db.dsn, --db.dsn-file (either)
//	database.password_file            --db.password-file
//	database.expect                   --db.expect-primary
//	checks.migrations.<key>           --migrations.<key> (dir, tool, table,
//	                                  schema, expected-version, fail-on-unknown)
func (f *File) Apply(cfg *exporter.Config, given func(flag string) bool) {
	cfg.ConfigFile = f.Path
	cfg.Warnings = append(cfg.Warnings, f.Warnings...)
	d := &cfg.Checks.Defaults
	setDuration(&d.Interval, f.Defaults.Interval, !given("check.interval"))
	setDuration(&d.Timeout, f.Defaults.Timeout, !given("check.timeout"))
	setInt(&d.FailureThreshold, f.Defaults.FailureThreshold, !given("check.failure-threshold"))
	setInt(&d.SuccessThreshold, f.Defaults.SuccessThreshold, !given("check.success-threshold"))
	setDuration(&d.StaleAfter, f.Defaults.StaleAfter, true)

	db := f.Database
	if !given("db.dsn") && !given("db.dsn-file") && (db.DSN != "" || db.DSNFile != "") {
		cfg.Database.DSN, cfg.Database.DSNFile = db.DSN, db.DSNFile
		switch {
		case db.DSNFile != "":
			cfg.Database.DSNSource = f.Path + ": database.dsn_file"
		case db.DSNEnv != "":
			cfg.Database.DSNSource = f.Path + ": database.dsn_env " + db.DSNEnv
		default:
			cfg.Database.DSNSource = f.Path + ": database.dsn"
		}
	}
	if !given("db.password-file") && db.PasswordFile != "" {
		cfg.Database.PasswordFile = db.PasswordFile
	}
	if !given("db.expect-primary") && db.Expect != "" {
		cfg.Database.Expect = db.Expect
	}

	f.Checks.Database.apply(&cfg.Checks.Database)
	m, fm := &cfg.Checks.Migrations, f.Checks.Migrations
	fm.Check.apply(&m.Check)
	for _, s := range []struct {
		to   *string
		from string
		flag string
	}{
		{&m.Dir, fm.Dir, "migrations.dir"},
		{&m.Tool, fm.Tool, "migrations.tool"},
		{&m.Table, fm.Table, "migrations.table"},
		{&m.Schema, fm.Schema, "migrations.schema"},
		{&m.ExpectedVersion, fm.ExpectedVersion, "migrations.expected-version"},
	} {
		if s.from != "" && !given(s.flag) {
			*s.to = s.from
		}
	}
	if fm.FailOnUnknown != nil && !given("migrations.fail-on-unknown") {
		m.FailOnUnknown = *fm.FailOnUnknown
	}

	if r := f.Checks.ReplicationLag; r != nil {
		lag := &exporter.ReplicationLag{}
		r.Check.apply(&lag.Check)
		setDuration(&lag.MaxLag, r.MaxLag, true)
		if r.MaxLagBytes != nil {
			lag.MaxLagBytes = *r.MaxLagBytes
		}
		cfg.Checks.ReplicationLag = lag
	}
	if c := f.Checks.Connections; c != nil {
		conns := &exporter.Connections{}
		c.Check.apply(&conns.Check)
		if c.MaxUsedRatio != nil {
			conns.MaxUsedRatio = *c.MaxUsedRatio
		}
		setInt(&conns.MinFree, c.MinFree, true)
		cfg.Checks.Connections = conns
	}
	for _, c := range f.Checks.Custom {
		custom := exporter.Custom{Name: c.Name, SQL: c.SQL, Min: c.Min, Max: c.Max, MinRows: c.MinRows, MaxRows: c.MaxRows}
		c.Check.apply(&custom.Check)
		cfg.Checks.Custom = append(cfg.Checks.Custom, custom)
	}
}

// apply sets a check's own block (no flag sets these).
func (c Check) apply(to *exporter.Check) {
	setDuration(&to.Interval, c.Interval, true)
	setDuration(&to.Timeout, c.Timeout, true)
	setDuration(&to.StaleAfter, c.StaleAfter, true)
	setInt(&to.FailureThreshold, c.FailureThreshold, true)
	setInt(&to.SuccessThreshold, c.SuccessThreshold, true)
	if c.Critical != nil {
		to.Critical = c.Critical
	}
}

func setDuration(to *time.Duration, from *time.Duration, ok bool) {
	if from != nil && ok {
		*to = *from
	}
}

func setInt(to *int, from *int, ok bool) {
	if from != nil && ok {
		*to = *from
	}
}
