package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The objects' names of a fleet release named releaseName.
const (
	fleetConfigMap = defaultRelease + "-config"
	fleetService   = defaultRelease + "-shards"
)

func TestHelmChart_FleetRenderMeetsTheExporterContract(t *testing.T) {
	t.Parallel()
	b := render(t, "--values", fleetFeatures)
	want := []string{"StatefulSet/" + defaultRelease, "Service/" + fleetService, "PodMonitor/" + defaultRelease,
		"PrometheusRule/" + defaultRelease, "ConfigMap/" + fleetConfigMap}
	if got := kindsOf(b); !slices.Equal(got, want) {
		t.Fatalf("renders %v, want %v", got, want)
	}
	for _, problem := range check(b, checkOptionsFor(t)) {
		t.Error(problem)
	}

	sts := b.statefulSets[0]
	if *sts.Spec.Replicas != 3 || sts.Spec.ServiceName != fleetService || sts.Spec.PodManagementPolicy != "Parallel" {
		t.Errorf("StatefulSet: replicas %d, serviceName %s, podManagementPolicy %s; want 3, %s, Parallel", *sts.Spec.Replicas, sts.Spec.ServiceName, sts.Spec.PodManagementPolicy, fleetService)
	}
	spec := &sts.Spec.Template.Spec
	e, err := exporterOf(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--config.file=/etc/dbhealth/config/dbhealth.yml", "--total-shards=3", "--fleet.max-concurrent-checks=64", "--check.timeout=3s"} {
		if !slices.Contains(e.c.Args, flag) {
			t.Errorf("args %v lack %s", e.c.Args, flag)
		}
	}
	for _, name := range []string{"fleet-dsns", "billing-password"} {
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Secret != nil && v.Secret.SecretName == name })
		if i < 0 || !slices.ContainsFunc(e.c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == spec.Volumes[i].Name && m.MountPath == "/etc/dbhealth/secrets/"+name && m.ReadOnly
		}) {
			t.Errorf("Secret %s is not mounted read-only at /etc/dbhealth/secrets/%s", name, name)
		}
	}
	if r := e.c.Resources.Limits.Memory().String(); r != "256Mi" {
		t.Errorf("memory limit %s, want fleet.resources' 256Mi", r)
	}
	pm := b.podMonitors[0]
	if job, _ := podMonitorJob(pm, pm.Spec.PodMetricsEndpoints[0], sts.Spec.Template.Labels); job != "dbhealth-fleet" || pm.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("PodMonitor: job %q, labels %v; want dbhealth-fleet and the release label", job, pm.Labels)
	}
	var f fleetFile
	if err := yaml.Unmarshal([]byte(b.configMaps[0].Data["dbhealth.yml"]), &f); err != nil || len(f.Targets) != 3 {
		t.Errorf("ConfigMap: %d targets (%v), want the 3 of fleet.config", len(f.Targets), err)
	}
}

// The configuration file the chart renders, with the flags the pods get,
// is one the real exporter accepts, for every shard; and the exporter
// refuses a broken one, so the check means something.
func TestHelmChart_FleetConfigIsValidForTheExporter(t *testing.T) {
	t.Parallel()
	bin := buildExporter(t)
	b := render(t, "--values", fleetFeatures)
	if n := configCheck(t, bin, b); n != 3 {
		t.Errorf("checked %d shards, want 3", n)
	}

	// The file's text with --set-file, as a platform team keeps it.
	file := filepath.Join(t.TempDir(), "fleet.yml")
	text := "# Our databases.\ntargets:\n  - name: orders\n    database: {dsn_file: /etc/dbhealth/secrets/fleet-dsns/orders}\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	b = render(t, "--set", "fleet.enabled=true", "--set", "fleet.shards=2", "--set", "fleet.secrets={fleet-dsns}", "--set-file", "fleet.config="+file)
	if got := b.configMaps[0].Data["dbhealth.yml"]; got != text {
		t.Errorf("ConfigMap holds %q, want the file as it is, %q", got, text)
	}
	for _, problem := range check(b, checkOptionsFor(t)) {
		t.Error(problem)
	}
	configCheck(t, bin, b)

	// A misspelt key: the chart cannot tell, the exporter can.
	bad := strings.Replace(text, "dsn_file:", "dsn_fil:", 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	b = render(t, "--set", "fleet.enabled=true", "--set-file", "fleet.config="+file)
	out, err := runConfigCheck(bin, b, 0)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(out, "dsn_fil") {
		t.Errorf("exporter --config.check on a misspelt key: %v\n%s\nwant exit 2 naming the key", err, out)
	}
}

// configCheck runs the exporter's --config.check with every shard's flags
// and POD_NAME on the rendered configuration file, and returns how many
// shards it checked.
func configCheck(t *testing.T, bin string, b *bundle) int {
	t.Helper()
	replicas := int(*b.statefulSets[0].Spec.Replicas)
	for i := range replicas {
		if out, err := runConfigCheck(bin, b, i); err != nil {
			t.Errorf("shard %d: exporter --config.check: %v\n%s", i, err, out)
		}
	}
	return replicas
}

func runConfigCheck(bin string, b *bundle, ordinal int) (string, error) {
	sts := b.statefulSets[0]
	e, err := exporterOf(&sts.Spec.Template.Spec)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "dbhealth-fleet-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	// The Secrets' files the targets name, under dir (--config.check reads
	// them; a fake connection string is enough, nothing connects).
	text := b.configMaps[0].Data["dbhealth.yml"]
	var f fleetFile
	if err := yaml.Unmarshal([]byte(text), &f); err != nil {
		return "", err
	}
	for _, t := range f.Targets {
		for _, secret := range []struct{ path, content string }{
			{t.Database.DSNFile, "postgres://dbhealth@db.example.invalid:5432/" + t.Name},
			{t.Database.PasswordFile, "not-a-real-password"},
		} {
			if !filepath.IsAbs(secret.path) {
				continue
			}
			moved := filepath.Join(dir, secret.path)
			if err := os.MkdirAll(filepath.Dir(moved), 0o700); err != nil {
				return "", err
			}
			if err := os.WriteFile(moved, []byte(secret.content), 0o600); err != nil {
				return "", err
			}
			text = strings.ReplaceAll(text, secret.path, moved)
		}
	}
	file := filepath.Join(dir, "dbhealth.yml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		return "", err
	}
	args := []string{"--config.check"}
	for _, a := range e.c.Args {
		if strings.HasPrefix(a, "--config.file=") {
			a = "--config.file=" + file
		}
		args = append(args, a)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("POD_NAME=%s-%d", sts.Name, ordinal))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var (
	exporterOnce sync.Once
	exporterBin  string
	exporterErr  error
)

// buildExporter builds the exporter of the repository (the module above
// this one) once for the package's tests.
func buildExporter(t *testing.T) string {
	t.Helper()
	exporterOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dbhealth-exporter-")
		if err != nil {
			exporterErr = err
			return
		}
		exporterBin = filepath.Join(dir, "dbhealth-exporter")
		cmd := exec.Command("go", "build", "-o", exporterBin, "./cmd/exporter")
		cmd.Dir = ".."
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			exporterErr = fmt.Errorf("building the exporter: %v\n%s", err, out.String())
		}
	})
	if exporterErr != nil {
		t.Fatal(exporterErr)
	}
	return exporterBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if exporterBin != "" {
		os.RemoveAll(filepath.Dir(exporterBin))
	}
	os.Exit(code)
}

// A ConfigMap of one's own: none is rendered, the pods mount it and read
// its key.
func TestHelmChart_FleetWithAnExistingConfigMap(t *testing.T) {
	t.Parallel()
	b := render(t, "--set", "fleet.enabled=true", "--set", "fleet.existingConfigMap=our-fleet", "--set", "fleet.existingConfigMapKey=fleet.yaml")
	want := []string{"StatefulSet/" + defaultRelease, "Service/" + fleetService}
	if got := kindsOf(b); !slices.Equal(got, want) {
		t.Fatalf("renders %v, want %v", got, want)
	}
	for _, problem := range check(b, checkOptionsFor(t)) {
		t.Error(problem)
	}
	spec := &b.statefulSets[0].Spec.Template.Spec
	e, err := exporterOf(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(e.c.Args, "--config.file=/etc/dbhealth/config/fleet.yaml") {
		t.Errorf("args %v: want --config.file=/etc/dbhealth/config/fleet.yaml", e.c.Args)
	}
	if !slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.ConfigMap != nil && v.ConfigMap.Name == "our-fleet" }) {
		t.Errorf("volumes %v: want the ConfigMap our-fleet", spec.Volumes)
	}
}

// What cannot work is refused at install, with what to do.
func TestHelmChart_FleetRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	longName := strings.Repeat("x", 40)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no configuration", []string{"--set", "fleet.enabled=true"}, "set fleet.config"},
		{"no targets", []string{"--set", "fleet.enabled=true", "--set", "fleet.config.checks.database.interval=5s"}, "fleet.config: no targets"},
		{"not YAML", []string{"--set", "fleet.enabled=true", "--set-string", "fleet.config=targets: [orders"}, "fleet.config: not YAML"},
		{"a ServiceMonitor", []string{"--values", fleetFeatures, "--set", "serviceMonitor.enabled=true"}, "set fleet.podMonitor.enabled instead"},
		{"a job DBHealthExporterDown does not watch", []string{"--values", fleetFeatures, "--set", "fleet.podMonitor.jobName=fleet"}, "jobName"},
		{"no shard", []string{"--values", fleetFeatures, "--set", "fleet.shards=0"}, "shards"},
		{"a Secret name that is none", []string{"--values", fleetFeatures, "--set", "fleet.secrets={Fleet_DSNs}"}, "secrets"},
		{"a StatefulSet name too long", []string{"--values", fleetFeatures, "--set", "fullnameOverride=" + longName + "-dbhealth-exporter"}, "more than the 52 a StatefulSet allows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helm(t, slices.Concat([]string{"template", releaseName, chartDir}, tc.args)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template %v: %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

// The chart's fleet mode and fleet.yaml describe the same shard: probes,
// port, security, resources and environment do not drift apart.
func TestHelmChart_FleetMatchesFleetManifest(t *testing.T) {
	t.Parallel()
	chart := render(t, "--values", fleetFeatures)
	manifest := newBundle(loadManifests(t)["fleet.yaml"]...)
	if len(chart.statefulSets) != 1 || len(manifest.statefulSets) != 1 {
		t.Fatal("want one StatefulSet in each")
	}
	cs, ms := chart.statefulSets[0], manifest.statefulSets[0]
	samePod(t, "fleet.yaml", &cs.Spec.Template.Spec, &ms.Spec.Template.Spec)
	for _, f := range []struct {
		name          string
		chart, manual any
	}{
		{"podManagementPolicy", cs.Spec.PodManagementPolicy, ms.Spec.PodManagementPolicy},
		{"replicas", *cs.Spec.Replicas, *ms.Spec.Replicas},
		{"PodMonitor endpoints", chart.podMonitors[0].Spec.PodMetricsEndpoints, manifest.podMonitors[0].Spec.PodMetricsEndpoints},
		{"headless Service", chart.services[0].Spec.ClusterIP + fmt.Sprint(chart.services[0].Spec.PublishNotReadyAddresses, len(chart.services[0].Spec.Ports)),
			manifest.services[0].Spec.ClusterIP + fmt.Sprint(manifest.services[0].Spec.PublishNotReadyAddresses, len(manifest.services[0].Spec.Ports))},
	} {
		if !reflect.DeepEqual(f.chart, f.manual) {
			t.Errorf("%s: chart %+v, fleet.yaml %+v", f.name, f.chart, f.manual)
		}
	}
}
