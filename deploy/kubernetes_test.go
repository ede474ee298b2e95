package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const (
	manifestsDir = "kubernetes"
	chartDir     = "helm/dbhealth-exporter"
	rulesPath    = "../alerts/dbhealth.rules.yml"
)

// manifestKinds is what each file of deploy/kubernetes holds; a new file
// must be added here, so that no manifest goes unchecked.
var manifestKinds = map[string][]string{
	"sidecar.yaml":        {"Deployment/example-app", "Service/example-app", "Service/dbhealth-example-app"},
	"standalone.yaml":     {"Deployment/dbhealth-orders", "Service/dbhealth-orders"},
	"fleet.yaml":          {"ConfigMap/dbhealth-fleet-config", "Service/dbhealth-fleet-shards", "StatefulSet/dbhealth-fleet", "PodMonitor/dbhealth-fleet"},
	"secret.example.yaml": {"Secret/dbhealth-dsn", "Secret/dbhealth-fleet-dsns"},
	"servicemonitor.yaml": {"ServiceMonitor/dbhealth-exporter"},
	"prometheusrule.yaml": {"PrometheusRule/dbhealth-exporter"},
}

// loadManifests decodes every YAML file of deploy/kubernetes strictly.
func loadManifests(t *testing.T) map[string][]any {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(manifestsDir, "*.y*ml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in %s (%v)", manifestsDir, err)
	}
	files := map[string][]any{}
	for _, path := range paths {
		objs, err := decodeFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = objs
	}
	return files
}

// checkOptionsFor is what the manifests and the chart are checked against:
// the chart's appVersion as the image tag, and the alert rules.
func checkOptionsFor(t *testing.T) checkOptions {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("Chart.yaml: no appVersion (%v)", err)
	}
	rules, err := readRuleFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	return checkOptions{imageTag: chart.AppVersion, rules: rules}
}

func TestManifests_EveryDocumentDecodesStrictly(t *testing.T) {
	for file, objs := range loadManifests(t) {
		want, ok := manifestKinds[file]
		if !ok {
			t.Errorf("%s: not listed in manifestKinds (kubernetes_test.go); add it so its checks run", file)
			continue
		}
		var got []string
		for _, o := range objs {
			got = append(got, kindOf(o))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %v, want %v", file, got, want)
		}
	}
}

func TestManifests_MeetTheExporterContract(t *testing.T) {
	var all []any
	for _, objs := range loadManifests(t) {
		all = append(all, objs...)
	}
	opts := checkOptionsFor(t)
	opts.secretsInside = true
	for _, problem := range check(newBundle(all...), opts) {
		t.Error(problem)
	}
}

// The point of the sidecar: the application's readiness is the exporter's,
// through a port the kubelet resolves (a number: a name would be looked up
// among the application container's own ports).
func TestSidecar_ApplicationReadinessAsksTheExporter(t *testing.T) {
	b := newBundle(loadManifests(t)["sidecar.yaml"]...)
	if len(b.deployments) != 1 {
		t.Fatalf("sidecar.yaml: %d Deployments, want 1", len(b.deployments))
	}
	spec := &b.deployments[0].Spec.Template.Spec
	e, err := exporterOf(spec)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == "app" })
	if i < 0 {
		t.Fatal("sidecar.yaml: no container app")
	}
	app := spec.Containers[i]
	if app.ReadinessProbe == nil || app.ReadinessProbe.HTTPGet == nil {
		t.Fatal("container app: no httpGet readinessProbe")
	}
	if g := app.ReadinessProbe.HTTPGet; g.Path != "/readyz" || !slices.Contains(e.ports, g.Port.IntVal) {
		t.Errorf("container app: readinessProbe asks %s on port %s, want /readyz on the exporter's %v", g.Path, g.Port.String(), e.ports)
	}
	if app.LivenessProbe != nil && app.LivenessProbe.HTTPGet != nil && slices.Contains(readinessPaths, app.LivenessProbe.HTTPGet.Path) {
		t.Error("container app: a livenessProbe on the exporter's readiness restarts the application during every database outage")
	}
}
