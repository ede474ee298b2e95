package health

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Span attributes of a check run.
const (
	AttrCheckName   = attribute.Key("dbhealth.check.name")
	AttrCheckStatus = attribute.Key("dbhealth.check.status")
	AttrCheckReason = attribute.Key("dbhealth.check.reason")
	AttrCritical    = attribute.Key("dbhealth.check.critical")
	AttrTarget      = attribute.Key("dbhealth.target")
	AttrGeneration  = attribute.Key("dbhealth.generation")
	AttrReadiness   = attribute.Key("dbhealth.readiness")
	AttrFrom        = attribute.Key("dbhealth.check.status.from")
	AttrTo          = attribute.Key("dbhealth.check.status.to")
)

// EventStatusChange is the span event added when a run changes its check's
// status (ok -> failing, ...).
const EventStatusChange = "dbhealth.check.status_change"

// instrumentation is the tracer's name.
const instrumentation = "github.com/dbhealth/dbhealth-exporter/internal/health"

// startSpan opens the span of one check run; the Checker's SQL becomes its
// children through ctx. The span is described by spanObserver at publish and
// ended by the engine.
func startSpan(ctx context.Context, tracer trace.Tracer, d Definition, target string, run Run) (context.Context, trace.Span) {
	return tracer.Start(ctx, "check "+d.Name,
		trace.WithTimestamp(run.Started),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(AttrCheckName.String(d.Name), AttrTarget.String(target), AttrCritical.Bool(d.Critical)))
}

// spanObserver describes a run's span from the generation its publish made:
// the same status, error and generation that probes and metrics show.
type spanObserver struct{}

func (spanObserver) Published(ctx context.Context, prev, next *Snapshot, run *Run) {
	span := trace.SpanFromContext(ctx)
	if run == nil || !span.IsRecording() {
		return
	}
	c, _ := next.Check(run.Check)
	span.SetAttributes(
		AttrGeneration.Int64(int64(next.Generation)),
		AttrCheckStatus.String(string(c.Status())),
		AttrReadiness.String(string(next.Readiness)),
	)
	if before, _ := prev.Check(run.Check); before.Status() != c.Status() {
		span.AddEvent(EventStatusChange, trace.WithAttributes(
			AttrFrom.String(string(before.Status())), AttrTo.String(string(c.Status()))))
	}
	if c.Last != nil && !c.Last.OK() {
		span.SetAttributes(AttrCheckReason.String(c.Last.Reason))
		// The error as an exception event, typed by its reason; the text
		// was redacted at publish.
		span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
			semconv.ExceptionType(c.Last.Reason), semconv.ExceptionMessage(c.Last.Error)))
		span.SetStatus(codes.Error, c.Last.Error)
	}
}
