package monitoring

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// The rule groups of alerts/dbhealth.rules.yml: fleetGroup's rules select
// series only an exporter in fleet mode exposes.
const (
	mainGroup  = "dbhealth"
	fleetGroup = "dbhealth-fleet"
)

// rule is one alerting rule of alerts/dbhealth.rules.yml.
type rule struct {
	Group       string            `yaml:"-"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readRules(t *testing.T) []rule {
	t.Helper()
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.UnmarshalStrict(read(t, "alerts/dbhealth.rules.yml"), &file); err != nil {
		t.Fatal(err)
	}
	var rules []rule
	for _, g := range file.Groups {
		if g.Name != mainGroup && g.Name != fleetGroup {
			t.Fatalf("alerts/dbhealth.rules.yml: group %q; the tests know %s and %s", g.Name, mainGroup, fleetGroup)
		}
		for _, r := range g.Rules {
			r.Group = g.Name
			rules = append(rules, r)
		}
	}
	return rules
}

// rulesOf returns the rules of the named groups.
func rulesOf(t *testing.T, groups ...string) []rule {
	t.Helper()
	var out []rule
	for _, r := range readRules(t) {
		if slices.Contains(groups, r.Group) {
			out = append(out, r)
		}
	}
	return out
}

func TestAlerts_EachHasSeverityAnnotationsRunbookAndUnitTest(t *testing.T) {
	runbooks := string(read(t, "docs/runbooks.md"))
	unitTests := string(read(t, "alerts/dbhealth_test.yml"))
	rules := readRules(t)
	if len(rules) < 8 {
		t.Fatalf("%d alerts", len(rules))
	}
	for _, r := range rules {
		if r.Labels["severity"] != "critical" && r.Labels["severity"] != "warning" {
			t.Errorf("%s: severity %q", r.Alert, r.Labels["severity"])
		}
		if r.For == "" || r.For == "0s" {
			t.Errorf("%s: no for: duration; one blip would page", r.Alert)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("%s: no %s", r.Alert, a)
			}
		}
		anchor := strings.ToLower(r.Alert)
		if !strings.HasSuffix(r.Annotations["runbook_url"], "docs/runbooks.md#"+anchor) {
			t.Errorf("%s: runbook_url %q does not point at its section", r.Alert, r.Annotations["runbook_url"])
		}
		if !strings.Contains(runbooks, "\n## "+r.Alert+"\n") {
			t.Errorf("%s: no section '## %s' in docs/runbooks.md", r.Alert, r.Alert)
		}
		if !strings.Contains(unitTests, fmt.Sprintf("alertname: %s\n", r.Alert)) {
			t.Errorf("%s: no unit test in alerts/dbhealth_test.yml", r.Alert)
		}
	}
}
