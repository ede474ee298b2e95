package exporter

import (
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
)

// reloadMetrics are Prometheus' and Alertmanager's reload metrics, under
// the exporter's prefix.
type reloadMetrics struct {
	successful prometheus.Gauge
	lastOK     prometheus.Gauge
}

func newReloadMetrics(reg prometheus.Registerer) *reloadMetrics {
	m := &reloadMetrics{
		successful: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dbhealth_config_last_reload_successful",
			Help: "1 if the last reload of the configuration (file, connection string, password) succeeded, 0 if it was refused and the previous configuration still runs.",
		}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dbhealth_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully (Unix time): the start, or the last successful reload.",
		}),
	}
	reg.MustRegister(m.successful, m.lastOK)
	m.successful.Set(1)
	m.lastOK.SetToCurrentTime()
	return m
}

// Reload reads the configuration again (the file, the connection string and
// password files) and applies it, all or nothing: on an error the running
// configuration stays, the error is logged in one line and
// dbhealth_config_last_reload_successful turns 0. Checks whose settings did
// not change keep their state and schedule; the database connection
// settings are replaced only when they changed, and the next check run
// uses them. The web configuration file is re-read as well (see
// ReloadWebConfig). The listen addresses, target name and log settings are
// read at start only.
func (e *Exporter) Reload() error {
	// The web configuration has its own last-good reload and metric
	// (dbhealth_web_config_last_reload_successful); it is re-read too.
	_ = e.ReloadWebConfig()
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.reloadLocked()
	if err != nil {
		err = fmt.Errorf("reload refused, the previous configuration stays: %s", redact.Line(e.redactor.String(err.Error())))
		e.logger.Error(err.Error())
		e.reloads.successful.Set(0)
		return err
	}
	e.reloads.successful.Set(1)
	e.reloads.lastOK.SetToCurrentTime()
	return nil
}

func (e *Exporter) reloadLocked() error {
	cfg := e.cfg
	if e.opts.load != nil {
		loaded, err := e.opts.load()
		if err != nil {
			return err
		}
		cfg = loaded.withDefaults()
	}
	if (len(cfg.Targets) > 0) != e.fleet {
		return fmt.Errorf("switching between one database and a list of targets needs a restart")
	}
	// Build everything first, from what runs: nothing running changes
	// until all of it is built and valid.
	type step struct {
		t    Target
		next *built
		prev *target // nil for a new target
	}
	var steps []step
	fail := func(t Target, err error) error {
		for _, s := range steps {
			var prev *built
			if s.prev != nil {
				prev = s.prev.cur
			}
			s.next.closeUnless(prev)
		}
		return e.targetError(t, err)
	}
	for _, t := range cfg.targets() {
		prev := e.targets[t.Name]
		var prevBuilt *built
		if prev != nil {
			prevBuilt = prev.cur
		}
		conn, err := resolve(t, e.opts.getenv, e.redactor)
		if err != nil {
			return fail(t, err)
		}
		next, err := build(t, conn, prevBuilt, e.tracer, e.redactor)
		if err != nil {
			return fail(t, err)
		}
		steps = append(steps, step{t, next, prev})
		if err := health.Validate(next.defs); err != nil {
			return fail(t, err)
		}
	}

	// Apply: cannot fail.
	kept := map[string]bool{}
	for _, s := range steps {
		kept[s.t.Name] = true
		if s.prev == nil {
			tg, err := e.newTarget(s.t, s.next)
			if err != nil { // validated above
				s.next.pool.Close()
				e.logger.Error("target not added", "target", s.t.Name, "err", err)
				continue
			}
			e.targets[s.t.Name] = tg
			if e.runCtx != nil {
				tg.start(e.runCtx)
			}
			e.logger.Info("target added", "target", s.t.Name, "database", s.next.describe())
			continue
		}
		_ = s.prev.engine.Update(s.next.defs) // validated above
		old := s.prev.cur
		s.prev.cur, s.prev.cfg = s.next, s.t
		if old.pool != s.next.pool {
			old.pool.Close() // runs in flight hold their own connections
			e.logger.Info("connection settings changed; the next check runs use them", "target", s.t.Name, "database", s.next.describe())
		}
	}
	for name, tg := range e.targets {
		if !kept[name] {
			delete(e.targets, name)
			e.halting.Go(tg.halt)
			e.logger.Info("target removed", "target", name)
		}
	}
	e.publishView()

	for _, fixed := range []struct {
		name    string
		changed bool
	}{
		{"web settings", !slices.Equal(cfg.Web.ListenAddresses, e.cfg.Web.ListenAddresses) || cfg.Web.ConfigFile != e.cfg.Web.ConfigFile ||
			cfg.Web.TelemetryPath != e.cfg.Web.TelemetryPath || cfg.Web.ProbesRequireAuth != e.cfg.Web.ProbesRequireAuth},
		{"target name", cfg.Target != e.cfg.Target},
		{"shard or concurrency settings", cfg.Fleet.MaxConcurrentChecks != e.cfg.Fleet.MaxConcurrentChecks},
	} {
		if fixed.changed {
			e.logger.Warn("changed " + fixed.name + " apply after a restart only")
		}
	}
	cfg.Web, cfg.Target, cfg.Log, cfg.Fleet.MaxConcurrentChecks = e.cfg.Web, e.cfg.Target, e.cfg.Log, e.cfg.Fleet.MaxConcurrentChecks
	e.cfg = cfg
	for _, w := range cfg.Warnings {
		e.logger.Warn(w)
	}
	e.logger.Info("configuration reloaded", "targets", len(e.targets))
	return nil
}
