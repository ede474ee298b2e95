package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is the configuration file. Every key is optional; an empty file or
// an empty mapping means all defaults.
type File struct {
	Defaults Schedule `yaml:"defaults"`
	Database Database `yaml:"database"`
	Checks   Checks   `yaml:"checks"`
	// Targets, present, are fleet mode's databases; Database is then
	// unused, and Checks are every target's defaults.
	Targets []Target `yaml:"targets"`

	// Path is where the file was read from.
	Path string `yaml:"-"`
	// Warnings are problems that do not stop the file from loading.
	Warnings []string `yaml:"-"`
}

// Schedule is a check's timing and thresholds.
type Schedule struct {
	Interval         *time.Duration `yaml:"interval"`
	Timeout          *time.Duration `yaml:"timeout"`
	FailureThreshold *int           `yaml:"failure_threshold"`
	SuccessThreshold *int           `yaml:"success_threshold"`
	StaleAfter       *time.Duration `yaml:"stale_after"`
}

// Check is one check's own settings.
type Check struct {
	Schedule `yaml:",inline"`
	Critical *bool `yaml:"critical"`
}

// Database is the database block: where the connection string and the
// password come from, and what kind of server is expected.
type Database struct {
	DSN          string `yaml:"dsn"`
	DSNFile      string `yaml:"dsn_file"`
	DSNEnv       string `yaml:"dsn_env"`
	PasswordFile string `yaml:"password_file"`
	Expect       string `yaml:"expect"`
}

// Checks are the checks' own blocks.
type Checks struct {
	Database       Check           `yaml:"database"`
	Migrations     Migrations      `yaml:"migrations"`
	ReplicationLag *ReplicationLag `yaml:"replication_lag"`
	Connections    *Connections    `yaml:"connections"`
	Custom         []Custom        `yaml:"custom"`
}

// ReplicationLag is the replication lag check's block; present, it enables
// the check.
type ReplicationLag struct {
	Check       `yaml:",inline"`
	MaxLag      *time.Duration `yaml:"max_lag"`
	MaxLagBytes *int64         `yaml:"max_lag_bytes"`
}

// Connections is the connection headroom check's block; present, it
// enables the check.
type Connections struct {
	Check        `yaml:",inline"`
	MaxUsedRatio *float64 `yaml:"max_used_ratio"`
	MinFree      *int     `yaml:"min_free"`
}

// Custom is one custom check.
type Custom struct {
	Check   `yaml:",inline"`
	Name    string   `yaml:"name"`
	SQL     string   `yaml:"sql"`
	Min     *float64 `yaml:"min"`
	Max     *float64 `yaml:"max"`
	MinRows *int     `yaml:"min_rows"`
	MaxRows *int     `yaml:"max_rows"`
}

// Migrations is the migrations check's block.
type Migrations struct {
	Check           `yaml:",inline"`
	Dir             string `yaml:"dir"`
	Tool            string `yaml:"tool"`
	Table           string `yaml:"table"`
	Schema          string `yaml:"schema"`
	ExpectedVersion string `yaml:"expected_version"`
	FailOnUnknown   *bool  `yaml:"fail_on_unknown"`
}

// Target is one database of fleet mode.
type Target struct {
	Name     string            `yaml:"name"`
	Database Database          `yaml:"database"`
	Checks   Checks            `yaml:"checks"`
	Labels   map[string]string `yaml:"labels"`
}

// Error is a problem with the file: where it is and what is wrong.
type Error struct {
	Path string
	Line int    // 0 when the problem has no line
	Key  string // dotted, e.g. checks.database.interval; "" for the file
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Load reads and checks the file at path: strict YAML (an unknown key or a
// value of the wrong type is an error naming its line and key), then the
// values themselves. Relative paths in it are relative to the file's
// directory. getenv resolves dsn_env.
func Load(path string, getenv func(string) string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	f, err := parse(path, raw)
	if err != nil {
		return nil, err
	}
	return f, f.check(raw, getenv)
}

// parse decodes raw strictly.
func parse(path string, raw []byte) (*File, error) {
	f := &File{Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	err := dec.Decode(f)
	if errors.Is(err, io.EOF) { // an empty file
		return f, nil
	}
	if err != nil {
		return nil, yamlError(path, raw, err)
	}
	var second yaml.Node
	if dec.Decode(&second) == nil {
		return nil, &Error{Path: path, Line: second.Line, Msg: "more than one YAML document"}
	}
	return f, nil
}

var (
	lineMessage = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownKey  = regexp.MustCompile(`^field (\S+) not found in type`)
	wrongType   = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
	syntaxLine  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// yamlError turns the decoder's error into one line naming the first
// problem's line and key.
func yamlError(path string, raw []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &Error{Path: path, Line: line, Msg: "not valid YAML: " + m[2]}
		}
		return &Error{Path: path, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	m := lineMessage.FindStringSubmatch(te.Errors[0])
	if m == nil {
		return &Error{Path: path, Msg: te.Errors[0]}
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	var key string
	switch {
	case unknownKey.MatchString(msg):
		key = keyAt(raw, line, unknownKey.FindStringSubmatch(msg)[1])
		msg = "unknown key"
	case wrongType.MatchString(msg):
		t := wrongType.FindStringSubmatch(msg)
		key = keyAt(raw, line, t[2])
		msg = "want " + typeName(t[3])
		if t[2] != "" {
			msg += fmt.Sprintf(", got %q", t[2])
		} else {
			msg += ", got a " + yamlKind(t[1])
		}
	}
	return &Error{Path: path, Line: line, Key: key, Msg: msg}
}

// typeName says what a Go type is in the file's terms.
func typeName(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "time.Duration":
		return "a duration (500ms, 10s, 1m30s)"
	case "int", "int64":
		return "a whole number"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	}
	return "a mapping"
}

func yamlKind(tag string) string {
	switch tag {
	case "map":
		return "mapping"
	case "seq":
		return "list"
	}
	return tag
}

// keyAt returns the dotted key that stands on line: the one spelt text, or
// whose scalar value is text, else the deepest key on the line.
func keyAt(raw []byte, line int, text string) string {
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil {
		return ""
	}
	var found, deepest string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if found == "" && (k.Line == line && k.Value == text || v.Kind == yaml.ScalarNode && v.Line == line && v.Value == text) {
					found = p
				}
				if k.Line == line {
					deepest = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(&root, "")
	if found == "" {
		return deepest
	}
	return found
}

// lineOf returns the line of the dotted key in raw, 0 if it is not there.
func lineOf(raw []byte, key string) int {
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil || len(root.Content) == 0 {
		return 0
	}
	n := root.Content[0]
	line := 0
	for _, part := range strings.Split(key, ".") {
		name, index, _ := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		if n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				line, next = n.Content[i].Line, n.Content[i+1]
			}
		}
		if next == nil {
			return line
		}
		if i, err := strconv.Atoi(index); err == nil {
			if next.Kind != yaml.SequenceNode || i >= len(next.Content) {
				return line
			}
			next = next.Content[i]
			line = next.Line
		}
		n = next
	}
	return line
}

// relative resolves p against the file's directory.
func (f *File) relative(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(f.Path), p)
}
