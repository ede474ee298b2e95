package probes

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// readiness serves /readyz, /-/ready and /readyz/<check> from the snapshot.
// Renderings are cached per generation: a probe between two publishes costs
// one atomic load and one write.
type readiness struct {
	src      Source
	withhold func(*http.Request) bool
	cache    sync.Map // view key -> *rendered
}

// rendered is one view of one snapshot, in both forms.
type rendered struct {
	snap *health.Snapshot
	code int
	json []byte
	text []byte
}

func newReadiness(src Source, withhold func(*http.Request) bool) *readiness {
	return &readiness{src: src, withhold: withhold}
}

func (h *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	snap := h.src.Snapshot()
	v := view{snap: snap, withheld: h.withhold != nil && h.withhold(r)}
	if name := r.PathValue("check"); name != "" {
		if !v.only(name) {
			write(w, http.StatusNotFound, contentJSON,
				jsonLine(map[string]string{"status": "error", "error": fmt.Sprintf("no check named %q", short(name))}))
			return
		}
	}
	if r.URL.RawQuery != "" {
		v.exclude = r.URL.Query()["exclude"]
	}

	var out *rendered
	if len(v.exclude) == 0 {
		out = h.cached(v)
	} else {
		out = v.render()
	}
	if wantsText(r) {
		write(w, out.code, contentText, out.text)
		return
	}
	write(w, out.code, contentJSON, out.json)
}

// cached returns the rendering of an exclude-free view, rendering it once
// per generation.
func (h *readiness) cached(v view) *rendered {
	key := v.single
	if v.withheld {
		key += "\x00withheld"
	}
	if prev, ok := h.cache.Load(key); ok && prev.(*rendered).snap == v.snap {
		return prev.(*rendered)
	}
	out := v.render()
	h.cache.Store(key, out)
	return out
}

// view is what one request asks about: the whole snapshot or one check,
// minus excluded checks.
type view struct {
	snap     *health.Snapshot
	single   string   // set for /readyz/<check>
	exclude  []string // ?exclude=, repeatable
	withheld bool     // failures by reason class only (Options.Withhold)
}

// only narrows the view to one check; false if there is no such check
// ("shutdown" is the pseudo-check for the drain).
func (v *view) only(name string) bool {
	if _, ok := v.snap.Check(name); !ok && name != shutdownCheck {
		return false
	}
	v.single = name
	return true
}

const shutdownCheck = "shutdown"

// maxEcho bounds what an answer repeats of the request (a check name that
// does not exist, an ?exclude= that matches nothing): a client must not be
// able to make the exporter send back what it sent, however long.
const maxEcho = 64

// short returns s, cut to maxEcho bytes (on a character boundary) and
// marked when longer.
func short(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (v view) excluded(name string) bool { return slices.Contains(v.exclude, name) }

// checks returns the checks this view covers.
func (v view) checks() []health.CheckSnapshot {
	if v.single == "" {
		return v.snap.Checks
	}
	if c, ok := v.snap.Check(v.single); ok {
		return []health.CheckSnapshot{c}
	}
	return nil
}

// verdict is this view's readiness. The whole snapshot without exclusions
// uses the verdict computed at publish; the others apply the same pure
// function to their subset.
func (v view) verdict() health.Readiness {
	switch {
	case v.single == shutdownCheck:
		if v.snap.ShuttingDown {
			return health.ReadinessShuttingDown
		}
		return health.ReadinessReady
	case v.single != "":
		if v.snap.ShuttingDown {
			return health.ReadinessShuttingDown
		}
		c, _ := v.snap.Check(v.single)
		return health.CheckVerdict(c)
	case len(v.exclude) == 0:
		return v.snap.Readiness
	default:
		return health.Verdict(v.snap.Checks, v.snap.ShuttingDown, v.excluded)
	}
}

func (v view) render() *rendered {
	verdict := v.verdict()
	code := http.StatusServiceUnavailable
	if verdict == health.ReadinessReady {
		code = http.StatusOK
	}
	return &rendered{snap: v.snap, code: code, json: v.json(verdict), text: v.text(verdict)}
}
