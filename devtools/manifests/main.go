// Command manifests writes deploy/kubernetes/prometheusrule.yaml and
// servicemonitor.yaml from alerts/dbhealth.rules.yml (`make manifests`).
// Run it from the repository's top directory.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dbhealth/dbhealth-exporter/internal/monitoring"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "manifests:", err)
		os.Exit(1)
	}
}

func run() error {
	rules, err := os.ReadFile(filepath.Join("alerts", "dbhealth.rules.yml"))
	if err != nil {
		return err
	}
	rule, err := monitoring.PrometheusRule(rules)
	if err != nil {
		return err
	}
	out := filepath.Join("deploy", "kubernetes")
	if err := os.WriteFile(filepath.Join(out, "prometheusrule.yaml"), rule, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "servicemonitor.yaml"), monitoring.ServiceMonitor(), 0o644)
}
