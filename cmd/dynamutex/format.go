package main

import (
	"fmt"

	"github.com/dynamutex/dynamutex"
)

// formatValue is the --format flag: the record format the tool writes,
// native (the default), java or python, so that it shares a table with the
// Java or the Python lock client (dynamutex.WithFormat).
type formatValue struct {
	f *dynamutex.Format
}

var formats = []dynamutex.Format{dynamutex.FormatNative, dynamutex.FormatJava, dynamutex.FormatPython}

func (v formatValue) String() string {
	if v.f == nil {
		return dynamutex.FormatNative.String()
	}
	return v.f.String()
}

// Set takes a format's name, as Format.String spells it.
func (v formatValue) Set(s string) error {
	for _, f := range formats {
		if f.String() == s {
			*v.f = f
			return nil
		}
	}
	return fmt.Errorf("unknown format %q", s)
}

// Get returns the dynamutex.Format, for the messages about refused values.
func (v formatValue) Get() any { return *v.f }
