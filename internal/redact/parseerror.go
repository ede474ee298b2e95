package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ParseError says why a connection string does not parse, and where (a
// byte offset, a keyword), without quoting any of it: in a string that
// does not parse, no reading can be sure where the password ends, and pgx's
// own message quotes the string and the token it stopped at (which may be
// the password: ?password:SECRET, an unquoted space in a password).
// The text is built from fixed phrases, libpq keyword names and numbers
// only.
func ParseError(err error) string {
	const prefix = "cannot parse the connection string"
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return prefix
	}
	text := pce.Error()
	for _, k := range pgxMessages {
		if !strings.Contains(text, "`: "+k.head) {
			continue
		}
		why := k.why
		switch {
		case k.syntax != nil:
			if w := k.syntax(pce.ConnString); w != "" {
				why = w
			}
		case errors.Unwrap(pce) != nil:
			if reason := safeReason(errors.Unwrap(pce)); reason != "" {
				why += ": " + reason
			}
		}
		return prefix + ": " + why
	}
	return prefix
}

// pgxMessages are the messages of pgx's ParseConfigError, by the fixed
// text they start with, and what ParseError says for each: the fixed text
// itself, or for a syntax error what urlProblem or keywordProblem find.
var pgxMessages = []struct {
	head, why string
	syntax    func(string) string
}{
	{"failed to parse as URL", "not a valid URL", urlProblem},
	{"failed to parse as keyword/value", "not a valid keyword/value string", keywordProblem},
	{"failed to read service", "failed to read service", nil},
	{"invalid sslcertmode", "invalid sslcertmode", nil},
	{"invalid connect_timeout", "invalid connect_timeout", nil},
	{"could not match ", "the number of ports does not match the number of hosts", nil},
	{"invalid port", "invalid port", nil},
	{"failed to configure TLS", "failed to configure TLS", nil},
	{"unknown target_session_attrs value", "unknown target_session_attrs value", nil},
	{"invalid min_protocol_version", "invalid min_protocol_version", nil},
	{"invalid max_protocol_version", "invalid max_protocol_version", nil},
	{"min_protocol_version cannot be greater than max_protocol_version", "min_protocol_version cannot be greater than max_protocol_version", nil},
	{"unknown channel_binding value", "unknown channel_binding value", nil},
	{"invalid require_auth", "invalid require_auth", nil},
	{"invalid default_query_exec_mode", "invalid default_query_exec_mode", nil},
	{"pool_max_conns too small", "pool_max_conns too small", nil},
	{"cannot parse pool_max_conns", "cannot parse pool_max_conns", nil},
	{"cannot parse pool_min_conns", "cannot parse pool_min_conns", nil},
	{"cannot parse pool_min_idle_conns", "cannot parse pool_min_idle_conns", nil},
	{"cannot parse pool_max_conn_lifetime_jitter", "cannot parse pool_max_conn_lifetime_jitter", nil},
	{"cannot parse pool_max_conn_lifetime", "cannot parse pool_max_conn_lifetime", nil},
	{"cannot parse pool_max_conn_idle_time", "cannot parse pool_max_conn_idle_time", nil},
	{"cannot parse pool_health_check_period", "cannot parse pool_health_check_period", nil},
	{"cannot parse pool_ping_timeout", "cannot parse pool_ping_timeout", nil},
	{"cannot parse statement_cache_capacity", "cannot parse statement_cache_capacity", nil},
	{"cannot parse description_cache_capacity", "cannot parse description_cache_capacity", nil},
}

// innerHeads are the fixed beginnings of the errors pgx wraps in a
// ParseConfigError; what follows them may quote the connection string.
var innerHeads = []string{
	"sslmode is invalid",
	`both "sslcert" and "sslkey" are required`,
	"failed to decode sslkey",
	"unable to add CA to cert pool",
	"unable to find sslpassword",
	"negative timeout",
	"outside range",
	"unable to load system certificate pool",
	"unable to read CA file",
	"unable to read sslkey",
	"unable to decrypt key",
	"unable to read cert",
	"unable to load cert",
	"failed to read service file",
	"unable to find service",
	"unknown value",
	"unknown sslcertmode value",
	"invalid protocol version",
	"time: invalid duration",
	"time: unknown unit",
	"time: missing unit",
}

// safeReason describes an error pgx wrapped without any text of the
// connection string: numbers, file errors by their operation and cause,
// and the fixed beginnings of known messages; "" for anything else.
func safeReason(err error) string {
	text := err.Error()
	for _, head := range innerHeads {
		if strings.HasPrefix(text, head) {
			if inner := errors.Unwrap(err); inner != nil {
				if reason := safeReason(inner); reason != "" {
					return head + ": " + reason
				}
			}
			return head
		}
	}
	var num *strconv.NumError
	if errors.As(err, &num) {
		if errors.Is(num.Err, strconv.ErrRange) {
			return "out of range"
		}
		return "not a number"
	}
	var path *fs.PathError
	if errors.As(err, &path) {
		return path.Op + ": " + path.Err.Error()
	}
	return ""
}

// at says where, as a byte offset from 0.
func at(offset int) string { return fmt.Sprintf("at byte offset %d", offset) }

// keyName names a setting in a message: a libpq or pgx keyword by its
// name, anything else (it may be a password's text) as "a setting".
func keyName(key string) string {
	if keywords[key] {
		return key
	}
	return "a setting"
}

// keywords are the settings libpq and pgx know.
var keywords = setOf(strings.Fields(`host hostaddr port dbname database user password passfile
		channel_binding connect_timeout client_encoding options application_name
		fallback_application_name keepalives keepalives_idle keepalives_interval
		keepalives_count tcp_user_timeout replication gssencmode sslmode sslnegotiation
		sslcompression sslcert sslkey sslcertmode sslpassword sslrootcert sslcrl sslcrldir
		sslsni requirepeer require_auth ssl_min_protocol_version ssl_max_protocol_version
		min_protocol_version max_protocol_version krbsrvname gsslib gssdelegation service
		servicefile target_session_attrs load_balance_hosts ssl statement_cache_capacity
		description_cache_capacity default_query_exec_mode pool_max_conns pool_min_conns
		pool_min_idle_conns pool_max_conn_lifetime pool_max_conn_idle_time
		pool_health_check_period pool_max_conn_lifetime_jitter pool_ping_timeout`))

func setOf(list []string) map[string]bool {
	set := make(map[string]bool, len(list))
	for _, k := range list {
		set[k] = true
	}
	return set
}
