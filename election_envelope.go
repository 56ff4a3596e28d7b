package dynamutex

import (
	"encoding/binary"
	"fmt"
	"time"
)

// The leader's envelope: the data attribute of an election record
// (docs/RECORD.md). Version byte 1, then the leadership's start in Unix ms
// and the proclamation sequence, both big-endian uint64, then the value.
const (
	envelopeVersion = 1
	envelopeHeader  = 1 + 8 + 8
)

func encodeEnvelope(sinceMS int64, seq uint64, value []byte) []byte {
	b := make([]byte, envelopeHeader, envelopeHeader+len(value))
	b[0] = envelopeVersion
	binary.BigEndian.PutUint64(b[1:], uint64(sinceMS))
	binary.BigEndian.PutUint64(b[9:], seq)
	return append(b, value...)
}

// leaderOf reads the leader of a held election record.
func leaderOf(key string, rec record) (LeaderInfo, error) {
	d := rec.data
	if len(d) < envelopeHeader || d[0] != envelopeVersion {
		return LeaderInfo{}, &RecordError{Key: key, Attribute: attrData,
			Problem: fmt.Sprintf("is not an election envelope (%d bytes)", len(d))}
	}
	return LeaderInfo{
		Value: append([]byte{}, d[envelopeHeader:]...),
		Owner: rec.owner,
		Token: rec.token,
		Since: time.UnixMilli(int64(binary.BigEndian.Uint64(d[1:]))),
		Seq:   binary.BigEndian.Uint64(d[9:]),
	}, nil
}
