package deploy

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The exporter's contract, from docs/endpoints.md and cmd/exporter/config.go.
const (
	exporterImage        = "ghcr.io/dbhealth/dbhealth-exporter"
	exporterName         = "dbhealth-exporter" // app.kubernetes.io/name of the Services servicemonitor.yaml selects
	exporterPortName     = "dbhealth"          // the port servicemonitor.yaml scrapes
	defaultListenPort    = 9720
	defaultShutdownDelay = 5 * time.Second
	// After the drain, in-flight requests get up to 10s before the exporter
	// exits; the kubelet's SIGKILL must not come earlier.
	inFlightGrace        = 10 * time.Second
	defaultTelemetryPath = "/metrics"
	nameLabel            = "app.kubernetes.io/name"
	hostnameTopology     = "kubernetes.io/hostname"
)

var (
	livenessPaths  = []string{"/livez", "/healthz", "/-/healthy"}
	readinessPaths = []string{"/readyz", "/-/ready", "/readyz/database", "/readyz/migrations"}
	// The exporter's boolean flags, which take no separate value.
	boolFlags = []string{"db.expect-primary", "web.probes-require-auth", "migrations.fail-on-unknown"}
	// A connection string or a password in a literal.
	dsnLiteral = regexp.MustCompile(`(?i)postgres(ql)?://|password=`)
)

// checkOptions are what a bundle is checked against besides itself.
type checkOptions struct {
	imageTag      string   // the exporter image tag every Deployment must use
	rules         ruleFile // what every PrometheusRule must hold
	secretsInside bool     // the Secrets the Deployments mount are in the bundle
}

// problems collects what a check finds, one line each.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// check returns every way the bundle breaks the exporter's contract.
func check(b *bundle, opts checkOptions) []string {
	var p problems
	for _, w := range b.workloads() {
		checkWorkload(&p, b, w, opts)
	}
	for _, s := range b.services {
		checkService(&p, b, s)
	}
	for _, sm := range b.serviceMonitors {
		checkServiceMonitor(&p, b, sm, opts)
	}
	for _, pm := range b.podMonitors {
		checkPodMonitor(&p, b, pm, opts)
	}
	if len(b.serviceMonitors) > 0 {
		for _, s := range b.services {
			if s.Labels[nameLabel] == exporterName && hasPort(s, exporterPortName) && !slices.ContainsFunc(b.serviceMonitors, func(sm *serviceMonitor) bool { return selects(sm.Spec.Selector.MatchLabels, s.Labels) }) {
				p.addf("Service/%s: labelled %s=%s but no ServiceMonitor selects it", s.Name, nameLabel, exporterName)
			}
		}
	}
	checkScrapedOnce(&p, b)
	checkNames(&p, b)
	for _, r := range b.prometheusRules {
		if !reflect.DeepEqual(r.Spec, opts.rules) {
			p.addf("PrometheusRule/%s: spec differs from alerts/dbhealth.rules.yml", r.Name)
		}
	}
	for _, s := range b.secrets {
		checkExampleSecret(&p, s)
	}
	return p
}

// exporter is the exporter container of a pod and what its flags say.
type exporter struct {
	c             *corev1.Container
	flags         map[string][]string
	ports         []int32 // --web.listen-address ports
	telemetryPath string
}

// exporterOf returns the pod's exporter container (a regular container or
// a native sidecar, an init container that restarts) and parses its flags.
func exporterOf(spec *corev1.PodSpec) (*exporter, error) {
	var found []*corev1.Container
	for i := range spec.Containers {
		if imageRepo(spec.Containers[i].Image) == exporterImage {
			found = append(found, &spec.Containers[i])
		}
	}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if imageRepo(c.Image) == exporterImage && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%d exporter containers (image %s), want 1", len(found), exporterImage)
	}
	e := &exporter{c: found[0], telemetryPath: defaultTelemetryPath}
	var err error
	if e.flags, err = parseFlags(e.c.Args); err != nil {
		return nil, fmt.Errorf("container %s: args: %w", e.c.Name, err)
	}
	addrs := e.flags["web.listen-address"]
	if len(addrs) == 0 {
		e.ports = []int32{defaultListenPort}
	}
	for _, a := range addrs {
		_, port, err := net.SplitHostPort(a)
		n, err2 := strconv.Atoi(port)
		if err != nil || err2 != nil {
			return nil, fmt.Errorf("container %s: --web.listen-address=%s is not host:port", e.c.Name, a)
		}
		e.ports = append(e.ports, int32(n))
	}
	if v := e.flags["web.telemetry-path"]; len(v) > 0 {
		e.telemetryPath = v[len(v)-1]
	}
	return e, nil
}

// parseFlags reads kingpin-style arguments: --name=value, --name value, or
// a boolean --name / --no-name.
func parseFlags(args []string) (map[string][]string, error) {
	flags := map[string][]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			return nil, fmt.Errorf("%q: the exporter takes no positional arguments", a)
		}
		name, value, ok := strings.Cut(a[2:], "=")
		if !ok {
			switch {
			case slices.Contains(boolFlags, name):
				value = "true"
			case strings.HasPrefix(name, "no-") && slices.Contains(boolFlags, name[3:]):
				name, value = name[3:], "false"
			case i+1 < len(args):
				i++
				value = args[i]
			default:
				return nil, fmt.Errorf("%q has no value", a)
			}
		}
		flags[name] = append(flags[name], value)
	}
	return flags, nil
}

// workload is a Deployment or a StatefulSet, as the checks see either.
type workload struct {
	where    string // Deployment/<name> or StatefulSet/<name>
	replicas int32
	selector *metav1.LabelSelector
	template *corev1.PodTemplateSpec
	sts      *appsv1.StatefulSet // nil for a Deployment
}

// workloads returns the bundle's Deployments, then its StatefulSets.
func (b *bundle) workloads() []workload {
	replicas := func(r *int32) int32 {
		if r == nil {
			return 1
		}
		return *r
	}
	var ws []workload
	for _, d := range b.deployments {
		ws = append(ws, workload{"Deployment/" + d.Name, replicas(d.Spec.Replicas), d.Spec.Selector, &d.Spec.Template, nil})
	}
	for _, s := range b.statefulSets {
		ws = append(ws, workload{"StatefulSet/" + s.Name, replicas(s.Spec.Replicas), s.Spec.Selector, &s.Spec.Template, s})
	}
	return ws
}

func checkWorkload(p *problems, b *bundle, w workload, opts checkOptions) {
	where := w.where
	spec := &w.template.Spec
	if w.selector == nil || len(w.selector.MatchLabels) == 0 || len(w.selector.MatchExpressions) > 0 {
		p.addf("%s: selector: want matchLabels only", where)
	} else if !selects(w.selector.MatchLabels, w.template.Labels) {
		p.addf("%s: selector %v does not match the pod labels %v", where, w.selector.MatchLabels, w.template.Labels)
	}
	e, err := exporterOf(spec)
	if err != nil {
		p.addf("%s: %v", where, err)
		return
	}
	fleet := isFleet(b, w, e)
	checkExporter(p, b, where, spec, e, opts, !fleet)
	if fleet {
		checkFleet(p, b, w, e, opts)
	}

	// Every probe of the pod asks the exporter, on a port the kubelet
	// resolves to the exporter's port.
	ready := false
	all := slices.Concat(spec.InitContainers, spec.Containers)
	for i := range all {
		c := &all[i]
		cw := where + ": container " + c.Name
		checkSecurity(p, cw, spec, c)
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			p.addf("%s: resources: want cpu and memory requests and a memory limit", cw)
		}
		for _, env := range c.Env {
			if dsnLiteral.MatchString(env.Value) {
				p.addf("%s: env %s holds a connection string or password; mount it from a Secret", cw, env.Name)
			}
		}
		for _, a := range slices.Concat(c.Command, c.Args) {
			if dsnLiteral.MatchString(a) {
				p.addf("%s: an argument holds a connection string or password; mount it from a Secret", cw)
			}
		}
		for _, pr := range []struct {
			kind  probeKind
			probe *corev1.Probe
		}{{liveness, c.LivenessProbe}, {startup, c.StartupProbe}, {readiness, c.ReadinessProbe}} {
			if pr.probe != nil && checkProbe(p, cw, pr.kind, c, e, pr.probe) && pr.kind == readiness && !isInit(spec, c) {
				ready = true
			}
		}
	}
	if !ready {
		p.addf("%s: no container's readinessProbe asks the exporter's readiness", where)
	}
	if e.c.LivenessProbe == nil || e.c.StartupProbe == nil {
		p.addf("%s: container %s: want a livenessProbe and a startupProbe", where, e.c.Name)
	}

	// Neither the exporter nor the example application calls the API.
	if t := spec.AutomountServiceAccountToken; t == nil || *t {
		p.addf("%s: want automountServiceAccountToken: false (the exporter never calls the Kubernetes API)", where)
	}
	checkSpread(p, w)
}

// checkSpread: a Deployment or StatefulSet of more than one replica
// prefers (or requires) its replicas on different nodes, with a
// podAntiAffinity term on kubernetes.io/hostname whose selector matches
// its own pods.
func checkSpread(p *problems, w workload) {
	where, replicas := w.where, w.replicas
	if replicas < 2 {
		return
	}
	var terms []corev1.PodAffinityTerm
	if a := w.template.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		terms = slices.Clone(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			if w.Weight > 0 {
				terms = append(terms, w.PodAffinityTerm)
			}
		}
	}
	for _, t := range terms {
		if t.TopologyKey != hostnameTopology || t.LabelSelector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(w.template.Labels)) {
			return
		}
	}
	p.addf("%s: %d replicas and no podAntiAffinity on %s selecting its own pods: one node can take every replica", where, replicas, hostnameTopology)
}

func isInit(spec *corev1.PodSpec, c *corev1.Container) bool {
	return slices.ContainsFunc(spec.InitContainers, func(i corev1.Container) bool { return i.Name == c.Name })
}

type probeKind string

const (
	liveness  probeKind = "livenessProbe"
	startup   probeKind = "startupProbe"
	readiness probeKind = "readinessProbe"
)

// checkProbe checks one probe of container c; it reports whether the probe
// is sound.
func checkProbe(p *problems, cw string, kind probeKind, c *corev1.Container, e *exporter, pr *corev1.Probe) bool {
	n := len(*p)
	where := cw + ": " + string(kind)
	paths := livenessPaths
	if kind == readiness {
		paths = readinessPaths
	}
	g := pr.HTTPGet
	if g == nil {
		p.addf("%s: want an httpGet probe of the exporter", where)
		return false
	}
	if !slices.Contains(paths, g.Path) {
		p.addf("%s: path %q is not one of %v", where, g.Path, paths)
	}
	if g.Host != "" {
		p.addf("%s: host %q: the probe must reach the pod itself", where, g.Host)
	}
	if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP && len(e.flags["web.config.file"]) == 0 {
		p.addf("%s: scheme %s without --web.config.file", where, g.Scheme)
	}
	// The kubelet resolves a named port among the probed container's own
	// ports only (pkg/probe findPortByName); a number is a port of the pod's
	// network namespace, here the exporter's.
	port := g.Port.IntVal
	if g.Port.Type == intstr.String {
		port = 0
		for _, cp := range c.Ports {
			if cp.Name == g.Port.StrVal {
				port = cp.ContainerPort
			}
		}
		if port == 0 {
			p.addf("%s: port %q is not a port of container %s (the kubelet looks only there)", where, g.Port.StrVal, c.Name)
			return false
		}
	}
	if !slices.Contains(e.ports, port) {
		p.addf("%s: port %d is not the exporter's (%v)", where, port, e.ports)
	}
	// Timing: explicit, the timeout no longer than the period.
	if pr.PeriodSeconds < 1 || pr.TimeoutSeconds < 1 || pr.FailureThreshold < 1 || pr.TimeoutSeconds > pr.PeriodSeconds {
		p.addf("%s: want explicit periodSeconds, timeoutSeconds (no longer than the period) and failureThreshold", where)
	}
	window := time.Duration(pr.FailureThreshold*pr.PeriodSeconds) * time.Second
	switch kind {
	case readiness:
		if pr.PeriodSeconds > 10 || pr.FailureThreshold > 3 {
			p.addf("%s: want periodSeconds <= 10 and failureThreshold <= 3, to leave the Service quickly", where)
		}
	case startup:
		if window < 10*time.Second {
			p.addf("%s: gives a cold start only %s", where, window)
		}
	case liveness:
		if window < 30*time.Second || pr.FailureThreshold < 3 {
			p.addf("%s: restarts after %s of failures; want failureThreshold >= 3 and >= 30s", where, window)
		}
	}
	return len(*p) == n
}

// checkExporter checks the exporter container: flags, port, connection
// string (one database's, unless in fleet mode), security, resources,
// grace period.
func checkExporter(p *problems, b *bundle, where string, spec *corev1.PodSpec, e *exporter, opts checkOptions, oneDatabase bool) {
	c := e.c
	cw := where + ": container " + c.Name
	if len(c.Command) > 0 && !slices.Equal(c.Command, []string{"/dbhealth-exporter"}) {
		p.addf("%s: command %v overrides the image's entrypoint", cw, c.Command)
	}
	// Pinned: the chart's appVersion, or a digest.
	if tag := imageTag(c.Image); !strings.Contains(c.Image, "@sha256:") && (tag == "" || tag == "latest" || tag != opts.imageTag) {
		p.addf("%s: image %s: want tag %s or a digest", cw, c.Image, opts.imageTag)
	}

	// The probes need no credentials.
	if v := e.flags["web.probes-require-auth"]; len(v) > 0 && v[len(v)-1] == "true" {
		p.addf("%s: --web.probes-require-auth: the kubelet sends no credentials", cw)
	}

	// The port Services and the ServiceMonitor use.
	named := false
	for _, cp := range c.Ports {
		if cp.Name == exporterPortName {
			named = true
			if !slices.Contains(e.ports, cp.ContainerPort) || cp.Protocol != "" && cp.Protocol != corev1.ProtocolTCP {
				p.addf("%s: port %s is %d/%s, the exporter listens on %v/TCP", cw, cp.Name, cp.ContainerPort, cp.Protocol, e.ports)
			}
		}
	}
	if !named {
		p.addf("%s: no port named %s", cw, exporterPortName)
	}

	if oneDatabase {
		checkDSN(p, b, cw, spec, e, opts)
	}
	var user *int64
	if spec.SecurityContext != nil {
		user = spec.SecurityContext.RunAsUser
	}
	if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
		user = c.SecurityContext.RunAsUser
	}
	if user == nil || *user != 65532 {
		p.addf("%s: want runAsUser 65532 (the image's user)", cw)
	}

	r := c.Resources
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := r.Requests[res]
		lim, okLim := r.Limits[res]
		if !okReq || !okLim || req.Cmp(lim) > 0 {
			p.addf("%s: resources: want a %s request and a limit no lower", cw, res)
		}
	}

	delay := defaultShutdownDelay
	if v := e.flags["web.shutdown-delay"]; len(v) > 0 {
		var err error
		if delay, err = time.ParseDuration(v[len(v)-1]); err != nil {
			p.addf("%s: --web.shutdown-delay: %v", cw, err)
		}
	}
	if g := spec.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second < delay+inFlightGrace {
		p.addf("%s: terminationGracePeriodSeconds must be set and at least --web.shutdown-delay (%s) + %s for in-flight requests", where, delay, inFlightGrace)
	}

	if v := e.flags["migrations.dir"]; len(v) > 0 && !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == v[len(v)-1] }) {
		p.addf("%s: --migrations.dir=%s is not a mounted volume", cw, v[len(v)-1])
	}
}

// checkDSN: the connection string is a file of a mounted Secret, and no
// flag or variable holds one.
func checkDSN(p *problems, b *bundle, cw string, spec *corev1.PodSpec, e *exporter, opts checkOptions) {
	c := e.c
	if len(e.flags["db.dsn"]) > 0 {
		p.addf("%s: --db.dsn: the connection string must come from a Secret file (--db.dsn-file)", cw)
	}
	for _, env := range c.Env {
		if env.Name == "DATABASE_URL" || strings.HasPrefix(env.Name, "PG") {
			p.addf("%s: env %s: the connection string must come from --db.dsn-file alone", cw, env.Name)
		}
	}
	files := e.flags["db.dsn-file"]
	if len(files) != 1 {
		p.addf("%s: want one --db.dsn-file", cw)
		return
	}
	checkSecretFile(p, b, cw, spec, c, "--db.dsn-file", files[0], opts)
}

// mountOf finds the volume mount of container c that holds file, and the
// path of the file inside the volume.
func mountOf(c *corev1.Container, file string) (*corev1.VolumeMount, string) {
	for i := range c.VolumeMounts {
		m := &c.VolumeMounts[i]
		switch {
		case m.SubPath != "" && file == m.MountPath:
			return m, m.SubPath
		case m.SubPath == "" && strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/"):
			return m, file[len(strings.TrimSuffix(m.MountPath, "/"))+1:]
		}
	}
	return nil, ""
}

// checkSecretFile: file (what names it: a flag or a key of the
// configuration file) is a key of a Secret mounted read-only into c, and
// the Secret has that key when it is in the bundle.
func checkSecretFile(p *problems, b *bundle, cw string, spec *corev1.PodSpec, c *corev1.Container, what, file string, opts checkOptions) {
	for _, m := range c.VolumeMounts {
		var key string
		switch {
		case m.SubPath != "" && file == m.MountPath:
			key = m.SubPath
		case m.SubPath == "" && strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/"):
			key = file[len(strings.TrimSuffix(m.MountPath, "/"))+1:]
		default:
			continue
		}
		if !m.ReadOnly {
			p.addf("%s: volumeMount %s: want readOnly", cw, m.Name)
		}
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 || spec.Volumes[i].Secret == nil {
			p.addf("%s: %s=%s is not on a Secret volume", cw, what, file)
			return
		}
		sv := spec.Volumes[i].Secret
		if len(sv.Items) > 0 {
			j := slices.IndexFunc(sv.Items, func(it corev1.KeyToPath) bool { return it.Path == key })
			if j < 0 {
				p.addf("%s: %s=%s: the Secret volume projects no %s", cw, what, file, key)
				return
			}
			key = sv.Items[j].Key
		}
		k := slices.IndexFunc(b.secrets, func(s *corev1.Secret) bool { return s.Name == sv.SecretName })
		switch {
		case k >= 0:
			s := b.secrets[k]
			if _, ok := s.Data[key]; !ok {
				if _, ok := s.StringData[key]; !ok {
					p.addf("%s: Secret %s has no key %s", cw, s.Name, key)
				}
			}
		case opts.secretsInside:
			p.addf("%s: Secret %s is not among the manifests", cw, sv.SecretName)
		}
		return
	}
	p.addf("%s: %s=%s is not in a mounted volume", cw, what, file)
}

// checkSecurity, for every container of the pod (the exporter, the
// application, init containers): non-root, read-only root filesystem, no
// privilege, no capabilities, the runtime's seccomp profile. Pod-level
// settings count where Kubernetes merges them.
func checkSecurity(p *problems, cw string, spec *corev1.PodSpec, c *corev1.Container) {
	sc := c.SecurityContext
	if sc == nil {
		p.addf("%s: no securityContext", cw)
		return
	}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	nonRoot := sc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	switch {
	case nonRoot == nil || !*nonRoot:
		p.addf("%s: want runAsNonRoot", cw)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		p.addf("%s: want readOnlyRootFilesystem", cw)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		p.addf("%s: want allowPrivilegeEscalation: false", cw)
	case sc.Privileged != nil && *sc.Privileged:
		p.addf("%s: privileged", cw)
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0:
		p.addf("%s: want capabilities: drop ALL, add none", cw)
	case seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault:
		p.addf("%s: want seccompProfile RuntimeDefault", cw)
	}
}

// checkService: the selector finds a Deployment's pods and every
// targetPort resolves to a port of their containers; a Service of the
// exporter carries its port, leading to the exporter container.
func checkService(p *problems, b *bundle, s *corev1.Service) {
	where := "Service/" + s.Name
	if len(s.Spec.Selector) == 0 {
		p.addf("%s: no selector", where)
		return
	}
	var pods []*corev1.PodSpec
	for _, w := range b.workloads() {
		if selects(s.Spec.Selector, w.template.Labels) {
			pods = append(pods, &w.template.Spec)
		}
	}
	if len(pods) == 0 {
		p.addf("%s: selector %v matches no Deployment's pods", where, s.Spec.Selector)
	}
	if len(s.Spec.Ports) == 0 && governs(b, s) {
		// A StatefulSet's governing Service with no ports only names the
		// pods; no ServiceMonitor finds anything to scrape through it.
		return
	}
	for _, sp := range s.Spec.Ports {
		target := sp.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(sp.Port)
		}
		for _, pod := range pods {
			// Unlike a probe, a Service's named targetPort is looked up
			// among all the containers of the pod.
			if resolvePodPort(pod, target) == nil {
				p.addf("%s: port %s: targetPort %s is no container port of its pods", where, sp.Name, target.String())
			}
		}
	}
	if s.Labels[nameLabel] != exporterName {
		return
	}
	i := slices.IndexFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == exporterPortName })
	if i < 0 {
		p.addf("%s: no port named %s for the ServiceMonitor", where, exporterPortName)
		return
	}
	for _, pod := range pods {
		cp := resolvePodPort(pod, s.Spec.Ports[i].TargetPort)
		e, err := exporterOf(pod)
		if cp != nil && err == nil && !slices.ContainsFunc(e.c.Ports, func(x corev1.ContainerPort) bool { return x == *cp }) {
			p.addf("%s: port %s does not lead to the exporter container", where, exporterPortName)
		}
	}
}

// resolvePodPort finds the container port a Service's targetPort names.
func resolvePodPort(pod *corev1.PodSpec, target intstr.IntOrString) *corev1.ContainerPort {
	for _, c := range slices.Concat(pod.Containers, pod.InitContainers) {
		for _, cp := range c.Ports {
			if target.Type == intstr.String && cp.Name == target.StrVal || target.Type == intstr.Int && cp.ContainerPort == target.IntVal {
				return &cp
			}
		}
	}
	return nil
}

// checkServiceMonitor: it selects the exporter's Services, scrapes a port
// they have at the exporter's telemetry path, and names the job so that
// DBHealthExporterDown sees it.
func checkServiceMonitor(p *problems, b *bundle, sm *serviceMonitor, opts checkOptions) {
	where := "ServiceMonitor/" + sm.Name
	sel := sm.Spec.Selector
	if len(sel.MatchLabels) == 0 || len(sel.MatchExpressions) > 0 {
		p.addf("%s: selector: want matchLabels only", where)
		return
	}
	jobRE := exporterDownJob(opts.rules)
	matched := 0
	for _, s := range b.services {
		if !selects(sel.MatchLabels, s.Labels) {
			continue
		}
		matched++
		if len(s.Spec.Ports) == 0 {
			continue // nothing to scrape through it
		}
		for _, ep := range sm.Spec.Endpoints {
			if !slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == ep.Port }) {
				p.addf("%s: endpoint port %q is not a port of Service/%s", where, ep.Port, s.Name)
			}
			if ep.Scheme != "" && ep.Scheme != "http" {
				p.addf("%s: scheme %s", where, ep.Scheme)
			}
			for _, w := range b.workloads() {
				if !selects(s.Spec.Selector, w.template.Labels) {
					continue
				}
				path := cmp.Or(ep.Path, "/metrics")
				if e, err := exporterOf(&w.template.Spec); err == nil && path != e.telemetryPath {
					p.addf("%s: path %s, the exporter of Service/%s serves %s", where, path, s.Name, e.telemetryPath)
				}
			}
		}
		job := s.Name
		if sm.Spec.JobLabel != "" {
			job = s.Labels[sm.Spec.JobLabel]
		}
		if jobRE != nil && !jobRE.MatchString(job) {
			p.addf("%s: Service/%s gets job %q, which DBHealthExporterDown (%s) does not watch", where, s.Name, job, jobRE)
		}
	}
	if matched == 0 {
		p.addf("%s: selector %v matches no Service", where, sel.MatchLabels)
	}
}

// exporterDownJob is the job matcher of DBHealthExporterDown, anchored as
// Prometheus anchors it; nil if the alert has none.
func exporterDownJob(rf ruleFile) *regexp.Regexp {
	m := regexp.MustCompile(`job=~"([^"]*)"`)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "DBHealthExporterDown" {
				if sub := m.FindStringSubmatch(r.Expr); sub != nil {
					return regexp.MustCompile("^(?:" + sub[1] + ")$")
				}
			}
		}
	}
	return nil
}

// checkExampleSecret: an example Secret holds nothing real: every
// connection string in it names a reserved example host (RFC 2606).
func checkExampleSecret(p *problems, s *corev1.Secret) {
	values := map[string]string{}
	for k, v := range s.Data {
		values[k] = string(v)
	}
	for k, v := range s.StringData {
		values[k] = v
	}
	for k, v := range values {
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" {
			p.addf("Secret/%s: %s is not a postgres:// URL", s.Name, k)
			continue
		}
		host := u.Hostname()
		if !strings.HasSuffix(host, ".invalid") && !strings.HasSuffix(host, ".example") && !strings.HasSuffix(host, "example.com") {
			p.addf("Secret/%s: %s names host %q; an example must name a reserved one (*.invalid, *.example)", s.Name, k, host)
		}
	}
}

// checkNames applies the API server's rules for the names these checks
// rely on: object names, label values, container and port names (a port
// name is at most 15 characters).
func checkNames(p *problems, b *bundle) {
	bad := func(where string, errs []string) {
		if len(errs) > 0 {
			p.addf("%s: %s", where, strings.Join(errs, "; "))
		}
	}
	labels := func(where string, m map[string]string) {
		for k, v := range m {
			bad(where+": label "+k, slices.Concat(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)))
		}
	}
	for _, d := range b.deployments {
		where := "Deployment/" + d.Name
		bad(where, validation.IsDNS1123Subdomain(d.Name))
		labels(where, d.Labels)
		labels(where+": pod", d.Spec.Template.Labels)
		spec := &d.Spec.Template.Spec
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			bad(where+": container "+c.Name, validation.IsDNS1123Label(c.Name))
			for _, cp := range c.Ports {
				bad(where+": container "+c.Name+": port "+cp.Name, validation.IsValidPortName(cp.Name))
			}
		}
	}
	for _, s := range b.statefulSets {
		where := "StatefulSet/" + s.Name
		bad(where, validation.IsDNS1123Subdomain(s.Name))
		// The controller labels each pod controller-revision-hash=<name>-<10
		// characters>, which must fit a label value's 63.
		if len(s.Name) > maxStatefulSetName {
			p.addf("%s: a StatefulSet's name has at most %d characters (its pods' controller-revision-hash label is the name and 11 more), not %d", where, maxStatefulSetName, len(s.Name))
		}
		labels(where, s.Labels)
		labels(where+": pod", s.Spec.Template.Labels)
	}
	for _, s := range b.services {
		where := "Service/" + s.Name
		bad(where, validation.IsDNS1035Label(s.Name))
		labels(where, s.Labels)
		for _, sp := range s.Spec.Ports {
			bad(where+": port "+sp.Name, validation.IsValidPortName(sp.Name))
		}
	}
}

// selects reports whether every label of the selector is on the object.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func imageRepo(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i]
	}
	return image
}

func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}
