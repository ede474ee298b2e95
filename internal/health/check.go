package health

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// Defaults for a Definition's zero fields.
const (
	DefaultInterval = 10 * time.Second
	DefaultTimeout  = 2 * time.Second
)

// Checker is one kind of check: it looks at the world once and says what it
// saw. Run must honour ctx's deadline.
//
// A Checker may also implement Reasons() []string, every failure reason it
// can report: its Stats then count each of them from 0, with the engine's
// own (other, panic, timeout), so that a failure counter exists before its
// first failure.
type Checker interface {
	Run(ctx context.Context) Result
}

// reasonsOf lists what d's Stats count from the start.
func reasonsOf(d Definition) []string {
	reasons := []string{reasonOther, reasonPanic, reasonTimeout}
	if l, ok := d.Checker.(interface{ Reasons() []string }); ok {
		reasons = append(reasons, l.Reasons()...)
	}
	return reasons
}

// Result is what one run of a check found. A run failed if and only if Err is
// not nil.
type Result struct {
	// Err says why the run failed; nil when it passed. Its text is redacted
	// before it is stored.
	Err error
	// Reason is a short, stable failure class such as "refused" or
	// "timeout", used as a metric label. Empty on success.
	Reason string
	// Details are the check's own findings (latency, server version,
	// migration lists). They are shown under the check in the probe JSON,
	// and a Checker with metrics of its own builds them from its Details
	// (see metrics.CheckCollector). Optional, also on failure.
	Details any
}

// OK reports whether the run passed.
func (r Result) OK() bool { return r.Err == nil }

// Definition describes one check and how it is scheduled.
type Definition struct {
	// Name identifies the check in probes (/readyz/<name>), metrics
	// (check="<name>") and spans: lower case letters, digits and '_'.
	Name    string
	Checker Checker
	// Critical checks decide readiness; the others are reported only.
	Critical bool
	// Interval between the end of one run and the start of the next.
	// Default 10s.
	Interval time.Duration
	// Timeout bounds one run. Default 2s; must be shorter than Interval.
	Timeout time.Duration
	// FailureThreshold is the number of consecutive failures after which a
	// check that was ok turns failing. Default 1. A check that has never
	// succeeded is failing from its first failure.
	FailureThreshold int
	// SuccessThreshold is the number of consecutive successes after which
	// a failing check is ok again. Default 1.
	SuccessThreshold int
	// StaleAfter is how old the last result may grow before the check is
	// stale. Default 3 x Interval + Timeout.
	StaleAfter time.Duration
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// reservedNames would collide with the top-level fields of the readiness
// payload or with the pseudo-check "shutdown".
var reservedNames = map[string]bool{
	"status": true, "checks": true, "generation": true, "target": true, "shutdown": true,
}

// withDefaults returns d with its zero fields filled in.
func (d Definition) withDefaults() Definition {
	if d.Interval == 0 {
		d.Interval = DefaultInterval
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultTimeout
	}
	if d.FailureThreshold == 0 {
		d.FailureThreshold = 1
	}
	if d.SuccessThreshold == 0 {
		d.SuccessThreshold = 1
	}
	if d.StaleAfter == 0 {
		d.StaleAfter = 3*d.Interval + d.Timeout
	}
	return d
}

// validate reports the first problem with a defaulted definition.
func (d Definition) validate() error {
	switch {
	case !validName.MatchString(d.Name):
		return fmt.Errorf("check name %q: use lower case letters, digits and '_'", d.Name)
	case reservedNames[d.Name]:
		return fmt.Errorf("check name %q is reserved", d.Name)
	case d.Checker == nil:
		return fmt.Errorf("check %q: no checker", d.Name)
	case d.Interval < 0 || d.Timeout <= 0:
		return fmt.Errorf("check %q: interval and timeout must be positive", d.Name)
	case d.Timeout >= d.Interval:
		return fmt.Errorf("check %q: timeout %s must be shorter than interval %s", d.Name, d.Timeout, d.Interval)
	case d.FailureThreshold < 1 || d.SuccessThreshold < 1:
		return fmt.Errorf("check %q: thresholds must be at least 1", d.Name)
	case d.StaleAfter <= d.Interval+d.Timeout:
		return fmt.Errorf("check %q: staleness bound %s must exceed interval + timeout (%s)", d.Name, d.StaleAfter, d.Interval+d.Timeout)
	}
	return nil
}
