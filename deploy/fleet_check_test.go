package deploy

import (
	"cmp"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Fleet mode's contract, from docs/configuration.md#fleet-mode and
// cmd/exporter/config.go.
const (
	// The controller labels a StatefulSet's pods controller-revision-hash=
	// <name>-<10 characters>, a label value of at most 63.
	maxStatefulSetName = 52
)

var (
	// The exporter's own readiness: in fleet mode /readyz/<check> has no
	// check to answer for, and a target's /targets/<name>/readyz would take
	// the shard out of service for one database.
	fleetReadinessPaths = []string{"/readyz", "/-/ready"}
	// A password among a connection string's key=value pairs.
	passwordKV = regexp.MustCompile(`(?i)(^|\s)password\s*=`)
	// Flags of the one database of a sidecar, which the exporter refuses
	// with targets (it would exit 2 and restart for ever).
	singleTargetFlags = []string{"db.dsn", "db.dsn-file", "db.password-file", "db.expect-primary", "target.name",
		"migrations.dir", "migrations.tool", "migrations.table", "migrations.schema", "migrations.expected-version", "migrations.fail-on-unknown"}
)

// fleetFile is the part of the exporter's configuration file these checks
// read: the targets and where their credentials come from.
type fleetFile struct {
	Targets []struct {
		Name     string `json:"name"`
		Database struct {
			DSN          string `json:"dsn"`
			DSNFile      string `json:"dsn_file"`
			DSNEnv       string `json:"dsn_env"`
			PasswordFile string `json:"password_file"`
		} `json:"database"`
	} `json:"targets"`
}

// configFile finds the configuration file (--config.file) of the exporter
// in a ConfigMap of the bundle: its text, or ok false when the file is not
// on a ConfigMap volume of the bundle.
func configFile(b *bundle, spec *corev1.PodSpec, e *exporter) (text string, ok bool) {
	files := e.flags["config.file"]
	if len(files) == 0 {
		return "", false
	}
	m, key := mountOf(e.c, files[len(files)-1])
	if m == nil {
		return "", false
	}
	i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
	if i < 0 || spec.Volumes[i].ConfigMap == nil {
		return "", false
	}
	cv := spec.Volumes[i].ConfigMap
	for _, it := range cv.Items {
		if it.Path == key {
			key = it.Key
		}
	}
	k := slices.IndexFunc(b.configMaps, func(c *corev1.ConfigMap) bool { return c.Name == cv.Name })
	if k < 0 {
		return "", false
	}
	text, ok = b.configMaps[k].Data[key]
	return text, ok
}

// isFleet: the exporter runs in fleet mode, as a StatefulSet of shards, with
// shard flags, or with a configuration file that lists targets.
func isFleet(b *bundle, w workload, e *exporter) bool {
	if w.sts != nil || len(e.flags["total-shards"]) > 0 || len(e.flags["shard"]) > 0 {
		return true
	}
	text, ok := configFile(b, &w.template.Spec, e)
	var f fleetFile
	return ok && yaml.Unmarshal([]byte(text), &f) == nil && len(f.Targets) > 0
}

// checkFleet checks an exporter in fleet mode: its configuration file on a
// ConfigMap with targets whose credentials are files of mounted Secrets,
// no single-database flag, one pod per shard each finding its shard, the
// exporter's own readiness, and a StatefulSet's headless Service.
func checkFleet(p *problems, b *bundle, w workload, e *exporter, opts checkOptions) {
	where := w.where
	cw := where + ": container " + e.c.Name
	spec := &w.template.Spec
	for _, f := range singleTargetFlags {
		if len(e.flags[f]) > 0 {
			p.addf("%s: --%s: a flag of the single database, which the exporter refuses with targets", cw, f)
		}
	}

	// The configuration file: mounted read-only from a ConfigMap (or a
	// Secret), as a directory so that the exporter sees it change.
	files := e.flags["config.file"]
	if len(files) == 0 {
		p.addf("%s: fleet mode without --config.file: the targets come from the configuration file", cw)
	} else {
		file := files[len(files)-1]
		m, _ := mountOf(e.c, file)
		switch {
		case m == nil:
			p.addf("%s: --config.file=%s is not in a mounted volume", cw, file)
		case m.SubPath != "":
			p.addf("%s: --config.file=%s: a subPath mount never sees a changed ConfigMap; mount the directory", cw, file)
		case !m.ReadOnly:
			p.addf("%s: volumeMount %s: want readOnly", cw, m.Name)
		}
		if text, ok := configFile(b, spec, e); ok {
			checkTargets(p, b, cw, spec, e, path.Dir(file), text, opts)
		} else if m != nil {
			if i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }); i < 0 || spec.Volumes[i].ConfigMap == nil && spec.Volumes[i].Secret == nil {
				p.addf("%s: --config.file=%s is on neither a ConfigMap nor a Secret", cw, file)
			}
		}
	}

	// Shards: one pod per shard, each finding its own.
	total := 1
	if v := e.flags["total-shards"]; len(v) > 0 {
		n, err := strconv.Atoi(v[len(v)-1])
		if err != nil || n < 1 {
			p.addf("%s: --total-shards=%s: want a number of at least 1", cw, v[len(v)-1])
			return
		}
		total = n
	}
	if int(w.replicas) != total {
		p.addf("%s: %d replicas with --total-shards=%d: want one pod per shard, or targets go unwatched or are watched twice", where, w.replicas, total)
	}
	if v := e.flags["shard"]; len(v) > 0 && w.replicas > 1 {
		p.addf("%s: --shard=%s on every one of %d pods: they all watch the same shard; let each take its ordinal", cw, v[len(v)-1], w.replicas)
	}
	if total > 1 && len(e.flags["shard"]) == 0 {
		if w.sts == nil {
			p.addf("%s: --total-shards=%d without --shard: a Deployment's pod names end with no ordinal; run the shards as a StatefulSet", where, total)
		}
		i := slices.IndexFunc(e.c.Env, func(v corev1.EnvVar) bool { return v.Name == "POD_NAME" })
		switch {
		case i >= 0 && (e.c.Env[i].ValueFrom == nil || e.c.Env[i].ValueFrom.FieldRef == nil || e.c.Env[i].ValueFrom.FieldRef.FieldPath != "metadata.name"):
			p.addf("%s: env POD_NAME: want the pod's name (valueFrom.fieldRef.fieldPath: metadata.name), whose ordinal is the shard", cw)
		case i < 0 && spec.Hostname != "":
			p.addf("%s: hostname %q: without POD_NAME the exporter takes its shard from the host name", where, spec.Hostname)
		}
	}

	// Readiness is the exporter's own.
	if r := e.c.ReadinessProbe; r != nil && r.HTTPGet != nil && !slices.Contains(fleetReadinessPaths, r.HTTPGet.Path) {
		p.addf("%s: readinessProbe: path %q: in fleet mode the probe asks the exporter's own readiness (%v), never one database's", cw, r.HTTPGet.Path, fleetReadinessPaths)
	}

	if w.sts != nil {
		name := w.sts.Spec.ServiceName
		i := slices.IndexFunc(b.services, func(s *corev1.Service) bool { return s.Name == name })
		switch {
		case i < 0:
			p.addf("%s: serviceName %q names no Service of the bundle: the shards get no names", where, name)
		case b.services[i].Spec.ClusterIP != corev1.ClusterIPNone:
			p.addf("%s: serviceName %q: want a headless Service (clusterIP: None)", where, name)
		case !selects(b.services[i].Spec.Selector, w.template.Labels):
			p.addf("%s: serviceName %q does not select its pods", where, name)
		}
	}
}

// checkTargets: the configuration file lists targets, and each takes its
// credentials from a mounted Secret's file or a variable from a Secret,
// never a password written into the ConfigMap.
func checkTargets(p *problems, b *bundle, cw string, spec *corev1.PodSpec, e *exporter, dir, text string, opts checkOptions) {
	var f fleetFile
	if err := yaml.Unmarshal([]byte(text), &f); err != nil {
		p.addf("%s: the configuration file: %v", cw, err)
		return
	}
	if len(f.Targets) == 0 {
		p.addf("%s: the configuration file has no targets", cw)
	}
	abs := func(file string) string {
		if path.IsAbs(file) {
			return file
		}
		return path.Join(dir, file)
	}
	for _, t := range f.Targets {
		tw := cw + ": target " + cmp.Or(t.Name, "?")
		db := t.Database
		if db.DSN != "" && !dsnHasNoPassword(db.DSN) {
			p.addf("%s: database.dsn holds a password in the ConfigMap; use dsn_file or password_file from a Secret", tw)
		}
		if db.DSN == "" && db.DSNFile == "" && db.DSNEnv == "" {
			p.addf("%s: no database.dsn_file, dsn_env or dsn", tw)
		}
		if db.DSNFile != "" {
			checkSecretFile(p, b, tw, spec, e.c, "database.dsn_file", abs(db.DSNFile), opts)
		}
		if db.PasswordFile != "" {
			checkSecretFile(p, b, tw, spec, e.c, "database.password_file", abs(db.PasswordFile), opts)
		}
		if db.DSNEnv != "" {
			i := slices.IndexFunc(e.c.Env, func(v corev1.EnvVar) bool { return v.Name == db.DSNEnv })
			if i < 0 || e.c.Env[i].ValueFrom == nil || e.c.Env[i].ValueFrom.SecretKeyRef == nil {
				p.addf("%s: database.dsn_env %s: want a variable of the container from a Secret (valueFrom.secretKeyRef)", tw, db.DSNEnv)
			}
		}
	}
}

// dsnHasNoPassword reports whether a connection string carries no
// password: a URL without one, or key=value pairs without password=.
func dsnHasNoPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		_, set := u.User.Password()
		return !set && u.Query().Get("password") == ""
	}
	return !passwordKV.MatchString(dsn)
}

// checkPodMonitor: it selects the exporter's pods, scrapes their exporter
// port at its telemetry path, and names a job DBHealthExporterDown watches.
func checkPodMonitor(p *problems, b *bundle, pm *podMonitor, opts checkOptions) {
	where := "PodMonitor/" + pm.Name
	sel := pm.Spec.Selector
	if len(sel.MatchLabels) == 0 || len(sel.MatchExpressions) > 0 {
		p.addf("%s: selector: want matchLabels only", where)
		return
	}
	matched := 0
	for _, w := range b.workloads() {
		if !selects(sel.MatchLabels, w.template.Labels) {
			continue
		}
		matched++
		e, err := exporterOf(&w.template.Spec)
		if err != nil {
			continue
		}
		for _, ep := range pm.Spec.PodMetricsEndpoints {
			// The operator keeps the container ports of this name.
			if !slices.ContainsFunc(e.c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == ep.Port }) {
				p.addf("%s: endpoint port %q is not a port of the exporter of %s", where, ep.Port, w.where)
			}
			if path := cmp.Or(ep.Path, "/metrics"); path != e.telemetryPath {
				p.addf("%s: path %s, the exporter of %s serves %s", where, path, w.where, e.telemetryPath)
			}
			if ep.Scheme != "" && ep.Scheme != "http" && len(e.flags["web.config.file"]) == 0 {
				p.addf("%s: scheme %s without --web.config.file", where, ep.Scheme)
			}
			job, known := podMonitorJob(pm, ep, w.template.Labels)
			jobRE := exporterDownJob(opts.rules)
			switch {
			case !known:
				p.addf("%s: its relabelings set the job from other labels; the checks cannot tell it", where)
			case jobRE != nil && !jobRE.MatchString(job):
				p.addf("%s: the pods of %s get job %q, which DBHealthExporterDown (%s) does not watch", where, w.where, job, jobRE)
			}
		}
	}
	if matched == 0 {
		p.addf("%s: selector %v matches no pods", where, sel.MatchLabels)
	}
}

// podMonitorJob is the job the operator gives a PodMonitor's targets:
// <namespace>/<name>, the pod's jobLabel label if it has it, then the
// endpoint's relabelings that set job to a fixed replacement. known is
// false when a relabeling derives it from other labels.
func podMonitorJob(pm *podMonitor, ep podMetricsEndpoint, podLabels map[string]string) (job string, known bool) {
	job = cmp.Or(pm.Namespace, "default") + "/" + pm.Name
	if v := podLabels[pm.Spec.JobLabel]; pm.Spec.JobLabel != "" && v != "" {
		job = v
	}
	for _, r := range ep.Relabelings {
		if r.TargetLabel != "job" {
			continue
		}
		if len(r.SourceLabels) > 0 || cmp.Or(r.Action, "replace") != "replace" || r.Regex != "" && r.Regex != "(.*)" || r.Replacement == nil {
			return "", false
		}
		job = *r.Replacement
	}
	return job, true
}

// checkScrapedOnce: no exporter pod is scraped both by a PodMonitor and by
// a ServiceMonitor through a Service port: its series would come twice,
// under two jobs, and every alert with them.
func checkScrapedOnce(p *problems, b *bundle) {
	for _, w := range b.workloads() {
		var by []string
		for _, pm := range b.podMonitors {
			if selects(pm.Spec.Selector.MatchLabels, w.template.Labels) {
				by = append(by, "PodMonitor/"+pm.Name)
			}
		}
		for _, sm := range b.serviceMonitors {
			for _, s := range b.services {
				if selects(sm.Spec.Selector.MatchLabels, s.Labels) && selects(s.Spec.Selector, w.template.Labels) &&
					slices.ContainsFunc(sm.Spec.Endpoints, func(ep serviceMonitorEndpoint) bool { return hasPort(s, ep.Port) }) {
					by = append(by, "ServiceMonitor/"+sm.Name+" (Service/"+s.Name+")")
				}
			}
		}
		if len(by) > 1 {
			p.addf("%s: its pods are scraped %d times, by %v: every series and alert twice", w.where, len(by), by)
		}
	}
}

func hasPort(s *corev1.Service, name string) bool {
	return slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == name })
}

// governs reports whether s is the serviceName of a StatefulSet it selects.
func governs(b *bundle, s *corev1.Service) bool {
	return s.Spec.ClusterIP == corev1.ClusterIPNone && slices.ContainsFunc(b.statefulSets, func(sts *appsv1.StatefulSet) bool {
		return sts.Spec.ServiceName == s.Name && selects(s.Spec.Selector, sts.Spec.Template.Labels)
	})
}
