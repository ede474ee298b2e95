package redact

import "testing"

func TestRawPassword_FindsPasswordsOfUnparseableDSNs(t *testing.T) {
	cases := map[string]string{
		"postgres://u:s3cret@h:bad/db":      "s3cret",
		"host=h password=s3cret port=x":     "s3cret",
		"host=h password='s3 cret' port=x":  "s3 cret",
		"host=h dbname=x":                   "",
		"postgres://u@h/db?password=s3cret": "s3cret",
	}
	for dsn, want := range cases {
		if got := rawPassword(dsn); got != want {
			t.Errorf("rawPassword(%q) = %q, want %q", dsn, got, want)
		}
	}
}
