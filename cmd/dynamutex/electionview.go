package main

import (
	"encoding/base64"
	be "encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dynamutex/dynamutex"
)

// electionPrefix begins the key of every election record (docs/RECORD.md,
// "Election records").
const electionPrefix = "dynamutex-election:"

// electionView is an election record as status and list show it, under
// the "election" field of the JSON output. Its field names are an
// interface for scripts and do not change.
type electionView struct {
	Name string `json:"name"`
	// Leader is false when nobody leads: the record is released. The
	// fields below are then left out. A leader that crashed still shows
	// until a candidate has taken its place (docs/ELECTION.md).
	Leader bool    `json:"leader"`
	Owner  string  `json:"owner,omitempty"`
	Token  *uint64 `json:"token,omitempty"`
	// Since is when the leadership began, by the leader's clock, in RFC
	// 3339 with milliseconds; Seq counts its proclamations.
	Since string  `json:"since,omitempty"`
	Seq   *uint64 `json:"seq,omitempty"`
	// Value is the leader's value, as text when it is printable UTF-8 and
	// in standard base64 otherwise; ValueEncoding says which ("utf-8" or
	// "base64").
	Value         *string `json:"value,omitempty"`
	ValueEncoding string  `json:"value_encoding,omitempty"`
}

// electionOf reads info as an election record, or returns nil for a lock.
// An envelope it cannot read is reported as the record's problem.
func electionOf(info dynamutex.LockInfo) (*electionView, error) {
	name, ok := strings.CutPrefix(info.Key, electionPrefix)
	if !ok {
		return nil, nil
	}
	ev := &electionView{Name: name, Leader: !info.Released}
	if info.Released {
		return ev, nil
	}
	d := info.Data
	if len(d) < 17 || d[0] != 1 {
		return nil, fmt.Errorf("election record %q: data is not a leader envelope (%d bytes)", info.Key, len(d))
	}
	token, seq := info.Token, be.BigEndian.Uint64(d[9:17])
	ev.Owner, ev.Token, ev.Seq = info.Owner, &token, &seq
	ev.Since = formatTime(time.UnixMilli(int64(be.BigEndian.Uint64(d[1:9]))))
	value := d[17:]
	text, enc := string(value), "utf-8"
	if !printable(value) {
		text, enc = base64.StdEncoding.EncodeToString(value), "base64"
	}
	ev.Value, ev.ValueEncoding = &text, enc
	return ev, nil
}

// printable reports whether b is UTF-8 text with no control characters.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// text renders the election for people: "no leader", or the leader, its
// token, since and value.
func (e *electionView) text() string {
	if !e.Leader {
		return "no leader"
	}
	return fmt.Sprintf("leader %s, token %s, since %s, seq %d, value %s",
		display(e.Owner), strconv.FormatUint(*e.Token, 10), e.Since, *e.Seq, e.valueText())
}

func (e *electionView) valueText() string {
	if e.ValueEncoding == "base64" {
		return "base64:" + *e.Value
	}
	return display(*e.Value)
}
