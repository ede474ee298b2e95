package probes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
)

// json renders the readiness payload. The top level keeps the shape load
// balancers already parse ("status", "<check>": "ok"|"error"|"unknown",
// "<check>_error") and adds "checks", "generation" and "target".
func (v view) json(verdict health.Readiness) []byte {
	body := map[string]any{
		"status":     verdict,
		"generation": v.snap.Generation,
		"target":     v.snap.Target,
	}
	checks := map[string]any{}
	for _, c := range v.checks() {
		checks[c.Name] = checkObject(c, v.withheld)
		switch c.Status {
		case health.StatusOK:
			body[c.Name] = "ok"
		case health.StatusUnknown:
			body[c.Name] = "unknown"
		default:
			body[c.Name] = "error"
			body[c.Name+"_error"] = problem(c, v.withheld)
		}
	}
	body["checks"] = checks
	if len(v.exclude) > 0 {
		excluded := make([]string, len(v.exclude))
		for i, name := range v.exclude {
			excluded[i] = short(name)
		}
		body["excluded"] = excluded
	}
	return jsonLine(body)
}

// Withholder is implemented by check Details that hold what anonymous
// clients should not learn (a database's name, a server's build): Withheld
// returns what they may see instead.
type Withholder interface {
	Withheld() any
}

// checkObject is one check in the payload: the fixed fields, then the
// check's own details (which cannot overwrite the fixed ones). Withheld,
// the error is only its reason class and the details are their Withheld
// form where they have one.
func checkObject(c health.CheckSnapshot, withheld bool) map[string]any {
	o := map[string]any{}
	if c.Last != nil && c.Last.Details != nil {
		details := c.Last.Details
		if w, ok := details.(Withholder); ok && withheld {
			details = w.Withheld()
		}
		if raw, err := json.Marshal(details); err == nil {
			_ = json.Unmarshal(raw, &o)
		}
	}
	o["status"] = c.Status
	o["critical"] = c.Critical
	o["consecutive_failures"] = c.ConsecutiveFailures
	if c.Last != nil {
		o["checked_at"] = c.Last.Finished.UTC().Format(time.RFC3339Nano)
		o["duration_seconds"] = c.Last.Duration().Seconds()
		if !c.Last.OK() {
			o["error"] = problem(c, withheld)
			o["reason"] = c.Last.Reason
		}
	}
	if !c.LastSuccess.IsZero() {
		o["last_success_at"] = c.LastSuccess.UTC().Format(time.RFC3339Nano)
	}
	if c.Status == health.StatusStale {
		o["error"] = problem(c, withheld)
	}
	return o
}

// problem says in one line why a check is not ok; withheld, a failed run
// says only its reason class (the Kubernetes apiserver's "reason
// withheld", with the class kept: it names no user, host or database).
func problem(c health.CheckSnapshot, withheld bool) string {
	switch {
	case c.Status == health.StatusStale && c.Last == nil:
		return "stale: no result since the exporter started"
	case c.Status == health.StatusStale:
		return fmt.Sprintf("stale: no result since %s (bound %s)",
			c.Last.Finished.UTC().Format(time.RFC3339), c.StaleAt.Sub(c.Last.Finished))
	case c.Last == nil:
		return "no result yet"
	case !c.Last.OK() && withheld:
		return c.Last.Reason + " (details withheld)"
	case !c.Last.OK():
		return c.Last.Error
	}
	return ""
}

// text renders the Kubernetes form: one [+]/[-] line per check, then the
// verdict line.
func (v view) text(verdict health.Readiness) []byte {
	var b bytes.Buffer
	for _, c := range v.checks() {
		switch {
		case v.excluded(c.Name):
			fmt.Fprintf(&b, "[+]%s excluded: ok\n", c.Name)
		case c.Status == health.StatusOK:
			fmt.Fprintf(&b, "[+]%s ok\n", c.Name)
		case !c.Critical:
			fmt.Fprintf(&b, "[-]%s failed (not critical): %s\n", c.Name, redact.Line(problem(c, v.withheld)))
		default:
			fmt.Fprintf(&b, "[-]%s failed: %s\n", c.Name, redact.Line(problem(c, v.withheld)))
		}
	}
	if v.single == "" || v.single == shutdownCheck {
		if v.snap.ShuttingDown {
			b.WriteString("[-]shutdown failed: the exporter is shutting down\n")
		} else {
			b.WriteString("[+]shutdown ok\n")
		}
	}
	var unknown []string
	for _, name := range v.exclude {
		if _, ok := v.snap.Check(name); !ok {
			unknown = append(unknown, fmt.Sprintf("%q", short(name)))
		}
	}
	if len(unknown) > 0 {
		fmt.Fprintf(&b, "warn: some health checks cannot be excluded: no matches for %s\n", strings.Join(unknown, ","))
	}
	if verdict == health.ReadinessReady {
		b.WriteString("readyz check passed\n")
	} else {
		b.WriteString("readyz check failed\n")
	}
	return b.Bytes()
}

func jsonLine(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"status":"error"}`)
	}
	return append(b, '\n')
}
