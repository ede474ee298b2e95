package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/common/version"
)

// shutdownTimeout bounds the graceful shutdown after the drain: requests in
// flight get this long to finish.
const shutdownTimeout = 10 * time.Second

// Run listens on the configured addresses and serves (see Serve). An
// address that cannot be listened on is an error at once.
func (e *Exporter) Run(ctx context.Context) error {
	listeners := make([]net.Listener, 0, len(e.cfg.Web.ListenAddresses))
	for _, addr := range e.cfg.Web.ListenAddresses {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			e.logger.Error("cannot listen", "address", addr, "err", err)
			for _, open := range listeners {
				open.Close()
			}
			e.Close()
			return fmt.Errorf("cannot listen on %s: %w", addr, err)
		}
		listeners = append(listeners, l)
	}
	return e.Serve(ctx, listeners...)
}

// Serve runs the checks and serves on the listeners until ctx ends, then
// drains: readiness turns shutting_down at once, the server keeps answering
// for the shutdown delay so load balancers stop sending traffic, then it
// shuts down gracefully, the checks stop and the pool closes. It returns
// nil after a drain, or the error that stopped a server.
func (e *Exporter) Serve(ctx context.Context, listeners ...net.Listener) error {
	defer e.Close()
	engineCtx, stopEngines := context.WithCancel(context.Background())
	e.mu.Lock()
	e.runCtx = engineCtx
	for _, tg := range e.view.Load().targets {
		tg.start(engineCtx)
	}
	if e.fleet {
		e.logger.Info("starting dbhealth-exporter", "version", version.Version, "targets", len(e.targets),
			"shard", e.cfg.Fleet.Shard, "total_shards", e.cfg.Fleet.TotalShards, "max_concurrent_checks", e.cfg.Fleet.MaxConcurrentChecks)
	} else {
		tg := e.view.Load().targets[0]
		e.logger.Info("starting dbhealth-exporter", "version", version.Version, "target", tg.cfg.Name,
			"database", tg.cur.describe(), "dsn_from", tg.cfg.Database.DSNSource,
			"check_interval", tg.cur.defs[0].Interval, "check_timeout", tg.cur.defs[0].Timeout)
	}
	e.mu.Unlock()
	var background sync.WaitGroup
	background.Go(func() { e.watch(engineCtx) })
	defer func() {
		stopEngines()
		background.Wait()
		e.mu.Lock()
		for _, tg := range e.targets {
			<-tg.done
		}
		e.mu.Unlock()
		e.halting.Wait()
	}()

	server := NewHTTPServer(e.handler, slog.NewLogLogger(e.logger.Handler(), slog.LevelDebug))
	served := make(chan error, 1)
	go func() { served <- e.web.Serve(server, listeners...) }()

	var failed error
	select {
	case <-ctx.Done():
		e.shutDown()
		e.logger.Info("shutting down: readiness fails from now on; draining", "delay", e.cfg.Web.ShutdownDelay)
		time.Sleep(e.cfg.Web.ShutdownDelay)
	case err := <-served:
		e.logger.Error("server failed", "err", err)
		e.shutDown()
		failed = fmt.Errorf("server failed: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		e.logger.Error("graceful shutdown incomplete", "err", err)
	}
	if err := e.telemetry.Shutdown(shutdownCtx); err != nil {
		e.logger.Warn("flushing telemetry", "err", err)
	}
	e.logger.Info("stopped")
	return failed
}

// shutDown turns every readiness to shutting_down: the exporter's own and
// every target's.
func (e *Exporter) shutDown() {
	e.shuttingDown.Store(true)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, tg := range e.targets {
		tg.engine.ShutDown()
	}
	e.publishView()
}

// Close releases what New acquired (the pools) for an exporter that is not
// served; Serve calls it when it returns.
func (e *Exporter) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, tg := range e.targets {
		tg.cur.pool.Close()
	}
}
