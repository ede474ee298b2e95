package monitoring

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v2"
)

const root = "../.."

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestManifests_AreUpToDateWithAlerts(t *testing.T) {
	rule, err := PrometheusRule(read(t, "alerts/dbhealth.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rule, read(t, "deploy/kubernetes/prometheusrule.yaml")) {
		t.Error("deploy/kubernetes/prometheusrule.yaml is out of date: run make manifests")
	}
	if !bytes.Equal(ServiceMonitor(), read(t, "deploy/kubernetes/servicemonitor.yaml")) {
		t.Error("deploy/kubernetes/servicemonitor.yaml is out of date: run make manifests")
	}

	// The PrometheusRule carries exactly the rules file's groups.
	var file, wrapped struct {
		Groups any `yaml:"groups"`
		Spec   struct {
			Groups any `yaml:"groups"`
		} `yaml:"spec"`
		Kind string `yaml:"kind"`
	}
	if err := yaml.Unmarshal(read(t, "alerts/dbhealth.rules.yml"), &file); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(rule, &wrapped); err != nil {
		t.Fatal(err)
	}
	if wrapped.Kind != "PrometheusRule" || !reflect.DeepEqual(file.Groups, wrapped.Spec.Groups) {
		t.Fatal("the PrometheusRule's spec.groups differ from alerts/dbhealth.rules.yml")
	}
}

// promtool comes with Debian's prometheus package; the test fails without
// it, saying so.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install the prometheus package (apt-get install -y prometheus)")
	}
	return path
}

func TestAlerts_PromtoolCheckAndUnitTests(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "alerts/dbhealth.rules.yml"},
		{"test", "rules", "alerts/dbhealth_test.yml"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
