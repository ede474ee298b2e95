package deploy

import (
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// fixture decodes manifests of deploy/kubernetes, with the Secret, the
// ServiceMonitor and the PrometheusRule they go with.
func fixture(t *testing.T, file string) *bundle {
	t.Helper()
	var all []any
	for _, f := range []string{file, "secret.example.yaml", "servicemonitor.yaml", "prometheusrule.yaml"} {
		objs, err := decodeFile(filepath.Join(manifestsDir, f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, objs...)
	}
	return newBundle(all...)
}

// container returns the named container of the bundle's first Deployment.
func container(b *bundle, name string) *corev1.Container {
	spec := &b.deployments[0].Spec.Template.Spec
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	panic("no container " + name)
}

// Each case breaks one rule in a good manifest; the checks must say so.
func TestCheck_FindsEachBrokenRule(t *testing.T) {
	exp := func(b *bundle) *corev1.Container { return container(b, "dbhealth") }
	pod := func(b *bundle) *corev1.PodSpec { return &b.deployments[0].Spec.Template.Spec }
	// fleet.yaml: the StatefulSet, its exporter and its configuration file.
	sts := func(b *bundle) *appsv1.StatefulSet { return b.statefulSets[0] }
	shard := func(b *bundle) *corev1.Container { return &b.statefulSets[0].Spec.Template.Spec.Containers[0] }
	config := func(b *bundle, old, new string) {
		cm := b.configMaps[0]
		if !strings.Contains(cm.Data["dbhealth.yml"], old) {
			panic("fleet.yaml's configuration file lacks " + old)
		}
		cm.Data["dbhealth.yml"] = strings.Replace(cm.Data["dbhealth.yml"], old, new, 1)
	}
	cases := []struct {
		name   string
		file   string
		breaks func(b *bundle)
		want   string
	}{
		{"liveness on readiness", "standalone.yaml",
			func(b *bundle) { exp(b).LivenessProbe.HTTPGet.Path = "/readyz" }, `livenessProbe: path "/readyz" is not one of`},
		{"startup on readiness", "standalone.yaml",
			func(b *bundle) { exp(b).StartupProbe.HTTPGet.Path = "/readyz/database" }, `startupProbe: path "/readyz/database" is not one of`},
		{"readiness on liveness", "standalone.yaml",
			func(b *bundle) { exp(b).ReadinessProbe.HTTPGet.Path = "/livez" }, `readinessProbe: path "/livez" is not one of`},
		{"path the exporter lacks", "standalone.yaml",
			func(b *bundle) { exp(b).LivenessProbe.HTTPGet.Path = "/health" }, `path "/health" is not one of`},
		{"probe port name the container lacks", "standalone.yaml",
			func(b *bundle) { exp(b).LivenessProbe.HTTPGet.Port = intstr.FromString("http") }, `port "http" is not a port of container dbhealth`},
		{"probe port number elsewhere", "standalone.yaml",
			func(b *bundle) { exp(b).ReadinessProbe.HTTPGet.Port = intstr.FromInt32(8080) }, "port 8080 is not the exporter's"},
		{"exec probe", "standalone.yaml",
			func(b *bundle) {
				exp(b).LivenessProbe.HTTPGet = nil
				exp(b).LivenessProbe.Exec = &corev1.ExecAction{Command: []string{"true"}}
			}, "want an httpGet probe"},
		{"probe host", "standalone.yaml",
			func(b *bundle) { exp(b).ReadinessProbe.HTTPGet.Host = "db.example" }, `host "db.example"`},
		{"impatient liveness", "standalone.yaml",
			func(b *bundle) { exp(b).LivenessProbe.FailureThreshold = 1 }, "restarts after 10s"},
		{"slow readiness", "standalone.yaml",
			func(b *bundle) { exp(b).ReadinessProbe.PeriodSeconds = 30 }, "want periodSeconds <= 10"},
		{"timeout over period", "standalone.yaml",
			func(b *bundle) { exp(b).ReadinessProbe.TimeoutSeconds = 9 }, "timeoutSeconds (no longer than the period)"},
		{"short cold start", "standalone.yaml",
			func(b *bundle) { exp(b).StartupProbe.FailureThreshold = 3 }, "gives a cold start only 3s"},
		{"no startup probe", "standalone.yaml",
			func(b *bundle) { exp(b).StartupProbe = nil }, "want a livenessProbe and a startupProbe"},
		{"no readiness", "standalone.yaml",
			func(b *bundle) { exp(b).ReadinessProbe = nil }, "no container's readinessProbe asks the exporter's readiness"},
		{"app readiness on the sidecar's port name", "sidecar.yaml",
			func(b *bundle) { container(b, "app").ReadinessProbe.HTTPGet.Port = intstr.FromString("dbhealth") }, `port "dbhealth" is not a port of container app (the kubelet looks only there)`},
		{"app liveness on the exporter's readiness", "sidecar.yaml",
			func(b *bundle) {
				container(b, "app").LivenessProbe = container(b, "app").ReadinessProbe.DeepCopy()
			}, `container app: livenessProbe: path "/readyz" is not one of`},
		{"port name too long", "standalone.yaml",
			func(b *bundle) {
				exp(b).Ports[0].Name = "dbhealth-metrics"
				exp(b).LivenessProbe.HTTPGet.Port = intstr.FromString("dbhealth-metrics")
			}, "container dbhealth: port dbhealth-metrics: must be no more than 15 characters"},
		{"Service name not a DNS label", "standalone.yaml",
			func(b *bundle) { b.services[0].Name = "dbhealth.orders" }, "Service/dbhealth.orders: a DNS-1035 label"},
		{"exporter port renamed", "standalone.yaml",
			func(b *bundle) { exp(b).Ports[0].Name = "http" }, "no port named dbhealth"},
		{"exporter port not listened on", "standalone.yaml",
			func(b *bundle) { exp(b).Args = append(exp(b).Args, "--web.listen-address=:9100") }, "port dbhealth is 9720/TCP, the exporter listens on [9100]/TCP"},
		{"Deployment selector misses its pods", "standalone.yaml",
			func(b *bundle) { b.deployments[0].Spec.Selector.MatchLabels["app.kubernetes.io/instance"] = "payments" }, "does not match the pod labels"},
		{"Service targetPort name", "standalone.yaml",
			func(b *bundle) { b.services[0].Spec.Ports[0].TargetPort = intstr.FromString("metrics") }, "targetPort metrics is no container port"},
		{"Service targetPort number", "sidecar.yaml",
			func(b *bundle) { b.services[0].Spec.Ports[0].TargetPort = intstr.FromInt32(9090) }, "targetPort 9090 is no container port"},
		{"Service selector", "standalone.yaml",
			func(b *bundle) { b.services[0].Spec.Selector["app.kubernetes.io/instance"] = "payments" }, "matches no Deployment's pods"},
		{"Service port leads to the application", "sidecar.yaml",
			func(b *bundle) { b.services[1].Spec.Ports[0].TargetPort = intstr.FromString("http") }, "port dbhealth does not lead to the exporter container"},
		{"Service port renamed", "standalone.yaml",
			func(b *bundle) { b.services[0].Spec.Ports[0].Name = "metrics" }, `endpoint port "dbhealth" is not a port of Service/dbhealth-orders`},
		{"Service unselected by the ServiceMonitor", "standalone.yaml",
			func(b *bundle) { b.services[0].Labels[nameLabel] = "orders" }, "ServiceMonitor/dbhealth-exporter: selector map[app.kubernetes.io/name:dbhealth-exporter] matches no Service"},
		{"ServiceMonitor selects nothing", "standalone.yaml",
			func(b *bundle) { b.serviceMonitors[0].Spec.Selector.MatchLabels[nameLabel] = "other" }, "no ServiceMonitor selects it"},
		{"job DBHealthExporterDown ignores", "standalone.yaml",
			func(b *bundle) { b.serviceMonitors[0].Spec.JobLabel = ""; b.services[0].Name = "orders-exporter" }, `gets job "orders-exporter", which DBHealthExporterDown`},
		{"telemetry path moved", "standalone.yaml",
			func(b *bundle) { exp(b).Args = append(exp(b).Args, "--web.telemetry-path=/stats") }, "path /metrics, the exporter of Service/dbhealth-orders serves /stats"},
		{"root", "standalone.yaml",
			func(b *bundle) { exp(b).SecurityContext.RunAsUser = ptr.To[int64](0) }, "want runAsUser 65532"},
		{"may run as root", "standalone.yaml",
			func(b *bundle) {
				exp(b).SecurityContext.RunAsNonRoot = nil
				pod(b).SecurityContext.RunAsNonRoot = nil
			}, "want runAsNonRoot"},
		{"writable root filesystem", "standalone.yaml",
			func(b *bundle) { exp(b).SecurityContext.ReadOnlyRootFilesystem = ptr.To(false) }, "want readOnlyRootFilesystem"},
		{"privilege escalation", "standalone.yaml",
			func(b *bundle) { exp(b).SecurityContext.AllowPrivilegeEscalation = nil }, "want allowPrivilegeEscalation: false"},
		{"capabilities kept", "standalone.yaml",
			func(b *bundle) { exp(b).SecurityContext.Capabilities.Drop = []corev1.Capability{"NET_RAW"} }, "want capabilities: drop ALL"},
		{"no seccomp", "standalone.yaml",
			func(b *bundle) {
				exp(b).SecurityContext.SeccompProfile = nil
				pod(b).SecurityContext.SeccompProfile = nil
			}, "want seccompProfile RuntimeDefault"},
		{"app without securityContext", "sidecar.yaml",
			func(b *bundle) { container(b, "app").SecurityContext = nil }, "container app: no securityContext"},
		{"app may run as root", "sidecar.yaml",
			func(b *bundle) {
				container(b, "app").SecurityContext.RunAsNonRoot = nil
				pod(b).SecurityContext.RunAsNonRoot = nil
			}, "container app: want runAsNonRoot"},
		{"app writable root filesystem", "sidecar.yaml",
			func(b *bundle) { container(b, "app").SecurityContext.ReadOnlyRootFilesystem = nil }, "container app: want readOnlyRootFilesystem"},
		{"app privilege escalation", "sidecar.yaml",
			func(b *bundle) { container(b, "app").SecurityContext.AllowPrivilegeEscalation = ptr.To(true) }, "container app: want allowPrivilegeEscalation: false"},
		{"app privileged", "sidecar.yaml",
			func(b *bundle) { container(b, "app").SecurityContext.Privileged = ptr.To(true) }, "container app: privileged"},
		{"app keeps capabilities", "sidecar.yaml",
			func(b *bundle) { container(b, "app").SecurityContext.Capabilities = nil }, "container app: want capabilities: drop ALL"},
		{"app adds a capability", "sidecar.yaml",
			func(b *bundle) {
				container(b, "app").SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
			}, "container app: want capabilities: drop ALL, add none"},
		{"app without seccomp", "sidecar.yaml",
			func(b *bundle) {
				container(b, "app").SecurityContext.SeccompProfile = nil
				pod(b).SecurityContext.SeccompProfile = nil
			}, "container app: want seccompProfile RuntimeDefault"},
		{"init container escalates", "sidecar.yaml",
			func(b *bundle) { pod(b).InitContainers[0].SecurityContext.AllowPrivilegeEscalation = nil }, "container copy-migrations: want allowPrivilegeEscalation: false"},
		{"service account token mounted", "standalone.yaml",
			func(b *bundle) { pod(b).AutomountServiceAccountToken = nil }, "want automountServiceAccountToken: false"},
		{"sidecar's service account token mounted", "sidecar.yaml",
			func(b *bundle) { pod(b).AutomountServiceAccountToken = ptr.To(true) }, "Deployment/example-app: want automountServiceAccountToken: false"},
		{"replicas without anti-affinity", "sidecar.yaml",
			func(b *bundle) { pod(b).Affinity = nil }, "Deployment/example-app: 3 replicas and no podAntiAffinity on kubernetes.io/hostname"},
		{"anti-affinity on another topology", "sidecar.yaml",
			func(b *bundle) {
				pod(b).Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey = "topology.kubernetes.io/zone"
			}, "3 replicas and no podAntiAffinity on kubernetes.io/hostname"},
		{"anti-affinity against other pods", "sidecar.yaml",
			func(b *bundle) {
				pod(b).Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector.MatchLabels[nameLabel] = "other-app"
			}, "3 replicas and no podAntiAffinity on kubernetes.io/hostname selecting its own pods"},
		{"standalone scaled without anti-affinity", "standalone.yaml",
			func(b *bundle) { b.deployments[0].Spec.Replicas = ptr.To[int32](2) }, "Deployment/dbhealth-orders: 2 replicas and no podAntiAffinity"},
		{"no resources", "standalone.yaml",
			func(b *bundle) { exp(b).Resources = corev1.ResourceRequirements{} }, "resources: want a cpu request and a limit no lower"},
		{"app without resources", "sidecar.yaml",
			func(b *bundle) { container(b, "app").Resources = corev1.ResourceRequirements{} }, "container app: resources: want cpu and memory requests"},
		{"grace shorter than the drain", "standalone.yaml",
			func(b *bundle) { pod(b).TerminationGracePeriodSeconds = ptr.To[int64](5) }, "terminationGracePeriodSeconds must be set and at least --web.shutdown-delay (5s) + 10s"},
		{"grace left to the default", "standalone.yaml",
			func(b *bundle) { pod(b).TerminationGracePeriodSeconds = nil }, "terminationGracePeriodSeconds must be set"},
		{"drain longer than the grace", "sidecar.yaml",
			func(b *bundle) { exp(b).Args = append(exp(b).Args, "--web.shutdown-delay=25s") }, "at least --web.shutdown-delay (25s) + 10s"},
		{"DSN in a flag", "standalone.yaml",
			func(b *bundle) { exp(b).Args = append(exp(b).Args, "--db.dsn=postgres://app:secret@db/app") }, "an argument holds a connection string"},
		{"DSN in the environment", "standalone.yaml",
			func(b *bundle) {
				exp(b).Env = append(exp(b).Env, corev1.EnvVar{Name: "DATABASE_URL", Value: "postgresql://app@db/app"})
			}, "env DATABASE_URL holds a connection string"},
		{"password in the app's environment", "sidecar.yaml",
			func(b *bundle) {
				container(b, "app").Env = []corev1.EnvVar{{Name: "DB", Value: "host=db password=hunter2"}}
			}, "container app: env DB holds a connection string or password"},
		{"no DSN file", "standalone.yaml",
			func(b *bundle) { exp(b).Args = exp(b).Args[1:] }, "want one --db.dsn-file"},
		{"DSN file outside any mount", "standalone.yaml",
			func(b *bundle) { exp(b).Args[0] = "--db.dsn-file=/tmp/dsn" }, "--db.dsn-file=/tmp/dsn is not in a mounted volume"},
		{"DSN file on no Secret", "standalone.yaml",
			func(b *bundle) {
				pod(b).Volumes[0].Secret = nil
				pod(b).Volumes[0].EmptyDir = &corev1.EmptyDirVolumeSource{}
			}, "is not on a Secret volume"},
		{"DSN file not projected", "standalone.yaml",
			func(b *bundle) { exp(b).Args[0] = "--db.dsn-file=/etc/dbhealth/secret/url" }, "the Secret volume projects no url"},
		{"Secret lacks the key", "standalone.yaml",
			func(b *bundle) { b.secrets[0].StringData = map[string]string{"url": "postgres://x@db.example/app"} }, "Secret dbhealth-dsn has no key dsn"},
		{"Secret missing", "standalone.yaml",
			func(b *bundle) { b.secrets = nil }, "Secret dbhealth-dsn is not among the manifests"},
		{"DSN mount writable", "standalone.yaml",
			func(b *bundle) { exp(b).VolumeMounts[0].ReadOnly = false }, "volumeMount dsn: want readOnly"},
		{"example Secret with a real host", "standalone.yaml",
			func(b *bundle) { b.secrets[0].StringData["dsn"] = "postgres://app:pw@db.corp.internal:5432/app" }, `names host "db.corp.internal"`},
		{"probes behind basic auth", "standalone.yaml",
			func(b *bundle) { exp(b).Args = append(exp(b).Args, "--web.probes-require-auth") }, "the kubelet sends no credentials"},
		{"unpinned image", "standalone.yaml",
			func(b *bundle) { exp(b).Image = exporterImage + ":latest" }, "want tag"},
		{"second exporter", "sidecar.yaml",
			func(b *bundle) {
				c := container(b, "app")
				c.Image = exp(b).Image
			}, "2 exporter containers"},
		{"positional argument", "standalone.yaml",
			func(b *bundle) { exp(b).Args = append(exp(b).Args, "serve") }, `"serve": the exporter takes no positional arguments`},
		{"migrations directory not mounted", "sidecar.yaml",
			func(b *bundle) { exp(b).VolumeMounts = exp(b).VolumeMounts[:1] }, "--migrations.dir=/etc/dbhealth/migrations is not a mounted volume"},
		{"alert rules edited", "standalone.yaml",
			func(b *bundle) { b.prometheusRules[0].Spec.Groups[0].Rules[0].For = "1h" }, "PrometheusRule/dbhealth-exporter: spec differs"},

		// Fleet mode.
		{"fewer shards than --total-shards", "fleet.yaml",
			func(b *bundle) { sts(b).Spec.Replicas = ptr.To[int32](2) }, "StatefulSet/dbhealth-fleet: 2 replicas with --total-shards=3"},
		{"every pod the same shard", "fleet.yaml",
			func(b *bundle) { shard(b).Args = append(shard(b).Args, "--shard=0") }, "--shard=0 on every one of 3 pods"},
		{"POD_NAME from another field", "fleet.yaml",
			func(b *bundle) { shard(b).Env[0].ValueFrom.FieldRef.FieldPath = "spec.nodeName" }, "env POD_NAME: want the pod's name"},
		{"hostname set and no POD_NAME", "fleet.yaml",
			func(b *bundle) {
				shard(b).Env = shard(b).Env[1:]
				sts(b).Spec.Template.Spec.Hostname = "dbhealth"
			}, `hostname "dbhealth": without POD_NAME`},
		{"shards on a Deployment", "standalone.yaml",
			func(b *bundle) { exp(b).Args = append(exp(b).Args, "--total-shards=2") }, "a Deployment's pod names end with no ordinal"},
		{"single-database flag in fleet mode", "fleet.yaml",
			func(b *bundle) { shard(b).Args = append(shard(b).Args, "--target.name=orders") }, "--target.name: a flag of the single database"},
		{"fleet readiness on one check", "fleet.yaml",
			func(b *bundle) { shard(b).ReadinessProbe.HTTPGet.Path = "/readyz/database" }, `readinessProbe: path "/readyz/database": in fleet mode the probe asks the exporter's own readiness`},
		{"fleet readiness on one database", "fleet.yaml",
			func(b *bundle) { shard(b).ReadinessProbe.HTTPGet.Path = "/targets/orders/readyz" }, `path "/targets/orders/readyz"`},
		{"no configuration file", "fleet.yaml",
			func(b *bundle) { shard(b).Args = shard(b).Args[1:] }, "fleet mode without --config.file"},
		{"configuration file outside any mount", "fleet.yaml",
			func(b *bundle) { shard(b).Args[0] = "--config.file=/tmp/dbhealth.yml" }, "--config.file=/tmp/dbhealth.yml is not in a mounted volume"},
		{"configuration file by subPath", "fleet.yaml",
			func(b *bundle) {
				shard(b).VolumeMounts[0].MountPath = "/etc/dbhealth/config/dbhealth.yml"
				shard(b).VolumeMounts[0].SubPath = "dbhealth.yml"
			}, "a subPath mount never sees a changed ConfigMap"},
		{"no targets", "fleet.yaml",
			func(b *bundle) { config(b, "targets:", "other_targets:") }, "the configuration file has no targets"},
		{"password in the ConfigMap", "fleet.yaml",
			func(b *bundle) {
				config(b, "{dsn_file: /etc/dbhealth/secrets/dbhealth-fleet-dsns/billing}", `{dsn: "postgres://billing:hunter2@billing.db.example/billing"}`)
			}, "target billing: database.dsn holds a password in the ConfigMap"},
		{"password among key=value pairs", "fleet.yaml",
			func(b *bundle) {
				config(b, "{dsn_file: /etc/dbhealth/secrets/dbhealth-fleet-dsns/billing}", `{dsn: "host=billing.db.example password=hunter2"}`)
			}, "target billing: database.dsn holds a password"},
		{"dsn_file outside the Secrets", "fleet.yaml",
			func(b *bundle) {
				config(b, "dsn_file: /etc/dbhealth/secrets/dbhealth-fleet-dsns/orders", "dsn_file: /etc/dbhealth/config/orders")
			}, "target orders: database.dsn_file=/etc/dbhealth/config/orders is not on a Secret volume"},
		{"dsn_file in no mount", "fleet.yaml",
			func(b *bundle) {
				config(b, "dsn_file: /etc/dbhealth/secrets/dbhealth-fleet-dsns/reports", "dsn_file: reports")
			},
			"target reports: database.dsn_file=/etc/dbhealth/config/reports is not on a Secret volume"},
		{"key missing from the Secret", "fleet.yaml",
			func(b *bundle) { delete(b.secrets[1].StringData, "billing") }, "target billing: Secret dbhealth-fleet-dsns has no key billing"},
		{"dsn_env without a Secret", "fleet.yaml",
			func(b *bundle) {
				config(b, "{dsn_file: /etc/dbhealth/secrets/dbhealth-fleet-dsns/billing}", "{dsn_env: BILLING_DSN}")
			}, "target billing: database.dsn_env BILLING_DSN: want a variable of the container from a Secret"},
		{"governing Service missing", "fleet.yaml",
			func(b *bundle) { sts(b).Spec.ServiceName = "dbhealth-fleet" }, `serviceName "dbhealth-fleet" names no Service`},
		{"governing Service not headless", "fleet.yaml",
			func(b *bundle) { b.services[len(b.services)-1].Spec.ClusterIP = "" }, `serviceName "dbhealth-fleet-shards": want a headless Service`},
		{"StatefulSet name too long", "fleet.yaml",
			func(b *bundle) { sts(b).Name = strings.Repeat("dbhealth-", 6) + "fleet" }, "a StatefulSet's name has at most 52 characters"},
		{"shards without anti-affinity", "fleet.yaml",
			func(b *bundle) { sts(b).Spec.Template.Spec.Affinity = nil }, "StatefulSet/dbhealth-fleet: 3 replicas and no podAntiAffinity"},
		{"PodMonitor port", "fleet.yaml",
			func(b *bundle) { b.podMonitors[0].Spec.PodMetricsEndpoints[0].Port = "http" }, `PodMonitor/dbhealth-fleet: endpoint port "http" is not a port of the exporter`},
		{"PodMonitor path", "fleet.yaml",
			func(b *bundle) { b.podMonitors[0].Spec.PodMetricsEndpoints[0].Path = "/stats" }, "PodMonitor/dbhealth-fleet: path /stats, the exporter of StatefulSet/dbhealth-fleet serves /metrics"},
		{"PodMonitor job", "fleet.yaml",
			func(b *bundle) {
				b.podMonitors[0].Spec.PodMetricsEndpoints[0].Relabelings[0].Replacement = ptr.To("fleet")
			}, `get job "fleet", which DBHealthExporterDown`},
		{"PodMonitor default job", "fleet.yaml",
			func(b *bundle) { b.podMonitors[0].Spec.PodMetricsEndpoints[0].Relabelings = nil }, `get job "default/dbhealth-fleet", which DBHealthExporterDown`},
		{"PodMonitor selects nothing", "fleet.yaml",
			func(b *bundle) { b.podMonitors[0].Spec.Selector.MatchLabels["app.kubernetes.io/instance"] = "fleets" }, "PodMonitor/dbhealth-fleet: selector"},
		{"shards scraped twice", "fleet.yaml",
			func(b *bundle) {
				s := b.services[len(b.services)-1]
				s.Spec.Ports = []corev1.ServicePort{{Name: "dbhealth", Port: 9720, TargetPort: intstr.FromString("dbhealth")}}
			}, "StatefulSet/dbhealth-fleet: its pods are scraped 2 times"},
	}
	opts := checkOptionsFor(t)
	opts.secretsInside = true
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := fixture(t, tc.file)
			if got := check(b, opts); len(got) > 0 {
				t.Fatalf("%s is not clean before the change: %v", tc.file, got)
			}
			tc.breaks(b)
			got := check(b, opts)
			for _, p := range got {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("no problem contains %q; got %q", tc.want, got)
		})
	}
}

// Strict decoding: what the API server's strict field validation refuses,
// the tests refuse.
func TestDecode_RejectsWhatStrictValidationRejects(t *testing.T) {
	const deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"
	cases := []struct {
		name, doc, want string
	}{
		{"unknown field", deployment + "spec:\n  replica: 1\n", `unknown field "spec.replica"`},
		{"wrong capitals", deployment + "spec:\n  Replicas: 1\n", `unknown field "spec.Replicas"`},
		{"duplicate field", deployment + "spec:\n  replicas: 1\n  replicas: 2\n", `"replicas" already set`},
		{"unknown field in a container", deployment + "spec:\n  template:\n    spec:\n      containers:\n        - name: a\n          readinesProbe: {}\n", `unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"wrong type", deployment + "spec:\n  replicas: one\n", "cannot unmarshal string"},
		{"retired apiVersion", "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: x\n", `apiVersion "extensions/v1beta1" kind "Deployment": not a kind these manifests use`},
		{"unknown field in a ServiceMonitor", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: x\nspec:\n  endpoint:\n    - port: dbhealth\n", `unknown field "spec.endpoint"`},
		{"second document", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n---\n# comment only\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  selectr: {}\n", `document 3: unknown field "spec.selectr"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeDocuments([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
