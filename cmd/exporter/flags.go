package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// kingpin's own duration and integer flags, and promslog's, report a bad
// value without naming the flag ("time: invalid duration"); these name it.

// namedValue prefixes a value's errors with its flag.
type namedValue struct {
	name string
	kingpin.Value
}

func (v namedValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		return fmt.Errorf("--%s: %w", v.name, err)
	}
	return nil
}

type durationValue struct {
	name string
	d    *time.Duration
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("--%s: invalid duration %q (examples: 500ms, 10s, 1m30s)", v.name, s)
	}
	*v.d = d
	return nil
}

func (v durationValue) String() string { return v.d.String() }

// durationFlag makes f a duration flag setting d.
func durationFlag(f *kingpin.FlagClause, def string, d *time.Duration) {
	f.Default(def).SetValue(durationValue{f.Model().Name, d})
}

type intValue struct {
	name string
	n    *int
}

func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("--%s: invalid integer %q", v.name, s)
	}
	*v.n = n
	return nil
}

func (v intValue) String() string { return strconv.Itoa(*v.n) }

// intFlag makes f an integer flag setting n.
func intFlag(f *kingpin.FlagClause, def string, n *int) {
	f.Default(def).SetValue(intValue{f.Model().Name, n})
}
