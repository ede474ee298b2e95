// Package redact keeps secrets out of everything the exporter shows: error
// texts in probes, metrics and spans, and every log line.
//
//	r := redact.New(cfg.ConnConfig.Password)
//	safe := r.String(err.Error())
//	logger := slog.New(r.Handler(handler))
package redact

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// Mask replaces every secret.
const Mask = "xxxxx"

// Redactor replaces known secrets, in the forms they take in DSNs and error
// texts, with Mask. It is safe for concurrent use, and Add may learn more
// secrets while it is in use (rotated credentials). The zero value and a nil
// *Redactor redact nothing.
type Redactor struct {
	mu    sync.Mutex // serialises Add
	state atomic.Pointer[secrets]
}

// secrets are a Redactor's secrets and the replacer masking them.
type secrets struct {
	list     []string
	replacer *strings.Replacer
}

// New returns a Redactor for the given secrets; empty ones are ignored.
func New(list ...string) *Redactor {
	r := &Redactor{}
	r.state.Store(newSecrets(list))
	return r
}

func newSecrets(list []string) *secrets {
	list = slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == "" })
	var forms []string
	for _, s := range list {
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("u", s).String()[2:])
	}
	if len(forms) == 0 {
		return &secrets{}
	}
	// Longest first: an escaped form must be replaced before a shorter
	// form it contains.
	slices.SortFunc(forms, func(a, b string) int {
		if n := len(b) - len(a); n != 0 {
			return n
		}
		return strings.Compare(a, b)
	})
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Mask)
	}
	return &secrets{list: list, replacer: strings.NewReplacer(pairs...)}
}

// Add makes r mask other's secrets too, from now on.
func (r *Redactor) Add(other *Redactor) {
	more := other.state.Load()
	if more == nil || len(more.list) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var list []string
	if cur := r.state.Load(); cur != nil {
		list = cur.list
	}
	list = append(slices.Clone(list), more.list...)
	slices.Sort(list)
	r.state.Store(newSecrets(slices.Compact(list)))
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	if cur := r.state.Load(); cur != nil && cur.replacer != nil {
		return cur.replacer.Replace(s)
	}
	return s
}

// Line returns s as one line: every run of white space and control
// characters (newlines, tabs, escapes) becomes a single space.
func Line(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
