package main

import (
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// An election record shows as an election: its leader, token, since,
// sequence and value (text when printable, base64 otherwise), or no
// leader; a lock record shows none.
func TestElectionView(t *testing.T) {
	since := time.UnixMilli(1_700_000_000_123)
	leader := &dynamutex.LeaderInfo{Value: []byte("10.0.0.7:8080"), Owner: "a", Token: 7, Since: since, Seq: 2}
	info := dynamutex.LockInfo{Key: "dynamutex-election:jobs", Owner: "a", Token: 7, Data: []byte("envelope"),
		Election: "jobs", Leader: leader}
	v := viewOf(info)
	e := v.Election
	if e == nil || e.Name != "jobs" || !e.Leader || e.Owner != "a" || *e.Token != 7 || *e.Seq != 2 ||
		e.Since != "2023-11-14T22:13:20.123Z" || *e.Value != "10.0.0.7:8080" || e.ValueEncoding != "utf-8" || v.Data != nil {
		t.Fatalf("view of a led election = %+v, election %+v", v, e)
	}
	if got := v.dataText(40); got != "election jobs: leader a, token 7, since 2023-11-14T22:13:20.123Z, seq 2, value 10.0.0.7:8080" {
		t.Errorf("list text = %q", got)
	}
	leader.Value = []byte{0xff, 0x00}
	if e := viewOf(info).Election; e == nil || *e.Value != "/wA=" || e.ValueEncoding != "base64" {
		t.Errorf("binary value shown as %+v, want base64 /wA=", e)
	}
	leader.Value = []byte("tab\there")
	if e := viewOf(info).Election; e == nil || e.ValueEncoding != "base64" {
		t.Errorf("value with a control character shown as %+v, want base64", e)
	}
	info.Released, info.Leader = true, nil
	if e := viewOf(info).Election; e == nil || e.Leader || e.Token != nil || viewOf(info).dataText(0) != "election jobs: no leader" {
		t.Errorf("released election shown as %+v", e)
	}
	if v := viewOf(dynamutex.LockInfo{Key: "jobs", Data: []byte("x")}); v.Election != nil {
		t.Errorf("a lock shown as an election: %+v", v)
	}
}
