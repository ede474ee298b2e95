package probes

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// The status page's cache: each target's part of the page (a fragment) is
// rendered once per snapshot of the target, and the page's order and
// counts once per set of snapshots. The ages in a fragment (for how long a
// check has been failing, when it last ran) are filled in per request.

// statusView is the rendering of one set of target snapshots.
type statusView struct {
	byTarget []*fragment // in the order the source lists the targets
	order    []*fragment // worst group first, by name within a group
	counts   [groups]int
	size     int // bytes of every fragment, roughly, with the ages filled in
}

// current returns the view of targets: the last one if the targets are
// the same snapshots, or a new one that renders only the targets whose
// snapshot changed.
func (l *landing) current(targets []Target) (*statusView, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	prev := l.view
	if prev != nil && len(prev.byTarget) == len(targets) {
		same := true
		for i, t := range targets {
			if !prev.byTarget[i].shows(t) {
				same = false
				break
			}
		}
		if same {
			return prev, nil
		}
	}
	cached := map[*health.Snapshot]*fragment{}
	if prev != nil {
		for _, f := range prev.byTarget {
			cached[f.snap] = f
		}
	}
	next := &statusView{byTarget: make([]*fragment, len(targets))}
	var scratch bytes.Buffer
	for i, t := range targets {
		f, ok := cached[t.Snapshot]
		if !ok || !f.shows(t) {
			var err error
			if f, err = newFragment(&scratch, t, l.fleet != nil); err != nil {
				return nil, err
			}
		}
		next.byTarget[i] = f
		next.counts[f.group]++
		next.size += len(f.html) + 8*len(f.ages)
	}
	next.order = slices.Clone(next.byTarget)
	slices.SortFunc(next.order, func(a, b *fragment) int {
		if a.group != b.group {
			return int(a.group) - int(b.group)
		}
		return strings.Compare(a.name, b.name)
	})
	l.view = next
	return next, nil
}

// fragment is one target's part of the page, rendered from one snapshot:
// HTML with, at each of ages, the time elapsed since a moment to insert.
type fragment struct {
	snap   *health.Snapshot
	name   string
	labels map[string]string
	group  group
	html   []byte
	ages   []ageSlot
}

type ageSlot struct {
	at    int   // offset in html
	since int64 // Unix nanoseconds
}

// shows reports whether f is the rendering of t.
func (f *fragment) shows(t Target) bool {
	return f.snap == t.Snapshot && f.name == t.Name && maps.Equal(f.labels, t.Labels)
}

// newFragment renders t, using scratch for the template's output.
func newFragment(scratch *bytes.Buffer, t Target, fleet bool) (*fragment, error) {
	scratch.Reset()
	if err := statusTemplates.ExecuteTemplate(scratch, "target", newTargetRow(t, fleet)); err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	html, ages, err := cutAgeMarks(scratch.Bytes())
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	return &fragment{snap: t.Snapshot, name: t.Name, labels: t.Labels, group: classify(t.Snapshot), html: html, ages: ages}, nil
}

// writeTo writes the fragment with the ages as of now.
func (f *fragment) writeTo(b *bytes.Buffer, now time.Time) {
	from := 0
	for _, a := range f.ages {
		b.Write(f.html[from:a.at])
		b.Write(appendAge(b.AvailableBuffer(), now.Sub(time.Unix(0, a.since))))
		from = a.at
	}
	b.Write(f.html[from:])
}

// ageMark stands, in a rendered fragment, where the time elapsed since t
// goes: NUL, t in Unix nanoseconds, NUL. html/template writes every NUL
// that the data holds as U+FFFD, so the marks are the only NULs there are.
func ageMark(t time.Time) template.HTML {
	return template.HTML("\x00" + strconv.FormatInt(t.UnixNano(), 10) + "\x00")
}

// cutAgeMarks takes the marks that ageMark left out of rendered and
// returns where they were.
func cutAgeMarks(rendered []byte) ([]byte, []ageSlot, error) {
	out := make([]byte, 0, len(rendered))
	var ages []ageSlot
	rest := rendered
	for {
		before, after, ok := bytes.Cut(rest, []byte{0})
		out = append(out, before...)
		if !ok {
			return out, ages, nil
		}
		digits, after, ok := bytes.Cut(after, []byte{0})
		n, err := strconv.ParseInt(string(digits), 10, 64)
		if !ok || err != nil {
			return nil, nil, errors.New("a NUL in the rendering that is not an age mark")
		}
		ages = append(ages, ageSlot{at: len(out), since: n})
		rest = after
	}
}

// appendAge appends d for people, to the second under a minute and to
// the minute beyond: 42s, 12m 5s, 3h 12m, 2d 4h.
func appendAge(b []byte, d time.Duration) []byte {
	s := int64(max(d, 0) / time.Second)
	pair := func(b []byte, hi int64, hiUnit string, lo int64, loUnit string) []byte {
		b = append(strconv.AppendInt(b, hi, 10), hiUnit...)
		if lo == 0 {
			return b
		}
		return append(strconv.AppendInt(append(b, ' '), lo, 10), loUnit...)
	}
	switch {
	case s < 60:
		return append(strconv.AppendInt(b, s, 10), 's')
	case s < 3600:
		return pair(b, s/60, "m", s%60, "s")
	case s < 86400:
		return pair(b, s/3600, "h", s%3600/60, "m")
	}
	return pair(b, s/86400, "d", s%86400/3600, "h")
}
