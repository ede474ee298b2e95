package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

const canary = "c4n4ry/p@ss word"

func TestString_MasksEveryFormOfTheSecret(t *testing.T) {
	r := New(canary, "")
	dsn := "postgres://app:" + url.QueryEscape(canary) + "@db:5432/app"
	inputs := []string{
		"password=" + canary,
		dsn,
		"postgres://app:" + url.PathEscape(canary) + "@db/app",
		url.UserPassword("app", canary).String(),
	}
	for _, in := range inputs {
		out := r.String(in)
		if strings.Contains(out, canary) || strings.Contains(out, url.QueryEscape(canary)) || strings.Contains(out, url.PathEscape(canary)) {
			t.Errorf("String(%q) = %q still holds the secret", in, out)
		}
		if !strings.Contains(out, Mask) {
			t.Errorf("String(%q) = %q has no mask", in, out)
		}
	}
}

func TestString_NilAndEmptyRedactNothing(t *testing.T) {
	var r *Redactor
	if got := r.String("abc"); got != "abc" {
		t.Fatalf("nil redactor changed text: %q", got)
	}
	if got := New("").String("abc"); got != "abc" {
		t.Fatalf("empty secret changed text: %q", got)
	}
}

func TestHandler_RedactsMessagesAttributesErrorsAndGroups(t *testing.T) {
	var buf bytes.Buffer
	r := New(canary)
	logger := slog.New(r.Handler(slog.NewTextHandler(&buf, nil))).With("dsn", "password="+canary)
	logger.Info("connecting with "+canary,
		"err", errors.New("auth failed for "+canary),
		slog.Group("db", "url", "postgres://u:"+url.QueryEscape(canary)+"@h/db"),
		"n", 3)
	out := buf.String()
	if strings.Contains(out, canary) || strings.Contains(out, url.QueryEscape(canary)) {
		t.Fatalf("log line leaks the secret: %s", out)
	}
	if strings.Count(out, Mask) != 4 || !strings.Contains(out, "n=3") {
		t.Fatalf("log line lost content: %s", out)
	}
}

func TestAdd_MasksOldAndNewSecrets(t *testing.T) {
	r := New("first-s3cret")
	r.Add(New("second-s3cret"))
	r.Add(New(""))
	if got := r.String("first-s3cret then second-s3cret"); got != Mask+" then "+Mask {
		t.Fatalf("after Add: %q", got)
	}
	var zero Redactor
	zero.Add(New("third-s3cret"))
	if got := zero.String("third-s3cret"); got != Mask {
		t.Fatalf("Add to the zero Redactor: %q", got)
	}
}
