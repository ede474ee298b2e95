package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors/migrations"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
)

// Expectations are the values of database.expect.
var Expectations = []string{"any", "primary"}

// check validates the values, resolves relative paths and dsn_env, and
// collects warnings. raw is the file's text, for line numbers.
func (f *File) check(raw []byte, getenv func(string) string) error {
	fail := func(key, format string, args ...any) error {
		return &Error{Path: f.Path, Line: lineOf(raw, key), Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	schedules := []struct {
		key string
		s   Schedule
	}{
		{"defaults", f.Defaults},
		{"checks.database", f.Checks.Database.Schedule},
		{"checks.migrations", f.Checks.Migrations.Schedule},
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
