package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
)

// fuzzCanary is the password the fuzz targets put in connection strings;
// no error text may show it.
const fuzzCanary = "Fz9-Canary!pw"

// fuzzArgs splits a fuzzed string into arguments at NUL (which no real
// argument holds). ok is false for arguments that would make kingpin or
// the configuration read arbitrary files: "@file" expansion, and paths
// into /dev, /proc and /sys (/dev/zero never ends).
func fuzzArgs(s string) (args []string, ok bool) {
	if s == "" {
		return nil, true
	}
	args = strings.Split(s, "\x00")
	for _, a := range args {
		if strings.HasPrefix(a, "@") || strings.Contains(a, "/dev") || strings.Contains(a, "/proc") || strings.Contains(a, "/sys") {
			return nil, false
		}
	}
	return args, true
}

// withDSN puts the canary DSN into args at pos, as --db.dsn=<dsn> (how 0),
// as --db.dsn <dsn> (how 1), or into DATABASE_URL (how 2). After a "--" it
// is a positional argument, which kingpin's error quotes.
func withDSN(args []string, pos, how uint8) (out []string, env map[string]string) {
	dsn := "postgres://app:" + fuzzCanary + "@db:5432/app"
	if how%3 == 2 {
		return args, map[string]string{"DATABASE_URL": dsn}
	}
	i := int(pos) % (len(args) + 1)
	insert := []string{"--db.dsn=" + dsn}
	if how%3 == 1 {
		insert = []string{"--db.dsn", dsn}
	}
	return append(append(append([]string{}, args[:i]...), insert...), args[i:]...), nil
}

// FuzzParseConfig parses fuzzed argument lists (NUL-separated) holding a
// DSN with a canary password, given as --db.dsn=..., --db.dsn ... or
// DATABASE_URL. Properties:
//
//   - parseConfig never panics (kingpin's --help and --version come back
//     as errExit with code 0, after printing);
//   - its error, redacted by redact.ForArgs as run prints it, never holds
//     the password;
//   - a configuration it accepts is valid: positive interval, a shorter
//     positive timeout, thresholds of at least 1, host:port addresses, a
//     metrics path below / that is no probe path, a named target;
//   - run, given the same arguments and an invalid --check.timeout=0s (so
//     it always stops before listening: kingpin never takes a --flag for a
//     value, and a repeated flag is an error), exits 0 (help, version) or
//     2 with exactly one line on stderr, "dbhealth-exporter: error: ...",
//     and the password appears neither on stdout nor on stderr, also when
//     kingpin quotes the DSN (a positional argument after "--").
func FuzzParseConfig(f *testing.F) {
	seeds := []string{
		"",
		"--check.interval=10s",
		"--check.interval=10s\x00--check.timeout=2s",
		"--web.listen-address=:9720\x00--web.listen-address=127.0.0.1:0",
		"--web.listen-address=9720",
		"--web.listen-address",
		"--web.telemetry-path=/readyz",
		"--web.telemetry-path=metrics",
		"--web.shutdown-delay=-5s",
		"--web.max-requests=-1",
		"--web.probes-require-auth",
		"--check.interval=banana",
		"--check.timeout=10s",
		"--check.failure-threshold=0\x00--check.success-threshold=x",
		"--log.level=loud",
		"--log.format=json\x00--log.level=debug",
		"--target.name= ",
		"--migrations.tool=flyway",
		"--migrations.tool=nope",
		"--migrations.table=t",
		"--migrations.dir=.\x00--migrations.expected-version=3",
		"--migrations.dir=nope",
		"--db.expect-primary",
		"--no-db.expect-primary",
		"--db.dsn=postgres://other/db",
		"--db.dsn-file=nope",
		"--no-such-flag=1",
		"-x",
		"-h",
		"--help",
		"--version",
		"--",
		"--\x00positional",
		"stray",
		"--check.interval=1s\x00--check.interval=2s",
		"--check.interval=10s\n--check.timeout=2s",
	}
	for i, s := range seeds {
		f.Add(s, uint8(i), uint8(i))
	}
	f.Fuzz(func(t *testing.T, argString string, pos, how uint8) {
		fuzzed, ok := fuzzArgs(argString)
		if !ok {
			return
		}
		args, env := withDSN(fuzzed, pos, how)
		getenv := func(k string) string { return env[k] }

		var stdout bytes.Buffer
		cfg, err := parseConfig(args, getenv, &stdout)
		var exit errExit
		switch {
		case errors.As(err, &exit):
			if exit.code != 0 || stdout.Len() == 0 {
				t.Fatalf("%q: errExit %d after printing %q", args, exit.code, stdout.String())
			}
		case err != nil:
			if said := redact.ForArgs(args).String(err.Error()); strings.Contains(said, fuzzCanary) {
				t.Fatalf("%q: error, redacted as run prints it, holds the password: %s", args, said)
			}
		default:
			switch {
			case cfg.Checks.Defaults.Interval <= 0 || cfg.Checks.Defaults.Timeout <= 0 || cfg.Checks.Defaults.Timeout >= cfg.Checks.Defaults.Interval,
				cfg.Checks.Defaults.FailureThreshold < 1 || cfg.Checks.Defaults.SuccessThreshold < 1,
				cfg.Web.MaxScrapes < 0 || cfg.Web.ShutdownDelay < 0,
				!strings.HasPrefix(cfg.Web.TelemetryPath, "/") || cfg.Web.TelemetryPath == "/",
				strings.TrimSpace(cfg.Target) == "":
				t.Fatalf("%q: accepted an invalid configuration %+v", args, cfg)
			}
			if cfg.Database.DSN == "" && cfg.Database.DSNFile == "" && env == nil {
				t.Fatalf("%q: the DSN was lost", args)
			}
		}

		var out, stderr bytes.Buffer
		code := run(context.Background(), append(args, "--check.timeout=0s"), getenv, &out, &stderr)
		switch code {
		case exitOK:
			if stderr.Len() != 0 || out.Len() == 0 {
				t.Fatalf("%q: exit 0 with stdout %q, stderr %q", args, out.String(), stderr.String())
			}
		case exitUsage:
			line := stderr.String()
			if !strings.HasPrefix(line, "dbhealth-exporter: error: ") || strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Fatalf("%q: want one error line, got %q", args, line)
			}
		default:
			t.Fatalf("%q: exit %d; stderr %q", args, code, stderr.String())
		}
		if strings.Contains(out.String()+stderr.String(), fuzzCanary) {
			t.Fatalf("%q: the password leaked: stdout %q, stderr %q", args, out.String(), stderr.String())
		}
	})
}

// libpqQuote quotes a keyword/value connection string value as libpq reads
// it: in single quotes, with \ and ' escaped by a backslash.
func libpqQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// dsnForms spell a connection string holding password, by form; each
// then gets a tail that may break it so that parsing fails after the
// password.
var dsnForms = []struct {
	name  string
	dsn   func(password, tail string) string
	tails []string
}{
	{"URL userinfo, escaped", func(p, tail string) string {
		return "postgres://" + url.UserPassword("app", p).String() + "@db" + tail
	}, []string{":5432/app", ":notaport/app", ":99999/app", "/app?sslmode=bogus", "/app?connect_timeout=abc", "/app?pool_max_conns=x", "/app?target_session_attrs=nope", ":5432,[::1/app"}},
	{"URL userinfo, unescaped", func(p, tail string) string {
		return "postgres://app:" + p + "@db" + tail
	}, []string{":5432/app", ":notaport/app", "/app?sslmode=bogus", "/app?pool_max_conns=x"}},
	{"URL query", func(p, tail string) string {
		// libpq and pgx read '+' in a URI as '+', not as a space.
		return "postgres://app@db/app?password=" + strings.ReplaceAll(url.QueryEscape(p), "+", "%20") + tail
	}, []string{"", "&port=notaport", "&sslmode=bogus", "&connect_timeout=abc", "&pool_max_conns=x", "&%zz"}},
	{"keyword/value, quoted", func(p, tail string) string {
		return "host=db user=app password=" + libpqQuote(p) + " " + tail
	}, []string{"", "port=notaport", "sslmode=bogus", "connect_timeout=abc", "pool_max_conns=x", "bogus", "dbname='unterminated"}},
	{"keyword/value, bare", func(p, tail string) string {
		return "host=db user=app password=" + p + " " + tail
	}, []string{"", "port=notaport", "sslmode=bogus", "pool_max_conns=x", "bogus"}},
}

// rotate changes every ASCII letter and digit of s to another of its
// kind, keeping what decides how a connection string parses: hex digits
// stay hex digits, '0' stays '0' (so %00 stays forbidden), everything else
// stays as it is.
func rotate(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case '1' <= c && c <= '9':
			b[i] = '1' + (c-'1'+1)%9
		case 'a' <= c && c <= 'f':
			b[i] = 'a' + (c-'a'+1)%6
		case 'A' <= c && c <= 'F':
			b[i] = 'A' + (c-'A'+1)%6
		case 'g' <= c && c <= 'z':
			b[i] = 'g' + (c-'g'+1)%20
		case 'G' <= c && c <= 'Z':
			b[i] = 'G' + (c-'G'+1)%20
		}
	}
	return string(b)
}

// FuzzDSNRedaction builds connection strings around a fuzzed password in
// each form users write them (URL userinfo escaped or not, URL query,
// keyword/value quoted per libpq or bare) with a tail that may break
// parsing, and checks what the exporter relies on:
//
//   - when pgx parses the string, it finds the password;
//   - when pgx fails, what the exporter says (redact.ParseError, and run's
//     one line on stderr, with the DSN in DATABASE_URL or --db.dsn) does
//     not depend on the password's letters: the same string with every
//     letter and digit of the password changed gives the same text (so no
//     part of the password is quoted), and it holds none of the canary
//     fragments put around the password;
//   - run exits 2 with one line on stderr.
//
// (In an unescaped URL a '?' in the password starts the query, where its
// letters are keys that pgx checks and the message may name: those
// strings are left out of the comparison.)
func FuzzDSNRedaction(f *testing.F) {
	for _, p := range []string{"s3cret", "c4n4ry/p@ss word", "it's \\ tricky", "a b", "p@ss", "p:w", "%41%zz", "пароль", "ab'cd", "abc\\", "=", "?&#", "app", "e", "1"} {
		for form := range dsnForms {
			f.Add(p, uint8(form), uint8(1), false)
		}
	}
	f.Add("s3cret", uint8(0), uint8(0), true)
	f.Fuzz(func(t *testing.T, fuzzed string, formByte, tailByte uint8, wrap bool) {
		form := dsnForms[int(formByte)%len(dsnForms)]
		password := fuzzed
		if wrap { // canary fragments on both sides reveal a partial leak
			password = "Fz9Q" + fuzzed + "Wv3J"
		}
		if strings.ContainsRune(password, 0) {
			return // no connection string can hold a NUL
		}
		if form.name == "keyword/value, bare" && (password == "" || strings.ContainsAny(password, " \t\n\r\v\f'\\")) {
			return // not a bare value: libpq would read another password
		}
		tail := form.tails[int(tailByte)%len(form.tails)]
		dsn, twin := form.dsn(password, tail), form.dsn(rotate(password), tail)
		compare := form.name != "URL userinfo, unescaped" || !strings.Contains(password, "?")

		cfg, err := collectors.PoolConfig(dsn)
		if err == nil {
			if cfg.ConnConfig.Password != password && form.name != "URL userinfo, unescaped" {
				t.Fatalf("%s %q: pgx reads password %q, want %q", form.name, dsn, cfg.ConnConfig.Password, password)
			}
			return // run would start serving: not called
		}
		_, twinErr := collectors.PoolConfig(twin)
		compare = compare && twinErr != nil
		said := redact.ParseError(err)
		if compare && said != redact.ParseError(twinErr) {
			t.Fatalf("%s: what is said depends on the password's letters:\n%q: %q\n%q: %q", form.name, dsn, said, twin, redact.ParseError(twinErr))
		}
		leaks := func(out string) bool {
			return wrap && (strings.Contains(out, "Fz9Q") || strings.Contains(out, "Wv3J"))
		}
		if leaks(said) {
			t.Fatalf("%s %q: ParseError says %q", form.name, dsn, said)
		}

		runWith := func(dsn string) (int, string) {
			var stdout, stderr bytes.Buffer
			args, env := []string{"--web.listen-address=127.0.0.1:0"}, func(string) string { return "" }
			if tailByte&0x80 != 0 {
				args = append(args, "--db.dsn="+dsn)
			} else {
				env = func(k string) string {
					if k == "DATABASE_URL" {
						return dsn
					}
					return ""
				}
			}
			code := run(context.Background(), args, env, &stdout, &stderr)
			return code, stdout.String() + stderr.String()
		}
		code, out := runWith(dsn)
		if code != exitUsage || !strings.HasPrefix(out, "dbhealth-exporter: error: ") || strings.Count(out, "\n") != 1 {
			t.Fatalf("%s %q: exit %d, output %q", form.name, dsn, code, out)
		}
		if leaks(out) {
			t.Fatalf("%s %q: run's output %q holds a canary fragment", form.name, dsn, out)
		}
		if _, twinOut := runWith(twin); compare && twinOut != out {
			t.Fatalf("%s: run's output depends on the password's letters:\n%q: %q\n%q: %q", form.name, dsn, out, twin, twinOut)
		}
	})
}
