package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReloadInterval is how often the configuration file and the files
// it names are looked at for changes. Reading three small files and
// hashing them costs microseconds; Kubernetes takes up to a minute to
// update a mounted Secret anyway.
const DefaultReloadInterval = 5 * time.Second

// reloader holds what the last look at the files saw and how the last
// reload went.
type reloader struct {
	mu   sync.Mutex // one reload at a time
	seen [sha256.Size]byte

	ok   atomic.Bool
	okAt atomic.Int64 // unix nanos of the last successful reload
}

func (r *reloader) succeeded(now time.Time) {
	r.ok.Store(true)
	r.okAt.Store(now.UnixNano())
}

// watch looks at the files every interval until ctx ends, and reloads when
// their content changed.
func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(s.opts.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = s.reload(false)
		}
	}
}

// Reload reads the web configuration file and the files it names now,
// changed or not (for SIGHUP and POST /-/reload), and puts it in force if
// it is valid. On error the configuration in force stays, the error is
// logged, and dbhealth_web_config_last_reload_successful turns 0 until a
// reload succeeds. Without a configuration file it does nothing.
func (s *Server) Reload() error {
	if s.opts.ConfigFile == "" {
		return nil
	}
	_, err := s.reload(true)
	return err
}

// reload builds new settings from the files if they changed since the last
// look (or if force), and reports whether it tried.
func (s *Server) reload(force bool) (bool, error) {
	s.reloads.mu.Lock()
	defer s.reloads.mu.Unlock()
	f := readFiles(s.opts.ConfigFile)
	sum := f.fingerprint()
	if sum == s.reloads.seen && !force {
		return false, nil
	}
	s.reloads.seen = sum
	cur := s.current.Load()
	next, err := build(f, cur)
	if err == nil {
		err = compatible(cur, next)
	}
	if err != nil {
		s.reloads.ok.Store(false)
		s.opts.Logger.Error("web config reload failed: serving with the last good configuration",
			"file", s.opts.ConfigFile, "err", err)
		return true, fmt.Errorf("web config %s: %w", s.opts.ConfigFile, err)
	}
	s.current.Store(next)
	s.reloads.succeeded(time.Now())
	s.opts.Logger.Info("web config reloaded", "file", s.opts.ConfigFile, "tls", next.tls != nil, "users", next.users.count())
	return true, nil
}

// compatible refuses what cannot change while listening: TLS on or off,
// and HTTP/2, which the listeners were set up for.
func compatible(cur, next *settings) error {
	switch {
	case (cur.tls == nil) != (next.tls == nil):
		return errors.New("turning TLS on or off needs a restart")
	case cur.tls != nil && cur.http2 != next.http2:
		return errors.New("turning HTTP/2 on or off needs a restart")
	}
	return nil
}

func (u *users) count() int {
	if u == nil {
		return 0
	}
	return len(u.hashes)
}
