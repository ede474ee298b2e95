package health

// Readiness is the answer /readyz gives.
type Readiness string

// The readiness statuses. Only ReadinessReady is served with 200.
const (
	ReadinessReady        Readiness = "ready"
	ReadinessNotReady     Readiness = "not_ready"
	ReadinessStarting     Readiness = "starting" // a critical check has not finished its first run
	ReadinessShuttingDown Readiness = "shutting_down"
)

// CheckVerdict is the readiness one check alone would give, whether or not it
// is critical: /readyz/<check> answers with it.
func CheckVerdict(c CheckSnapshot) Readiness {
	switch c.Status {
	case StatusOK:
		return ReadinessReady
	case StatusUnknown:
		return ReadinessStarting
	default:
		return ReadinessNotReady
	}
}

// Verdict computes readiness from the checks' statuses. Shutting down wins
// over everything; then any failing or stale critical check makes the
// exporter not ready; then a critical check without a result yet makes it
// starting. Non-critical checks and those for which excluded returns true do
// not count. excluded may be nil.
func Verdict(checks []CheckSnapshot, shuttingDown bool, excluded func(name string) bool) Readiness {
	if shuttingDown {
		return ReadinessShuttingDown
	}
	verdict := ReadinessReady
	for _, c := range checks {
		if !c.Critical || (excluded != nil && excluded(c.Name)) {
			continue
		}
		switch CheckVerdict(c) {
		case ReadinessNotReady:
			return ReadinessNotReady
		case ReadinessStarting:
			verdict = ReadinessStarting
		}
	}
	return verdict
}
