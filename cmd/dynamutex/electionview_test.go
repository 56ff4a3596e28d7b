package main

import (
	be "encoding/binary"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

func envelope(since time.Time, seq uint64, value []byte) []byte {
	b := []byte{1}
	b = be.BigEndian.AppendUint64(b, uint64(since.UnixMilli()))
	b = be.BigEndian.AppendUint64(b, seq)
	return append(b, value...)
}

// An election record shows as an election: its leader, token, since,
// sequence and value (text when printable, base64 otherwise), or no
// leader; a lock record shows none, and a damaged envelope is corrupt.
func TestElectionView(t *testing.T) {
	since := time.UnixMilli(1_700_000_000_123)
	info := dynamutex.LockInfo{Key: "dynamutex-election:jobs", Owner: "a", Token: 7,
		Data: envelope(since, 2, []byte("10.0.0.7:8080"))}
	v := viewOf(info)
	e := v.Election
	if e == nil || e.Name != "jobs" || !e.Leader || e.Owner != "a" || *e.Token != 7 || *e.Seq != 2 ||
		e.Since != "2023-11-14T22:13:20.123Z" || *e.Value != "10.0.0.7:8080" || e.ValueEncoding != "utf-8" || v.Data != nil {
		t.Fatalf("view of a led election = %+v, election %+v", v, e)
	}
	if got := v.dataText(40); got != "election jobs: leader a, token 7, since 2023-11-14T22:13:20.123Z, seq 2, value 10.0.0.7:8080" {
		t.Errorf("list text = %q", got)
	}
	info.Data = envelope(since, 0, []byte{0xff, 0x00})
	if e := viewOf(info).Election; e == nil || *e.Value != "/wA=" || e.ValueEncoding != "base64" {
		t.Errorf("binary value shown as %+v, want base64 /wA=", e)
	}
	info.Data = envelope(since, 0, []byte("tab\there"))
	if e := viewOf(info).Election; e == nil || e.ValueEncoding != "base64" {
		t.Errorf("value with a control character shown as %+v, want base64", e)
	}
	info.Released = true
	if e := viewOf(info).Election; e == nil || e.Leader || e.Token != nil || viewOf(info).dataText(0) != "election jobs: no leader" {
		t.Errorf("released election shown as %+v", e)
	}
	bad := dynamutex.LockInfo{Key: "dynamutex-election:jobs", Owner: "a", Token: 7, Data: []byte("x")}
	if v := viewOf(bad); v.State != stateCorrupt || v.Election != nil {
		t.Errorf("election without an envelope shown as %+v, want corrupt", v)
	}
	if v := viewOf(dynamutex.LockInfo{Key: "jobs", Data: []byte("x")}); v.Election != nil {
		t.Errorf("a lock shown as an election: %+v", v)
	}
}
