package exporter_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// The status page of a real fleet on a real server: the target whose
// database does not exist is listed first, with the server's reason,
// although its name sorts after the ready one's.
func TestStatusPage_Fleet_FailingTargetFirstWithTheServersReason(t *testing.T) {
	cluster := pgtest.New(t)
	cfg := schedule("", 2*time.Second, time.Second)
	cfg.Targets = []exporter.Target{
		{Name: "a_ready", Database: exporter.Database{DSN: cluster.DSN("postgres")}},
		{Name: "b_missing", Database: exporter.Database{DSN: cluster.DSN("no_such_db")}, Labels: map[string]string{"team": "payments"}},
	}
	ex := startInProcess(t, cfg)
	until(t, "both targets checked", 30*time.Second, func() bool {
		for _, name := range []string{"a_ready", "b_missing"} {
			if snap, ok := ex.TargetSnapshot(name); !ok || len(snap.Checks) == 0 || snap.Checks[0].Last == nil {
				return false
			}
		}
		return true
	})

	code, page := ex.get(t, "/")
	if code != 200 {
		t.Fatalf("/: %d %s", code, page)
	}
	var listed []string
	for _, m := range regexp.MustCompile(`data-target="(\w+)" data-readiness="(\w+)"`).FindAllStringSubmatch(page, -1) {
		listed = append(listed, m[1]+":"+m[2])
	}
	if want := []string{"b_missing:not_ready", "a_ready:ready"}; !slices.Equal(listed, want) {
		t.Fatalf("targets listed %q, want %q", listed, want)
	}
	missing := page[strings.Index(page, `data-target="b_missing"`):strings.Index(page, `data-target="a_ready"`)]
	for _, want := range []string{`database &#34;no_such_db&#34; does not exist (SQLSTATE 3D000)`, `<svg class="strip"`, `<path class="failed"`,
		`href="/targets/b_missing/readyz?verbose"`, `href="/targets/b_missing/readyz/database?verbose"`, "team=payments"} {
		if !strings.Contains(missing, want) {
			t.Errorf("b_missing's part of the page lacks %q:\n%s", want, missing)
		}
	}
	if !strings.Contains(page, `<strong>1</strong> failing`) || !strings.Contains(page, `<strong>1</strong> ready`) || !strings.Contains(page, `href="/targets"`) {
		t.Errorf("the summary or the links are missing:\n%s", page)
	}
}
