package exporter_test

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
)

// docs/checks.md has a section for every check, and the section names every
// reason the check can report (as its Checker declares them).
func TestChecksDocs_EveryCheckAndReason(t *testing.T) {
	raw, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	// The introduction lists the reasons every connecting check shares.
	parts := strings.Split(string(raw), "\n## ")
	shared := parts[0]
	sections := map[string]string{}
	for _, part := range parts[1:] {
		title, body, _ := strings.Cut(part, "\n")
		sections[title] = body
	}
	cfg := schedule("postgres://db.invalid/app", time.Hour, time.Second)
	cfg.Checks.Migrations.Tool = "golang-migrate"
	cfg.Checks.ReplicationLag = &exporter.ReplicationLag{}
	cfg.Checks.Connections = &exporter.Connections{}
	cfg.Checks.Custom = []exporter.Custom{{Name: "jobs", SQL: "select true"}}
	ex, err := exporter.New(cfg, exporter.WithGetenv(func(string) string { return "" }), exporter.WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	for _, c := range ex.Snapshot().Checks {
		title := c.Name
		if title == "jobs" {
			title = "Custom checks"
		}
		body, ok := sections[title]
		if !ok {
			t.Errorf("docs/checks.md has no section %q", title)
			continue
		}
		lister, ok := c.Checker.(interface{ Reasons() []string })
		if !ok {
			t.Errorf("check %s declares no reasons", c.Name)
			continue
		}
		for _, reason := range lister.Reasons() {
			if !strings.Contains(body, "`"+reason+"`") && !strings.Contains(shared, "`"+reason+"`") {
				t.Errorf("docs/checks.md, section %s: reason %s is not there", title, reason)
			}
		}
	}
}
