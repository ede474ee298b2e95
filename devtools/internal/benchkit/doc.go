// Package benchkit holds what the benchmark drivers under devtools share:
// statistics over rounds, readings of /proc, the servers they start, the
// description of the machine and the formatting of their Markdown reports.
package benchkit
