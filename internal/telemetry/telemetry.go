// Package telemetry sets up OpenTelemetry for the exporter from the
// standard OTEL_* environment variables, through autoexport: a span per
// check run (with the SQL as child spans) and, on request, the Prometheus
// metrics pushed over OTLP. With none of the variables set, tracing is off
// and nothing tries to connect anywhere.
//
//	tel, err := telemetry.Setup(ctx, telemetry.Options{Version: v, Gatherer: reg, Logger: logger})
//	defer tel.Shutdown(ctx)
//	engine, _ := health.NewEngine(defs, health.WithTracerProvider(tel.TracerProvider))
package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	prombridge "go.opentelemetry.io/contrib/bridges/prometheus"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName is the default service.name; OTEL_SERVICE_NAME overrides it.
const ServiceName = "dbhealth-exporter"

// Options configure Setup.
type Options struct {
	// Version is service.version.
	Version string
	// Gatherer is what is pushed over OTLP when OTEL_METRICS_EXPORTER is
	// set: the exporter's own registry.
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
}

// Telemetry holds what Setup started.
type Telemetry struct {
	// TracerProvider is a no-op provider when tracing is off.
	TracerProvider trace.TracerProvider
	// Tracing reports whether spans are exported.
	Tracing  bool
	shutdown []func(context.Context) error
}

// Setup reads the OTEL_* variables. Tracing is on when OTEL_TRACES_EXPORTER
// is set (and not "none") or an OTLP endpoint is; metrics are pushed when
// OTEL_METRICS_EXPORTER is set (and not "none"). OTEL_SDK_DISABLED=true
// turns both off.
func Setup(ctx context.Context, opts Options) (*Telemetry, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Version == "" {
		opts.Version = "unknown" // a build without the Makefile's version stamp
	}
	t := &Telemetry{TracerProvider: noop.NewTracerProvider()}
	tracing, metrics := enabled(opts.Getenv)
	if !tracing && !metrics {
		opts.Logger.Info("OpenTelemetry export off: set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER) to export spans and metrics")
		return t, nil
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		opts.Logger.Warn("OpenTelemetry export failed", "err", err)
	}))
	res, err := resource.New(ctx,
		resource.WithAttributes(
			semconv.ServiceName(ServiceName),
			semconv.ServiceVersion(opts.Version),
			semconv.ServiceInstanceID(uuid.NewString()),
		),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		return nil, err
	}
	if tracing {
		exporter, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, err
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
		t.TracerProvider, t.Tracing = tp, true
		t.shutdown = append(t.shutdown, tp.Shutdown)
	}
	if metrics {
		gatherer := opts.Gatherer
		autoexport.WithFallbackMetricProducer(func(context.Context) (sdkmetric.Producer, error) {
			return prombridge.NewMetricProducer(prombridge.WithGatherer(gatherer)), nil
		})
		reader, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, err
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
		t.shutdown = append(t.shutdown, mp.Shutdown)
	}
	opts.Logger.Info("OpenTelemetry export on", "traces", tracing, "metrics", metrics)
	return t, nil
}

// Shutdown flushes what is buffered and stops the exporters.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}

// enabled decides from the environment which signals are exported.
func enabled(getenv func(string) string) (tracing, metrics bool) {
	if getenv("OTEL_SDK_DISABLED") == "true" {
		return false, false
	}
	switch getenv("OTEL_TRACES_EXPORTER") {
	case "none":
	case "":
		tracing = getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	default:
		tracing = true
	}
	metrics = getenv("OTEL_METRICS_EXPORTER") != "" && getenv("OTEL_METRICS_EXPORTER") != "none"
	return tracing, metrics
}
