package health

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Span attributes of a check run (docs/tracing.md).
const (
	attrCheckName   = attribute.Key("dbhealth.check.name")
	attrCheckStatus = attribute.Key("dbhealth.check.status")
	attrCheckReason = attribute.Key("dbhealth.check.reason")
	attrCritical    = attribute.Key("dbhealth.check.critical")
	attrTarget      = attribute.Key("dbhealth.target")
	attrGeneration  = attribute.Key("dbhealth.generation")
	attrReadiness   = attribute.Key("dbhealth.readiness")
	attrFrom        = attribute.Key("dbhealth.check.status.from")
	attrTo          = attribute.Key("dbhealth.check.status.to")
)

// eventStatusChange is the span event added when a run changes its check's
// status (ok -> failing, ...).
const eventStatusChange = "dbhealth.check.status_change"

// instrumentation is the tracer's name.
const instrumentation = "github.com/dbhealth/dbhealth-exporter/internal/health"

// startSpan opens the span of one check run; the Checker's SQL becomes its
// children through ctx. The span is described by spanObserver at publish and
// ended by the engine.
func startSpan(ctx context.Context, tracer trace.Tracer, d Definition, target string, started time.Time) (context.Context, trace.Span) {
	return tracer.Start(ctx, "check "+d.Name,
		trace.WithTimestamp(started),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrCheckName.String(d.Name), attrTarget.String(target), attrCritical.Bool(d.Critical)))
}

// spanObserver describes a run's span from the generation its publish made:
// the same status, error and generation that probes and metrics show.
type spanObserver struct{}

func (spanObserver) published(ctx context.Context, prev, next *Snapshot, run *finishedRun) {
	span := trace.SpanFromContext(ctx)
	if run == nil || !span.IsRecording() {
		return
	}
	c, _ := next.Check(run.check)
	span.SetAttributes(
		attrGeneration.Int64(int64(next.Generation)),
		attrCheckStatus.String(string(c.Status)),
		attrReadiness.String(string(next.Readiness)),
	)
	if before, _ := prev.Check(run.check); before.Status != c.Status {
		span.AddEvent(eventStatusChange, trace.WithAttributes(
			attrFrom.String(string(before.Status)), attrTo.String(string(c.Status))))
	}
	if c.Last != nil && !c.Last.OK() {
		span.SetAttributes(attrCheckReason.String(c.Last.Reason))
		// The error as an exception event, typed by its reason; the text
		// was redacted at publish.
		span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
			semconv.ExceptionType(c.Last.Reason), semconv.ExceptionMessage(c.Last.Error)))
		span.SetStatus(codes.Error, c.Last.Error)
	}
}
