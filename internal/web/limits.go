package web

// Connection limits (the reasons are in docs/endpoints.md, "Limits").
const (
	// DefaultMaxConnections bounds the client connections when the file
	// descriptor limit allows it. Probes and scrapes need a handful; an
	// open connection costs about 25 KiB, so the bound costs at most
	// about 13 MiB of the container's 64 MiB.
	DefaultMaxConnections = 512
	// ReservedFiles are file descriptors kept out of the clients' reach:
	// the checks' database connections, migration files, the web
	// configuration and its certificates, OTLP exports, the runtime's own.
	// The exporter uses about 15 of them; the rest is margin.
	ReservedFiles = 128
	// minConnections is the least the bound is set to however low the
	// descriptor limit: the probes must be able to connect at all.
	minConnections = 16
)

// MaxConnections is the bound on client connections for a process whose
// file descriptor limit is fileLimit: DefaultMaxConnections, or fewer so
// that ReservedFiles descriptors remain for everything else.
func MaxConnections(fileLimit uint64) int {
	if fileLimit <= ReservedFiles+minConnections {
		return minConnections
	}
	return int(min(fileLimit-ReservedFiles, DefaultMaxConnections))
}

// FileLimit is the process's file descriptor limit (the soft
// RLIMIT_NOFILE), and whether it could be read. The Go runtime raises the
// soft limit to the hard limit when the process starts, so this is the
// hard limit the container runtime or prlimit set.
func FileLimit() (uint64, bool) { return fileLimit() }
