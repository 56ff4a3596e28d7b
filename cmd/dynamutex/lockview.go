package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dynamutex/dynamutex"
)

// States of a lock record, as status and list name them.
const (
	stateHeld     = "held"     // not released; the holder may be alive or may have crashed
	stateReleased = "released" // the last holder released it: free
	stateAbsent   = "absent"   // no record: never taken, or its idle record expired: free
	stateCorrupt  = "corrupt"  // an item dynamutex did not write, or a damaged one
)

// lockView is one lock record as status and list show it. Its JSON field
// names are an interface for scripts and do not change; fields that a
// state does not have are left out rather than zero, so that "token": 0
// never means "unknown".
type lockView struct {
	Key     string `json:"key"`
	SortKey string `json:"sort_key,omitempty"`
	State   string `json:"state"`
	// Free is true when a Lock would take the lock at once: released or
	// absent. A held record of a crashed holder is not free until a waiter
	// has watched it unchanged for its lease, which a one-shot read cannot.
	Free     bool    `json:"free"`
	Owner    *string `json:"owner,omitempty"`
	Token    *uint64 `json:"token,omitempty"`
	Released *bool   `json:"released,omitempty"`
	LeaseMS  *int64  `json:"lease_ms,omitempty"`
	// Data is the data stored with the lock, as text when it is valid
	// UTF-8 and in standard base64 otherwise; DataEncoding says which
	// ("utf-8" or "base64").
	Data         *string `json:"data,omitempty"`
	DataEncoding string  `json:"data_encoding,omitempty"`
	Error        string  `json:"error,omitempty"` // for a corrupt record: what is wrong

	err error // the *RecordError behind Error, for the human output
}

// viewOf turns what Inspect or List read into a lockView.
func viewOf(info dynamutex.LockInfo) lockView {
	v := lockView{Key: info.Key, SortKey: info.SortKey}
	if info.Err != nil {
		v.State, v.Error, v.err = stateCorrupt, info.Err.Error(), info.Err
		return v
	}
	v.State, v.Free = stateHeld, info.Released
	if info.Released {
		v.State = stateReleased
	}
	lease := info.Lease.Milliseconds()
	v.Owner, v.Token, v.Released, v.LeaseMS = &info.Owner, &info.Token, &info.Released, &lease
	if len(info.Data) > 0 {
		text, enc := encodeData(info.Data)
		v.Data, v.DataEncoding = &text, enc
	}
	return v
}

// absentView is the view of a key without a record.
func absentView(key string) lockView {
	return lockView{Key: key, State: stateAbsent, Free: true}
}

// encodeData returns data as text if it is valid UTF-8, or in base64.
func encodeData(data []byte) (text, encoding string) {
	if utf8.Valid(data) {
		return string(data), "utf-8"
	}
	return base64.StdEncoding.EncodeToString(data), "base64"
}

// problem says what is wrong with a corrupt record in a few words, for the
// human output; the JSON output has the library's whole message.
func problem(err error) string {
	var re *dynamutex.RecordError
	if errors.As(err, &re) {
		return fmt.Sprintf("attribute %q %s", re.Attribute, re.Problem)
	}
	return err.Error()
}

// ownerText renders the owner for people, "-" where the state has none;
// tokenText, leaseText and dataText do the same for their fields.
func (v lockView) ownerText() string {
	if v.Owner == nil {
		return "-"
	}
	return display(*v.Owner)
}

// tokenText renders the fencing token, or "-".
func (v lockView) tokenText() string {
	if v.Token == nil {
		return "-"
	}
	return strconv.FormatUint(*v.Token, 10)
}

// leaseText renders the lease as a Go duration (20s), or "-".
func (v lockView) leaseText() string {
	if v.LeaseMS == nil {
		return "-"
	}
	return (time.Duration(*v.LeaseMS) * time.Millisecond).String()
}

// dataText shows the data, cut to limit runes if limit > 0; base64 data is
// marked as such.
func (v lockView) dataText(limit int) string {
	if v.Data == nil {
		return "-"
	}
	s := *v.Data
	if limit > 0 && utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	if v.DataEncoding == "base64" {
		return "base64:" + s
	}
	return display(s)
}

// display returns s as it is if it prints plainly on one line, quoted
// otherwise, so that tabs, newlines and escape sequences in a record can
// neither break the columns nor play tricks on the terminal.
func display(s string) string {
	if s == "" || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}

// writeJSON prints v indented, for scripts and for people reading them.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
