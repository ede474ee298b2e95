package exporter_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// byGeneration records what one source said about the database check in
// each generation.
type byGeneration struct {
	mu   sync.Mutex
	seen map[uint64]string
}

func (b *byGeneration) record(t *testing.T, source string, gen uint64, status string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if prev, ok := b.seen[gen]; ok && prev != status {
		t.Errorf("%s said %q and %q for generation %d", source, prev, status, gen)
	}
	b.seen[gen] = status
}

func spanAttr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// Across a real outage and recovery, every check span's status and
// generation are those /readyz and /metrics showed for that generation, and
// every check span has the SQL (connect, query) as child spans.
func TestTracing_SpansMatchProbesAndMetricsOfTheirGeneration(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	cluster := pgtest.New(t)
	ex := startInProcess(t, schedule(cluster.DSN("postgres"), 50*time.Millisecond, 40*time.Millisecond), exporter.WithTracerProvider(tp))

	probe := &byGeneration{seen: map[uint64]string{}}
	scrape := &byGeneration{seen: map[uint64]string{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, body := ex.get(t, "/readyz")
			var r struct {
				Generation uint64
				Checks     map[string]struct{ Status string }
			}
			if json.Unmarshal([]byte(body), &r) == nil && r.Generation > 0 {
				probe.record(t, "/readyz", r.Generation, r.Checks["database"].Status)
			}
			_, metrics := ex.get(t, "/metrics")
			if gen, ok := sample(metrics, "dbhealth_snapshot_generation"); ok {
				for _, status := range []string{"ok", "failing", "unknown", "stale"} {
					if v, _ := sample(metrics, `dbhealth_check_status{check="database",status="`+status+`",target="default"}`); v == 1 {
						scrape.record(t, "/metrics", uint64(gen), status)
					}
				}
			}
		}
	}()

	ex.waitReadiness(t, "ready")
	cluster.Stop(t)
	ex.waitReadiness(t, "not_ready")
	time.Sleep(200 * time.Millisecond)
	cluster.Start(t)
	ex.waitReadiness(t, "ready")
	close(stop)
	wg.Wait()

	spans := rec.Ended()
	children := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		children[s.Parent().SpanID().String()] = append(children[s.Parent().SpanID().String()], s)
	}
	var checked, failing int
	for _, s := range spans {
		if s.Name() != "check database" {
			continue
		}
		gen, _ := strconv.ParseUint(spanAttr(s, "dbhealth.generation"), 10, 64)
		status := spanAttr(s, "dbhealth.check.status")
		for source, seen := range map[string]*byGeneration{"/readyz": probe, "/metrics": scrape} {
			if want, ok := seen.seen[gen]; ok {
				checked++
				if want != status {
					t.Errorf("generation %d: span says %q, %s said %q", gen, status, source, want)
				}
			}
		}
		if status == "failing" {
			failing++
		}
		sql := children[s.SpanContext().SpanID().String()]
		if len(sql) == 0 {
			t.Errorf("generation %d: no child SQL span", gen)
			continue
		}
		for _, c := range sql {
			if spanAttr(c, "db.system.name") != "postgresql" || spanAttr(c, "server.port") != strconv.Itoa(cluster.Port()) {
				t.Errorf("child span %q lacks the database attributes: %v", c.Name(), c.Attributes())
			}
		}
	}
	t.Logf("%d spans; %d span/endpoint comparisons; %d failing runs", len(spans), checked, failing)
	if checked == 0 || failing == 0 {
		t.Fatalf("the test saw no comparison or no outage (%d comparisons, %d failing)", checked, failing)
	}
	names := map[string]bool{}
	for _, s := range spans {
		names[strings.Fields(s.Name())[0]] = true
	}
	if !names["connect"] {
		t.Errorf("no connect span among %v", names)
	}
}
