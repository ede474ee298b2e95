package config

import (
	"slices"
	"strconv"
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
//
// With targets, each target's checks are the top-level checks with the
// target's own blocks applied over them, key by key (a custom check of the
// same name is replaced), and its database is its own.
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
		cfg.Database.DSN, cfg.Database.DSNFile, cfg.Database.DSNSource = db.DSN, db.DSNFile, db.source(f.Path, "database")
	}
	if !given("db.password-file") && db.PasswordFile != "" {
		cfg.Database.PasswordFile = db.PasswordFile
	}
	if !given("db.expect-primary") && db.Expect != "" {
		cfg.Database.Expect = db.Expect
	}
	f.Checks.apply(&cfg.Checks, given)

	cfg.Targets = nil
	for i, t := range f.Targets {
		checks := cfg.Checks.Clone()
		t.Checks.apply(&checks, func(string) bool { return false })
		cfg.Targets = append(cfg.Targets, exporter.Target{
			Name:   t.Name,
			Labels: t.Labels,
			Database: exporter.Database{
				DSN: t.Database.DSN, DSNFile: t.Database.DSNFile, PasswordFile: t.Database.PasswordFile,
				Expect: t.Database.Expect, DSNSource: t.Database.source(f.Path, targetKey(i)+".database"),
			},
			Checks: checks,
		})
	}
}

func targetKey(i int) string { return "targets[" + strconv.Itoa(i) + "]" }

// source names where a database block's connection string comes from.
func (db Database) source(path, key string) string {
	switch {
	case db.DSNFile != "":
		return path + ": " + key + ".dsn_file"
	case db.DSNEnv != "":
		return path + ": " + key + ".dsn_env " + db.DSNEnv
	default:
		return path + ": " + key + ".dsn"
	}
}

// apply sets a checks block over to: every key present wins, migrations'
// keys only where given says no flag set them.
func (fc Checks) apply(to *exporter.Checks, given func(flag string) bool) {
	fc.Database.apply(&to.Database)
	m, fm := &to.Migrations, fc.Migrations
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

	if r := fc.ReplicationLag; r != nil {
		lag := &exporter.ReplicationLag{}
		if to.ReplicationLag != nil {
			*lag = *to.ReplicationLag
		}
		r.Check.apply(&lag.Check)
		setDuration(&lag.MaxLag, r.MaxLag, true)
		if r.MaxLagBytes != nil {
			lag.MaxLagBytes = *r.MaxLagBytes
		}
		to.ReplicationLag = lag
	}
	if c := fc.Connections; c != nil {
		conns := &exporter.Connections{}
		if to.Connections != nil {
			*conns = *to.Connections
		}
		c.Check.apply(&conns.Check)
		if c.MaxUsedRatio != nil {
			conns.MaxUsedRatio = *c.MaxUsedRatio
		}
		setInt(&conns.MinFree, c.MinFree, true)
		to.Connections = conns
	}
	for _, c := range fc.Custom {
		custom := exporter.Custom{Name: c.Name, SQL: c.SQL, Min: c.Min, Max: c.Max, MinRows: c.MinRows, MaxRows: c.MaxRows}
		c.Check.apply(&custom.Check)
		to.Custom = slices.DeleteFunc(to.Custom, func(o exporter.Custom) bool { return o.Name == c.Name })
		to.Custom = append(to.Custom, custom)
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
