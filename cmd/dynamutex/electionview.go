package main

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/dynamutex/dynamutex"
)

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

// electionOf is info's election, or nil for a lock. The library reads the
// leader from the record (LockInfo.Election, LockInfo.Leader), and reports
// a record whose leader it cannot read as damaged (LockInfo.Err).
func electionOf(info dynamutex.LockInfo) *electionView {
	if info.Election == "" {
		return nil
	}
	ev := &electionView{Name: info.Election}
	l := info.Leader
	if l == nil {
		return ev
	}
	ev.Leader = true
	ev.Owner, ev.Token, ev.Seq = l.Owner, &l.Token, &l.Seq
	ev.Since = formatTime(l.Since)
	text, enc := string(l.Value), "utf-8"
	if !printable(l.Value) {
		text, enc = base64.StdEncoding.EncodeToString(l.Value), "base64"
	}
	ev.Value, ev.ValueEncoding = &text, enc
	return ev
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
