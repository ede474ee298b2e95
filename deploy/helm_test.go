package deploy

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const (
	// helm, as .ci/install-tools installs it into the repository's .tools/bin.
	repoHelm       = "../.tools/bin/helm"
	helmInstall    = "bash .ci/install-tools (from the repository root; or: GOBIN=$PWD/.tools/bin go install helm.sh/helm/v3/cmd/helm@v3.22.0)"
	chartRules     = chartDir + "/files/dbhealth.rules.yml"
	allFeatures    = "testdata/all-features.values.yaml"
	fleetFeatures  = "testdata/fleet.values.yaml"
	releaseName    = "orders"
	releaseNS      = "databases"
	defaultRelease = "orders-dbhealth-exporter" // the objects' name for releaseName
)

// helm runs the helm binary on the chart with a throwaway home. It fails
// the test, with how to install helm, when there is none: these tests are
// never skipped.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := filepath.Abs(repoHelm)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		if bin, err = exec.LookPath("helm"); err != nil {
			t.Fatalf("helm is not installed (looked in %s and PATH); install it with %s", repoHelm, helmInstall)
		}
	}
	trackChart(t)
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(strings.TrimSpace(stderr.String() + "\n" + err.Error()))
	}
	return stdout.String(), nil
}

// trackChart reads every file of the chart, so that go test's cache, which
// knows only the files the test process itself opens, reruns these tests
// when the chart changes.
func trackChart(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(chartDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// render runs helm template and decodes its output strictly.
func render(t *testing.T, args ...string) *bundle {
	t.Helper()
	out, err := helm(t, slices.Concat([]string{"template", releaseName, chartDir, "--namespace", releaseNS}, args)...)
	if err != nil {
		t.Fatalf("helm template %v: %v", args, err)
	}
	objs, err := decodeDocuments([]byte(out))
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", args, err, out)
	}
	return newBundle(objs...)
}

func kindsOf(b *bundle) []string {
	var got []string
	for _, d := range b.deployments {
		got = append(got, kindOf(d))
	}
	for _, s := range b.statefulSets {
		got = append(got, kindOf(s))
	}
	for _, s := range b.services {
		got = append(got, kindOf(s))
	}
	for _, s := range b.serviceMonitors {
		got = append(got, kindOf(s))
	}
	for _, m := range b.podMonitors {
		got = append(got, kindOf(m))
	}
	for _, r := range b.prometheusRules {
		got = append(got, kindOf(r))
	}
	for _, s := range b.secrets {
		got = append(got, kindOf(s))
	}
	for _, c := range b.configMaps {
		got = append(got, kindOf(c))
	}
	return got
}

func TestHelmChart_LintsWithoutWarnings(t *testing.T) {
	t.Parallel()
	for _, values := range [][]string{nil, {"--values", allFeatures}, {"--values", fleetFeatures}} {
		out, err := helm(t, slices.Concat([]string{"lint", "--strict", chartDir}, values)...)
		if err != nil || strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ERROR]") {
			t.Errorf("helm lint --strict %v: %v\n%s", values, err, out)
		}
	}
}

func TestHelmChart_DefaultRenderMeetsTheExporterContract(t *testing.T) {
	t.Parallel()
	b := render(t)
	want := []string{"Deployment/" + defaultRelease, "Service/" + defaultRelease}
	if got := kindsOf(b); !slices.Equal(got, want) {
		t.Errorf("renders %v, want %v", got, want)
	}
	for _, problem := range check(b, checkOptionsFor(t)) {
		t.Error(problem)
	}
}

func TestHelmChart_AllFeaturesRenderMeetsTheExporterContract(t *testing.T) {
	t.Parallel()
	b := render(t, "--values", allFeatures)
	want := []string{"Deployment/" + defaultRelease, "Service/" + defaultRelease, "ServiceMonitor/" + defaultRelease, "PrometheusRule/" + defaultRelease}
	if got := kindsOf(b); !slices.Equal(got, want) {
		t.Fatalf("renders %v, want %v", got, want)
	}
	for _, problem := range check(b, checkOptionsFor(t)) {
		t.Error(problem)
	}

	spec := &b.deployments[0].Spec.Template.Spec
	e, err := exporterOf(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--migrations.dir=/etc/dbhealth/migrations", "--migrations.tool=golang-migrate", "--target.name=orders", "--db.expect-primary", "--web.shutdown-delay=15s", "--check.interval=5s"} {
		if !slices.Contains(e.c.Args, flag) {
			t.Errorf("args %v lack %s", e.c.Args, flag)
		}
	}
	if i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.ConfigMap != nil }); i < 0 || spec.Volumes[i].ConfigMap.Name != "orders-migrations" {
		t.Errorf("volumes %v: want the ConfigMap orders-migrations", spec.Volumes)
	}
	if i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Secret != nil }); i < 0 || spec.Volumes[i].Secret.SecretName != "orders-dsn" || spec.Volumes[i].Secret.Items[0].Key != "url" {
		t.Errorf("volumes %v: want key url of Secret orders-dsn", spec.Volumes)
	}
	if sm := b.serviceMonitors[0]; sm.Labels["release"] != "kube-prometheus-stack" || sm.Spec.Endpoints[0].Path != "/internal/metrics" {
		t.Errorf("ServiceMonitor: labels %v, path %s; want the release label and the telemetry path of extraArgs", sm.Labels, sm.Spec.Endpoints[0].Path)
	}
	if got := *spec.TerminationGracePeriodSeconds; got != 40 {
		t.Errorf("terminationGracePeriodSeconds %d, want 40", got)
	}
}

// The chart's defaults and standalone.yaml describe the same exporter
// container: probes, port, security and resources do not drift apart.
func TestHelmChart_DefaultsMatchStandaloneManifest(t *testing.T) {
	t.Parallel()
	chart := render(t)
	manifest := newBundle(loadManifests(t)["standalone.yaml"]...)
	if len(chart.deployments) != 1 || len(manifest.deployments) != 1 {
		t.Fatal("want one Deployment in each")
	}
	samePod(t, "standalone.yaml", &chart.deployments[0].Spec.Template.Spec, &manifest.deployments[0].Spec.Template.Spec)
}

// samePod reports where the chart's pod and the manifest file's differ in
// the exporter's probes, port, security, resources and environment, and
// in the pod's security context and grace period.
func samePod(t *testing.T, file string, chart, manual *corev1.PodSpec) {
	t.Helper()
	ce, err := exporterOf(chart)
	if err != nil {
		t.Fatal(err)
	}
	me, err := exporterOf(manual)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name          string
		chart, manual any
	}{
		{"livenessProbe", ce.c.LivenessProbe, me.c.LivenessProbe},
		{"readinessProbe", ce.c.ReadinessProbe, me.c.ReadinessProbe},
		{"startupProbe", ce.c.StartupProbe, me.c.StartupProbe},
		{"ports", ce.c.Ports, me.c.Ports},
		{"securityContext", ce.c.SecurityContext, me.c.SecurityContext},
		{"resources", ce.c.Resources, me.c.Resources},
		{"env", ce.c.Env, me.c.Env},
		{"pod securityContext", chart.SecurityContext, manual.SecurityContext},
		{"terminationGracePeriodSeconds", *chart.TerminationGracePeriodSeconds, *manual.TerminationGracePeriodSeconds},
	} {
		if !reflect.DeepEqual(f.chart, f.manual) {
			t.Errorf("%s: chart %+v, %s %+v", f.name, f.chart, file, f.manual)
		}
	}
}

// One replica needs no spreading; several get a preferred anti-affinity
// on the node unless the values give an affinity of their own.
func TestHelmChart_SpreadsReplicasOverNodes(t *testing.T) {
	t.Parallel()
	if a := render(t).deployments[0].Spec.Template.Spec.Affinity; a != nil {
		t.Errorf("one replica: affinity %+v, want none", a)
	}
	for _, values := range [][]string{{"--set", "replicaCount=3"}, {"--values", allFeatures, "--set", "replicaCount=2"}} {
		b := render(t, values...)
		for _, problem := range check(b, checkOptionsFor(t)) {
			t.Errorf("%v: %s", values, problem)
		}
		a := b.deployments[0].Spec.Template.Spec.Affinity
		if a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0 {
			t.Errorf("%v: affinity %+v, want a preferred podAntiAffinity only", values, a)
		}
	}
	own := render(t, "--set", "replicaCount=3", "--set-json", `affinity={"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"pool","operator":"In","values":["db"]}]}]}}}`)
	if a := own.deployments[0].Spec.Template.Spec.Affinity; a == nil || a.NodeAffinity == nil || a.PodAntiAffinity != nil {
		t.Errorf("affinity from the values: got %+v, want it alone", a)
	}
}

func TestHelmChart_RefusesAGracePeriodShorterThanTheDrain(t *testing.T) {
	t.Parallel()
	_, err := helm(t, "template", releaseName, chartDir, "--set", "shutdownDelaySeconds=25")
	if err == nil || !strings.Contains(err.Error(), "terminationGracePeriodSeconds (30) must be at least shutdownDelaySeconds (25) + 10") {
		t.Errorf("helm template with a 25s drain and a 30s grace period: %v, want the chart to refuse", err)
	}
}

func TestHelmChart_RejectsMisspelledValues(t *testing.T) {
	t.Parallel()
	_, err := helm(t, "template", releaseName, chartDir, "--set", "serviceMonitor.enable=true")
	if err == nil || !strings.Contains(err.Error(), "enable") {
		t.Errorf("helm template with serviceMonitor.enable: %v, want values.schema.json to reject it", err)
	}
}

// The chart cannot reach outside its directory, so it ships a copy of the
// alert rules; the copy must be the original.
func TestHelmChart_RulesAreAVerbatimCopyOfAlerts(t *testing.T) {
	t.Parallel()
	original, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(chartRules)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(original, copied) {
		t.Errorf("deploy/%s differs from alerts/dbhealth.rules.yml; from the repository root: cp alerts/dbhealth.rules.yml deploy/%s", chartRules, chartRules)
	}
}
