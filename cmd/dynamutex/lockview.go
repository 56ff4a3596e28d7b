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
	// Free is true when a run would take the lock at once: released or
	// absent, or, read with --clock-bound, held past its deadline. A held
	// record of a crashed holder without a deadline is not free until a run
	// has watched it unchanged for its lease, which a one-shot read cannot.
	// A released record that a waiter has claimed is not free either: that
	// waiter goes next.
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
	// LastWrite is the writer's wall clock when it sent its last write to
	// the record, and Deadline when a holder that declared a clock bound
	// stops counting on its lease, by its clock plus its bound; both in RFC
	// 3339 with milliseconds, and left out when the record has none (written
	// by an earlier release, without a bound, or released).
	LastWrite string `json:"last_write,omitempty"`
	Deadline  string `json:"deadline,omitempty"`
	// ClaimedBy is the owner of a waiter that has waited past the
	// starvation threshold and claimed the next turn: while its claim
	// stands, only it takes the lock, released or not. Left out when no
	// claim stands.
	ClaimedBy string `json:"claimed_by,omitempty"`
	// Client names the lock client that wrote the record, "java" or
	// "python", and is left out for dynamutex's own. Such a record has no
	// token (left out too, unless it also carries dynamutex's), last write
	// or deadline; a run takes it over after watching it unchanged for its
	// lease, as that client's waiters do, or at once when a Java client
	// released it and kept the record.
	Client string `json:"client,omitempty"`
	// Session is the key of the Session record that keeps a lock held
	// under a session lease (run --session-lease, WithSessionLease), and
	// SessionAlive whether that Session still renews it: false once it was
	// revoked, ended or deleted, and the lock is free. Both are left out
	// for a lock renewed by itself. LeaseMS, LastWrite and Deadline are then
	// the Session record's.
	Session      string `json:"session,omitempty"`
	SessionAlive *bool  `json:"session_alive,omitempty"`
	// Election is set for an election record (Session.NewElection): the
	// election's name and leader, or "leader": false. Its raw data is then
	// left out of Data.
	Election *electionView `json:"election,omitempty"`

	err       error     // the *RecordError behind Error, for the human output
	lastWrite time.Time // LastWrite and Deadline as times, for the human output
	deadline  time.Time
}

// timeLayout is RFC 3339 with milliseconds, always three digits, so that
// the JSON output sorts and compares as text.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// viewOf turns what Inspect or List read into a lockView.
func viewOf(info dynamutex.LockInfo) lockView {
	v := lockView{Key: info.Key, SortKey: info.SortKey}
	if info.Err != nil {
		v.State, v.Error, v.err = stateCorrupt, info.Err.Error(), info.Err
		return v
	}
	v.State, v.Free = stateHeld, info.Free()
	if info.Released {
		v.State = stateReleased
	}
	v.lastWrite, v.deadline = info.LastWrite, info.Deadline
	v.LastWrite, v.Deadline = formatTime(info.LastWrite), formatTime(info.Deadline)
	v.ClaimedBy = info.ClaimedBy
	lease := info.Lease.Milliseconds()
	v.Owner, v.Token, v.Released, v.LeaseMS = &info.Owner, &info.Token, &info.Released, &lease
	v.Client = info.Client
	if info.Session != "" {
		alive := !info.SessionEnded
		v.Session, v.SessionAlive = info.Session, &alive
	}
	if info.Client != "" && info.Token == 0 {
		v.Token = nil // the client keeps no token: 0 would read as one
	}
	if ev := electionOf(info); ev != nil {
		v.Election = ev
		return v
	}
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

// formatTime renders t in UTC with timeLayout, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
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
	switch {
	case v.Client != "":
		return display(*v.Owner) + " (" + v.Client + " client)"
	case v.SessionAlive != nil && *v.SessionAlive:
		return display(*v.Owner) + " (session lease)"
	case v.SessionAlive != nil:
		return display(*v.Owner) + " (session ended: free)"
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

// lastWriteText renders the last write as an age and a time, "3s ago
// (2025-01-02T03:04:05.678Z)", or "-"; now is the time of the output.
func (v lockView) lastWriteText(now time.Time) string {
	if v.lastWrite.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", writeAge(v.lastWrite, now), v.LastWrite)
}

// writeAge says how long ago a write was stamped: "3s ago", or "2s ahead of
// this clock" when the writer's clock is ahead of this machine's.
func writeAge(t, now time.Time) string {
	if t.After(now) {
		return roughly(t.Sub(now)) + " ahead of this clock"
	}
	return relative(t, now)
}

// deadlineText renders the deadline the same way, "in 5s (...)" while it
// is ahead, or "-".
func (v lockView) deadlineText(now time.Time) string {
	if v.deadline.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", relative(v.deadline, now), v.Deadline)
}

// relative says how far t is from now, for people: "3m12s ago", "in 450ms".
func relative(t, now time.Time) string {
	if d := now.Sub(t); d >= 0 {
		return roughly(d) + " ago"
	}
	return "in " + roughly(t.Sub(now))
}

// roughly rounds d to what a person reads at a glance: milliseconds under
// a second, tenths under a minute, seconds above.
func roughly(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// dataText shows the data, cut to limit runes if limit > 0; base64 data is
// marked as such.
func (v lockView) dataText(limit int) string {
	if v.Election != nil {
		return "election " + display(v.Election.Name) + ": " + v.Election.text()
	}
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

// sessionText says which Session keeps a lock held under a session lease,
// and whether it lives.
func (v lockView) sessionText() string {
	if *v.SessionAlive {
		return display(v.Session) + ": alive; the lock lives as long as this Session renews its record"
	}
	return display(v.Session) + ": ended (revoked, closed or deleted); the lock is free to take"
}
