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
	if err := checkSchedule(fail, "defaults", f.Defaults); err != nil {
		return err
	}
	if err := f.checkChecks(fail, "checks", &f.Checks); err != nil {
		return err
	}
	if err := f.checkDatabase(fail, "database", &f.Database, getenv); err != nil {
		return err
	}
	if len(f.Targets) > 0 && f.Database != (Database{}) {
		f.Warnings = append(f.Warnings, f.Path+": database is not used when targets are set: each target has its own")
	}
	seen := map[string]bool{}
	for i := range f.Targets {
		t := &f.Targets[i]
		key := fmt.Sprintf("targets[%d]", i)
		switch {
		case t.Name == "":
			return fail(key, "a target needs a name")
		case !targetName.MatchString(t.Name):
			return fail(key+".name", "%q: use letters, digits, '_', '-' and '.' (it is a path and a label value)", t.Name)
		case seen[t.Name]:
			return fail(key+".name", "%q is used by another target", t.Name)
		}
		seen[t.Name] = true
		if t.Database.DSN == "" && t.Database.DSNFile == "" && t.Database.DSNEnv == "" {
			return fail(key+".database", "a target needs dsn_file, dsn_env or dsn")
		}
		if err := f.checkDatabase(fail, key+".database", &t.Database, getenv); err != nil {
			return err
		}
		if err := f.checkChecks(fail, key+".checks", &t.Checks); err != nil {
			return err
		}
		for name := range t.Labels {
			if !labelName.MatchString(name) || reservedLabels[name] {
				return fail(key+".labels", "%q cannot be a label name (a Prometheus label name, not one the exporter's metrics use)", name)
			}
		}
	}
	return nil
}

// targetName is what a target's name may be.
var targetName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// labelName is a Prometheus label name that is not reserved.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// reservedLabels are the label names the exporter's own metrics use.
var reservedLabels = map[string]bool{
	"target": true, "check": true, "status": true, "result": true, "reason": true, "le": true,
	"tool": true, "applied_version": true, "latest_version": true, "server_version": true, "database": true,
	"job": true, "instance": true, "version": true, "revision": true, "branch": true, "goversion": true,
	"goos": true, "goarch": true, "tags": true, "quantile": true,
}

// checkSchedule validates one schedule block.
func checkSchedule(fail func(key, format string, args ...any) error, key string, s Schedule) error {
	for name, d := range map[string]*time.Duration{"interval": s.Interval, "timeout": s.Timeout, "stale_after": s.StaleAfter} {
		if d != nil && *d <= 0 {
			return fail(key+"."+name, "must be positive, got %s", *d)
		}
	}
	for name, n := range map[string]*int{"failure_threshold": s.FailureThreshold, "success_threshold": s.SuccessThreshold} {
		if n != nil && *n < 1 {
			return fail(key+"."+name, "must be at least 1, got %d", *n)
		}
	}
	if i, t := s.Interval, s.Timeout; i != nil && t != nil && *t >= *i {
		return fail(key+".timeout", "%s must be shorter than %s.interval %s", *t, key, *i)
	}
	return nil
}

// checkChecks validates a checks block at key, resolving its paths.
func (f *File) checkChecks(fail func(key, format string, args ...any) error, key string, c *Checks) error {
	for _, s := range []struct {
		key string
		s   Schedule
	}{{key + ".database", c.Database.Schedule}, {key + ".migrations", c.Migrations.Schedule}} {
		if err := checkSchedule(fail, s.key, s.s); err != nil {
			return err
		}
	}
	if r := c.ReplicationLag; r != nil {
		if err := checkSchedule(fail, key+".replication_lag", r.Schedule); err != nil {
			return err
		}
		if r.MaxLag != nil && *r.MaxLag <= 0 {
			return fail(key+".replication_lag.max_lag", "must be positive, got %s", *r.MaxLag)
		}
		if r.MaxLagBytes != nil && *r.MaxLagBytes < 1 {
			return fail(key+".replication_lag.max_lag_bytes", "must be at least 1, got %d", *r.MaxLagBytes)
		}
	}
	if cc := c.Connections; cc != nil {
		if err := checkSchedule(fail, key+".connections", cc.Schedule); err != nil {
			return err
		}
		if cc.MaxUsedRatio != nil && (*cc.MaxUsedRatio <= 0 || *cc.MaxUsedRatio > 1) {
			return fail(key+".connections.max_used_ratio", "must be above 0 and at most 1, got %v", *cc.MaxUsedRatio)
		}
		if cc.MinFree != nil && *cc.MinFree < 1 {
			return fail(key+".connections.min_free", "must be at least 1, got %d", *cc.MinFree)
		}
	}
	names := map[string]bool{}
	for i, c := range c.Custom {
		key := fmt.Sprintf("%s.custom[%d]", key, i)
		if err := checkSchedule(fail, key, c.Schedule); err != nil {
			return err
		}
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

	m := &c.Migrations
	if m.Tool != "" {
		if _, ok := migrations.Lookup(m.Tool); !ok {
			return fail(key+".migrations.tool", "unknown tool %q (known: %s)", m.Tool, strings.Join(migrations.Names(), ", "))
		}
	}
	if m.Dir != "" {
		m.Dir = f.relative(m.Dir)
		if info, err := os.Stat(m.Dir); err != nil || !info.IsDir() {
			return fail(key+".migrations.dir", "%q is not a readable directory", m.Dir)
		}
	}
	return nil
}

// checkDatabase validates a database block at key, resolving dsn_env and
// its paths.
func (f *File) checkDatabase(fail func(key, format string, args ...any) error, key string, db *Database, getenv func(string) string) error {
	set := 0
	for _, v := range []string{db.DSN, db.DSNFile, db.DSNEnv} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return fail(key, "set one of dsn, dsn_file and dsn_env")
	}
	if db.Expect != "" && !slices.Contains(Expectations, db.Expect) {
		return fail(key+".expect", "must be one of %s, got %q", strings.Join(Expectations, ", "), db.Expect)
	}
	if db.DSNEnv != "" {
		if db.DSN = getenv(db.DSNEnv); db.DSN == "" {
			return fail(key+".dsn_env", "the environment variable %s is not set", db.DSNEnv)
		}
	}
	if db.DSN != "" && db.DSNEnv == "" && redact.HasPassword(db.DSN) {
		if info, err := os.Stat(f.Path); err == nil && info.Mode().Perm()&0o044 != 0 {
			f.Warnings = append(f.Warnings, fmt.Sprintf("%s: %s.dsn holds a password and the file is readable by others (mode %s); use dsn_file or password_file",
				f.Path, key, info.Mode().Perm()))
		}
	}
	db.DSNFile, db.PasswordFile = f.relative(db.DSNFile), f.relative(db.PasswordFile)
	return nil
}
