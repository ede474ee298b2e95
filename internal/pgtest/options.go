package pgtest

import (
	"fmt"
	"regexp"
	"strings"
)

// Option configures a cluster started by New.
type Option func(*options)

type options struct {
	settings   []setting
	standby    bool
	hotStandby bool
	ssl        bool
	primary    *Cluster // WithReplicaOf
}

type setting struct{ name, value string }

// WithSetting adds a line `name = 'value'` to the cluster's configuration,
// after the harness's own settings (so it can override them), e.g.
// WithSetting("max_connections", "5").
func WithSetting(name, value string) Option {
	return func(o *options) { o.settings = append(o.settings, setting{name, value}) }
}

// WithStandby starts the cluster as a hot standby: standby.signal without a
// primary_conninfo, hot_standby = on. It accepts read-only connections and
// pg_is_in_recovery() is true.
func WithStandby() Option {
	return func(o *options) { o.standby, o.hotStandby = true, true }
}

// WithHotStandbyOff is like WithStandby with hot_standby = off: the server
// stays in recovery and refuses every connection with SQLSTATE 57P03
// (cannot_connect_now). Start and New return as soon as the server listens.
func WithHotStandbyOff() Option {
	return func(o *options) { o.standby, o.hotStandby = true, false }
}

var settingNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

func (o *options) validate() error {
	for _, s := range o.settings {
		if !settingNameRE.MatchString(s.name) {
			return fmt.Errorf("WithSetting: invalid setting name %q", s.name)
		}
		if strings.ContainsAny(s.value, "\n\r") {
			return fmt.Errorf("WithSetting(%q): value must be a single line", s.name)
		}
	}
	return nil
}

// acceptsConnections reports whether the server is expected to accept
// connections once started (false only for a standby with hot_standby off).
func (o *options) acceptsConnections() bool {
	if !o.standby {
		return true
	}
	hot := o.hotStandby
	for _, s := range o.settings {
		if strings.EqualFold(s.name, "hot_standby") {
			switch strings.ToLower(strings.TrimSpace(s.value)) {
			case "on", "true", "yes", "1":
				hot = true
			case "off", "false", "no", "0":
				hot = false
			}
		}
	}
	return hot
}

// conf renders the cluster's pgtest.conf.
func (o *options) conf(port int, sockDir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by pgtest; rewritten on every start attempt.\n")
	fmt.Fprintf(&b, "port = %d\n", port)
	fmt.Fprintf(&b, "listen_addresses = '127.0.0.1'\n")
	fmt.Fprintf(&b, "unix_socket_directories = %s\n", confQuote(sockDir))
	fmt.Fprintf(&b, "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
	if o.standby {
		if o.hotStandby {
			fmt.Fprintf(&b, "hot_standby = on\n")
		} else {
			fmt.Fprintf(&b, "hot_standby = off\n")
		}
	}
	if o.ssl {
		fmt.Fprintf(&b, "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
	}
	for _, s := range o.settings {
		fmt.Fprintf(&b, "%s = %s\n", s.name, confQuote(s.value))
	}
	return b.String()
}

func confQuote(v string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", "''") + "'"
}

// hbaConf makes every TCP connection of a role other than postgres
// authenticate with scram-sha-256, while postgres and unix sockets are trusted.
const hbaConf = `# Written by pgtest.
# TYPE  DATABASE     USER      ADDRESS       METHOD
local   all          all                     trust
local   replication  all                     trust
host    all          postgres  127.0.0.1/32  trust
host    all          postgres  ::1/128       trust
host    replication  postgres  127.0.0.1/32  trust
host    replication  postgres  ::1/128       trust
host    all          all       127.0.0.1/32  scram-sha-256
host    all          all       ::1/128       scram-sha-256
host    replication  all       127.0.0.1/32  scram-sha-256
host    replication  all       ::1/128       scram-sha-256
`
