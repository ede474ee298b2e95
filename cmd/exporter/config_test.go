package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
)

func TestRun_BadConfiguration_ExitsTwoWithOneLineNamingTheProblem(t *testing.T) {
	dir := t.TempDir()
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	badWeb := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(badWeb, []byte("basic_auth_users:\n  admin: not-a-bcrypt-hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--check.interval=banana"}, nil, "--check.interval"},
		{[]string{"--check.timeout=soon"}, nil, "--check.timeout"},
		{[]string{"--check.timeout=10s"}, nil, "--check.timeout: 10s must be shorter than --check.interval 10s"},
		{[]string{"--check.interval=-1s"}, nil, "--check.interval"},
		{[]string{"--check.failure-threshold=0"}, nil, "--check.failure-threshold"},
		{[]string{"--check.success-threshold=x"}, nil, "--check.success-threshold"},
		{[]string{"--log.level=loud"}, nil, "--log.level"},
		{[]string{"--log.format=xml"}, nil, "--log.format"},
		{[]string{"--web.listen-address=9720"}, nil, "--web.listen-address"},
		{[]string{"--web.telemetry-path=/readyz"}, nil, "--web.telemetry-path"},
		{[]string{"--web.telemetry-path=metrics"}, nil, "--web.telemetry-path"},
		{[]string{"--web.shutdown-delay=-5s"}, nil, "--web.shutdown-delay"},
		{[]string{"--web.config.file=" + filepath.Join(dir, "missing.yml")}, nil, "--web.config.file"},
		{[]string{"--web.config.file=" + badWeb}, nil, "--web.config.file"},
		{[]string{"--no-such-flag"}, nil, "--no-such-flag"},
		{[]string{"--db.dsn=postgres://app:" + canary + "@[::1/db"}, nil, "--db.dsn"},
		{[]string{"--db.dsn=host=db password=" + canary + " port=notaport"}, nil, "--db.dsn"},
		{nil, map[string]string{"DATABASE_URL": "postgres://app:" + canary + "@db:notaport/app"}, "DATABASE_URL"},
		{[]string{"--db.dsn=postgres://db/app", "--db.dsn-file=" + emptyFile}, nil, "--db.dsn and --db.dsn-file"},
		{[]string{"--db.dsn-file=" + emptyFile}, nil, "--db.dsn-file"},
		{[]string{"--db.dsn-file=" + filepath.Join(dir, "nope")}, nil, "--db.dsn-file"},
		{[]string{"--target.name= "}, nil, "--target.name"},
		{[]string{"--web.probes-require-auth"}, nil, "--web.probes-require-auth"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tc.env[k] }
			code := run(context.Background(), tc.args, getenv, &stdout, &stderr)
			out := stderr.String()
			if code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, exitUsage, out)
			}
			if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "dbhealth-exporter: error: ") {
				t.Fatalf("want exactly one error line, got %q", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("error %q does not name %q", out, tc.want)
			}
			if strings.Contains(out+stdout.String(), canary) {
				t.Fatalf("the password leaked: %q", out)
			}
		})
	}
}

// A connection string that does not parse is reported by why and where,
// never quoted: pgx's own message quoted the token holding the password in
// each of these (issue 11). The password here is short, so only its
// position could mask it, and a malformed string has none.
func TestRun_MalformedDSN_SaysWhereWithoutQuotingThePassword(t *testing.T) {
	const secret = "s3cr3tpw"
	cases := []struct{ dsn, want string }{
		{"postgres://app@db/app?password:" + secret, `the query parameter at byte offset 22 has no "="`},
		{"postgres://app@db/app?password%3D" + secret, `the query parameter at byte offset 22 has no "="`},
		{"postgres://app@db/app?sslmode=disable&password" + secret, `the query parameter at byte offset 38 has no "="`},
		{"host=db user=app password=" + secret + " x dbname=app", `a word not followed by "=" after the value of password`},
		{"host=db user=app password=x " + secret + " dbname=app", `a word not followed by "=" after the value of password`},
		{"postgres://app:" + secret + "@db:port/app", "invalid port"},
	}
	for _, tc := range cases {
		for _, source := range []string{"--db.dsn", "DATABASE_URL"} {
			t.Run(source+" "+tc.dsn, func(t *testing.T) {
				var args []string
				env := map[string]string{}
				if source == "--db.dsn" {
					args = []string{"--db.dsn=" + tc.dsn}
				} else {
					env["DATABASE_URL"] = tc.dsn
				}
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
				out := stderr.String()
				if code != exitUsage || strings.Count(out, "\n") != 1 {
					t.Fatalf("exit %d, stderr %q", code, out)
				}
				want := "dbhealth-exporter: error: " + source + ": cannot parse the connection string: " + tc.want
				if !strings.HasPrefix(out, want) {
					t.Fatalf("stderr %q, want %q", out, want)
				}
				if strings.Contains(out+stdout.String(), secret) {
					t.Fatalf("the password leaked: %q", out)
				}
			})
		}
	}
}

func TestRun_HelpAndVersionExitZero(t *testing.T) {
	for _, arg := range []string{"--help", "--version"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{arg}, func(string) string { return "" }, &stdout, &stderr); code != exitOK {
			t.Errorf("%s: exit code %d; stderr %s", arg, code, stderr.String())
		}
		if stdout.Len()+stderr.Len() == 0 {
			t.Errorf("%s printed nothing", arg)
		}
	}
}

// The precedence: a flag given on the command line wins over the
// configuration file, the file wins over DATABASE_URL and the flags'
// defaults, and a check's own block wins over the defaults.
func TestLoad_Precedence_FlagsOverFileOverEnvironmentAndDefaults(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("dsn", "postgres://from-file/db\n")
	migrationsDir := filepath.Join(dir, "m")
	if err := os.Mkdir(migrationsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := write("dbhealth.yml", `
defaults: {interval: 5s, timeout: 1s, failure_threshold: 2}
database: {dsn_file: dsn, expect: primary}
checks:
  database: {interval: 3s}
  migrations: {dir: m, critical: false, fail_on_unknown: true}
`)
	env := func(k string) string {
		if k == "DATABASE_URL" {
			return "postgres://from-env/db"
		}
		return ""
	}
	load := func(args ...string) exporter.Config {
		t.Helper()
		cfg, err := parseConfig(args, env, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	if cfg := load(); cfg.Database.DSN != "postgres://from-env/db" || cfg.Database.DSNSource != "DATABASE_URL" {
		t.Errorf("without flags or file: %+v", cfg.Database)
	}
	if cfg := load("--db.dsn-file=" + filepath.Join(dir, "dsn")); cfg.Database.DSNFile == "" || cfg.Database.DSNSource != "--db.dsn-file" {
		t.Errorf("--db.dsn-file: %+v", cfg.Database)
	}

	cfg := load("--config.file=" + file)
	switch {
	case cfg.Database.DSNFile != filepath.Join(dir, "dsn") || cfg.Database.DSN != "" || cfg.Database.Expect != "primary":
		t.Errorf("the file's database block must win over DATABASE_URL: %+v", cfg.Database)
	case cfg.Checks.Defaults.Interval != 5*time.Second || cfg.Checks.Defaults.Timeout != time.Second || cfg.Checks.Defaults.FailureThreshold != 2:
		t.Errorf("the file's defaults must win over the flags' defaults: %+v", cfg.Checks.Defaults)
	case cfg.Checks.Database.Interval != 3*time.Second:
		t.Errorf("checks.database.interval: %+v", cfg.Checks.Database)
	case cfg.Checks.Migrations.Dir != migrationsDir || cfg.Checks.Migrations.Critical == nil || *cfg.Checks.Migrations.Critical || !cfg.Checks.Migrations.FailOnUnknown:
		t.Errorf("checks.migrations: %+v", cfg.Checks.Migrations)
	case cfg.ConfigFile != file:
		t.Errorf("ConfigFile %q", cfg.ConfigFile)
	}

	cfg = load("--config.file="+file, "--db.dsn=postgres://from-flag/db", "--check.interval=20s", "--migrations.dir="+dir)
	switch {
	case cfg.Database.DSN != "postgres://from-flag/db" || cfg.Database.DSNFile != "" || cfg.Database.DSNSource != "--db.dsn":
		t.Errorf("--db.dsn must win over the file: %+v", cfg.Database)
	case cfg.Checks.Defaults.Interval != 20*time.Second || cfg.Checks.Defaults.Timeout != time.Second:
		t.Errorf("--check.interval must win over defaults.interval, the file still sets the timeout: %+v", cfg.Checks.Defaults)
	case cfg.Checks.Database.Interval != 3*time.Second:
		t.Errorf("checks.database.interval is the check's own and wins over any default: %+v", cfg.Checks.Database)
	case cfg.Checks.Migrations.Dir != dir:
		t.Errorf("--migrations.dir must win over checks.migrations.dir: %q", cfg.Checks.Migrations.Dir)
	}
}
