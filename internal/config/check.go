package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/collectors/migrations"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
)

// Expectations are the values of database.expect.
var Expectations = []string{"any", "primary", "replica"}

// validName is what a check's name may be: it becomes a path
// (/readyz/<name>) and a label value.
var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// reservedNames are the built-in checks and the readiness payload's own
// fields.
var reservedNames = map[string]bool{
	"database": true, "migrations": true, "replication_lag": true, "connections": true,
	"status": true, "checks": true, "generation": true, "target": true, "shutdown": true, "excluded": true,
}

// check validates the values, resolves relative paths and dsn_env, and
// collects warnings. raw is the file's text, for line numbers.
func (f *File) check(raw []byte, getenv func(string) string) error {
	fail := func(key, format string, args ...any) error {
		return &Error{Path: f.Path, Line: lineOf(raw, key), Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	type keyed struct {
		key string
		s   Schedule
	}
	schedules := []keyed{
		{"defaults", f.Defaults},
		{"checks.database", f.Checks.Database.Schedule},
		{"checks.migrations", f.Checks.Migrations.Schedule},
	}
	if r := f.Checks.ReplicationLag; r != nil {
		schedules = append(schedules, keyed{"checks.replication_lag", r.Schedule})
		if r.MaxLag != nil && *r.MaxLag <= 0 {
			return fail("checks.replication_lag.max_lag", "must be positive, got %s", *r.MaxLag)
		}
		if r.MaxLagBytes != nil && *r.MaxLagBytes < 1 {
			return fail("checks.replication_lag.max_lag_bytes", "must be at least 1, got %d", *r.MaxLagBytes)
		}
	}
	if c := f.Checks.Connections; c != nil {
		schedules = append(schedules, keyed{"checks.connections", c.Schedule})
		if c.MaxUsedRatio != nil && (*c.MaxUsedRatio <= 0 || *c.MaxUsedRatio > 1) {
			return fail("checks.connections.max_used_ratio", "must be above 0 and at most 1, got %v", *c.MaxUsedRatio)
		}
		if c.MinFree != nil && *c.MinFree < 1 {
			return fail("checks.connections.min_free", "must be at least 1, got %d", *c.MinFree)
		}
	}
	names := map[string]bool{}
	for i, c := range f.Checks.Custom {
		key := fmt.Sprintf("checks.custom[%d]", i)
		schedules = append(schedules, keyed{key, c.Schedule})
		switch {
		case c.Name == "":
			return fail(key, "a custom check needs a name")
		case !validName.MatchString(c.Name):
			return fail(key+".name", "%q: use lower case letters, digits and '_', starting with a letter", c.Name)
		case reservedNames[c.Name]:
			return fail(key+".name", "%q is the name of a built-in check or a field of the readiness payload", c.Name)
		case names[c.Name]:
			return fail(key+".name", "%q is used by another custom check", c.Name)
		}
		names[c.Name] = true
		opts := collectors.CustomOptions{SQL: c.SQL, Min: c.Min, Max: c.Max, MinRows: c.MinRows, MaxRows: c.MaxRows}
		if err := opts.Validate(); err != nil {
			k := key
			if strings.HasPrefix(err.Error(), "sql: ") {
				k = key + ".sql"
			}
			return fail(k, "%s", strings.TrimPrefix(err.Error(), "sql: "))
		}
	}
	for _, sc := range schedules {
		for name, d := range map[string]*time.Duration{"interval": sc.s.Interval, "timeout": sc.s.Timeout, "stale_after": sc.s.StaleAfter} {
			if d != nil && *d <= 0 {
				return fail(sc.key+"."+name, "must be positive, got %s", *d)
			}
		}
		for name, n := range map[string]*int{"failure_threshold": sc.s.FailureThreshold, "success_threshold": sc.s.SuccessThreshold} {
			if n != nil && *n < 1 {
				return fail(sc.key+"."+name, "must be at least 1, got %d", *n)
			}
		}
		if i, t := sc.s.Interval, sc.s.Timeout; i != nil && t != nil && *t >= *i {
			return fail(sc.key+".timeout", "%s must be shorter than %s.interval %s", *t, sc.key, *i)
		}
	}

	db := &f.Database
	set := 0
	for _, v := range []string{db.DSN, db.DSNFile, db.DSNEnv} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return fail("database", "set one of dsn, dsn_file and dsn_env")
	}
	if db.Expect != "" && !slices.Contains(Expectations, db.Expect) {
		return fail("database.expect", "must be one of %s, got %q", strings.Join(Expectations, ", "), db.Expect)
	}
	if db.DSNEnv != "" {
		if db.DSN = getenv(db.DSNEnv); db.DSN == "" {
			return fail("database.dsn_env", "the environment variable %s is not set", db.DSNEnv)
		}
	}
	if db.DSN != "" && db.DSNEnv == "" && redact.HasPassword(db.DSN) {
		if info, err := os.Stat(f.Path); err == nil && info.Mode().Perm()&0o044 != 0 {
			f.Warnings = append(f.Warnings, fmt.Sprintf("%s: database.dsn holds a password and the file is readable by others (mode %s); use dsn_file or password_file",
				f.Path, info.Mode().Perm()))
		}
	}
	db.DSNFile, db.PasswordFile = f.relative(db.DSNFile), f.relative(db.PasswordFile)

	m := &f.Checks.Migrations
	if m.Tool != "" {
		if _, ok := migrations.Lookup(m.Tool); !ok {
			return fail("checks.migrations.tool", "unknown tool %q (known: %s)", m.Tool, strings.Join(migrations.Names(), ", "))
		}
	}
	if m.Dir != "" {
		m.Dir = f.relative(m.Dir)
		if info, err := os.Stat(m.Dir); err != nil || !info.IsDir() {
			return fail("checks.migrations.dir", "%q is not a readable directory", m.Dir)
		}
	}
	return nil
}
