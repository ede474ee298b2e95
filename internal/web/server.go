package web

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"slices"

	"golang.org/x/time/rate"
)

// Options configure a Server.
type Options struct {
	// ConfigFile is the exporter-toolkit web configuration file; empty
	// means plain HTTP without authentication.
	ConfigFile string
	// Public reports paths served without authentication even when the
	// file configures users. Default: none.
	Public func(path string) bool
	Logger *slog.Logger
}

// Server applies the web configuration around a handler.
type Server struct {
	opts    Options
	next    http.Handler
	tls     *tls.Config
	headers map[string]string
	limiter *rate.Limiter
	auth    authenticator
}

// New validates the configuration file and returns a Server for next.
func New(opts Options, next http.Handler) (*Server, error) {
	if opts.Public == nil {
		opts.Public = func(string) bool { return false }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, next: next}
	if opts.ConfigFile == "" {
		return s, nil
	}
	c, err := validate(opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	if s.tls, err = tlsConfig(opts.ConfigFile, c); err != nil {
		return nil, err
	}
	s.headers = c.HTTPConfig.Header
	if rl := c.RateLimiterConfig; rl.Interval > 0 {
		s.limiter = rate.NewLimiter(rate.Every(rl.Interval), rl.Burst)
	}
	return s, nil
}

// TLS reports whether the server speaks TLS.
func (s *Server) TLS() bool { return s.tls != nil }

// Serve accepts connections on l with srv, over TLS when configured. srv's
// Handler should be s.Handler().
func (s *Server) Serve(srv *http.Server, l net.Listener) error {
	s.opts.Logger.Info("listening", "address", l.Addr().String(), "tls", s.tls != nil)
	if s.tls == nil {
		return srv.Serve(l)
	}
	srv.TLSConfig = s.tls.Clone()
	if !slices.Contains(s.tls.NextProtos, "h2") {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	return srv.ServeTLS(l, "", "")
}

// Handler returns next wrapped in the configured headers (every path) and,
// on private paths, the rate limit and basic auth. The users are re-read
// from the file for every private request, as exporter-toolkit does, so they
// can be changed without a restart; public paths never read the file.
func (s *Server) Handler() http.Handler {
	if s.opts.ConfigFile == "" {
		return s.next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range s.headers {
			w.Header().Set(k, v)
		}
		if s.opts.Public(r.URL.Path) {
			s.next.ServeHTTP(w, r)
			return
		}
		if s.limiter != nil && !s.limiter.Allow() {
			http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
			return
		}
		c, err := load(s.opts.ConfigFile)
		if err != nil {
			s.opts.Logger.Error("cannot read web config", "file", s.opts.ConfigFile, "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		if len(c.Users) > 0 {
			users := make(map[string]string, len(c.Users))
			for u, h := range c.Users {
				users[u] = string(h)
			}
			user, pass, ok := r.BasicAuth()
			if !ok || !s.auth.check(users, user, pass) {
				w.Header().Set("WWW-Authenticate", "Basic")
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
				return
			}
		}
		s.next.ServeHTTP(w, r)
	})
}
