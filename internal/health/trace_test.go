package health

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func attr(s sdktrace.ReadOnlySpan, key string) (string, bool) {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit(), true
		}
	}
	return "", false
}

func TestEngine_EachRunIsOneSpanDescribedByItsGeneration(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	var n atomic.Int64
	e, err := NewEngine([]Definition{{Name: "database", Critical: true, Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond,
		Checker: checkerFunc(func(ctx context.Context) Result {
			if n.Add(1) == 2 {
				return Result{Err: errors.New("connection refused, password hunter2"), Reason: "refused"}
			}
			return Result{}
		})}}, WithTracerProvider(tp), WithTarget("orders"),
		WithRedactor(func(s string) string { return s[:len(s)-len("hunter2")] + "xxxxx" }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	waitFor(t, e.Snapshot, "three runs", func(s *Snapshot) bool { return s.Generation >= 3 })
	cancel()
	<-done

	spans := rec.Ended()
	if len(spans) < 3 {
		t.Fatalf("%d spans for %d runs", len(spans), n.Load())
	}
	wantStatus := map[string]string{"1": "ok", "2": "failing", "3": "ok"}
	for _, s := range spans[:3] {
		gen, _ := attr(s, "dbhealth.generation")
		status, _ := attr(s, "dbhealth.check.status")
		target, _ := attr(s, "dbhealth.target")
		if s.Name() != "check database" || target != "orders" || status != wantStatus[gen] {
			t.Errorf("span %q generation %s status %s target %s", s.Name(), gen, status, target)
		}
		failed := gen == "2"
		if got := s.Status().Code == codes.Error; got != failed {
			t.Errorf("generation %s: span status %v", gen, s.Status())
		}
		if failed {
			if reason, _ := attr(s, "dbhealth.check.reason"); reason != "refused" || s.Status().Description != "connection refused, password xxxxx" {
				t.Errorf("failed span: reason %q description %q", reason, s.Status().Description)
			}
			if !hasEvent(s, "exception", "exception.type", "refused") {
				t.Errorf("failed span events: %v", s.Events())
			}
		}
	}
	// Status changes are span events: unknown->ok, ok->failing, failing->ok.
	var changes int
	for _, s := range spans[:3] {
		for _, ev := range s.Events() {
			if ev.Name == eventStatusChange {
				changes++
			}
		}
	}
	if changes != 3 {
		t.Errorf("%d status-change events over three runs that changed status each time", changes)
	}
}

func hasEvent(s sdktrace.ReadOnlySpan, name, key, value string) bool {
	for _, ev := range s.Events() {
		for _, a := range ev.Attributes {
			if ev.Name == name && string(a.Key) == key && a.Value.Emit() == value {
				return true
			}
		}
	}
	return false
}
