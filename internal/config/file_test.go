package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func noEnv(string) string { return "" }

func TestLoad_EmptyFileAndEmptyMappingMeanAllDefaults(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.yml": "", "braces.yml": "{}\n", "comment.yml": "# nothing set\n"} {
		f, err := Load(writeFile(t, dir, name, content), noEnv)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Defaults.Interval != nil || f.Database != (Database{}) || f.Checks.Migrations.Dir != "" {
			t.Fatalf("%s: %+v", name, f)
		}
	}
}

func TestLoad_ReadsEveryKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "migrations"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := Load(writeFile(t, dir, "dbhealth.yml", `
defaults: {interval: 5s, timeout: 1s, failure_threshold: 2, success_threshold: 3, stale_after: 1m}
database: {dsn_env: APP_DSN, password_file: /run/secrets/pw, expect: primary}
checks:
  database: {interval: 2s, critical: true}
  migrations: {dir: migrations, tool: goose, table: versions, schema: ops, expected_version: "42", fail_on_unknown: true, critical: false}
`), func(k string) string {
		if k == "APP_DSN" {
			return "postgres://app@db/app"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	m := f.Checks.Migrations
	switch {
	case *f.Defaults.Interval != 5*time.Second || *f.Defaults.Timeout != time.Second || *f.Defaults.FailureThreshold != 2 ||
		*f.Defaults.SuccessThreshold != 3 || *f.Defaults.StaleAfter != time.Minute:
		t.Errorf("defaults: %+v", f.Defaults)
	case f.Database.DSN != "postgres://app@db/app" || f.Database.PasswordFile != "/run/secrets/pw" || f.Database.Expect != "primary":
		t.Errorf("database: %+v", f.Database)
	case *f.Checks.Database.Interval != 2*time.Second || !*f.Checks.Database.Critical:
		t.Errorf("checks.database: %+v", f.Checks.Database)
	case m.Dir != filepath.Join(dir, "migrations") || m.Tool != "goose" || m.Table != "versions" || m.Schema != "ops" ||
		m.ExpectedVersion != "42" || !*m.FailOnUnknown || *m.Critical:
		t.Errorf("checks.migrations: %+v", m)
	}
}

// Every bad file is refused with one line naming the file, the line and
// the key.
func TestLoad_BadFiles_OneLineNamingFileLineAndKey(t *testing.T) {
	cases := []struct{ name, content, want string }{
		{"unknown key", "defaults:\n  interval: 5s\n  intervall: 6s\n", ":3: defaults.intervall: unknown key"},
		{"unknown top-level key", "checkz: {}\n", ":1: checkz: unknown key"},
		{"bad duration", "checks:\n  database:\n    interval: ten\n", `:3: checks.database.interval: want a duration (500ms, 10s, 1m30s), got "ten"`},
		{"number for a duration", "defaults: {timeout: 5}\n", `:1: defaults.timeout: want a duration`},
		{"string for a number", "defaults:\n  failure_threshold: many\n", `:2: defaults.failure_threshold: want a whole number, got "many"`},
		{"string for a bool", "checks:\n  migrations:\n    critical: maybe\n", `:3: checks.migrations.critical: want true or false, got "maybe"`},
		{"list for a mapping", "checks:\n  database: [1, 2]\n", `:2: checks.database: want a mapping, got a list`},
		{"zero interval", "defaults:\n  interval: 0s\n", ":2: defaults.interval: must be positive"},
		{"threshold below one", "checks:\n  database:\n    failure_threshold: 0\n", ":3: checks.database.failure_threshold: must be at least 1"},
		{"timeout not under interval", "defaults:\n  interval: 1s\n  timeout: 1s\n", ":3: defaults.timeout: 1s must be shorter than defaults.interval 1s"},
		{"two connection strings", "database:\n  dsn: postgres://db/app\n  dsn_file: /x\n", ":1: database: set one of dsn, dsn_file and dsn_env"},
		{"unset environment variable", "database:\n  dsn_env: NOPE\n", ":2: database.dsn_env: the environment variable NOPE is not set"},
		{"bad expectation", "database:\n  expect: leader\n", `:2: database.expect: must be one of any, primary, replica, got "leader"`},
		{"unknown tool", "checks:\n  migrations:\n    tool: flywheel\n", `:3: checks.migrations.tool: unknown tool "flywheel"`},
		{"missing directory", "checks:\n  migrations:\n    dir: /nonexistent/migrations\n", `:3: checks.migrations.dir: "/nonexistent/migrations" is not a readable directory`},
		{"not YAML", "defaults: [\n", ": not valid YAML"},
		{"two documents", "{}\n---\n{}\n", ":2: more than one YAML document"},
		{"a list at the top", "- 1\n", ": want a mapping"},
		{"two statements", "checks:\n  custom:\n    - name: q\n      sql: select 1; drop table jobs\n", ":4: checks.custom[0].sql: 2 statements; a check runs exactly one"},
		{"a write", "checks:\n  custom:\n    - name: ok\n      sql: select 1\n    - name: q\n      sql: delete from jobs\n", ":6: checks.custom[1].sql: starts with DELETE"},
		{"a custom check without a name", "checks:\n  custom:\n    - sql: select true\n", ":3: checks.custom[0]: a custom check needs a name"},
		{"a built-in name", "checks:\n  custom:\n    - name: database\n      sql: select true\n", ":3: checks.custom[0].name: \"database\" is the name of a built-in check"},
		{"a name twice", "checks:\n  custom:\n    - {name: q, sql: select true}\n    - {name: q, sql: select false}\n", ":4: checks.custom[1].name: \"q\" is used by another custom check"},
		{"a name with capitals", "checks:\n  custom:\n    - {name: Jobs, sql: select true}\n", ":3: checks.custom[0].name: \"Jobs\": use lower case"},
		{"both kinds of bounds", "checks:\n  custom:\n    - {name: q, sql: select 1, max: 2, max_rows: 1}\n", ":3: checks.custom[0]: set min/max"},
		{"a ratio above 1", "checks:\n  connections:\n    max_used_ratio: 1.5\n", ":3: checks.connections.max_used_ratio: must be above 0 and at most 1"},
		{"a zero lag", "checks:\n  replication_lag: {max_lag: 0s}\n", ":2: checks.replication_lag.max_lag: must be positive"},
		{"a target without a name", "targets:\n  - database: {dsn: postgres://db/a}\n", ":2: targets[0]: a target needs a name"},
		{"a target without a database", "targets:\n  - name: a\n", ":2: targets[0].database: a target needs dsn_file, dsn_env or dsn"},
		{"a target name twice", "targets:\n  - {name: a, database: {dsn: x}}\n  - {name: a, database: {dsn: y}}\n", ":3: targets[1].name: \"a\" is used by another target"},
		{"a target name with a slash", "targets:\n  - {name: a/b, database: {dsn: x}}\n", `:2: targets[0].name: "a/b": use letters`},
		{"a reserved label", "targets:\n  - {name: a, database: {dsn: x}, labels: {check: x}}\n", `:2: targets[0].labels: "check" cannot be a label name`},
		{"a target's bad check", "targets:\n  - name: a\n    database: {dsn: x}\n    checks:\n      custom: [{name: q, sql: delete from t}]\n", `:5: targets[0].checks.custom[0].sql: starts with DELETE`},
		{"text for a ratio", "checks:\n  connections: {max_used_ratio: most}\n", `:2: checks.connections.max_used_ratio: want a number, got "most"`},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".yml", tc.content)
			_, err := Load(path, noEnv)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q; want one line starting with the file and containing %q", msg, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.yml"), noEnv); err == nil || !strings.Contains(err.Error(), "missing.yml") {
		t.Fatalf("a missing file: %v", err)
	}
}

func TestLoad_LiteralPasswordInAFileOthersCanRead_IsAWarning(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "dbhealth.yml", "database: {dsn: 'postgres://app:s3cret@db/app'}\n")
	f, err := Load(path, noEnv)
	if err != nil || len(f.Warnings) != 0 {
		t.Fatalf("mode 0600: %v, warnings %q", err, f.Warnings)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err = Load(path, noEnv)
	if err != nil || len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "readable by others") || strings.Contains(f.Warnings[0], "s3cret") {
		t.Fatalf("mode 0644: %v, warnings %q", err, f.Warnings)
	}
}
