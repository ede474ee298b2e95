package exporter

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Files are watched for changes so that what operators change under a
// running exporter (a rotated Secret, a new configuration) is used without
// a restart. A Kubernetes Secret or ConfigMap volume swaps a "..data"
// symlink, a Vault agent renames a new file into place, an editor writes in
// place: each shows as an event in the file's directory, so the
// directories are watched, and a change is a change of content. A poll
// catches what the events miss (some volume types send none).
const (
	settle   = 100 * time.Millisecond // events come in bursts; wait for the last, and for content that holds
	pollEach = 30 * time.Second
)

// watchedFiles are the files the current configuration was read from.
func (e *Exporter) watchedFiles() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	files := []string{e.cfg.ConfigFile, passfile(e.opts.getenv)}
	for _, t := range e.targets {
		files = append(files, t.cfg.Database.DSNFile, t.cfg.Database.PasswordFile)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == "" })
	slices.Sort(files)
	return slices.Compact(files)
}

// passfile is libpq's password file: PGPASSFILE, else ~/.pgpass. (A
// passfile parameter in the connection string is not watched.)
func passfile(getenv func(string) string) string {
	if p := getenv("PGPASSFILE"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".pgpass")
}

// watch reloads whenever a watched file's content changes, until ctx ends.
func (e *Exporter) watch(ctx context.Context) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		e.logger.Warn("cannot watch files for changes; only polling them", "err", err)
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		defer w.Close()
		events, errs = w.Events, w.Errors
	}
	files := e.watchedFiles()
	seen := contents(files)
	watching := map[string]bool{}
	follow := func() {
		if w == nil {
			return
		}
		for _, f := range files {
			if dir := filepath.Dir(f); !watching[dir] {
				if err := w.Add(dir); err == nil {
					watching[dir] = true
				}
			}
		}
	}
	follow()
	poll := time.NewTicker(pollEach)
	defer poll.Stop()
	var settling <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-events:
			settling = time.After(settle)
			continue
		case err := <-errs:
			e.logger.Warn("watching files", "err", err)
			continue
		case <-settling:
		case <-poll.C:
		}
		settling = nil
		switch changedAndSettled(ctx, files, seen) {
		case unchanged:
			continue
		case unsettled:
			settling = time.After(settle)
			continue
		}
		_ = e.Reload() // logged and counted
		files = e.watchedFiles()
		seen = contents(files)
		follow()
	}
}

type change int

const (
	unchanged change = iota
	unsettled        // changed, and still changing
	settled          // changed, and the same for the settling time
)

// changedAndSettled compares the files with seen. A file written in place
// is first truncated, then written: an empty or half-written configuration
// is valid YAML, and reloading it would drop checks. So a change counts
// once the content has stayed the same for the settling time.
func changedAndSettled(ctx context.Context, files []string, seen [][]byte) change {
	now := contents(files)
	if equalContents(seen, now) {
		return unchanged
	}
	select {
	case <-ctx.Done():
		return unchanged
	case <-time.After(settle):
	}
	if !equalContents(now, contents(files)) {
		return unsettled
	}
	return settled
}

// contents reads each file; a missing one reads as nil.
func contents(files []string) [][]byte {
	out := make([][]byte, len(files))
	for i, f := range files {
		out[i], _ = os.ReadFile(f)
	}
	return out
}

func equalContents(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
