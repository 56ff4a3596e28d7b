package dynamutex

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Inspect reads every permit of the semaphore with one strongly consistent
// BatchGetItem (more only if DynamoDB leaves keys unprocessed) and returns
// one LockInfo per permit, permit i at index i. A permit without a record
// has a LockInfo with only Key set and ErrNoRecord in Err; Free tells of
// the others as of a lock's. It writes nothing and holds nothing. Use
// PermitLimit on a held permit's Data to see the limit its holder runs
// with.
func (sem *Semaphore) Inspect(ctx context.Context) ([]LockInfo, error) {
	if sem.err != nil {
		return nil, sem.err
	}
	s := sem.s
	found, _, err := s.store.readMany(ctx, sem.ids, true)
	if err != nil {
		return nil, fmt.Errorf("dynamutex: inspect semaphore %q: %w", sem.name, err)
	}
	now, look := time.Now(), s.sessionLookup(ctx)
	infos := make([]LockInfo, len(sem.ids))
	for i, id := range sem.ids {
		item, ok := found[id]
		if !ok {
			infos[i] = LockInfo{Key: id.key, Err: fmt.Errorf("%w: %q", ErrNoRecord, id.key)}
			continue
		}
		infos[i] = s.describe(id, item, now, look)
	}
	return infos, nil
}

// PermitLimit returns the limit n that the holder of a permit record ran
// with, read from the record's data (LockInfo.Data), and whether the data
// names one: a Semaphore whose n shrank shows as holders with a larger
// limit than the current one.
func PermitLimit(data []byte) (int, bool) {
	var d permitData
	if json.Unmarshal(data, &d) != nil || d.Limit < 1 {
		return 0, false
	}
	return d.Limit, true
}
