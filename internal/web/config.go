package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/prometheus/common/config"
	toolkit "github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"
)

// settings is one generation of the web configuration: what requests and
// TLS handshakes read, through an atomic pointer, until the files change.
// It is never modified once published.
type settings struct {
	tls     *tls.Config // nil: plain HTTP
	http2   bool
	headers map[string]string
	users   *users      // nil: no basic auth
	rate    *addrLimits // nil: no rate_limit
}

// defaultCipherSuites are offered on TLS 1.2 when the file names no
// cipher_suites: ECDHE key exchange with an AEAD only (Mozilla's
// "intermediate" list). Go's own default list still has the CBC-SHA
// suites. TLS 1.3 suites are not configurable and are all AEAD.
var defaultCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// files is what one reading of the configuration saw: the file's bytes and
// those of every file it names (certificate, key, client CA), each read
// once. Everything built from it comes from these bytes, so a file that
// changes while it is being read shows as a new fingerprint on the next
// look rather than as a mix of two versions.
type files struct {
	path   string
	config []byte
	err    error             // reading or decoding the file itself
	parsed *toolkit.Config   // nil when err is set
	named  map[string][]byte // the files it names, by path
	errs   map[string]error  // the named files that could not be read
}

// readFiles reads the configuration file at path and the files it names.
func readFiles(path string) *files {
	f := &files{path: path, named: map[string][]byte{}, errs: map[string]error{}}
	if f.config, f.err = os.ReadFile(path); f.err != nil {
		return f
	}
	if f.parsed, f.err = decode(path, f.config); f.err != nil {
		return f
	}
	t := f.parsed.TLSConfig
	for _, name := range []string{t.TLSCertPath, t.TLSKeyPath, t.ClientCAs} {
		if name == "" {
			continue
		}
		if b, err := os.ReadFile(name); err != nil {
			f.errs[name] = err
		} else {
			f.named[name] = b
		}
	}
	return f
}

// fingerprint identifies the content read: equal fingerprints mean
// nothing changed.
func (f *files) fingerprint() [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%q %d %q\n", f.path, len(f.config), f.config)
	for _, name := range slices.Sorted(maps.Keys(f.named)) {
		fmt.Fprintf(h, "%q %d %q\n", name, len(f.named[name]), f.named[name])
	}
	for _, name := range slices.Sorted(maps.Keys(f.errs)) {
		fmt.Fprintf(h, "%q error %v\n", name, f.errs[name])
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// decode parses the file's bytes the way exporter-toolkit does: strict
// YAML, the toolkit's defaults, file paths relative to the file.
func decode(path string, raw []byte) (*toolkit.Config, error) {
	c := &toolkit.Config{
		TLSConfig: toolkit.TLSConfig{
			MinVersion:               tls.VersionTLS12,
			MaxVersion:               tls.VersionTLS13,
			PreferServerCipherSuites: true,
		},
		HTTPConfig: toolkit.HTTPConfig{HTTP2: true},
	}
	if err := yaml.UnmarshalStrict(raw, c); err != nil {
		return nil, err
	}
	c.TLSConfig.SetDirectory(filepath.Dir(path))
	return c, nil
}

// build turns what readFiles saw into settings. prev is the generation in
// force (nil at start): its users and rate limits are kept when the file
// did not change them, so their caches and counters survive a certificate
// rotation.
func build(f *files, prev *settings) (*settings, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, name := range slices.Sorted(maps.Keys(f.errs)) {
		return nil, f.errs[name]
	}
	// The toolkit's own checks (header names and values, bcrypt hashes,
	// TLS paths): it reads the files again; if they changed in between,
	// the next look sees a new fingerprint and builds again.
	if err := toolkit.Validate(f.path); err != nil {
		return nil, err
	}
	c := f.parsed
	s := &settings{http2: c.HTTPConfig.HTTP2, headers: c.HTTPConfig.Header}
	var err error
	if s.tls, err = tlsConfig(c, f); err != nil {
		return nil, err
	}
	if s.users, err = newUsers(c, prev); err != nil {
		return nil, err
	}
	if rl := c.RateLimiterConfig; rl.Interval > 0 {
		if prev != nil && prev.rate != nil && prev.rate.every == rl.Interval && prev.rate.burst == max(rl.Burst, 1) {
			s.rate = prev.rate
		} else {
			s.rate = newAddrLimits(rl.Interval, rl.Burst)
		}
	}
	return s, nil
}

// tlsConfig builds the server's TLS configuration from the bytes read, or
// nil when the file enables no TLS. The toolkit translates the options; the
// certificate is parsed here once, instead of being read from disk on
// every handshake as the toolkit's own server does.
func tlsConfig(c *toolkit.Config, f *files) (*tls.Config, error) {
	if !c.TLSConfig.IsEnabled() {
		return nil, nil
	}
	inline := c.TLSConfig // the same options, with the files' bytes in place of their paths
	if inline.TLSCertPath != "" {
		inline.TLSCert, inline.TLSCertPath = string(f.named[inline.TLSCertPath]), ""
	}
	if inline.TLSKeyPath != "" {
		inline.TLSKey, inline.TLSKeyPath = config.Secret(f.named[inline.TLSKeyPath]), ""
	}
	if inline.ClientCAs != "" {
		inline.ClientCAsText, inline.ClientCAs = string(f.named[inline.ClientCAs]), ""
	}
	cfg, err := toolkit.ConfigToTLSConfig(&inline)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair([]byte(inline.TLSCert), []byte(inline.TLSKey))
	if err != nil {
		return nil, fmt.Errorf("certificate and key do not form a pair: %w", err)
	}
	cfg.GetCertificate = nil
	cfg.Certificates = []tls.Certificate{cert}
	if len(cfg.CipherSuites) == 0 {
		cfg.CipherSuites = defaultCipherSuites
	}
	cfg.NextProtos = []string{"http/1.1"}
	if c.HTTPConfig.HTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	return cfg, nil
}

// newUsers returns the users the file configures (nil for none), reusing
// prev's when they are the same.
func newUsers(c *toolkit.Config, prev *settings) (*users, error) {
	if len(c.Users) == 0 {
		return nil, nil
	}
	hashes := make(map[string][]byte, len(c.Users))
	cost := bcrypt.MinCost
	for name, h := range c.Users {
		hashes[name] = []byte(h)
		hc, err := bcrypt.Cost([]byte(h))
		if err != nil {
			return nil, fmt.Errorf("basic_auth_users %s: %w", name, err)
		}
		cost = max(cost, hc)
	}
	if prev != nil && prev.users != nil && maps.EqualFunc(prev.users.hashes, hashes, slices.Equal) {
		return prev.users, nil
	}
	// What an unknown user's password is compared with: a hash of a random
	// password at the highest cost in the file, so that an unknown user
	// costs as much as a known one and cannot be told apart by timing.
	random := make([]byte, 18)
	_, _ = rand.Read(random)
	fake, err := bcrypt.GenerateFromPassword(random, cost)
	if err != nil {
		return nil, errors.New("cannot make the comparison hash for unknown users: " + err.Error())
	}
	return &users{hashes: hashes, fake: fake}, nil
}

// Validate checks a web configuration file the way New will, for
// reporting configuration errors before anything starts.
func Validate(path string) error {
	if path == "" {
		return nil
	}
	_, err := load(path, nil)
	return err
}

// load reads and builds the file at path, errors naming it.
func load(path string, prev *settings) (*settings, error) {
	s, err := build(readFiles(path), prev)
	if err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	return s, nil
}
