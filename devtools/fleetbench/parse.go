package main

import (
	"strconv"
	"strings"
)

// sample is one line of a text or OpenMetrics exposition.
type sample struct {
	name   string
	labels string // between the braces, as written
	value  float64
}

// samples parses the sample lines of an exposition (comments and
// malformed lines are skipped; label values may hold spaces).
func samples(body []byte) []sample {
	var out []sample
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		var s sample
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			s.name, s.labels, rest = line[:i], line[i+1:j], line[j+1:]
		} else {
			name, r, ok := strings.Cut(line, " ")
			if !ok {
				continue
			}
			s.name, rest = name, r
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// label returns the value of label name in s ("" if absent).
func (s sample) label(name string) string {
	key := name + `="`
	for rest := s.labels; rest != ""; {
		i := strings.Index(rest, key)
		if i < 0 {
			return ""
		}
		if i == 0 || rest[i-1] == ',' {
			v := rest[i+len(key):]
			if j := strings.IndexByte(v, '"'); j >= 0 {
				return v[:j]
			}
			return ""
		}
		rest = rest[i+len(key):]
	}
	return ""
}

// exposition is a parsed scrape.
type exposition []sample

func parseExposition(body []byte) exposition { return samples(body) }

// sum adds up every sample of the family name.
func (e exposition) sum(name string) float64 {
	var total float64
	for _, s := range e {
		if s.name == name {
			total += s.value
		}
	}
	return total
}

// count is how many samples of the family name have value v.
func (e exposition) count(name string, v float64) int {
	n := 0
	for _, s := range e {
		if s.name == name && s.value == v {
			n++
		}
	}
	return n
}

// byTarget maps each target to the value of its sample of name (the last
// one, if it has several).
func (e exposition) byTarget(name string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range e {
		if s.name == name {
			out[s.label("target")] = s.value
		}
	}
	return out
}

// staleTargets lists the targets whose check status is stale.
func (e exposition) staleTargets() map[string]bool {
	out := map[string]bool{}
	for _, s := range e {
		if s.name == "dbhealth_check_status" && s.value == 1 && s.label("status") == "stale" {
			out[s.label("target")] = true
		}
	}
	return out
}
