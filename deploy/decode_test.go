package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// bundle is the decoded objects of one deployment: the manifests of a
// directory, or the output of one helm template.
type bundle struct {
	deployments     []*appsv1.Deployment
	statefulSets    []*appsv1.StatefulSet
	services        []*corev1.Service
	secrets         []*corev1.Secret
	configMaps      []*corev1.ConfigMap
	serviceMonitors []*serviceMonitor
	podMonitors     []*podMonitor
	prometheusRules []*prometheusRule
}

// kinds maps apiVersion and kind to a new value to decode into; any other
// kind is an error.
var kinds = map[string]func() any{
	"apps/v1/Deployment":  func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet": func() any { return &appsv1.StatefulSet{} },
	"v1/Service":          func() any { return &corev1.Service{} },
	"v1/Secret":           func() any { return &corev1.Secret{} },
	"v1/ConfigMap":        func() any { return &corev1.ConfigMap{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &serviceMonitor{} },
	"monitoring.coreos.com/v1/PodMonitor":     func() any { return &podMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &prometheusRule{} },
}

// serviceMonitor is the part of the Prometheus operator's ServiceMonitor
// (monitoring.coreos.com/v1) that these manifests may use. The CRD's types
// are not in k8s.io/api; a field outside this subset is an error like any
// unknown field, so add it here when a manifest needs it.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel          string               `json:"jobLabel,omitempty"`
		TargetLabels      []string             `json:"targetLabels,omitempty"`
		PodTargetLabels   []string             `json:"podTargetLabels,omitempty"`
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []serviceMonitorEndpoint `json:"endpoints"`
	} `json:"spec"`
}

type serviceMonitorEndpoint struct {
	Port              string              `json:"port,omitempty"`
	TargetPort        *intstr.IntOrString `json:"targetPort,omitempty"`
	Path              string              `json:"path,omitempty"`
	Scheme            string              `json:"scheme,omitempty"`
	Interval          string              `json:"interval,omitempty"`
	ScrapeTimeout     string              `json:"scrapeTimeout,omitempty"`
	HonorLabels       bool                `json:"honorLabels,omitempty"`
	Params            map[string][]string `json:"params,omitempty"`
	BasicAuth         any                 `json:"basicAuth,omitempty"`
	TLSConfig         any                 `json:"tlsConfig,omitempty"`
	Relabelings       []any               `json:"relabelings,omitempty"`
	MetricRelabelings []any               `json:"metricRelabelings,omitempty"`
}

// podMonitor is the part of the Prometheus operator's PodMonitor
// (monitoring.coreos.com/v1) that these manifests may use; like
// serviceMonitor, a field outside it is an error.
type podMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel          string               `json:"jobLabel,omitempty"`
		PodTargetLabels   []string             `json:"podTargetLabels,omitempty"`
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		PodMetricsEndpoints []podMetricsEndpoint `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

type podMetricsEndpoint struct {
	Port              string              `json:"port,omitempty"`
	Path              string              `json:"path,omitempty"`
	Scheme            string              `json:"scheme,omitempty"`
	Interval          string              `json:"interval,omitempty"`
	ScrapeTimeout     string              `json:"scrapeTimeout,omitempty"`
	HonorLabels       bool                `json:"honorLabels,omitempty"`
	Params            map[string][]string `json:"params,omitempty"`
	BasicAuth         any                 `json:"basicAuth,omitempty"`
	TLSConfig         any                 `json:"tlsConfig,omitempty"`
	Relabelings       []relabelConfig     `json:"relabelings,omitempty"`
	MetricRelabelings []relabelConfig     `json:"metricRelabelings,omitempty"`
}

// relabelConfig is the operator's RelabelConfig.
type relabelConfig struct {
	SourceLabels []string `json:"sourceLabels,omitempty"`
	Separator    *string  `json:"separator,omitempty"`
	TargetLabel  string   `json:"targetLabel,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	Modulus      uint64   `json:"modulus,omitempty"`
	Replacement  *string  `json:"replacement,omitempty"`
	Action       string   `json:"action,omitempty"`
}

// prometheusRule is the Prometheus operator's PrometheusRule: its spec is a
// Prometheus rules file.
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ruleFile `json:"spec"`
}

// ruleFile is a Prometheus rules file (alerts/dbhealth.rules.yml).
type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Limit    int    `json:"limit,omitempty"`
		Rules    []struct {
			Alert         string            `json:"alert,omitempty"`
			Record        string            `json:"record,omitempty"`
			Expr          string            `json:"expr"`
			For           string            `json:"for,omitempty"`
			KeepFiringFor string            `json:"keep_firing_for,omitempty"`
			Labels        map[string]string `json:"labels,omitempty"`
			Annotations   map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}

// decodeFile decodes every document of a YAML file; see decodeDocuments.
func decodeFile(path string) ([]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	objs, err := decodeDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return objs, nil
}

// decodeDocuments decodes every document of a multi-document YAML stream
// strictly into the type its apiVersion and kind name (see kinds), the way
// the API server's strict field validation does: an unknown field, a field
// given twice, or one spelled with other capitals (readinessprobe) is an
// error. Documents holding only comments are skipped.
func decodeDocuments(data []byte) ([]any, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []any
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		obj, err := decodeStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		if obj != nil {
			objs = append(objs, obj)
		}
	}
}

// decodeStrict decodes one YAML document; nil for an empty one.
func decodeStrict(doc []byte) (any, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	if string(bytes.TrimSpace(js)) == "null" {
		return nil, nil
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, err
	}
	newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("apiVersion %q kind %q: not a kind these manifests use (see kinds in decode_test.go)", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	return obj, unmarshalStrict(js, obj)
}

// unmarshalStrict is JSON decoding as the API server does it, with every
// strict check.
func unmarshalStrict(js []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(js, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// newBundle sorts decoded objects by kind.
func newBundle(objs ...any) *bundle {
	b := &bundle{}
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			b.deployments = append(b.deployments, o)
		case *appsv1.StatefulSet:
			b.statefulSets = append(b.statefulSets, o)
		case *corev1.Service:
			b.services = append(b.services, o)
		case *corev1.Secret:
			b.secrets = append(b.secrets, o)
		case *corev1.ConfigMap:
			b.configMaps = append(b.configMaps, o)
		case *serviceMonitor:
			b.serviceMonitors = append(b.serviceMonitors, o)
		case *podMonitor:
			b.podMonitors = append(b.podMonitors, o)
		case *prometheusRule:
			b.prometheusRules = append(b.prometheusRules, o)
		default:
			panic(fmt.Sprintf("newBundle: %T", o))
		}
	}
	return b
}

// readRuleFile decodes a Prometheus rules file strictly.
func readRuleFile(path string) (ruleFile, error) {
	var rf ruleFile
	data, err := os.ReadFile(path)
	if err != nil {
		return rf, err
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return rf, fmt.Errorf("%s: %w", path, err)
	}
	if err := unmarshalStrict(js, &rf); err != nil {
		return rf, fmt.Errorf("%s: %w", path, err)
	}
	return rf, nil
}

// kindOf names an object's kind and name for messages.
func kindOf(o any) string {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return "Deployment/" + o.Name
	case *appsv1.StatefulSet:
		return "StatefulSet/" + o.Name
	case *corev1.Service:
		return "Service/" + o.Name
	case *corev1.Secret:
		return "Secret/" + o.Name
	case *corev1.ConfigMap:
		return "ConfigMap/" + o.Name
	case *serviceMonitor:
		return "ServiceMonitor/" + o.Name
	case *podMonitor:
		return "PodMonitor/" + o.Name
	case *prometheusRule:
		return "PrometheusRule/" + o.Name
	}
	return fmt.Sprintf("%T", o)
}
