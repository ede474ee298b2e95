package web

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"

	toolkit "github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
)

// load reads the web configuration file the way exporter-toolkit does:
// strict YAML, the toolkit's defaults, file paths relative to the file.
func load(path string) (*toolkit.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
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

// Validate checks a web configuration file the way New will, for
// reporting configuration errors before anything starts.
func Validate(path string) error {
	if path == "" {
		return nil
	}
	c, err := validate(path)
	if err != nil {
		return err
	}
	_, err = tlsConfig(path, c)
	return err
}

// validate checks the file with the toolkit (TLS files, bcrypt hashes,
// header names) and returns it parsed.
func validate(path string) (*toolkit.Config, error) {
	if err := toolkit.Validate(path); err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	c, err := load(path)
	if err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	return c, nil
}

// tlsConfig returns the server TLS configuration, or nil when the file
// enables no TLS. Certificates are re-read for every new connection, so a
// rotated certificate is picked up without a restart.
func tlsConfig(path string, c *toolkit.Config) (*tls.Config, error) {
	if !c.TLSConfig.IsEnabled() {
		return nil, nil
	}
	cfg, err := toolkit.ConfigToTLSConfig(&c.TLSConfig)
	if err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	nextProtos := []string{"http/1.1"}
	if c.HTTPConfig.HTTP2 {
		nextProtos = []string{"h2", "http/1.1"}
	}
	cfg.NextProtos = nextProtos
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		current, err := load(path)
		if err != nil {
			return nil, err
		}
		fresh, err := toolkit.ConfigToTLSConfig(&current.TLSConfig)
		if err != nil {
			return nil, err
		}
		fresh.NextProtos = nextProtos
		return fresh, nil
	}
	return cfg, nil
}
