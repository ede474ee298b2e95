package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	// ConfigFile is the exporter-toolkit web configuration file; empty
	// means plain HTTP without authentication.
	ConfigFile string
	// Public reports paths served without authentication even when the
	// file configures users. Default: none.
	Public func(path string) bool
	// Logger receives reload errors and limit warnings. Default: discard.
	Logger *slog.Logger
	// MaxConnections bounds the open client connections (see Serve).
	// Default: MaxConnections(FileLimit()).
	MaxConnections int
	// ReloadInterval is how often Serve looks at the configuration files
	// for changes. Default DefaultReloadInterval.
	ReloadInterval time.Duration
}

// Server applies the web configuration around a handler.
type Server struct {
	opts     Options
	next     http.Handler
	current  atomic.Pointer[settings]
	reloads  reloader
	auth     *authenticator
	conns    *connLimit
	rejected [numReasons]atomic.Uint64
}

// New reads and validates the configuration file and returns a Server for
// next. It starts nothing: Serve does.
func New(opts Options, next http.Handler) (*Server, error) {
	if opts.Public == nil {
		opts.Public = func(string) bool { return false }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxConnections <= 0 {
		limit, _ := FileLimit()
		opts.MaxConnections = MaxConnections(limit)
	}
	if opts.ReloadInterval <= 0 {
		opts.ReloadInterval = DefaultReloadInterval
	}
	s := &Server{
		opts:  opts,
		next:  next,
		auth:  newAuthenticator(runtime.GOMAXPROCS(0)),
		conns: newConnLimit(opts.MaxConnections, opts.Logger),
	}
	cur := &settings{}
	if opts.ConfigFile != "" {
		f := readFiles(opts.ConfigFile)
		var err error
		if cur, err = build(f, nil); err != nil {
			return nil, fmt.Errorf("web config %s: %w", opts.ConfigFile, err)
		}
		s.reloads.seen = f.fingerprint()
	}
	s.current.Store(cur)
	s.reloads.succeeded(time.Now())
	return s, nil
}

// TLS reports whether the server speaks TLS.
func (s *Server) TLS() bool { return s.current.Load().tls != nil }

// Serve accepts connections on every listener with srv, over TLS when
// configured, until one of them fails or srv is shut down, and returns
// that listener's error. srv's Handler should be s.Handler(). Meanwhile it
// looks at the configuration files every ReloadInterval and reloads them
// when they change (see Reload), and keeps the open client connections
// within MaxConnections, closing the oldest idle ones first.
func (s *Server) Serve(srv *http.Server, listeners ...net.Listener) error {
	if len(listeners) == 0 {
		return errors.New("no listeners")
	}
	srv.ConnContext = s.conns.connContext
	cur := s.current.Load()
	if cur.tls != nil {
		// Every handshake reads the configuration in force: one atomic
		// load, no file.
		srv.TLSConfig = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.current.Load().tls, nil
		}}
		if !cur.http2 {
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if s.opts.ConfigFile != "" {
		go s.watch(ctx)
	}
	served := make(chan error, len(listeners))
	fileLimit, _ := FileLimit()
	for _, l := range listeners {
		s.opts.Logger.Info("listening", "address", l.Addr().String(), "tls", cur.tls != nil,
			"max_connections", s.conns.max, "file_limit", fileLimit)
		l := s.conns.listener(l)
		go func() {
			if cur.tls != nil {
				served <- srv.ServeTLS(l, "", "")
				return
			}
			served <- srv.Serve(l)
		}()
	}
	return <-served
}

// Handler returns next behind the web configuration: requests with a body
// are refused (413) on every path, configured headers are set on every
// path, and private paths are rate limited per client address and need
// basic auth when the file configures users. Public paths carrying
// credentials have them checked and marked (see Authenticated), never
// refused.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	tc := s.conns.started(r.Context())
	defer s.conns.done(tc)
	if hasBody(r) {
		s.rejected[reasonBody].Add(1)
		refuseBody(w, r)
		return
	}
	cur := s.current.Load()
	for k, v := range cur.headers {
		w.Header().Set(k, v)
	}
	if cur.users == nil && cur.rate == nil { // nothing to check on any path
		s.next.ServeHTTP(w, r)
		return
	}
	if s.opts.Public(r.URL.Path) {
		if cur.users != nil && r.Header.Get("Authorization") != "" && s.auth.check(r, cur.users, false) == accepted {
			r = markAuthenticated(r)
		}
		s.next.ServeHTTP(w, r)
		return
	}
	if cur.rate != nil && !cur.rate.take(clientAddr(r), time.Now()) {
		s.refuse(w, reasonThrottled)
		return
	}
	if cur.users == nil {
		s.next.ServeHTTP(w, r)
		return
	}
	switch s.auth.check(r, cur.users, true) {
	case accepted:
		s.next.ServeHTTP(w, markAuthenticated(r))
	case throttled:
		s.refuse(w, reasonThrottled)
	case busy:
		s.refuse(w, reasonBusy)
	default:
		s.refuse(w, reasonUnauthorized)
	}
}

// reason is why a request was answered without reaching the handler.
type reason int

const (
	reasonBody reason = iota
	reasonUnauthorized
	reasonThrottled
	reasonBusy
	numReasons
)

var reasonNames = [numReasons]string{"body", "unauthorized", "throttled", "busy"}

func (s *Server) refuse(w http.ResponseWriter, why reason) {
	s.rejected[why].Add(1)
	code := http.StatusUnauthorized
	switch why {
	case reasonUnauthorized:
		w.Header().Set("WWW-Authenticate", "Basic")
	case reasonThrottled:
		code = http.StatusTooManyRequests
		w.Header().Set("Retry-After", "1")
	case reasonBusy:
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	http.Error(w, http.StatusText(code), code)
}

// hasBody reports whether the request comes with a body (a
// Content-Length above zero, or chunked).
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 || (r.Body != nil && r.Body != http.NoBody)
}

// refuseBody answers 413 without reading the body. No endpoint takes one,
// and a client that announces a body and never sends it must not hold the
// connection: net/http would wait for up to 256 KiB of it after the
// handler returns, so the connection is marked to close and its read
// deadline set to now.
func refuseBody(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
	http.Error(w, "request bodies are not accepted", http.StatusRequestEntityTooLarge)
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}
