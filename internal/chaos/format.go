package chaos

import (
	"fmt"

	"github.com/dynamutex/dynamutex"
)

// ParseFormat reads a record format by its name, as Format.String spells
// it: native, java or python.
func ParseFormat(name string) (dynamutex.Format, error) {
	for _, f := range []dynamutex.Format{dynamutex.FormatNative, dynamutex.FormatJava, dynamutex.FormatPython} {
		if f.String() == name {
			return f, nil
		}
	}
	return dynamutex.FormatNative, fmt.Errorf("unknown format %q: want native, java or python", name)
}
