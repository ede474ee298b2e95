package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// receiver is an OTLP receiver inside the test: it keeps what it is sent,
// over HTTP (/v1/traces, /v1/metrics) or gRPC.
type receiver struct {
	colltrace.UnimplementedTraceServiceServer
	mu      sync.Mutex
	traces  []*colltrace.ExportTraceServiceRequest
	metrics []*collmetrics.ExportMetricsServiceRequest
}

func (r *receiver) Export(_ context.Context, req *colltrace.ExportTraceServiceRequest) (*colltrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.traces = append(r.traces, req)
	return &colltrace.ExportTraceServiceResponse{}, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch req.URL.Path {
	case "/v1/traces":
		var m colltrace.ExportTraceServiceRequest
		if proto.Unmarshal(body, &m) == nil {
			r.traces = append(r.traces, &m)
		}
	case "/v1/metrics":
		var m collmetrics.ExportMetricsServiceRequest
		if proto.Unmarshal(body, &m) == nil {
			r.metrics = append(r.metrics, &m)
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// spans returns every span received with its resource's attributes.
func (r *receiver) spans() (out []*tracepb.Span, resources []map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, req := range r.traces {
		for _, rs := range req.ResourceSpans {
			res := attrs(rs.GetResource().GetAttributes())
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, s)
					resources = append(resources, res)
				}
			}
		}
	}
	return out, resources
}

func (r *receiver) metricNames() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := map[string]bool{}
	for _, req := range r.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					names[m.Name] = true
				}
			}
		}
	}
	return names
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = strconv.FormatInt(v.IntValue, 10)
		case *commonpb.AnyValue_BoolValue:
			out[kv.Key] = strconv.FormatBool(v.BoolValue)
		}
	}
	return out
}

// assertCheckSpans waits for check spans with a child SQL span and the
// expected resource.
func assertCheckSpans(t *testing.T, p *exporterProc, r *receiver) {
	t.Helper()
	p.eventually("check spans to arrive", 15*time.Second, func() bool {
		spans, _ := r.spans()
		return len(spans) >= 4
	})
	spans, resources := r.spans()
	parents := map[string]bool{}
	for _, s := range spans {
		parents[string(s.ParentSpanId)] = true
	}
	var found bool
	for i, s := range spans {
		if s.Name != "check database" {
			continue
		}
		a := attrs(s.Attributes)
		res := resources[i]
		if a["dbhealth.check.name"] != "database" || a["dbhealth.target"] != "default" || a["dbhealth.generation"] == "" || a["dbhealth.check.status"] == "" {
			t.Fatalf("check span attributes: %v", a)
		}
		if res["service.name"] != "dbhealth-exporter" || res["service.instance.id"] == "" || res["service.version"] == "" {
			t.Fatalf("resource: %v", res)
		}
		if parents[string(s.SpanId)] {
			found = true
		}
	}
	if !found {
		t.Fatalf("no check span with a child SQL span among %d spans", len(spans))
	}
}

func TestOTLP_HTTP_SpansAndMetricsReachAReceiver(t *testing.T) {
	cluster := pgtest.New(t)
	r := &receiver{}
	srv := httptest.NewServer(r)
	defer srv.Close()
	p := startExporter(t, []string{
		"DATABASE_URL=" + cluster.DSN("postgres"),
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.URL,
		"OTEL_BSP_SCHEDULE_DELAY=100",
		"OTEL_METRICS_EXPORTER=otlp",
		"OTEL_METRIC_EXPORT_INTERVAL=200",
	}, fastChecks, "--check.timeout=200ms", "--web.shutdown-delay=0s")
	assertCheckSpans(t, p, r)
	p.eventually("metrics over OTLP", 15*time.Second, func() bool {
		names := r.metricNames()
		return names["dbhealth_ready"] && names["dbhealth_check_duration_seconds"]
	})

	// The one transition so far (unknown -> ok) is logged once, inside its
	// run's span, whatever the number of runs.
	p.eventually("several runs", 10*time.Second, func() bool { _, rz := p.readyz(); return rz.Generation >= 5 })
	logged := regexp.MustCompile(`msg="check status changed".* trace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16})`).FindAllStringSubmatch(p.output.String(), -1)
	if len(logged) != 1 {
		t.Fatalf("%d transition log lines with trace ids, want 1:\n%s", len(logged), p.output.String())
	}
}

func TestOTLP_SpansAreFlushedOnShutdown(t *testing.T) {
	cluster := pgtest.New(t)
	r := &receiver{}
	srv := httptest.NewServer(r)
	defer srv.Close()
	p := startExporter(t, []string{
		"DATABASE_URL=" + cluster.DSN("postgres"),
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.URL,
		"OTEL_BSP_SCHEDULE_DELAY=3600000", // never on schedule: only the shutdown flush
	}, fastChecks, "--check.timeout=200ms", "--web.shutdown-delay=0s")
	p.eventually("a few runs", 10*time.Second, func() bool { _, rz := p.readyz(); return rz.Generation >= 3 })
	if spans, _ := r.spans(); len(spans) != 0 {
		t.Fatalf("%d spans exported before shutdown with a one-hour schedule", len(spans))
	}
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if spans, _ := r.spans(); len(spans) < 3 {
		t.Fatalf("%d spans after shutdown, want every run's", len(spans))
	}
}

func TestOTLP_GRPC_SpansReachAReceiver(t *testing.T) {
	cluster := pgtest.New(t)
	r := &receiver{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	colltrace.RegisterTraceServiceServer(g, r)
	go func() { _ = g.Serve(l) }()
	defer g.Stop()
	p := startExporter(t, []string{
		"DATABASE_URL=" + cluster.DSN("postgres"),
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + l.Addr().String(),
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_BSP_SCHEDULE_DELAY=100",
	}, fastChecks, "--check.timeout=200ms", "--web.shutdown-delay=0s")
	assertCheckSpans(t, p, r)
}

// With no OTEL_* variable the exporter must not try to reach a collector:
// listeners on the default OTLP ports see no connection.
func TestOTLP_NotConfigured_NoOutboundConnection(t *testing.T) {
	cluster := pgtest.New(t)
	var accepted sync.WaitGroup
	var mu sync.Mutex
	var conns []string
	for _, port := range []string{"4317", "4318"} {
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("default OTLP port %s is busy; this test needs it free: %v", port, err)
		}
		defer l.Close()
		accepted.Add(1)
		go func() {
			defer accepted.Done()
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, port)
				mu.Unlock()
				c.Close()
			}
		}()
	}
	p := startExporter(t, []string{"DATABASE_URL=" + cluster.DSN("postgres")}, fastChecks, "--check.timeout=200ms")
	p.eventually("a few check runs", 10*time.Second, func() bool { _, r := p.readyz(); return r.Generation >= 5 })
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(conns) > 0 {
		t.Fatalf("the exporter connected to OTLP ports %v without any OTEL_* variable", conns)
	}
	if !strings.Contains(p.output.String(), "OpenTelemetry export off") {
		t.Fatalf("no log line saying tracing is off:\n%s", p.output.String())
	}
}
