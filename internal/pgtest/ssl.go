package pgtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// WithSSL enables TLS with a server certificate for the name "localhost"
// only, signed by a CA made for this cluster (CACertFile). Clients that
// verify (sslmode=verify-full) must connect to host=localhost; 127.0.0.1
// fails the name check.
func WithSSL() Option {
	return func(o *options) { o.ssl = true }
}

// CACertFile is the PEM file of the CA that signed the server certificate of
// a cluster started WithSSL ("" otherwise).
func (c *Cluster) CACertFile() string {
	if !c.opts.ssl {
		return ""
	}
	return filepath.Join(c.base, "ca.crt")
}

// writeSSL makes the CA and the server's key and certificate.
func (c *Cluster) writeSSL() error {
	caKey, caCert, caDER, err := newCA("pgtest CA")
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := c.in.writeFile(filepath.Join(c.dataDir, "server.crt"), pemBlock("CERTIFICATE", der), 0o600); err != nil {
		return err
	}
	if err := c.in.writeFile(filepath.Join(c.dataDir, "server.key"), pemBlock("EC PRIVATE KEY", keyDER), 0o600); err != nil {
		return err
	}
	return os.WriteFile(c.CACertFile(), pemBlock("CERTIFICATE", caDER), 0o644)
}

// NewCAFile writes the certificate of a fresh, unrelated CA to path: a CA a
// server's certificate does not chain to.
func NewCAFile(path string) error {
	_, _, der, err := newCA("unrelated CA")
	if err != nil {
		return err
	}
	return os.WriteFile(path, pemBlock("CERTIFICATE", der), 0o644)
}

func newCA(name string) (*ecdsa.PrivateKey, *x509.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, der, err
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}
