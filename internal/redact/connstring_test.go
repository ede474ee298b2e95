package redact

import (
	"slices"
	"strings"
	"testing"
)

func TestPasswordCandidates_ReadMalformedConnectionStrings(t *testing.T) {
	cases := map[string]string{
		"postgres://u:s3cret@h:bad/db":                      "s3cret",
		"postgres://u:p@ss@h/db":                            "p@ss",
		"postgres://u:pa/ss@h/db":                           "pa/ss",
		"postgres://u:p%40ss@h/db":                          "p@ss",
		"host=h password=s3cret port=x":                     "s3cret",
		`host=h password='s3 c\'ret' port=x`:                "s3 c'ret",
		"host=h password=s3 cret dbname=x":                  "s3 cret",
		"postgres://u@h/db?password=s3cret":                 "s3cret",
		"postgres://u@h/db?password:s3cret":                 "s3cret",
		"postgres://u@h/db?password%3Ds3cret":               "s3cret",
		"postgres://u@h/db?sslmode=disable&passwords3cret":  "s3cret",
		"postgres://u@h/db?sslpassword=s3cret&sslmode=bad":  "s3cret",
		"postgres://u@h/db?pass%77ord=s3%20cret&sslmode=no": "s3 cret",
	}
	for dsn, want := range cases {
		if got := passwordCandidates(dsn); !slices.Contains(got, want) {
			t.Errorf("passwordCandidates(%q) = %q, lacks %q", dsn, got, want)
		}
	}
	if got := passwordCandidates("host=h dbname=x user=u"); len(got) != 0 {
		t.Errorf("a string without a password has candidates %q", got)
	}
}

func TestNamesOf_ReadsUserDatabaseAndHosts(t *testing.T) {
	cases := map[string][]string{
		"postgres://app:pw@db1,db2:5433/orders?sslmode=disable": {"app", "db1", "db2", "orders"},
		"postgresql://app@[::1]:5432/my%20db":                   {"app", "::1", "my db"},
		"host=db1,db2 user='ops team' dbname=orders":            {"db1", "db2", "ops team", "orders"},
	}
	for dsn, want := range cases {
		got := namesOf(dsn)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("namesOf(%q) = %q, lacks %q", dsn, got, w)
			}
		}
		if slices.ContainsFunc(got, func(n string) bool { return strings.Contains(n, "pw") }) {
			t.Errorf("namesOf(%q) = %q holds the password", dsn, got)
		}
	}
}

// A flag parser quotes an argument (%q): the long passwords of the
// arguments' connection strings are masked in any case.
func TestForArgs_MasksQuotedArguments(t *testing.T) {
	dsn := `host=db password='c4n4ry "pass" word' dbname=app`
	r := ForArgs([]string{"--db.dsn=" + dsn, "--check.interval=10s"})
	in := `unexpected "` + strings.ReplaceAll(dsn, `"`, `\"`) + `"`
	out := r.String(in)
	if strings.Contains(out, "c4n4ry") || strings.Contains(out, `\"pass`) {
		t.Fatalf("String(%q) = %q", in, out)
	}
	if !strings.Contains(out, "dbname=app") {
		t.Fatalf("String(%q) = %q lost the database", in, out)
	}
}
